"""makersync."""
