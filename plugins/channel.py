"""The ``Channel`` contract: the small class every channel plugin implements.

A channel turns one sales platform's API into plain records. It is built per
store from a :class:`ChannelContext` (credentials, its config section, the
clock, the shared limiter registry) and talks HTTP only through
``self.http``, a :class:`~.http.PacedClient` built from the channel's own
:meth:`Channel.create_pacer` and :meth:`Channel.create_auth`.

Streams yield :class:`~.records.Page` objects, each with a cursor from which
the stream resumes after that page. The daemon saves the cursor in the same
transaction as the page's records, so a pull killed anywhere resumes exactly.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

import httpx

from .clock import SYSTEM_CLOCK, Clock
from .http import MAX_RETRIES, PacedClient, RequestStats, TokenAuth
from .pacing import LimiterRegistry, Pacer
from .records import (
    ChangeDetection,
    CredentialField,
    FeeRecord,
    ListingRecord,
    OrderRecord,
    Page,
    ShopInfo,
    Window,
)

Cursor = Mapping[str, Any]


@dataclass
class ChannelContext:
    """Everything a channel instance gets from the daemon for one store.

    ``credentials`` is the store's decrypted credential map (the channel may
    update it through its :class:`TokenAuth`); ``save_credentials`` persists a
    changed map before it is used; ``settings`` is the ``[channels.<name>]``
    config section (``base_url``, ``token_url``, channel options);
    ``transport`` lets tests and the demo route HTTP to a simulator;
    ``floor`` is the first instant the daemon will ask this store for (the
    account's R2 floor; None when not known), so :meth:`Channel.connect`
    warns of a reach limit only where it matters."""

    credentials: dict[str, str]
    settings: Mapping[str, Any] = field(default_factory=dict)
    clock: Clock = SYSTEM_CLOCK
    limiters: LimiterRegistry | None = None
    save_credentials: Callable[[dict[str, str]], None] = lambda _creds: None
    transport: httpx.BaseTransport | None = None
    stats: RequestStats = field(default_factory=RequestStats)
    timeout_s: float = 30.0
    max_retries: int = MAX_RETRIES
    floor: datetime | None = None


class Channel(abc.ABC):
    """One sales platform. Subclasses set the class attributes and implement
    :meth:`connect`, :meth:`iter_orders`, :meth:`iter_listings` and
    :meth:`iter_fees`."""

    name: ClassVar[str]
    """Short snake id used everywhere: entry point, config section, logs, API."""
    display_name: ClassVar[str]
    version: ClassVar[str] = "1.0"
    pulls: ClassVar[tuple[str, ...]] = ("orders", "listings", "fees")
    max_lookback_days: ClassVar[int] = 0
    """How far back the channel can read at all (0: no limit of its own)."""
    change_detection: ClassVar[ChangeDetection] = ChangeDetection()
    credential_fields: ClassVar[tuple[CredentialField, ...]] = ()
    default_base_url: ClassVar[str] = ""

    def __init__(self, ctx: ChannelContext) -> None:
        self.ctx = ctx
        self.clock = ctx.clock
        self.limiters = ctx.limiters or LimiterRegistry(ctx.clock)
        self.settings = ctx.settings
        self.credentials = ctx.credentials
        self.auth = self.create_auth()
        self.http = PacedClient(
            base_url=str(self.settings.get("base_url") or self.default_base_url),
            transport=ctx.transport,
            clock=ctx.clock,
            pacer=self.create_pacer(),
            auth=self.auth,
            stats=ctx.stats,
            timeout_s=ctx.timeout_s,
            max_retries=ctx.max_retries,
        )

    # -- building blocks a channel may override -------------------------

    def create_pacer(self) -> Pacer:
        """The pacer for this store's requests (buckets keyed as the channel counts)."""
        return Pacer(self.limiters)

    def create_auth(self) -> TokenAuth | None:
        """How requests are signed and tokens refreshed; None for no auth."""
        return None

    def close(self) -> None:
        """Release the HTTP client."""
        self.http.close()

    @classmethod
    def credential_problems(cls, credentials: Mapping[str, str]) -> dict[str, str]:
        """What is wrong with ``credentials`` before any request is made: the
        credential field's name -> the rule it breaks ("must be a
        *.myshopify.com domain"), in the order the fields are declared; empty
        when every field is well formed. The base class checks that required
        fields are present; a channel adds its format rules by overriding and
        calling ``super()``. A rule never repeats the value (it may be a
        secret). Raises nothing."""
        needs = ", ".join(f.name for f in cls.credential_fields if f.required)
        return {f.name: f"is required by channel {cls.name} (needs: {needs})"
                for f in cls.credential_fields if f.required and not credentials.get(f.name)}

    @classmethod
    def validate_credentials(cls, credentials: Mapping[str, str]) -> list[str]:
        """Names of credential fields that are missing, empty or malformed
        (the keys of :meth:`credential_problems`)."""
        return list(cls.credential_problems(credentials))

    def is_floor_out_of_reach(self, reach: datetime | None) -> bool:
        """True when the channel cannot read back to the account's floor (R2):
        ``reach`` (the earliest instant these credentials can read, None for
        no limit) is after ``ctx.floor``, or the floor is not known. A
        channel warns on connect only then."""
        return reach is not None and (self.ctx.floor is None or self.ctx.floor < reach)

    # -- the contract ------------------------------------------------------

    @abc.abstractmethod
    def connect(self) -> ShopInfo:
        """Check the credentials and name the shop.

        Returns :class:`ShopInfo` with warnings (a missing scope) and how far
        back the credentials reach. Raises :class:`AuthError` for refused
        credentials, :class:`PermanentChannelError` for anything else final."""

    @abc.abstractmethod
    def iter_orders(self, window: Window, cursor: Cursor | None = None) -> Iterator[Page[OrderRecord]]:
        """Yield pages of the orders in ``window`` (new and, with
        ``window.modified_since``, changed ones, plus the declared change
        detection), resuming after ``cursor`` when given."""

    @abc.abstractmethod
    def iter_listings(self, cursor: Cursor | None = None) -> Iterator[Page[ListingRecord]]:
        """Yield pages of every listing variation of the shop, resuming after ``cursor``."""

    @abc.abstractmethod
    def iter_fees(self, window: Window, cursor: Cursor | None = None) -> Iterator[Page[FeeRecord]]:
        """Yield pages of the fees that occurred in ``window``, resuming after ``cursor``."""
