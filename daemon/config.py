"""The daemon's configuration: one TOML file, ``MAKERSYNC_*`` variables, flags.

Precedence: command-line flags > environment > file > defaults. No file is
needed: the defaults listen on ``127.0.0.1:50551``, keep data in
``$XDG_DATA_HOME/makersync`` (``~/.local/share/makersync``) and use SQLite.
Every refusal is a :class:`ConfigError` naming the key and the rule. The
parsing of each section lives in :mod:`makersync.daemon.config_sections`;
:class:`ConfigWatcher` reloads the file while the daemon runs.
"""

from __future__ import annotations

import os
import threading
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from makersync.daemon.config_sections import (
    ApiKey,
    ConfigError,
    LogConfig,
    MetricsConfig,
    PluginsConfig,
    SchedulerConfig,
    ServerConfig,
    parse_channels,
    parse_database_url,
    parse_log,
    parse_metrics,
    parse_plans,
    parse_plugins,
    parse_scheduler,
    parse_server,
)
from makersync.daemon.logging import get_logger, register_secret
from makersync.daemon.rules import Plan

__all__ = [
    "ApiKey", "Config", "ConfigError", "ConfigWatcher", "LogConfig", "PluginsConfig",
    "SchedulerConfig", "ServerConfig", "default_data_dir", "load_config",
]

ENV_PREFIX = "MAKERSYNC_"
KNOWN_SECTIONS = frozenset(
    {"server", "database", "log", "plans", "scheduler", "plugins", "channels", "metrics"}
)
RESTART_ONLY = ("listen", "data_dir", "database_url")
log = get_logger("makersync.config")


@dataclass(frozen=True)
class Config:
    """The whole configuration, immutable; a reload builds a new one."""

    server: ServerConfig = field(default_factory=ServerConfig)
    data_dir: Path = field(default_factory=lambda: default_data_dir({}))
    database_url: str = ""
    log: LogConfig = field(default_factory=LogConfig)
    plans: Mapping[str, Plan] = field(default_factory=lambda: parse_plans({}))
    scheduler: SchedulerConfig = field(default_factory=SchedulerConfig)
    plugins: PluginsConfig = field(default_factory=PluginsConfig)
    channels: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    secret_key: str | None = field(default=None, repr=False)
    config_file: Path | None = None

    @property
    def listen(self) -> str:
        """The ``HOST:PORT`` the gRPC server binds."""
        return self.server.listen

    @property
    def resolved_database_url(self) -> str:
        """``database_url``, or the SQLite file in ``data_dir`` when none is set."""
        return self.database_url or f"sqlite:///{self.data_dir / 'makersync.db'}"


def default_data_dir(env: Mapping[str, str]) -> Path:
    """``$XDG_DATA_HOME/makersync``, else ``~/.local/share/makersync``."""
    base = env.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "makersync"


