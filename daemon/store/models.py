"""The peewee models (names end in ``Row``). Money is exact text, instants are
aware UTC, JSON is text; see ``fields``. Every model binds to
``db.database_proxy``."""

from __future__ import annotations

import peewee as pw

from makersync.daemon.store.db import database_proxy
from makersync.daemon.store.fields import JsonField, MoneyField, UTCDateTimeField


class BaseRow(pw.Model):
    class Meta:
        database = database_proxy
        legacy_table_names = False


class AccountRow(BaseRow):
    id = pw.AutoField()
    name = pw.TextField()
    plan = pw.TextField()
    start_date = pw.DateField()
    time_zone = pw.TextField()
    daily_pull_hour = pw.IntegerField(default=5)
    created_at = UTCDateTimeField()

    class Meta:
        table_name = "accounts"


class ApiKeyRow(BaseRow):
    id = pw.AutoField()
    key_hash = pw.TextField(unique=True)
    account = pw.ForeignKeyField(AccountRow, null=True, on_delete="CASCADE", column_name="account_id")
    account_id: int | None
    label = pw.TextField(default="")
    created_at = UTCDateTimeField()

    class Meta:
        table_name = "api_keys"


class LocationRow(BaseRow):
    id = pw.AutoField()
    account = pw.ForeignKeyField(AccountRow, on_delete="CASCADE")
    account_id: int
    name = pw.TextField()
    created_at = UTCDateTimeField()

    class Meta:
        table_name = "locations"
        indexes = ((("account", "name"), True),)


class IntegrationRow(BaseRow):
    id = pw.AutoField()
    account = pw.ForeignKeyField(AccountRow, on_delete="CASCADE")
    account_id: int
    channel = pw.TextField()
    automatic_updates = pw.BooleanField(default=True)
    automatic_shipped_date = pw.BooleanField(default=False)
    automatic_shipped_date_since = UTCDateTimeField(null=True)
    default_location = pw.ForeignKeyField(LocationRow, null=True, on_delete="SET NULL")
    default_location_id: int | None
    created_at = UTCDateTimeField()

    class Meta:
        table_name = "integrations"
        indexes = ((("account", "channel"), True),)


class StoreRow(BaseRow):
    id = pw.AutoField()
    integration = pw.ForeignKeyField(IntegrationRow, on_delete="CASCADE")
    integration_id: int
    account = pw.ForeignKeyField(AccountRow, on_delete="CASCADE")
    account_id: int
    channel = pw.TextField()
    external_shop_id = pw.TextField()
    name = pw.TextField(default="")
    currency = pw.TextField(default="")
    credentials_encrypted = pw.TextField()
    state = pw.TextField(default="active")  # 'active' | 'needs_reconnect'
    warnings = JsonField(default=list)
    reachable_since = UTCDateTimeField(null=True)  # a fixed limit the channel declared (R2)
    reach_s = pw.IntegerField(null=True)  # a rolling one: pulls read back to now - reach_s at most (R2)
    connected_at = UTCDateTimeField()
    last_error = pw.TextField(default="")
    high_water_mark = UTCDateTimeField(null=True)
    next_automatic_pull_at = UTCDateTimeField(null=True, index=True)
    jitter_s = pw.IntegerField(default=0)

    class Meta:
        table_name = "stores"
        indexes = ((("account", "channel", "external_shop_id"), True),)


class PullRow(BaseRow):
    id = pw.BigAutoField()
    store = pw.ForeignKeyField(StoreRow, on_delete="CASCADE")
    store_id: int
    account_id = pw.IntegerField(index=True)
    kind = pw.TextField()  # 'initial' | 'automatic' | 'manual'
    dry_run = pw.BooleanField(default=False)
    state = pw.TextField(default="queued")  # queued|running|succeeded|failed|cancelled
    window_start = UTCDateTimeField()
    window_end = UTCDateTimeField()
    modified_since = UTCDateTimeField(null=True)
    start_date = pw.TextField(null=True)
    end_date = pw.TextField(null=True)
    as_of = UTCDateTimeField(null=True)
    progress = JsonField(default=dict)
    counts = JsonField(default=dict)
    requests_made = pw.IntegerField(default=0)
    throttled = pw.IntegerField(default=0)
    error = pw.TextField(default="")
    warnings = JsonField(default=list)
    set_aside_count = pw.IntegerField(default=0)
    checkpoint = JsonField(null=True)
    waiting_reason = pw.TextField(default="")
    cancel_requested = pw.BooleanField(default=False)
    priority = pw.IntegerField(default=0)
    lease_owner = pw.TextField(null=True)
    lease_expires_at = UTCDateTimeField(null=True)
    fencing_token = pw.BigIntegerField(default=0)
    heartbeat_at = UTCDateTimeField(null=True)
    created_at = UTCDateTimeField()
    started_at = UTCDateTimeField(null=True)
    finished_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "pulls"
        indexes = ((("store", "created_at"), False), (("state", "priority", "created_at"), False))


