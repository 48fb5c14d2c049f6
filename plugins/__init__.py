"""The makersync plugin SDK: everything a channel plugin imports.

A channel plugin subclasses :class:`Channel`, maps the platform's JSON to the
record types with pure functions, paces its HTTP through the
:class:`PacedClient` it is given, and registers itself with
``@hookimpl def makersync_register_channels(register)``. Its simulator is a
function from ``httpx.Request`` to ``httpx.Response`` (see
:mod:`makersync.plugins.simulate`), and the conformance kit
(:mod:`makersync.plugins.conformance`) tests the pair.
"""

from .channel import Channel, ChannelContext, Cursor
from .clock import SYSTEM_CLOCK, Clock, FakeClock, SystemClock
from .errors import (
    AuthError,
    BadRecord,
    ChannelError,
    CursorExpired,
    PermanentChannelError,
    RateLimited,
    TransientChannelError,
)
from .hookspecs import hookimpl, hookspec
from .http import PacedClient, RequestStats, TokenAuth, raise_for_status
from .pacing import BucketSpec, LimiterRegistry, Pacer, TokenBucket, parse_retry_after
from .pagination import (
    CursorPaginator,
    LinkHeaderPaginator,
    LoopGuard,
    OffsetPaginator,
    TokenPaginator,
    next_link,
)
from .records import (
    AdjustmentRecord,
    ChangeDetection,
    CredentialField,
    FeeKind,
    FeeRecord,
    ListingRecord,
    OrderLine,
    OrderRecord,
    OrderStatus,
    Page,
    RefundRecord,
    SetAside,
    ShopInfo,
    Window,
    from_json,
    record_hash,
    to_json,
    utc,
)

__all__ = [
    "AdjustmentRecord", "AuthError", "BadRecord", "BucketSpec", "ChangeDetection", "Channel",
    "ChannelContext", "ChannelError", "Clock", "CredentialField", "Cursor", "CursorExpired",
    "CursorPaginator", "FakeClock", "FeeKind", "FeeRecord", "LimiterRegistry", "LinkHeaderPaginator",
    "ListingRecord", "LoopGuard", "OffsetPaginator", "OrderLine", "OrderRecord", "OrderStatus",
    "PacedClient", "Pacer", "Page", "PermanentChannelError", "RateLimited", "RefundRecord",
    "RequestStats", "SYSTEM_CLOCK", "SetAside", "ShopInfo", "SystemClock", "TokenAuth",
    "TokenBucket", "TokenPaginator", "TransientChannelError", "Window", "from_json", "hookimpl",
    "hookspec", "next_link", "parse_retry_after", "raise_for_status", "record_hash", "to_json", "utc",
]
