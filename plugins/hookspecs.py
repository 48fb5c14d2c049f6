"""The hooks of makersync, the documented contract between the daemon and
plugins. A plugin module or object implements some of them with
``@hookimpl``; the daemon calls them through pluggy.

Hooks are few on purpose: registration hands over ``Channel`` classes once,
and from then on the daemon talks to those plain classes. The rest are
events a plugin may watch; their return values are ignored and an exception
in one is logged, never allowed to fail a pull.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pluggy

PROJECT = "makersync"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def makersync_register_channels(register: Callable[[type], None]) -> None:
    """Called once when plugins are loaded. Call ``register(ChannelClass)`` for
    each :class:`~makersync.plugins.Channel` subclass the plugin provides.
    Registering a second channel under a name already taken is a start-up
    error naming both plugins. Returns nothing."""


@hookspec
def makersync_pull_finished(pull: Mapping[str, Any]) -> None:
    """Called after a pull ends, whatever its outcome. ``pull`` holds the
    pull's ``id``, ``store_id``, ``channel``, ``kind``, ``state``, ``counts``
    and ``error``. Returns nothing; exceptions are logged and ignored."""


@hookspec
def makersync_order_changed(order: Mapping[str, Any], created: bool) -> None:
    """Called after a pull wrote an order: ``created`` is True for a new
    order, False for a changed one. ``order`` holds ``id``, ``store_id``,
    ``external_id``, ``status`` and ``total``. Returns nothing; exceptions are
    logged and ignored."""
