"""``makersyncd``: the daemon's entry point.

Loads the config, sets up logging, builds the App (store, plugins, engine,
scheduler), serves gRPC and prints ``makersyncd listening on HOST:PORT`` once
it accepts calls. SIGTERM or SIGINT: health turns NOT_SERVING at once, the
App stops its pulls at a page boundary, open streams (WatchPull, health
Watch) end with UNAVAILABLE, the server finishes the calls in flight, and the
process exits 0 within the grace period. SIGUSR1 writes
every thread's stack to stderr (for a daemon that seems stuck) and goes on.

Exit codes: 0 clean stop (or ``--check-config`` OK), 1 could not start,
2 bad flags or config.
"""

from __future__ import annotations

import argparse
import faulthandler
import importlib
import signal
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

from makersync.daemon.config import Config, ConfigError, ConfigWatcher, load_config
from makersync.daemon.logging import configure_logging, get_logger

log = get_logger("makersync.daemon")

EXIT_OK, EXIT_START_FAILED, EXIT_BAD_CONFIG = 0, 1, 2
EXIT_MARGIN_S = 0.5
"""Of the grace period, kept for the process to exit once the server has stopped."""


def build_parser() -> argparse.ArgumentParser:
    """The daemon's flags."""
    parser = argparse.ArgumentParser(
        prog="makersyncd", description="The makersync daemon: pulls shops into the books, serves gRPC."
    )
    parser.add_argument("--config", metavar="FILE", help="TOML config file (env MAKERSYNC_CONFIG)")
    parser.add_argument("--listen", metavar="HOST:PORT", help="address to serve (default 127.0.0.1:50551)")
    parser.add_argument("--data-dir", metavar="DIR", help="where the SQLite file and secret key live")
    parser.add_argument("--database-url", metavar="URL", help="sqlite:///path or postgresql://...")
    parser.add_argument("--check-config", action="store_true", help="validate the config, print OK or the error")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    return parser


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("makersync")
    except Exception:  # not installed as a distribution (running from a tree)
        return "unknown"


def _build_app(config: Config) -> Any:
    module = importlib.import_module("makersync.daemon.app")
    return module.build_app(config)


def _watch_config(app: Any, config: Config, loader: Any) -> ConfigWatcher:
    """The App's config watcher when it runs one, else a new one feeding the App."""
    watcher = getattr(app, "watcher", None)
    if isinstance(watcher, ConfigWatcher):
        return watcher
    watcher = ConfigWatcher(config, loader)
    if callable(getattr(app, "update_config", None)):
        watcher.subscribe(app.update_config)
    watcher.start()
    return watcher


def _shutdown(server: Any, app: Any, watcher: ConfigWatcher, grace_s: float) -> None:
    """Stop everything within ``grace_s`` seconds: health first, then pulls,
    then the open streams, then the calls in flight."""
    deadline = time.monotonic() + grace_s - min(EXIT_MARGIN_S, grace_s * 0.1)
    server.enter_graceful_shutdown()
    log.info("shutting_down", grace_s=grace_s)
    watcher.stop()
    try:
        # The App gets most of the grace; the server needs a moment to flush replies.
        app.shutdown(max(grace_s * 0.8, 0.0))
    except Exception:  # a boundary: the server still stops
        log.exception("app_shutdown_failed")
    # After the pulls stopped, so a WatchPull caller sees where its pull was left.
    server.end_streams()
    remaining = max(deadline - time.monotonic(), 0.0)
    server.stop(remaining).wait(remaining)
    log.info("stopped")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the daemon until SIGTERM/SIGINT; returns the exit code."""
    args = build_parser().parse_args(argv)
    if args.version:
        print(f"makersyncd {_version()}")
        return EXIT_OK
    flags = {"listen": args.listen, "data_dir": args.data_dir, "database_url": args.database_url}
    try:
        config = load_config(args.config, flags=flags)
    except ConfigError as exc:
        print(f"makersyncd: config error: {exc}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    if args.check_config:
        print(f"config OK ({config.config_file or 'defaults, no file'})")
        return EXIT_OK
    configure_logging(config.log.format, config.log.level)

    from makersync.daemon.api.server import ServerRefused, check_listen_allowed, create_server

    try:
        check_listen_allowed(config)  # before the database is opened: nothing to undo
    except ServerRefused as exc:
        print(f"makersyncd: {exc}", file=sys.stderr)
        return EXIT_START_FAILED

    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        if stop.is_set():  # a second signal: the operator insists
            raise SystemExit(EXIT_START_FAILED)
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    faulthandler.register(signal.SIGUSR1, all_threads=True)

    try:
        app = _build_app(config)
    except Exception as exc:  # a boundary: say why in one line, details in the log
        log.exception("start_failed", error_type=type(exc).__name__)
        print(f"makersyncd: cannot start: {exc}", file=sys.stderr)
        return EXIT_START_FAILED
    try:
        server, port = create_server(config, app)
    except ServerRefused as exc:
        print(f"makersyncd: {exc}", file=sys.stderr)
        app.shutdown(0)
        return EXIT_START_FAILED
    server.start()
    host = config.server.host
    shown = f"[{host}]" if ":" in host else host
    print(f"makersyncd listening on {shown}:{port}", flush=True)
    log.info("listening", address=f"{shown}:{port}", version=_version())
    try:
        if callable(getattr(app, "start", None)):
            app.start()  # workers and scheduler
    except Exception as exc:  # a boundary: stop what started, say why
        log.exception("start_failed", error_type=type(exc).__name__)
        print(f"makersyncd: cannot start: {exc}", file=sys.stderr)
        server.stop(0)
        app.shutdown(0)
        return EXIT_START_FAILED
    watcher = _watch_config(app, config, lambda: load_config(args.config, flags=flags))
    watcher.subscribe(server.update_config)

    while not stop.wait(0.5):
        pass
    _shutdown(server, app, watcher, config.server.grace_period_s)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
