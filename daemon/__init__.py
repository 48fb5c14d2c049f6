"""makersync daemon: config, domain rules, store, pull engine, scheduler, gRPC api."""
