"""The gRPC api: thin servicers, the interceptors (auth, logging, error mapping,
deadlines), health and reflection. Protobuf types never leave this package."""
