"""Domain services: plain functions over plain dataclasses (``views``).

Each service validates every input before it writes anything (R15) and raises
the errors of :mod:`makersync.daemon.domain.errors`. Import the service modules
directly (``from makersync.daemon.domain import accounts``); this package
imports nothing eagerly so the store may use ``views`` without a cycle.
"""
