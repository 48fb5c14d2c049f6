"""Converters between the domain's views and protobuf: ``x_to_proto`` / ``x_from_proto``.

Money goes out as ``Money{currency_code, amount}`` with an exact decimal
string; instants as Timestamps (unset for None); dates as ``YYYY-MM-DD``.
Enum values are the view's lower-case words, mapped to ``PREFIX_WORD``.
Protobuf types never leave ``daemon/api/``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from makersync.daemon import rules
from makersync.daemon.api.app import ChannelInfoView, StatusView, StoreStatusView
from makersync.daemon.domain import views as v
from makersync.daemon.domain.errors import InvalidArgument
from makersync.daemon.logging import scrub
from makersync.v1 import integrations_pb2, status_pb2
from makersync.v1 import resources_pb2 as pb


def decimal_to_str(amount: Decimal) -> str:
    """An exact decimal string: no exponent, no separators ('12.50', '-3', '0.005')."""
    text = format(amount, "f")
    return "0" if text in ("-0", "") else text


def money_to_proto(amount: Decimal | None, currency: str) -> pb.Money | None:
    """``Money`` for an amount, or None when there is no amount."""
    if amount is None:
        return None
    return pb.Money(currency_code=currency, amount=decimal_to_str(amount))


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def timestamp_to_proto(when: datetime | None) -> Timestamp | None:
    """A Timestamp for an aware instant (naive ones are taken as UTC); None stays None.
    The same as ``Timestamp.FromDatetime``, at a third of its cost: a page of
    orders holds hundreds of instants (QUALITY P6)."""
    if when is None:
        return None
    since = (when if when.tzinfo else when.replace(tzinfo=UTC)) - _EPOCH
    return Timestamp(seconds=since.days * 86_400 + since.seconds, nanos=since.microseconds * 1000)


def timestamp_from_proto(msg: Any, field: str) -> datetime | None:
    """The aware UTC instant in ``msg.<field>``, or None when the field is unset.
    Raises InvalidArgument naming the field for an instant outside the days
    the API takes (rules.EARLIEST_DAY to rules.LATEST_DAY)."""
    if not msg.HasField(field):
        return None
    ts: Timestamp = getattr(msg, field)
    try:
        when = ts.ToDatetime(tzinfo=UTC)
    except (ValueError, OverflowError):
        when = None
    if when is None or not rules.EARLIEST_DAY <= when.date() <= rules.LATEST_DAY:
        raise InvalidArgument(field, f"must be an instant from {rules.EARLIEST_DAY} to {rules.LATEST_DAY} "
                                     "(UTC)") from None
    return when


def date_to_str(day: date | None) -> str:
    return day.isoformat() if day else ""


@functools.lru_cache(maxsize=1024)
def enum_to_proto(enum: Any, prefix: str, word: str, fallback: str = "UNSPECIFIED") -> int:
    """``enum.Value(PREFIX_WORD)`` for a view's lower-case word; the fallback when unknown.
    Cached: the words are a handful per enum, looked up for every item of a list."""
    try:
        return int(enum.Value(f"{prefix}_{word.upper()}"))
    except ValueError:
        return int(enum.Value(f"{prefix}_{fallback}"))


def enum_from_proto(enum: Any, prefix: str, number: int) -> str:
    """The lower-case word for an enum number ('' for UNSPECIFIED or unknown numbers)."""
    try:
        name = str(enum.Name(number))
    except ValueError:
        return ""
    word = name.removeprefix(prefix + "_").lower()
    return "" if word == "unspecified" else word


def _set(msg: Any, **fields: Any) -> Any:
    """Set message fields, skipping None (an unset Timestamp/Money means "none")."""
    for name, value in fields.items():
        if value is None:
            continue
        if isinstance(value, Message):
            getattr(msg, name).CopyFrom(value)
        else:
            setattr(msg, name, value)
    return msg


def account_to_proto(a: v.AccountView) -> pb.Account:
    return _set(
        pb.Account(), id=a.id, name=a.name, plan=a.plan, start_date=date_to_str(a.start_date),
        time_zone=a.time_zone, floor_date=date_to_str(a.floor_date), floor_reason=a.floor_reason,
        daily_pull_hour=a.daily_pull_hour, created_at=timestamp_to_proto(a.created_at),
        max_stores=a.max_stores or 0, stores_connected=a.stores_connected,
    )


def location_to_proto(loc: v.LocationView) -> pb.Location:
    return _set(pb.Location(), id=loc.id, account_id=loc.account_id, name=loc.name,
                created_at=timestamp_to_proto(loc.created_at))


def _filtered(values: Mapping[str, Any], message: Any) -> dict[str, Any]:
    known = {f.name for f in message.DESCRIPTOR.fields}
    return {k: val for k, val in values.items() if k in known and val is not None}


def pull_to_proto(p: v.PullView) -> pb.PullJob:
    msg = _set(
        pb.PullJob(), id=p.id, store_id=p.store_id, account_id=p.account_id, channel=p.channel,
        kind=enum_to_proto(pb.PullKind, "PULL_KIND", p.kind),
        dry_run=p.dry_run, state=enum_to_proto(pb.PullState, "PULL_STATE", p.state),
        window_start=timestamp_to_proto(p.window_start), window_end=timestamp_to_proto(p.window_end),
        start_date=p.start_date, end_date=p.end_date,
        progress=pb.PullProgress(**_filtered(p.progress, pb.PullProgress)),
        counts=pb.PullCounts(**_filtered(p.counts, pb.PullCounts)),
        requests_made=p.requests_made, throttled_responses=p.throttled, error=scrub(p.error),
        created_at=timestamp_to_proto(p.created_at), started_at=timestamp_to_proto(p.started_at),
        finished_at=timestamp_to_proto(p.finished_at), waiting_reason=p.waiting_reason,
    )
    msg.warnings.extend(p.warnings)
    msg.set_aside.extend(pb.SetAsideRecord(**_filtered(s, pb.SetAsideRecord)) for s in p.set_aside[:1000])
    if p.set_aside_count and not msg.counts.records_set_aside:
        msg.counts.records_set_aside = p.set_aside_count
    return msg


def store_to_proto(s: v.StoreView, now: datetime) -> pb.Store:
    """``now`` places the channel's rolling reach: the store shows how far
    back its channel can read today, as the next pull will (R2)."""
    msg = _set(
        pb.Store(), id=s.id, integration_id=s.integration_id, account_id=s.account_id,
        channel=s.channel, external_shop_id=s.external_shop_id, name=s.name, currency=s.currency,
        connected_at=timestamp_to_proto(s.connected_at),
        state=enum_to_proto(pb.StoreState, "STORE_STATE", s.state),
        reachable_since=timestamp_to_proto(rules.reachable_since(now, s.reachable_since, s.reach)),
        last_error=scrub(s.last_error),
        last_pull=pull_to_proto(s.last_pull) if s.last_pull else None,
        next_automatic_pull_at=timestamp_to_proto(s.next_automatic_pull_at),
        initial_pull_id=s.initial_pull_id,
    )
    msg.warnings.extend(s.warnings)
    return msg


def integration_to_proto(i: v.IntegrationView, now: datetime) -> pb.Integration:
    msg = _set(
        pb.Integration(), id=i.id, account_id=i.account_id, channel=i.channel,
        automatic_updates=i.automatic_updates, automatic_shipped_date=i.automatic_shipped_date,
        automatic_shipped_date_since=timestamp_to_proto(i.automatic_shipped_date_since),
        default_location_id=i.default_location_id, created_at=timestamp_to_proto(i.created_at),
    )
    msg.stores.extend(store_to_proto(s, now) for s in i.stores)
    return msg


def disconnect_to_proto(r: v.DisconnectResult) -> integrations_pb2.DisconnectResponse:
    return integrations_pb2.DisconnectResponse(**vars(r))


def channel_info_to_proto(c: ChannelInfoView) -> pb.ChannelInfo:
    msg = pb.ChannelInfo(
        name=c.name, display_name=c.display_name, version=c.version, pulls=list(c.pulls),
        max_lookback_days=c.max_lookback_days, change_detection=c.change_detection,
    )
    msg.credential_fields.extend(
        pb.CredentialField(name=f.name, required=f.required, secret=f.secret, description=f.description)
        for f in c.credential_fields
    )
    return msg


def _line_to_proto(line: v.OrderLineView, currency: str) -> pb.OrderLine:
    return pb.OrderLine(
        id=line.id, external_id=line.external_id, listing_id=line.listing_id,
        listing_external_id=line.listing_external_id, variation_external_id=line.variation_external_id,
        sku=line.sku, title=line.title, quantity=line.quantity,
        unit_price=money_to_proto(line.unit_price, currency), product_id=line.product_id,
    )


def order_to_proto(o: v.OrderView) -> pb.Order:
    """The Order message, built in one constructor call per message (the
    constructor skips None, as ``_set`` does): ListOrders converts a page of
    them per call (QUALITY P6)."""
    cur = o.currency
    return pb.Order(
        id=o.id, account_id=o.account_id, store_id=o.store_id, channel=o.channel,
        external_id=o.external_id, order_number=o.order_number,
        status=enum_to_proto(pb.OrderStatus, "ORDER_STATUS", o.status), channel_status=o.channel_status,
        placed_at=timestamp_to_proto(o.placed_at), shipped_at=timestamp_to_proto(o.shipped_at),
        cancelled_at=timestamp_to_proto(o.cancelled_at), modified_at=timestamp_to_proto(o.modified_at),
        location_id=o.location_id, currency=cur, subtotal=money_to_proto(o.subtotal, cur),
        shipping=money_to_proto(o.shipping, cur), tax=money_to_proto(o.tax, cur),
        discount=money_to_proto(o.discount, cur), total=money_to_proto(o.total, cur),
        refunded=money_to_proto(o.refunded, cur), locally_edited=o.locally_edited,
        last_pull_id=o.last_pull_id, copied_from_order_id=o.copied_from_order_id, note=o.note,
        fulfillment=o.fulfillment,
        lines=[_line_to_proto(line, cur) for line in o.lines],
        refunds=[
            pb.Refund(external_id=r.external_id, amount=money_to_proto(r.amount, cur),
                      created_at=timestamp_to_proto(r.created_at), reason=r.reason)
            for r in o.refunds
        ],
        adjustments=[
            pb.Adjustment(external_id=a.external_id, kind=a.kind, amount=money_to_proto(a.amount, cur),
                          created_at=timestamp_to_proto(a.created_at), note=a.note)
            for a in o.adjustments
        ],
        overwrites=[
            pb.OrderOverwrite(pull_id=w.pull_id, overwritten_at=timestamp_to_proto(w.overwritten_at),
                              local_values=w.local_values)
            for w in o.overwrites
        ],
    )


def listing_to_proto(li: v.ListingView) -> pb.Listing:
    return _set(
        pb.Listing(), id=li.id, account_id=li.account_id, store_id=li.store_id, channel=li.channel,
        external_id=li.external_id, external_variation_id=li.external_variation_id, sku=li.sku,
        title=li.title, product_id=li.product_id,
        matched_by=enum_to_proto(pb.MatchedBy, "MATCHED_BY", li.matched_by), state=li.state,
        price=money_to_proto(li.price, li.currency), last_pull_id=li.last_pull_id,
    )


def product_to_proto(p: v.ProductView) -> pb.Product:
    msg = _set(
        pb.Product(), id=p.id, account_id=p.account_id, sku=p.sku, title=p.title,
        created_by=enum_to_proto(pb.ProductOrigin, "PRODUCT_ORIGIN", p.created_by),
        created_by_pull_id=p.created_by_pull_id, created_at=timestamp_to_proto(p.created_at),
    )
    msg.listings.extend(listing_to_proto(li) for li in p.listings)
    return msg


def fee_to_proto(f: v.FeeView) -> pb.Fee:
    return _set(
        pb.Fee(), id=f.id, account_id=f.account_id, store_id=f.store_id, order_id=f.order_id,
        listing_id=f.listing_id, product_id=f.product_id, external_id=f.external_id,
        kind=enum_to_proto(pb.FeeKind, "FEE_KIND", f.kind, fallback="OTHER"),
        channel_kind=f.channel_kind, amount=money_to_proto(f.amount, f.currency),
        occurred_at=timestamp_to_proto(f.occurred_at), order_external_id=f.order_external_id,
        description=f.description, last_pull_id=f.last_pull_id,
    )


def store_status_to_proto(s: StoreStatusView) -> status_pb2.StoreStatus:
    msg = _set(
        status_pb2.StoreStatus(), store_id=s.store_id, account_id=s.account_id, channel=s.channel,
        name=s.name, state=enum_to_proto(pb.StoreState, "STORE_STATE", s.state),
        last_pull=pull_to_proto(s.last_pull) if s.last_pull else None,
        next_automatic_pull_at=timestamp_to_proto(s.next_automatic_pull_at), last_error=scrub(s.last_error),
    )
    msg.warnings.extend(s.warnings)
    return msg


def status_to_proto(s: StatusView) -> status_pb2.GetStatusResponse:
    msg = _set(
        status_pb2.GetStatusResponse(), version=s.version, started_at=timestamp_to_proto(s.started_at),
        uptime_seconds=s.uptime_seconds, daemon_id=s.daemon_id, database=s.database,
    )
    msg.plugins.extend(channel_info_to_proto(c) for c in s.plugins)
    msg.stores.extend(store_status_to_proto(st) for st in s.stores)
    msg.running_pulls.extend(pull_to_proto(p) for p in s.running_pulls)
    return msg


def order_status_from_proto(number: int) -> str:
    """The domain's status word for an OrderStatus number ('' when unspecified or unknown)."""
    return enum_from_proto(pb.OrderStatus, "ORDER_STATUS", number)
