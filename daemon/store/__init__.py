"""The store: peewee models, queries, migrations and secrets.

This package is the only place that imports peewee; its public functions take
and return plain values and the dataclasses of ``makersync.daemon.domain.views``.
"""
