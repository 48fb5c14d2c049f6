"""The sections of the config file, each a frozen dataclass and a parser.

Parsers take the plain TOML table (already merged with environment and
flags) and raise :class:`ConfigError` naming the key (``server.listen``) and
the rule it breaks.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from makersync.daemon.rules import CADENCES, DEFAULT_PLANS, Plan

LOG_FORMATS = ("auto", "json", "console")
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
MIN_KEY_LEN = 16
_CHANNEL_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class ConfigError(ValueError):
    """A config value breaks a rule; ``key`` is its dotted name."""

    def __init__(self, key: str, rule: str) -> None:
        self.key = key
        self.rule = rule
        super().__init__(f"{key}: {rule}")


@dataclass(frozen=True)
class ApiKey:
    """A caller's key, kept only as its SHA-256; ``account_id`` scopes it to one account."""

    sha256: str
    account_id: str | None = None


@dataclass(frozen=True)
class ServerConfig:
    listen: str = "127.0.0.1:50551"
    keys: tuple[ApiKey, ...] = ()
    grace_period_s: float = 10.0
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_client_ca: Path | None = None
    secret_key_file: Path | None = None
    """The file holding the credentials key(s), one per line (first encrypts); else
    MAKERSYNC_SECRET_KEY, else ``<data_dir>/secret.key`` made on first run."""

    @property
    def host(self) -> str:
        return split_listen(self.listen)[0]

    @property
    def port(self) -> int:
        return split_listen(self.listen)[1]


@dataclass(frozen=True)
class LogConfig:
    format: str = "auto"
    level: str = "info"


@dataclass(frozen=True)
class SchedulerConfig:
    workers: int = 4
    poll_s: float = 1.0
    lease_s: float = 60.0
    overlap_minutes: int = 10
    daily_hour_default: int = 5


@dataclass(frozen=True)
class PluginsConfig:
    paths: tuple[Path, ...] = ()
    modules: tuple[str, ...] = ()
    blocked: tuple[str, ...] = ()


def hash_key(key: str) -> str:
    """The hex SHA-256 of an API key, as kept in memory and compared."""
    return hashlib.sha256(key.encode()).hexdigest()


def split_listen(value: str, key: str = "server.listen") -> tuple[str, int]:
    """``HOST:PORT`` (IPv6 in brackets) as ``(host, port)``; ConfigError otherwise."""
    host, sep, port_s = value.rpartition(":")
    if not sep or not host or not port_s.isdigit() or not 0 <= int(port_s) <= 65535:
        raise ConfigError(key, f"must be HOST:PORT with a port 0-65535, got {value!r}")
    return host.strip("[]"), int(port_s)


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_keys(table: Mapping[str, Any], allowed: set[str], prefix: str) -> None:
    for name in table:
        if name not in allowed:
            raise ConfigError(f"{prefix}.{name}", f"unknown key; known keys: {', '.join(sorted(allowed))}")


def _typed(table: Mapping[str, Any], name: str, kinds: Any, prefix: str, default: Any) -> Any:
    value = table.get(name, default)
    ok = isinstance(value, kinds) and not (isinstance(value, bool) and bool not in _as_tuple(kinds))
    if not ok:
        want = "/".join(k.__name__ for k in _as_tuple(kinds))
        raise ConfigError(f"{prefix}.{name}", f"must be of type {want}, got {value!r}")
    return value


def _as_tuple(kinds: Any) -> tuple[type, ...]:
    return kinds if isinstance(kinds, tuple) else (kinds,)


def _number(table: Mapping[str, Any], name: str, prefix: str, default: float, low: float,
            *, strict: bool = False, integer: bool = False) -> Any:
    value = _typed(table, name, int if integer else (int, float), prefix, default)
    if value < low or (strict and value == low):
        sign = ">" if strict else ">="
        raise ConfigError(f"{prefix}.{name}", f"must be {sign} {low:g}, got {value!r}")
    return value


def _path(table: Mapping[str, Any], name: str, prefix: str) -> Path | None:
    value = table.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{prefix}.{name}", "must be a file path")
    path = Path(value).expanduser()
    if not path.is_file():
        raise ConfigError(f"{prefix}.{name}", f"file {value!r} does not exist")
    return path


