"""Clients of the makersync daemon: the typed Python client and the ``makersync`` command."""