class ProductRow(BaseRow):
    id = pw.BigAutoField()
    account = pw.ForeignKeyField(AccountRow, on_delete="CASCADE")
    account_id: int
    sku = pw.TextField(default="")
    sku_norm = pw.TextField(default="")
    title = pw.TextField(default="")
    title_norm = pw.TextField(default="")
    created_by = pw.TextField(default="maker")  # 'maker' | 'pull'
    created_by_pull_id = pw.BigIntegerField(null=True)
    created_by_store_id = pw.IntegerField(null=True)
    created_at = UTCDateTimeField()

    class Meta:
        table_name = "products"
        indexes = ((("account", "sku_norm"), False), (("account", "title_norm"), False))


class ListingRow(BaseRow):
    id = pw.BigAutoField()
    account = pw.ForeignKeyField(AccountRow, on_delete="CASCADE")
    account_id: int
    store = pw.ForeignKeyField(StoreRow, on_delete="CASCADE")
    store_id: int
    external_id = pw.TextField()
    external_variation_id = pw.TextField(default="")
    sku = pw.TextField(default="")
    title = pw.TextField(default="")
    state = pw.TextField(default="")
    price = MoneyField(null=True)
    currency = pw.TextField(default="")
    product = pw.ForeignKeyField(ProductRow, index=True)
    product_id: int
    matched_by = pw.TextField()  # 'sku' | 'title' | 'created' | 'moved'
    payload_hash = pw.TextField(default="")
    last_pull_id = pw.BigIntegerField(null=True)
    modified_at = UTCDateTimeField(null=True)
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()

    class Meta:
        table_name = "listings"
        indexes = ((("store", "external_id", "external_variation_id"), True),)


class OrderRow(BaseRow):
    id = pw.BigAutoField()
    account = pw.ForeignKeyField(AccountRow, on_delete="CASCADE")
    account_id: int
    store = pw.ForeignKeyField(StoreRow, null=True, on_delete="CASCADE")
    store_id: int | None
    channel = pw.TextField(default="")
    external_id = pw.TextField(null=True)
    order_number = pw.TextField(default="")
    status = pw.TextField()
    channel_status = pw.TextField(default="")
    placed_at = UTCDateTimeField()
    modified_at = UTCDateTimeField(null=True)
    shipped_at = UTCDateTimeField(null=True)
    shipped_at_auto = pw.BooleanField(default=False)  # R6: set from placed_at, not the channel
    cancelled_at = UTCDateTimeField(null=True)
    location = pw.ForeignKeyField(LocationRow, null=True, on_delete="SET NULL")
    location_id: int | None
    currency = pw.TextField(default="")
    subtotal = MoneyField(default="0")
    shipping = MoneyField(default="0")
    tax = MoneyField(default="0")
    discount = MoneyField(default="0")
    total = MoneyField(default="0")
    refunded = MoneyField(default="0")
    fulfillment = pw.TextField(default="")
    note = pw.TextField(default="")
    locally_edited = pw.BooleanField(default=False)
    local_edits = JsonField(default=dict)
    copied_from = pw.BigIntegerField(null=True)
    payload_hash = pw.TextField(default="")
    last_pull_id = pw.BigIntegerField(null=True)
    first_pulled_at = UTCDateTimeField(null=True)
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()

    class Meta:
        table_name = "orders"
        indexes = (
            (("store", "external_id"), True),
            (("account", "placed_at"), False),
            (("store", "placed_at"), False),
        )


class OrderCountRow(BaseRow):
    """How many orders each account holds per store (``store_key`` 0: local
    orders). Kept by triggers on ``orders`` (migration 4), never written by
    the code, so ListOrders' ``total_size`` need not count 100,000 rows."""

    account_id = pw.IntegerField()
    store_key = pw.BigIntegerField()
    orders = pw.BigIntegerField()

    class Meta:
        table_name = "order_counts"
        primary_key = pw.CompositeKey("account_id", "store_key")


class OrderLineRow(BaseRow):
    id = pw.BigAutoField()
    order = pw.ForeignKeyField(OrderRow, on_delete="CASCADE", index=True)
    order_id: int
    position = pw.IntegerField(default=0)
    external_id = pw.TextField(default="")
    listing = pw.ForeignKeyField(ListingRow, null=True, on_delete="SET NULL", index=True)
    listing_id: int | None
    listing_external_id = pw.TextField(default="")
    variation_external_id = pw.TextField(default="")
    sku = pw.TextField(default="")
    title = pw.TextField(default="")
    quantity = pw.IntegerField(default=1)
    unit_price = MoneyField(default="0")
    product = pw.ForeignKeyField(ProductRow, null=True, on_delete="SET NULL", index=True)
    product_id: int | None

    class Meta:
        table_name = "order_lines"


