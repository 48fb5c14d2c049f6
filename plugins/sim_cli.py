"""``makersync-sim``: serve a channel's simulator over loopback HTTP.

::

    makersync-sim <channel> [--port N] [--seed S] [--orders N] [--days D] [--speed X]
                  [--host 127.0.0.1] [--plugin-module M ...] [--plugin-path FILE ...]

The channel is found through the plugin registry: the ``makersync.channels``
entry points, then ``--plugin-module``/``--plugin-path``, then a channel that
ships inside ``makersync.plugins`` without an entry point (``example``). Its
``simulator_class.create(...)`` builds the shop, :class:`SimServer` serves it,
and ONE JSON line goes to stdout::

    {"channel": "example", "base_url": "http://127.0.0.1:40123",
     "config": {"channels": {"example": {...the simulator's config_section...}}},
     "credentials": {...what Connect needs...}}

Then it serves until SIGINT or SIGTERM (exit status 0). Errors go to stderr
with exit status 2 (bad arguments, unknown channel) or 1 (a plugin that fails
to load, a port already taken).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType
from typing import Any

from .channel import Channel
from .manager import ENTRY_POINT_GROUP, ChannelRegistry, PluginError
from .simulate import SimServer

BUILTIN_PACKAGE = "makersync.plugins"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="makersync-sim",
        description="Serve a channel's simulator over HTTP and print how to reach it as one JSON line.",
    )
    parser.add_argument("channel", help="channel name, e.g. etsy, shopify, amazon, example")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default 0: any free port)")
    parser.add_argument("--seed", type=int, default=1, help="shop seed: the same seed, the same shop")
    parser.add_argument("--orders", type=int, default=200, help="orders in the generated shop")
    parser.add_argument("--days", type=int, default=60, help="days of history the orders span")
    parser.add_argument("--speed", type=float, default=1.0,
                        help="multiplies the channel's rate limits (a faster demo)")
    parser.add_argument("--plugin-module", action="append", default=[], metavar="MODULE",
                        help="also load this plugin module (repeatable)")
    parser.add_argument("--plugin-path", action="append", default=[], metavar="FILE",
                        help="also load this plugin file (repeatable)")
    return parser


def find_channel(name: str, modules: Sequence[str] = (), paths: Sequence[str] = ()) -> type[Channel]:
    """The channel class called ``name``. Raises :class:`PluginError` when a
    plugin fails to load, :class:`KeyError` when no plugin provides it.

    Entry points are named after their channel, so only that one is loaded
    first (a broken plugin of another channel does not stop this one); every
    entry point is loaded only when that finds nothing."""
    entry_names = {ep.name for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}
    extra = list(modules)
    if name not in entry_names and name.isidentifier():
        builtin = f"{BUILTIN_PACKAGE}.{name}"
        if importlib.util.find_spec(builtin) is not None:
            extra.append(builtin)
    registry = ChannelRegistry().load(entry_points=name in entry_names, modules=extra, paths=paths,
                                      blocked=entry_names - {name})
    if name not in registry.channels:
        registry = ChannelRegistry().load(entry_points=True, modules=modules, paths=paths)
    if name not in registry.channels:
        known = ", ".join(sorted(registry.channels)) or "none"
        raise KeyError(f"no channel named {name!r} (loaded: {known})")
    return registry.get(name)


def announcement(name: str, base_url: str, sim: Any) -> dict[str, Any]:
    """The JSON line: where the simulator is, its config section and credentials."""
    return {
        "channel": name,
        "base_url": base_url,
        "config": {"channels": {name: sim.config_section(base_url)}},
        "credentials": sim.credentials(),
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        channel = find_channel(args.channel, args.plugin_module, args.plugin_path)
    except PluginError as exc:
        print(f"makersync-sim: {exc}", file=sys.stderr)
        return 1
    except KeyError as exc:
        print(f"makersync-sim: {exc.args[0]}", file=sys.stderr)
        return 2
    sim_class = getattr(channel, "simulator_class", None)
    if sim_class is None:
        print(f"makersync-sim: channel {args.channel!r} has no simulator_class", file=sys.stderr)
        return 2
    sim = sim_class.create(seed=args.seed, orders=args.orders, days=args.days, speed=args.speed)
    try:
        server = SimServer(sim, host=args.host, port=args.port)
    except OSError as exc:
        print(f"makersync-sim: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1

    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    server.start()
    try:
        print(json.dumps(announcement(channel.name, server.base_url, sim)), flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


if __name__ == "__main__":
    sys.exit(main())