def parse_keys(raw: Any) -> tuple[ApiKey, ...]:
    """``[[server.keys]]`` tables of ``key`` (or ``key_sha256``) and optional ``account_id``."""
    if not isinstance(raw, list):
        raise ConfigError("server.keys", "must be a list of tables {key, account_id?}")
    keys = []
    for i, item in enumerate(raw):
        prefix = f"server.keys[{i}]"
        if not isinstance(item, dict):
            raise ConfigError(prefix, "must be a table {key, account_id?}")
        _check_keys(item, {"key", "key_sha256", "account_id"}, prefix)
        account = item.get("account_id")
        if account is not None and (not isinstance(account, str) or not account):
            raise ConfigError(f"{prefix}.account_id", "must be a non-empty string")
        if "key" in item:
            plain = item["key"]
            if not isinstance(plain, str) or len(plain) < MIN_KEY_LEN:
                raise ConfigError(f"{prefix}.key", f"must be a string of at least {MIN_KEY_LEN} characters")
            digest = hash_key(plain)
        elif isinstance(item.get("key_sha256"), str) and _SHA256.match(item["key_sha256"]):
            digest = item["key_sha256"]
        else:
            raise ConfigError(f"{prefix}.key", "required (or key_sha256: 64 lower-case hex digits)")
        keys.append(ApiKey(digest, account))
    return tuple(keys)


def parse_server(table: Mapping[str, Any]) -> ServerConfig:
    """The ``[server]`` section."""
    p = "server"
    _check_keys(table, {"listen", "keys", "grace_period_s", "tls_cert", "tls_key", "tls_client_ca",
                        "secret_key_file"}, p)
    listen = _typed(table, "listen", str, p, ServerConfig.listen)
    split_listen(listen)
    cfg = ServerConfig(
        listen=listen,
        keys=parse_keys(table.get("keys", [])),
        grace_period_s=float(_number(table, "grace_period_s", p, 10.0, 0)),
        tls_cert=_path(table, "tls_cert", p),
        tls_key=_path(table, "tls_key", p),
        tls_client_ca=_path(table, "tls_client_ca", p),
        secret_key_file=_path(table, "secret_key_file", p),
    )
    if (cfg.tls_cert is None) != (cfg.tls_key is None):
        raise ConfigError("server.tls_key", "tls_cert and tls_key must be given together")
    if cfg.tls_client_ca is not None and cfg.tls_cert is None:
        raise ConfigError("server.tls_client_ca", "needs tls_cert and tls_key")
    return cfg


def parse_database_url(table: Mapping[str, Any]) -> str:
    """The ``[database] url``: '' (SQLite in the data dir), ``sqlite:///...`` or ``postgresql://...``."""
    _check_keys(table, {"url"}, "database")
    url = _typed(table, "url", str, "database", "")
    schemes = ("sqlite://", "postgres://", "postgresql://", "postgresext://", "postgresqlext://")
    if url and not url.startswith(schemes):
        raise ConfigError("database.url", "must start with sqlite:// or postgresql://")
    return url


def parse_log(table: Mapping[str, Any]) -> LogConfig:
    """The ``[log]`` section."""
    _check_keys(table, {"format", "level"}, "log")
    fmt = str(_typed(table, "format", str, "log", "auto")).lower()
    level = str(_typed(table, "level", str, "log", "info")).lower()
    if fmt not in LOG_FORMATS:
        raise ConfigError("log.format", f"must be one of {', '.join(LOG_FORMATS)}, got {fmt!r}")
    if level not in LOG_LEVELS:
        raise ConfigError("log.level", f"must be one of {', '.join(LOG_LEVELS)}, got {level!r}")
    return LogConfig(fmt, level)