class RefundRow(BaseRow):
    id = pw.BigAutoField()
    order = pw.ForeignKeyField(OrderRow, on_delete="CASCADE", index=True)
    order_id: int
    external_id = pw.TextField(default="")
    amount = MoneyField()
    created_at = UTCDateTimeField(null=True)
    reason = pw.TextField(default="")

    class Meta:
        table_name = "refunds"


class AdjustmentRow(BaseRow):
    id = pw.BigAutoField()
    order = pw.ForeignKeyField(OrderRow, on_delete="CASCADE", index=True)
    order_id: int
    external_id = pw.TextField(default="")
    kind = pw.TextField(default="")
    amount = MoneyField()
    created_at = UTCDateTimeField(null=True)
    note = pw.TextField(default="")

    class Meta:
        table_name = "adjustments"


class FeeRow(BaseRow):
    id = pw.BigAutoField()
    account = pw.ForeignKeyField(AccountRow, on_delete="CASCADE")
    account_id: int
    store = pw.ForeignKeyField(StoreRow, on_delete="CASCADE")
    store_id: int
    external_id = pw.TextField()
    kind = pw.TextField()
    channel_kind = pw.TextField(default="")
    amount = MoneyField()
    channel_amount = MoneyField(null=True)
    currency = pw.TextField(default="")
    occurred_at = UTCDateTimeField()
    order = pw.ForeignKeyField(OrderRow, null=True, on_delete="SET NULL", index=True)
    order_id: int | None
    order_external_id = pw.TextField(default="")
    listing = pw.ForeignKeyField(ListingRow, null=True, on_delete="SET NULL", index=True)
    listing_id: int | None
    listing_external_id = pw.TextField(default="")
    variation_external_id = pw.TextField(default="")
    description = pw.TextField(default="")
    payload_hash = pw.TextField(default="")
    last_pull_id = pw.BigIntegerField(null=True)
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()

    class Meta:
        table_name = "fees"
        indexes = ((("store", "external_id"), True), (("account", "occurred_at"), False))


class TombstoneRow(BaseRow):
    id = pw.BigAutoField()
    store = pw.ForeignKeyField(StoreRow, on_delete="CASCADE")
    store_id: int
    kind = pw.TextField()  # 'order' | 'fee'
    external_id = pw.TextField()
    deleted_at = UTCDateTimeField()

    class Meta:
        table_name = "tombstones"
        indexes = ((("store", "kind", "external_id"), True),)


class OrderOverwriteRow(BaseRow):
    id = pw.BigAutoField()
    order = pw.ForeignKeyField(OrderRow, on_delete="CASCADE", index=True)
    order_id: int
    pull_id = pw.BigIntegerField(null=True)
    overwritten_at = UTCDateTimeField()
    local_values = JsonField(default=dict)

    class Meta:
        table_name = "order_overwrites"


class SetAsideRow(BaseRow):
    id = pw.BigAutoField()
    pull = pw.ForeignKeyField(PullRow, on_delete="CASCADE", index=True)
    pull_id: int
    store_id = pw.IntegerField(index=True)
    kind = pw.TextField()
    external_id = pw.TextField(default="")
    reason = pw.TextField()
    raw = pw.TextField(default="")  # type: ignore[assignment]  # shadows Model.raw(), unused here
    created_at = UTCDateTimeField()

    class Meta:
        table_name = "set_aside"


class LeaseRow(BaseRow):
    id = pw.AutoField()
    store = pw.ForeignKeyField(StoreRow, unique=True, on_delete="CASCADE")
    store_id: int
    owner = pw.TextField()
    fencing_token = pw.BigIntegerField(default=0)
    expires_at = UTCDateTimeField()
    heartbeat_at = UTCDateTimeField()

    class Meta:
        table_name = "leases"


class BudgetRow(BaseRow):
    id = pw.AutoField()
    key = pw.TextField(unique=True)
    tokens = pw.FloatField()
    capacity = pw.FloatField()
    rate = pw.FloatField()
    updated_at = UTCDateTimeField()

    class Meta:
        table_name = "budgets"


class ScheduleEpochRow(BaseRow):
    """One row whose ``epoch`` grows with every write that changes which
    stores get automatic pulls or when (``schedule.mark_changed``): an idle
    scheduler reads it instead of the whole schedule (QUALITY P7)."""

    id = pw.IntegerField(primary_key=True)
    epoch = pw.BigIntegerField(default=0)

    class Meta:
        table_name = "schedule_epoch"


ALL_MODELS: tuple[type[BaseRow], ...] = (
    AccountRow,
    ApiKeyRow,
    LocationRow,
    IntegrationRow,
    StoreRow,
    PullRow,
    ProductRow,
    ListingRow,
    OrderRow,
    OrderCountRow,
    OrderLineRow,
    RefundRow,
    AdjustmentRow,
    FeeRow,
    TombstoneRow,
    OrderOverwriteRow,
    SetAsideRow,
    LeaseRow,
    BudgetRow,
    ScheduleEpochRow,
)
