"""Example Market: a minimal, complete channel plugin to copy.

``channel.py`` (the Channel, its pacer and auth), ``mapping.py`` (pure JSON to
records), ``simulator.py`` (the API it speaks, over a seeded shop). This hook
is all the registration there is; a packaged plugin names this module under
the ``makersync.channels`` entry-point group (this one is deliberately not
registered: load it with ``modules=["makersync.plugins.example"]``).
"""

from collections.abc import Callable

from makersync.plugins import hookimpl

from .channel import ExampleChannel
from .simulator import ExampleSimulator

__all__ = ["ExampleChannel", "ExampleSimulator"]


@hookimpl
def makersync_register_channels(register: Callable[[type], None]) -> None:
    register(ExampleChannel)
