"""The daemon assembled: store, plugins, engine, workers and config, behind
the :class:`~makersync.daemon.api.app.App` facade the servicers call."""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

import httpx
import structlog

from makersync.daemon import logging as mlog
from makersync.daemon import rules
from makersync.daemon.api.app import (
    ChannelInfoView,
    CredentialFieldView,
    StatusView,
    StoreStatusView,
)
from makersync.daemon.api.errors import ChannelUnavailable
from makersync.daemon.config import Config, ConfigWatcher
from makersync.daemon.domain import accounts as dom_accounts
from makersync.daemon.domain import integrations as dom_integrations
from makersync.daemon.domain import pulls as dom_pulls
from makersync.daemon.domain.errors import InvalidArgument, NotFound
from makersync.daemon.domain.views import DisconnectResult, PullView, StoreView
from makersync.daemon.engine.engine import EngineSettings, PullEngine
from makersync.daemon.engine.events import PullEvents
from makersync.daemon.engine.runner import PullRunner
from makersync.daemon.engine.waiting import PullClock
from makersync.daemon.rules import Plan
from makersync.daemon.store import db as store_db
from makersync.daemon.store import migrations, secrets
from makersync.plugins import (
    AuthError,
    Channel,
    ChannelContext,
    ChannelError,
    LimiterRegistry,
    PermanentChannelError,
)
from makersync.plugins.clock import SYSTEM_CLOCK, Clock
from makersync.plugins.manager import ChannelRegistry, load_channels

VERSION = "0.1.0"
log = structlog.get_logger("makersync.app")