def parse_plans(table: Mapping[str, Any]) -> Mapping[str, Plan]:
    """The plan table (R1): the defaults, with ``[plans.<name>]`` overriding or adding rows.

    A new plan must give all four keys; an existing one may change any of them.
    ``max_stores = 0`` means unlimited."""
    plans = dict(DEFAULT_PLANS)
    fields = ("automatic", "lookback_days", "max_stores", "default_location_allowed")
    for name, row in table.items():
        p = f"plans.{name}"
        if not isinstance(row, dict):
            raise ConfigError(p, "must be a table")
        _check_keys(row, set(fields), p)
        base = plans.get(name)
        if base is None:
            missing = [f for f in fields if f not in row]
            if missing:
                raise ConfigError(f"{p}.{missing[0]}", "required for a plan not in the defaults")
        cadence = _typed(row, "automatic", str, p, base.cadence if base else "none")
        if cadence not in CADENCES:
            raise ConfigError(f"{p}.automatic", f"must be one of {', '.join(CADENCES)}, got {cadence!r}")
        lookback = _number(row, "lookback_days", p, base.lookback_days if base else 0, 0, integer=True)
        default_max = (base.max_stores or 0) if base else 0
        max_stores = _number(row, "max_stores", p, default_max, 0, integer=True)
        allowed = _typed(row, "default_location_allowed", bool, p,
                         base.default_location_allowed if base else False)
        plans[name] = Plan(name, cadence, lookback, max_stores or None, allowed)
    return MappingProxyType(plans)


def parse_scheduler(table: Mapping[str, Any]) -> SchedulerConfig:
    """The ``[scheduler]`` section."""
    p = "scheduler"
    _check_keys(table, {"workers", "poll_s", "lease_s", "overlap_minutes", "daily_hour_default"}, p)
    cfg = SchedulerConfig(
        workers=_number(table, "workers", p, 4, 1, integer=True),
        poll_s=float(_number(table, "poll_s", p, 1.0, 0, strict=True)),
        lease_s=float(_number(table, "lease_s", p, 60.0, 0, strict=True)),
        overlap_minutes=_number(table, "overlap_minutes", p, 10, 0, integer=True),
        daily_hour_default=_number(table, "daily_hour_default", p, 5, 0, integer=True),
    )
    if cfg.daily_hour_default > 23:
        raise ConfigError("scheduler.daily_hour_default", f"must be 0-23, got {cfg.daily_hour_default}")
    return cfg


def _strings(table: Mapping[str, Any], name: str, prefix: str) -> tuple[str, ...]:
    value = table.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{prefix}.{name}", "must be a list of non-empty strings")
    return tuple(value)


def parse_plugins(table: Mapping[str, Any], base: Path | None = None) -> PluginsConfig:
    """The ``[plugins]`` section; relative paths are read from the config file's folder."""
    _check_keys(table, {"paths", "modules", "blocked"}, "plugins")
    folder = base.parent if base is not None else Path.cwd()
    paths = tuple((folder / Path(p).expanduser()).resolve() for p in _strings(table, "paths", "plugins"))
    return PluginsConfig(paths, _strings(table, "modules", "plugins"), _strings(table, "blocked", "plugins"))


@dataclass(frozen=True)
class MetricsConfig:
    listen: str = ""
    """``HOST:PORT`` of the Prometheus endpoint; '' keeps it off (the default)."""


def parse_metrics(table: Mapping[str, Any]) -> MetricsConfig:
    """The ``[metrics]`` section."""
    _check_keys(table, {"listen"}, "metrics")
    listen = _typed(table, "listen", str, "metrics", "")
    if listen:
        split_listen(listen, "metrics.listen")
    return MetricsConfig(listen)


def parse_channels(table: Mapping[str, Any]) -> Mapping[str, Mapping[str, Any]]:
    """``[channels.<name>]`` tables, free-form, passed to the channel as its settings."""
    out: dict[str, Mapping[str, Any]] = {}
    for name, section in table.items():
        p = f"channels.{name}"
        if not _CHANNEL_NAME.match(name):
            raise ConfigError(p, "channel names are short snake tokens such as 'etsy'")
        if not isinstance(section, dict):
            raise ConfigError(p, "must be a table")
        for url_key in ("base_url", "token_url"):
            url = section.get(url_key)
            if url is not None and (not isinstance(url, str) or not url.startswith(("http://", "https://"))):
                raise ConfigError(f"{p}.{url_key}", f"must be an http(s) URL, got {url!r}")
        out[name] = MappingProxyType(dict(section))
    return MappingProxyType(out)