def _read_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError("--config", f"file {str(path)!r} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), f"is not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(str(path), f"cannot be read: {exc.strerror}") from None


def _table(doc: Mapping[str, Any], name: str) -> dict[str, Any]:
    value = doc.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(name, "must be a table ([" + name + "])")
    return dict(value)


def load_config(
    path: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    flags: Mapping[str, Any] | None = None,
) -> Config:
    """Build the configuration from the file, the environment and the flags.

    ``path`` is the ``--config`` flag (else ``MAKERSYNC_CONFIG``; no file when
    neither is given); ``env`` defaults to ``os.environ``; ``flags`` may hold
    ``listen``, ``data_dir`` and ``database_url`` (None values are ignored).
    Plain API keys are hashed here and registered as secrets for the logs.
    Raises ConfigError naming the key and the rule."""
    env = os.environ if env is None else env
    given = {k: v for k, v in (flags or {}).items() if v is not None}
    file_path = path or env.get(ENV_PREFIX + "CONFIG") or None
    doc: dict[str, Any] = {}
    config_file: Path | None = None
    if file_path:
        config_file = Path(file_path).expanduser().resolve()
        doc = _read_file(config_file)
    unknown = sorted(set(doc) - KNOWN_SECTIONS)
    if unknown:
        known = ", ".join(sorted(KNOWN_SECTIONS))
        raise ConfigError(unknown[0], f"unknown section; known sections: {known}")

    server_doc = _table(doc, "server")
    for raw in server_doc.get("keys") or []:
        if isinstance(raw, dict):
            register_secret(raw.get("key"))
    for flag, env_name in (("listen", "LISTEN"),):
        value = given.get(flag) or env.get(ENV_PREFIX + env_name)
        if value:
            server_doc[flag] = value
    server = parse_server(server_doc)

    log_doc = _table(doc, "log")
    for key in ("format", "level"):
        value = env.get(f"{ENV_PREFIX}LOG_{key.upper()}")
        if value:
            log_doc[key] = value

    db_doc = _table(doc, "database")
    db_url = given.get("database_url") or env.get(ENV_PREFIX + "DATABASE_URL")
    if db_url:
        db_doc["url"] = db_url

    data_dir_raw = given.get("data_dir") or env.get(ENV_PREFIX + "DATA_DIR")
    data_dir = (
        Path(str(data_dir_raw)).expanduser().resolve() if data_dir_raw else default_data_dir(env)
    )
    secret_key = env.get(ENV_PREFIX + "SECRET_KEY") or None
    register_secret(secret_key)
    return Config(
        server=server,
        data_dir=data_dir,
        database_url=parse_database_url(db_doc),
        log=parse_log(log_doc),
        plans=parse_plans(_table(doc, "plans")),
        scheduler=parse_scheduler(_table(doc, "scheduler")),
        plugins=parse_plugins(_table(doc, "plugins"), base=config_file),
        channels=parse_channels(_table(doc, "channels")),
        metrics=parse_metrics(_table(doc, "metrics")),
        secret_key=secret_key,
        config_file=config_file,
    )


class ConfigWatcher:
    """Reloads the config file when it changes, in a thread (watchfiles).

    A bad edit is refused and logged; the old config stays. Subscribers are
    called with each new, valid Config (the scheduler takes its plan table,
    the auth interceptor its keys). Settings that need a restart (listen,
    data dir, database URL) are logged, and subscribers still get the rest."""

    def __init__(self, config: Config, loader: Callable[[], Config]) -> None:
        self._config = config
        self._loader = loader
        self._subscribers: list[Callable[[Config], None]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def current(self) -> Config:
        """The config in force."""
        with self._lock:
            return self._config

    def subscribe(self, callback: Callable[[Config], None]) -> None:
        """Call ``callback(new_config)`` after each successful reload."""
        self._subscribers.append(callback)

    def reload(self) -> bool:
        """Load the file again; True when a new config took effect."""
        try:
            new = self._loader()
        except ConfigError as exc:
            log.error("config_reload_refused", error=str(exc), kept="previous config")
            return False
        with self._lock:
            old, self._config = self._config, new
        if new == old:
            return False
        changed = [k for k in RESTART_ONLY if getattr(old, k) != getattr(new, k)]
        if changed:
            log.warning("config_change_needs_restart", keys=changed)
        log.info("config_reloaded", file=str(new.config_file))
        for callback in list(self._subscribers):
            try:
                callback(new)
            except Exception:  # a boundary: one bad subscriber must not stop the others
                log.exception("config_subscriber_failed", subscriber=repr(callback))
        return True

    def start(self) -> None:
        """Watch the file in a daemon thread (no-op when there is no file)."""
        path = self.current.config_file
        if path is None or self._thread is not None:
            return
        self._thread = threading.Thread(
            target=self._run, args=(path,), name="config-watcher", daemon=True
        )
        self._thread.start()

    def stop(self, timeout_s: float = 2.0) -> None:
        """Stop watching and wait for the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def _run(self, path: Path) -> None:
        import watchfiles

        # Watch the folder: editors often replace the file rather than write it.
        def only_our_file(_change: Any, changed: str) -> bool:
            return Path(changed).resolve() == path

        try:
            for _changes in watchfiles.watch(
                path.parent, watch_filter=only_our_file, stop_event=self._stop,
                debounce=200, step=50, rust_timeout=500, yield_on_timeout=False,
            ):
                self.reload()
        except Exception:  # a boundary: the daemon keeps running on its current config
            log.exception("config_watcher_failed", file=str(path))