class DaemonApp:
    """The running daemon. Build it with :func:`build_app`; ``start()`` starts
    the workers (and the scheduler), ``shutdown()`` stops them."""

    def __init__(self, config: Config, db: store_db.Database, box: secrets.SecretBox,
                 registry: ChannelRegistry, *, clock: Clock = SYSTEM_CLOCK,
                 transports: Mapping[str, httpx.BaseTransport] | None = None) -> None:
        self.config = config
        self.db = db
        self.box = box
        self.registry = registry
        self.clock = clock
        self.transports = dict(transports or {})
        self.started_at = clock.now()
        self.daemon_id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.events = PullEvents()
        # Channels and their shared limiters wait on the pull clock: a wait ends
        # when the pull must stop (shutdown) and shows on the pull row.
        self.pull_clock = PullClock(clock)
        self.limiters = LimiterRegistry(self.pull_clock)
        self.engine = PullEngine(
            db, registry, box, clock=clock, plans=lambda: self.plans,
            channel_settings=lambda name: self.config.channels.get(name, {}),
            settings=EngineSettings(owner=self.daemon_id, lease_s=config.scheduler.lease_s,
                                    overlap=timedelta(minutes=config.scheduler.overlap_minutes)),
            limiters=self.limiters, transport_for=self.transports.get, events=self.events,
            on_secret=register_secrets, pull_clock=self.pull_clock)
        self.runner = PullRunner(db, self.engine, workers=config.scheduler.workers, poll_s=config.scheduler.poll_s)
        self.scheduler: Any = None
        self.watcher: ConfigWatcher | None = None
        self._on_shutdown: list[Callable[[], None]] = []

    # -- life --------------------------------------------------------------

    @property
    def plans(self) -> Mapping[str, Plan]:
        return self.config.plans

    @property
    def default_daily_pull_hour(self) -> int:
        return self.config.scheduler.daily_hour_default

    def start(self, *, scheduler: bool = True, watch_config: bool = True) -> DaemonApp:
        self.runner.start()
        if scheduler:
            try:
                from makersync.daemon.scheduler import Scheduler
            except ImportError:
                Scheduler = None  # type: ignore[assignment,misc]
            if Scheduler is not None:
                self.scheduler = Scheduler(self).start()
        if self.config.plugins.paths:
            from makersync.daemon.plugin_watch import PluginWatcher

            watcher = PluginWatcher(self.registry, self.config.plugins.paths).start()
            self._on_shutdown.append(watcher.stop)
        if self.config.metrics.listen:
            from makersync.daemon.metrics import MetricsServer

            self.metrics = MetricsServer(self.config.metrics.listen, self.db, self.clock, VERSION).start()
            self._on_shutdown.append(self.metrics.stop)
            log.info("metrics", address=f"{self.config.metrics.listen.rpartition(':')[0]}:{self.metrics.port}")
        if watch_config and self.config.config_file is not None:
            self.watcher = ConfigWatcher(self.config, self._reload_config)
            self.watcher.subscribe(self._apply_config)
            self.watcher.start()
        return self

    def _reload_config(self) -> Config:
        from makersync.daemon.config import load_config
        return load_config(self.config.config_file, flags={
            "listen": self.config.listen, "data_dir": str(self.config.data_dir),
            "database_url": self.config.database_url or None})

    def _apply_config(self, config: Config) -> None:
        self.config = config
        if self.scheduler is not None and hasattr(self.scheduler, "config_changed"):
            self.scheduler.config_changed()

    def shutdown(self, grace_s: float) -> None:
        deadline = time.monotonic() + grace_s
        if self.scheduler is not None:
            self.scheduler.stop()
        if self.watcher is not None:
            self.watcher.stop()
        self.runner.stop(max(0.1, deadline - time.monotonic() - 0.5))
        for hook in self._on_shutdown:
            hook()

    # -- channels and stores ------------------------------------------------

    def list_channels(self) -> list[ChannelInfoView]:
        """The installed channels (cached until the plugin set changes)."""
        key = tuple(sorted((n, id(c)) for n, c in self.registry.channels.items()))
        cached = getattr(self, "_channels_cache", None)
        if cached is not None and cached[0] == key:
            return list(cached[1])
        out = []
        for name in sorted(self.registry.channels):
            cls = self.registry.channels[name]
            out.append(ChannelInfoView(
                name=name, display_name=cls.display_name, version=cls.version, pulls=tuple(cls.pulls),
                max_lookback_days=cls.max_lookback_days, change_detection=cls.change_detection.description,
                credential_fields=tuple(CredentialFieldView(f.name, f.description, f.required, f.secret)
                                        for f in cls.credential_fields)))
        self._channels_cache = (key, tuple(out))
        return out

    def channel_context(self, channel: str, credentials: dict[str, str]) -> ChannelContext:
        return ChannelContext(credentials=credentials, settings=self.config.channels.get(channel, {}),
                              clock=self.clock, limiters=self.limiters, transport=self.transports.get(channel))

    def connect(self, account_id: str, channel: str, credentials: Mapping[str, str],
                display_name: str) -> StoreView:
        channels = set(self.registry.channels)
        dom_integrations.validate_channel(channel, channels)
        cls = self.registry.get(channel)
        problems = cls.credential_problems(credentials)
        if problems:  # the first in the channel's field order, named with the rule it breaks
            name, rule = next(iter(problems.items()))
            raise InvalidArgument(f"credentials.{name}", rule)
        known = {f.name for f in cls.credential_fields} | {"access_token_expires_at"}
        unknown = sorted(set(credentials) - known)
        if unknown:
            raise InvalidArgument(f"credentials.{unknown[0]}", f"is not a credential of channel {channel}")
        register_secrets(cls, credentials)
        creds = dict(credentials)
        saved: list[dict[str, str]] = []
        ctx = self.channel_context(channel, creds)
        ctx.save_credentials = saved.append
        # a person waits on Connect: fail fast when the channel cannot be reached
        ctx.max_retries, ctx.timeout_s = CONNECT_MAX_RETRIES, CONNECT_TIMEOUT_S
        dom_integrations.check_store_quota(self.db, self.clock, self.plans, account_id)
        account = dom_accounts.get_account(self.db, self.clock, self.plans, account_id)
        ctx.floor = rules.day_start_utc(account.floor_date, account.time_zone)  # reach warnings only past it (R2)
        instance = cls(ctx)
        try:
            info = instance.connect()
        except AuthError as exc:
            raise InvalidArgument("credentials", f"the channel refused them: {exc}") from None
        except PermanentChannelError as exc:
            raise InvalidArgument("credentials", f"the channel refused the request: {exc}") from None
        except ChannelError as exc:
            raise ChannelUnavailable(f"{channel} could not be reached: {exc}") from None
        finally:
            instance.close()
        final = saved[-1] if saved else instance.credentials
        register_secrets(cls, final)
        repaired = dom_integrations.reconnect_store(
            self.db, self.box, account_id, channel, external_shop_id=info.external_shop_id,
            warnings=info.warnings, reachable_since=info.reachable_since, reach=info.reach,
            credentials=final)
        if repaired is not None:
            return repaired
        view = dom_integrations.record_store(
            self.db, self.clock, self.plans, self.box, account_id, channel, channels,
            external_shop_id=info.external_shop_id, shop_name=info.name, currency=info.currency,
            warnings=info.warnings, reachable_since=info.reachable_since, reach=info.reach,
            credentials=final, display_name=display_name)
        self.runner.wake()
        return view

    def disconnect(self, store_id: str) -> DisconnectResult:
        view = dom_integrations.get_store(self.db, store_id)
        for pull_id in self.runner.active_pulls():
            try:
                pv = dom_pulls.get_pull(self.db, str(pull_id))
            except NotFound:
                continue
            if pv.store_id == view.id:
                dom_pulls.cancel_pull(self.db, self.clock, pv.id)
                self.wait_until_stopped(pull_id, timeout_s=30)
        return dom_integrations.disconnect(self.db, store_id)

    def wait_until_stopped(self, pull_id: int, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while pull_id in self.runner.active_pulls() and time.monotonic() < deadline:
            self.events.wait(pull_id, self.events.version(pull_id), 0.2)

    # -- pulls ----------------------------------------------------------------

    def request_pull(self, store_id: str, start_date: str, end_date: str, dry_run: bool) -> PullView:
        view = dom_pulls.request_manual_pull(self.db, self.clock, self.plans, store_id, start_date, end_date,
                                             dry_run)
        self.runner.wake()
        return view

    def sync_store(self, store_id: str) -> PullView:
        view = dom_pulls.request_sync(self.db, self.clock, store_id)
        self.runner.wake()
        return view

    def cancel_pull(self, pull_id: str) -> PullView:
        view = dom_pulls.cancel_pull(self.db, self.clock, pull_id)
        self.events.bump(int(view.id))
        return view

    def wait_pull_change(self, pull_id: str, timeout_s: float) -> None:
        ident = int(pull_id)
        self.events.wait(ident, self.events.version(ident), timeout_s)

    # -- status -------------------------------------------------------------

    def status(self, account_id: str | None) -> StatusView:
        stores = [
            StoreStatusView(
                store_id=s.id, account_id=s.account_id, channel=s.channel, name=s.name, state=s.state,
                last_pull=s.last_pull, next_automatic_pull_at=s.next_automatic_pull_at,
                last_error=s.last_error, warnings=tuple(s.warnings))
            for s in dom_integrations.all_stores(self.db, account_id or None)
        ]
        running = []
        for pull_id in self.runner.active_pulls():
            try:
                pv = dom_pulls.get_pull(self.db, str(pull_id))
            except NotFound:
                continue
            if not account_id or pv.account_id == account_id:
                running.append(pv)
        now = self.clock.now()
        return StatusView(
            version=VERSION, started_at=self.started_at,
            uptime_seconds=int((now - self.started_at).total_seconds()), daemon_id=self.daemon_id,
            database=self.db.backend, plugins=self.list_channels(), stores=stores, running_pulls=running)


CONNECT_MAX_RETRIES = 1
CONNECT_TIMEOUT_S = 10.0
SECRETISH = ("token", "secret", "password", "key")


def register_secrets(cls: type[Channel], credentials: Mapping[str, str]) -> None:
    """Tell the log redactor the credential values that are secret: the fields
    the channel marks secret, and any token or secret a refresh adds. Shop ids
    and key ids stay readable in logs and errors."""
    secret_fields = {f.name for f in cls.credential_fields if f.secret}
    for name, value in credentials.items():
        if name in secret_fields or (any(w in name.lower() for w in SECRETISH) and not name.endswith("_at")):
            mlog.register_secret(value)


def build_app(config: Config, *, clock: Clock = SYSTEM_CLOCK,
              transports: Mapping[str, httpx.BaseTransport] | None = None,
              registry: ChannelRegistry | None = None) -> DaemonApp:
    """Open the database (migrating it), the secret keys and the plugins.

    Refuses to start (raising with a clear message) when another daemon holds
    the SQLite data directory, the schema is newer than this code, or stored
    credentials cannot be decrypted with the configured keys."""
    config.data_dir.mkdir(parents=True, exist_ok=True)
    is_sqlite = not config.database_url or config.database_url.startswith("sqlite:")
    if is_sqlite:
        store_db.acquire_data_dir_lock(config.data_dir)
    db = store_db.open_database(config.database_url or None, config.data_dir)
    if not db.is_sqlite:
        _limit_idle_transactions(db, config.scheduler.lease_s)
    migrations.migrate(db)
    box = secrets.load_secret_box(config.data_dir, key_file=config.server.secret_key_file)
    if (not is_sqlite and config.server.secret_key_file is None
            and not os.environ.get(secrets.SECRET_KEY_ENV, "").strip()):
        log.warning("several daemons on one PostgreSQL must share MAKERSYNC_SECRET_KEY; this one uses "
                    "its own key file", key_file=str(config.data_dir / secrets.DEFAULT_KEY_FILENAME))
    secrets.check_can_decrypt(db, box)
    registry = registry or load_channels(paths=config.plugins.paths, modules=config.plugins.modules,
                                         blocked=config.plugins.blocked)
    app = DaemonApp(config, db, box, registry, clock=clock, transports=transports)
    if is_sqlite:
        app._on_shutdown.append(lambda: store_db.release_data_dir_lock(config.data_dir))
    return app


def _limit_idle_transactions(db: store_db.Database, lease_s: float) -> None:
    """Have PostgreSQL end a session left idle inside a transaction for a
    lease's length. A daemon paused (SIGSTOP, a frozen VM) in the middle of a
    page's transaction would otherwise keep the store's lease row locked, and
    no other daemon could take the store over when the lease expires (QUALITY
    S1); with it, the lock goes when the lease does. Set on the connection
    options, so every thread's connection has it."""
    timeout_ms = max(1000, int(lease_s * 1000))
    params = db.pw.connect_params
    options = str(params.get("options") or "")
    if "idle_in_transaction_session_timeout" not in options:
        params["options"] = f"{options} -c idle_in_transaction_session_timeout={timeout_ms}".strip()
    db.close()
