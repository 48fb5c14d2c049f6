"""What the gRPC servicers need from the rest of the daemon: the ``App`` facade.

The servicers call plain domain functions with ``app.db``, ``app.clock`` and
``app.plans``, and go through the App for what involves the engine, the
scheduler or the channel plugins (connect, pulls, status). The daemon's App is
built by ``makersync.daemon.app.build_app(config)``; this module only fixes
its shape, so the api layer never imports the engine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from makersync.daemon.domain.views import DisconnectResult, PullView, StoreView
from makersync.plugins.clock import Clock

if TYPE_CHECKING:
    from makersync.daemon.rules import Plan


@dataclass(frozen=True)
class CredentialFieldView:
    """One credential a channel needs on connect (from the plugin's declaration)."""

    name: str
    description: str = ""
    required: bool = True
    secret: bool = True


@dataclass(frozen=True)
class ChannelInfoView:
    """An installed channel plugin."""

    name: str
    display_name: str
    version: str
    pulls: Sequence[str] = ("orders", "listings", "fees")
    max_lookback_days: int = 0
    change_detection: str = ""
    credential_fields: Sequence[CredentialFieldView] = ()


@dataclass(frozen=True)
class StoreStatusView:
    """How one store's pulls are going."""

    store_id: str
    account_id: str
    channel: str
    name: str
    state: str  # 'active' | 'needs_reconnect'
    last_pull: PullView | None = None
    next_automatic_pull_at: datetime | None = None
    last_error: str = ""
    warnings: Sequence[str] = ()


@dataclass(frozen=True)
class StatusView:
    """The daemon's status (GetStatus)."""

    version: str
    started_at: datetime
    uptime_seconds: int
    daemon_id: str = ""
    database: str = "sqlite"  # 'sqlite' | 'postgresql'
    plugins: Sequence[ChannelInfoView] = ()
    stores: Sequence[StoreStatusView] = field(default_factory=list)
    running_pulls: Sequence[PullView] = field(default_factory=list)


@runtime_checkable
class App(Protocol):
    """The daemon as the servicers see it.

    ``db`` is the store's ``Database`` (passed to domain functions as is),
    ``clock`` the injected clock, ``plans`` the plan table in force (it changes
    when the config is reloaded). Every method raises the domain errors of
    :mod:`makersync.daemon.domain.errors`; the api layer maps them to codes.

    Optional: an App may also offer ``wait_pull_change(pull_id, timeout_s) ->
    None``, which returns when the pull may have changed (or after the
    timeout); WatchPull then waits on it instead of polling.
    """

    db: Any
    clock: Clock

    @property
    def plans(self) -> Mapping[str, Plan]:
        """The plan table in force (R1)."""
        ...

    @property
    def default_daily_pull_hour(self) -> int:
        """The local hour of daily pulls for accounts that name none (``[scheduler] daily_hour_default``)."""
        ...

    def list_channels(self) -> list[ChannelInfoView]:
        """The installed channel plugins, by name."""
        ...

    def connect(
        self, account_id: str, channel: str, credentials: Mapping[str, str], display_name: str
    ) -> StoreView:
        """Check the credentials with the channel and record the store (or
        reconnect it); the initial pull is queued. Raises NotFound (account,
        channel), InvalidArgument (credentials, refused by the channel),
        QuotaExceeded (R1); a channel that cannot be reached raises
        ``makersync.daemon.api.errors.ChannelUnavailable`` (UNAVAILABLE)."""
        ...

    def disconnect(self, store_id: str) -> DisconnectResult:
        """Cancel the store's queued or running pull, then remove the store
        and what was pulled from it (R3). Raises NotFound."""
        ...

    def request_pull(self, store_id: str, start_date: str, end_date: str, dry_run: bool) -> PullView:
        """Queue a manual pull (R4). Raises NotFound, InvalidArgument, FailedPrecondition."""
        ...

    def sync_store(self, store_id: str) -> PullView:
        """Queue an automatic pull of the store now (R5). Raises NotFound,
        FailedPrecondition (the store needs reconnecting)."""
        ...

    def cancel_pull(self, pull_id: str) -> PullView:
        """Cancel a pull (a running one stops at its next page). Raises
        NotFound, FailedPrecondition (already succeeded or failed)."""
        ...

    def status(self, account_id: str | None) -> StatusView:
        """The daemon's status, limited to one account when given. Raises NotFound."""
        ...

    def shutdown(self, grace_s: float) -> None:
        """Stop the scheduler and the workers: running pulls stop at a page
        boundary and release their leases, within ``grace_s`` seconds."""
        ...
