import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StoreState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STORE_STATE_UNSPECIFIED: _ClassVar[StoreState]
    STORE_STATE_ACTIVE: _ClassVar[StoreState]
    STORE_STATE_NEEDS_RECONNECT: _ClassVar[StoreState]

class PullKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PULL_KIND_UNSPECIFIED: _ClassVar[PullKind]
    PULL_KIND_INITIAL: _ClassVar[PullKind]
    PULL_KIND_AUTOMATIC: _ClassVar[PullKind]
    PULL_KIND_MANUAL: _ClassVar[PullKind]

class PullState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PULL_STATE_UNSPECIFIED: _ClassVar[PullState]
    PULL_STATE_QUEUED: _ClassVar[PullState]
    PULL_STATE_RUNNING: _ClassVar[PullState]
    PULL_STATE_SUCCEEDED: _ClassVar[PullState]
    PULL_STATE_FAILED: _ClassVar[PullState]
    PULL_STATE_CANCELLED: _ClassVar[PullState]

class OrderStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORDER_STATUS_UNSPECIFIED: _ClassVar[OrderStatus]
    ORDER_STATUS_PENDING: _ClassVar[OrderStatus]
    ORDER_STATUS_PAID: _ClassVar[OrderStatus]
    ORDER_STATUS_PARTIALLY_SHIPPED: _ClassVar[OrderStatus]
    ORDER_STATUS_SHIPPED: _ClassVar[OrderStatus]
    ORDER_STATUS_CANCELLED: _ClassVar[OrderStatus]
    ORDER_STATUS_PARTIALLY_REFUNDED: _ClassVar[OrderStatus]
    ORDER_STATUS_REFUNDED: _ClassVar[OrderStatus]

class ProductOrigin(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PRODUCT_ORIGIN_UNSPECIFIED: _ClassVar[ProductOrigin]
    PRODUCT_ORIGIN_MAKER: _ClassVar[ProductOrigin]
    PRODUCT_ORIGIN_PULL: _ClassVar[ProductOrigin]

class MatchedBy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MATCHED_BY_UNSPECIFIED: _ClassVar[MatchedBy]
    MATCHED_BY_SKU: _ClassVar[MatchedBy]
    MATCHED_BY_TITLE: _ClassVar[MatchedBy]
    MATCHED_BY_CREATED: _ClassVar[MatchedBy]
    MATCHED_BY_MOVED: _ClassVar[MatchedBy]

class FeeKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FEE_KIND_UNSPECIFIED: _ClassVar[FeeKind]
    FEE_KIND_TRANSACTION: _ClassVar[FeeKind]
    FEE_KIND_LISTING: _ClassVar[FeeKind]
    FEE_KIND_PROCESSING: _ClassVar[FeeKind]
    FEE_KIND_SHIPPING_LABEL: _ClassVar[FeeKind]
    FEE_KIND_FULFILLMENT: _ClassVar[FeeKind]
    FEE_KIND_ADVERTISING: _ClassVar[FeeKind]
    FEE_KIND_REFUND_CREDIT: _ClassVar[FeeKind]
    FEE_KIND_SUBSCRIPTION: _ClassVar[FeeKind]
    FEE_KIND_TAX: _ClassVar[FeeKind]
    FEE_KIND_OTHER: _ClassVar[FeeKind]
STORE_STATE_UNSPECIFIED: StoreState
STORE_STATE_ACTIVE: StoreState
STORE_STATE_NEEDS_RECONNECT: StoreState
PULL_KIND_UNSPECIFIED: PullKind
PULL_KIND_INITIAL: PullKind
PULL_KIND_AUTOMATIC: PullKind
PULL_KIND_MANUAL: PullKind
PULL_STATE_UNSPECIFIED: PullState
PULL_STATE_QUEUED: PullState
PULL_STATE_RUNNING: PullState
PULL_STATE_SUCCEEDED: PullState
PULL_STATE_FAILED: PullState
PULL_STATE_CANCELLED: PullState
ORDER_STATUS_UNSPECIFIED: OrderStatus
ORDER_STATUS_PENDING: OrderStatus
ORDER_STATUS_PAID: OrderStatus
ORDER_STATUS_PARTIALLY_SHIPPED: OrderStatus
ORDER_STATUS_SHIPPED: OrderStatus
ORDER_STATUS_CANCELLED: OrderStatus
ORDER_STATUS_PARTIALLY_REFUNDED: OrderStatus
ORDER_STATUS_REFUNDED: OrderStatus
PRODUCT_ORIGIN_UNSPECIFIED: ProductOrigin
PRODUCT_ORIGIN_MAKER: ProductOrigin
PRODUCT_ORIGIN_PULL: ProductOrigin
MATCHED_BY_UNSPECIFIED: MatchedBy
MATCHED_BY_SKU: MatchedBy
MATCHED_BY_TITLE: MatchedBy
MATCHED_BY_CREATED: MatchedBy
MATCHED_BY_MOVED: MatchedBy
FEE_KIND_UNSPECIFIED: FeeKind
FEE_KIND_TRANSACTION: FeeKind
FEE_KIND_LISTING: FeeKind
FEE_KIND_PROCESSING: FeeKind
FEE_KIND_SHIPPING_LABEL: FeeKind
FEE_KIND_FULFILLMENT: FeeKind
FEE_KIND_ADVERTISING: FeeKind
FEE_KIND_REFUND_CREDIT: FeeKind
FEE_KIND_SUBSCRIPTION: FeeKind
FEE_KIND_TAX: FeeKind
FEE_KIND_OTHER: FeeKind

class Money(_message.Message):
    __slots__ = ("currency_code", "amount")
    CURRENCY_CODE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    currency_code: str
    amount: str
    def __init__(self, currency_code: _Optional[str] = ..., amount: _Optional[str] = ...) -> None: ...

class Account(_message.Message):
    __slots__ = ("id", "name", "plan", "start_date", "time_zone", "floor_date", "floor_reason", "daily_pull_hour", "created_at", "max_stores", "stores_connected")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    FLOOR_DATE_FIELD_NUMBER: _ClassVar[int]
    FLOOR_REASON_FIELD_NUMBER: _ClassVar[int]
    DAILY_PULL_HOUR_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    MAX_STORES_FIELD_NUMBER: _ClassVar[int]
    STORES_CONNECTED_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    plan: str
    start_date: str
    time_zone: str
    floor_date: str
    floor_reason: str
    daily_pull_hour: int
    created_at: _timestamp_pb2.Timestamp
    max_stores: int
    stores_connected: int
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., plan: _Optional[str] = ..., start_date: _Optional[str] = ..., time_zone: _Optional[str] = ..., floor_date: _Optional[str] = ..., floor_reason: _Optional[str] = ..., daily_pull_hour: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., max_stores: _Optional[int] = ..., stores_connected: _Optional[int] = ...) -> None: ...

class Location(_message.Message):
    __slots__ = ("id", "account_id", "name", "created_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    account_id: str
    name: str
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., account_id: _Optional[str] = ..., name: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CredentialField(_message.Message):
    __slots__ = ("name", "required", "secret", "description")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    name: str
    required: bool
    secret: bool
    description: str
    def __init__(self, name: _Optional[str] = ..., required: _Optional[bool] = ..., secret: _Optional[bool] = ..., description: _Optional[str] = ...) -> None: ...

class ChannelInfo(_message.Message):
    __slots__ = ("name", "display_name", "version", "pulls", "max_lookback_days", "change_detection", "credential_fields")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PULLS_FIELD_NUMBER: _ClassVar[int]
    MAX_LOOKBACK_DAYS_FIELD_NUMBER: _ClassVar[int]
    CHANGE_DETECTION_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_FIELDS_FIELD_NUMBER: _ClassVar[int]
    name: str
    display_name: str
    version: str
    pulls: _containers.RepeatedScalarFieldContainer[str]
    max_lookback_days: int
    change_detection: str
    credential_fields: _containers.RepeatedCompositeFieldContainer[CredentialField]
    def __init__(self, name: _Optional[str] = ..., display_name: _Optional[str] = ..., version: _Optional[str] = ..., pulls: _Optional[_Iterable[str]] = ..., max_lookback_days: _Optional[int] = ..., change_detection: _Optional[str] = ..., credential_fields: _Optional[_Iterable[_Union[CredentialField, _Mapping]]] = ...) -> None: ...

class Integration(_message.Message):
    __slots__ = ("id", "account_id", "channel", "automatic_updates", "automatic_shipped_date", "default_location_id", "stores", "automatic_shipped_date_since", "created_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    AUTOMATIC_UPDATES_FIELD_NUMBER: _ClassVar[int]
    AUTOMATIC_SHIPPED_DATE_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_LOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    STORES_FIELD_NUMBER: _ClassVar[int]
    AUTOMATIC_SHIPPED_DATE_SINCE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    account_id: str
    channel: str
    automatic_updates: bool
    automatic_shipped_date: bool
    default_location_id: str
    stores: _containers.RepeatedCompositeFieldContainer[Store]
    automatic_shipped_date_since: _timestamp_pb2.Timestamp
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., account_id: _Optional[str] = ..., channel: _Optional[str] = ..., automatic_updates: _Optional[bool] = ..., automatic_shipped_date: _Optional[bool] = ..., default_location_id: _Optional[str] = ..., stores: _Optional[_Iterable[_Union[Store, _Mapping]]] = ..., automatic_shipped_date_since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Store(_message.Message):
    __slots__ = ("id", "integration_id", "account_id", "channel", "external_shop_id", "name", "connected_at", "state", "warnings", "last_pull", "next_automatic_pull_at", "initial_pull_id", "reachable_since", "last_error", "currency")
    ID_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_SHOP_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CONNECTED_AT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    LAST_PULL_FIELD_NUMBER: _ClassVar[int]
    NEXT_AUTOMATIC_PULL_AT_FIELD_NUMBER: _ClassVar[int]
    INITIAL_PULL_ID_FIELD_NUMBER: _ClassVar[int]
    REACHABLE_SINCE_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    id: str
    integration_id: str
    account_id: str
    channel: str
    external_shop_id: str
    name: str
    connected_at: _timestamp_pb2.Timestamp
    state: StoreState
    warnings: _containers.RepeatedScalarFieldContainer[str]
    last_pull: PullJob
    next_automatic_pull_at: _timestamp_pb2.Timestamp
    initial_pull_id: str
    reachable_since: _timestamp_pb2.Timestamp
    last_error: str
    currency: str
    def __init__(self, id: _Optional[str] = ..., integration_id: _Optional[str] = ..., account_id: _Optional[str] = ..., channel: _Optional[str] = ..., external_shop_id: _Optional[str] = ..., name: _Optional[str] = ..., connected_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., state: _Optional[_Union[StoreState, str]] = ..., warnings: _Optional[_Iterable[str]] = ..., last_pull: _Optional[_Union[PullJob, _Mapping]] = ..., next_automatic_pull_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., initial_pull_id: _Optional[str] = ..., reachable_since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_error: _Optional[str] = ..., currency: _Optional[str] = ...) -> None: ...

class PullProgress(_message.Message):
    __slots__ = ("stage", "pages_done", "records_done", "estimated_records_total", "percent", "eta_seconds")
    STAGE_FIELD_NUMBER: _ClassVar[int]
    PAGES_DONE_FIELD_NUMBER: _ClassVar[int]
    RECORDS_DONE_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_RECORDS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    PERCENT_FIELD_NUMBER: _ClassVar[int]
    ETA_SECONDS_FIELD_NUMBER: _ClassVar[int]
    stage: str
    pages_done: int
    records_done: int
    estimated_records_total: int
    percent: float
    eta_seconds: int
    def __init__(self, stage: _Optional[str] = ..., pages_done: _Optional[int] = ..., records_done: _Optional[int] = ..., estimated_records_total: _Optional[int] = ..., percent: _Optional[float] = ..., eta_seconds: _Optional[int] = ...) -> None: ...

class PullCounts(_message.Message):
    __slots__ = ("orders_created", "orders_updated", "orders_unchanged", "orders_recreated", "orders_skipped_deleted", "local_edits_overwritten", "listings_created", "listings_updated", "listings_unchanged", "products_matched_by_sku", "products_matched_by_title", "products_created", "fees_created", "fees_updated", "fees_unchanged", "fees_skipped_deleted", "records_set_aside")
    ORDERS_CREATED_FIELD_NUMBER: _ClassVar[int]
    ORDERS_UPDATED_FIELD_NUMBER: _ClassVar[int]
    ORDERS_UNCHANGED_FIELD_NUMBER: _ClassVar[int]
    ORDERS_RECREATED_FIELD_NUMBER: _ClassVar[int]
    ORDERS_SKIPPED_DELETED_FIELD_NUMBER: _ClassVar[int]
    LOCAL_EDITS_OVERWRITTEN_FIELD_NUMBER: _ClassVar[int]
    LISTINGS_CREATED_FIELD_NUMBER: _ClassVar[int]
    LISTINGS_UPDATED_FIELD_NUMBER: _ClassVar[int]
    LISTINGS_UNCHANGED_FIELD_NUMBER: _ClassVar[int]
    PRODUCTS_MATCHED_BY_SKU_FIELD_NUMBER: _ClassVar[int]
    PRODUCTS_MATCHED_BY_TITLE_FIELD_NUMBER: _ClassVar[int]
    PRODUCTS_CREATED_FIELD_NUMBER: _ClassVar[int]
    FEES_CREATED_FIELD_NUMBER: _ClassVar[int]
    FEES_UPDATED_FIELD_NUMBER: _ClassVar[int]
    FEES_UNCHANGED_FIELD_NUMBER: _ClassVar[int]
    FEES_SKIPPED_DELETED_FIELD_NUMBER: _ClassVar[int]
    RECORDS_SET_ASIDE_FIELD_NUMBER: _ClassVar[int]
    orders_created: int
    orders_updated: int
    orders_unchanged: int
    orders_recreated: int
    orders_skipped_deleted: int
    local_edits_overwritten: int
    listings_created: int
    listings_updated: int
    listings_unchanged: int
    products_matched_by_sku: int
    products_matched_by_title: int
    products_created: int
    fees_created: int
    fees_updated: int
    fees_unchanged: int
    fees_skipped_deleted: int
    records_set_aside: int
    def __init__(self, orders_created: _Optional[int] = ..., orders_updated: _Optional[int] = ..., orders_unchanged: _Optional[int] = ..., orders_recreated: _Optional[int] = ..., orders_skipped_deleted: _Optional[int] = ..., local_edits_overwritten: _Optional[int] = ..., listings_created: _Optional[int] = ..., listings_updated: _Optional[int] = ..., listings_unchanged: _Optional[int] = ..., products_matched_by_sku: _Optional[int] = ..., products_matched_by_title: _Optional[int] = ..., products_created: _Optional[int] = ..., fees_created: _Optional[int] = ..., fees_updated: _Optional[int] = ..., fees_unchanged: _Optional[int] = ..., fees_skipped_deleted: _Optional[int] = ..., records_set_aside: _Optional[int] = ...) -> None: ...

class SetAsideRecord(_message.Message):
    __slots__ = ("kind", "external_id", "reason")
    KIND_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    kind: str
    external_id: str
    reason: str
    def __init__(self, kind: _Optional[str] = ..., external_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class PullJob(_message.Message):
    __slots__ = ("id", "store_id", "account_id", "channel", "kind", "dry_run", "state", "window_start", "window_end", "start_date", "end_date", "progress", "counts", "requests_made", "throttled_responses", "error", "warnings", "set_aside", "created_at", "started_at", "finished_at", "waiting_reason")
    ID_FIELD_NUMBER: _ClassVar[int]
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    WINDOW_START_FIELD_NUMBER: _ClassVar[int]
    WINDOW_END_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_MADE_FIELD_NUMBER: _ClassVar[int]
    THROTTLED_RESPONSES_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    SET_ASIDE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_FIELD_NUMBER: _ClassVar[int]
    WAITING_REASON_FIELD_NUMBER: _ClassVar[int]
    id: str
    store_id: str
    account_id: str
    channel: str
    kind: PullKind
    dry_run: bool
    state: PullState
    window_start: _timestamp_pb2.Timestamp
    window_end: _timestamp_pb2.Timestamp
    start_date: str
    end_date: str
    progress: PullProgress
    counts: PullCounts
    requests_made: int
    throttled_responses: int
    error: str
    warnings: _containers.RepeatedScalarFieldContainer[str]
    set_aside: _containers.RepeatedCompositeFieldContainer[SetAsideRecord]
    created_at: _timestamp_pb2.Timestamp
    started_at: _timestamp_pb2.Timestamp
    finished_at: _timestamp_pb2.Timestamp
    waiting_reason: str
    def __init__(self, id: _Optional[str] = ..., store_id: _Optional[str] = ..., account_id: _Optional[str] = ..., channel: _Optional[str] = ..., kind: _Optional[_Union[PullKind, str]] = ..., dry_run: _Optional[bool] = ..., state: _Optional[_Union[PullState, str]] = ..., window_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., window_end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., start_date: _Optional[str] = ..., end_date: _Optional[str] = ..., progress: _Optional[_Union[PullProgress, _Mapping]] = ..., counts: _Optional[_Union[PullCounts, _Mapping]] = ..., requests_made: _Optional[int] = ..., throttled_responses: _Optional[int] = ..., error: _Optional[str] = ..., warnings: _Optional[_Iterable[str]] = ..., set_aside: _Optional[_Iterable[_Union[SetAsideRecord, _Mapping]]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., finished_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., waiting_reason: _Optional[str] = ...) -> None: ...

class OrderLine(_message.Message):
    __slots__ = ("id", "external_id", "listing_id", "listing_external_id", "variation_external_id", "sku", "title", "quantity", "unit_price", "product_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    LISTING_ID_FIELD_NUMBER: _ClassVar[int]
    LISTING_EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    VARIATION_EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    UNIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    external_id: str
    listing_id: str
    listing_external_id: str
    variation_external_id: str
    sku: str
    title: str
    quantity: int
    unit_price: Money
    product_id: str
    def __init__(self, id: _Optional[str] = ..., external_id: _Optional[str] = ..., listing_id: _Optional[str] = ..., listing_external_id: _Optional[str] = ..., variation_external_id: _Optional[str] = ..., sku: _Optional[str] = ..., title: _Optional[str] = ..., quantity: _Optional[int] = ..., unit_price: _Optional[_Union[Money, _Mapping]] = ..., product_id: _Optional[str] = ...) -> None: ...

class Refund(_message.Message):
    __slots__ = ("external_id", "amount", "created_at", "reason")
    EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    external_id: str
    amount: Money
    created_at: _timestamp_pb2.Timestamp
    reason: str
    def __init__(self, external_id: _Optional[str] = ..., amount: _Optional[_Union[Money, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class Adjustment(_message.Message):
    __slots__ = ("external_id", "kind", "amount", "created_at", "note")
    EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    external_id: str
    kind: str
    amount: Money
    created_at: _timestamp_pb2.Timestamp
    note: str
    def __init__(self, external_id: _Optional[str] = ..., kind: _Optional[str] = ..., amount: _Optional[_Union[Money, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., note: _Optional[str] = ...) -> None: ...

class OrderOverwrite(_message.Message):
    __slots__ = ("pull_id", "overwritten_at", "local_values")
    class LocalValuesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    PULL_ID_FIELD_NUMBER: _ClassVar[int]
    OVERWRITTEN_AT_FIELD_NUMBER: _ClassVar[int]
    LOCAL_VALUES_FIELD_NUMBER: _ClassVar[int]
    pull_id: str
    overwritten_at: _timestamp_pb2.Timestamp
    local_values: _containers.ScalarMap[str, str]
    def __init__(self, pull_id: _Optional[str] = ..., overwritten_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., local_values: _Optional[_Mapping[str, str]] = ...) -> None: ...

class Order(_message.Message):
    __slots__ = ("id", "account_id", "store_id", "channel", "external_id", "order_number", "status", "channel_status", "placed_at", "shipped_at", "cancelled_at", "location_id", "currency", "subtotal", "shipping", "tax", "discount", "total", "refunded", "lines", "refunds", "adjustments", "locally_edited", "last_pull_id", "copied_from_order_id", "note", "fulfillment", "overwrites", "modified_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_NUMBER_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_STATUS_FIELD_NUMBER: _ClassVar[int]
    PLACED_AT_FIELD_NUMBER: _ClassVar[int]
    SHIPPED_AT_FIELD_NUMBER: _ClassVar[int]
    CANCELLED_AT_FIELD_NUMBER: _ClassVar[int]
    LOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    SUBTOTAL_FIELD_NUMBER: _ClassVar[int]
    SHIPPING_FIELD_NUMBER: _ClassVar[int]
    TAX_FIELD_NUMBER: _ClassVar[int]
    DISCOUNT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    REFUNDED_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    REFUNDS_FIELD_NUMBER: _ClassVar[int]
    ADJUSTMENTS_FIELD_NUMBER: _ClassVar[int]
    LOCALLY_EDITED_FIELD_NUMBER: _ClassVar[int]
    LAST_PULL_ID_FIELD_NUMBER: _ClassVar[int]
    COPIED_FROM_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    FULFILLMENT_FIELD_NUMBER: _ClassVar[int]
    OVERWRITES_FIELD_NUMBER: _ClassVar[int]
    MODIFIED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    account_id: str
    store_id: str
    channel: str
    external_id: str
    order_number: str
    status: OrderStatus
    channel_status: str
    placed_at: _timestamp_pb2.Timestamp
    shipped_at: _timestamp_pb2.Timestamp
    cancelled_at: _timestamp_pb2.Timestamp
    location_id: str
    currency: str
    subtotal: Money
    shipping: Money
    tax: Money
    discount: Money
    total: Money
    refunded: Money
    lines: _containers.RepeatedCompositeFieldContainer[OrderLine]
    refunds: _containers.RepeatedCompositeFieldContainer[Refund]
    adjustments: _containers.RepeatedCompositeFieldContainer[Adjustment]
    locally_edited: bool
    last_pull_id: str
    copied_from_order_id: str
    note: str
    fulfillment: str
    overwrites: _containers.RepeatedCompositeFieldContainer[OrderOverwrite]
    modified_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., account_id: _Optional[str] = ..., store_id: _Optional[str] = ..., channel: _Optional[str] = ..., external_id: _Optional[str] = ..., order_number: _Optional[str] = ..., status: _Optional[_Union[OrderStatus, str]] = ..., channel_status: _Optional[str] = ..., placed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., shipped_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cancelled_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., location_id: _Optional[str] = ..., currency: _Optional[str] = ..., subtotal: _Optional[_Union[Money, _Mapping]] = ..., shipping: _Optional[_Union[Money, _Mapping]] = ..., tax: _Optional[_Union[Money, _Mapping]] = ..., discount: _Optional[_Union[Money, _Mapping]] = ..., total: _Optional[_Union[Money, _Mapping]] = ..., refunded: _Optional[_Union[Money, _Mapping]] = ..., lines: _Optional[_Iterable[_Union[OrderLine, _Mapping]]] = ..., refunds: _Optional[_Iterable[_Union[Refund, _Mapping]]] = ..., adjustments: _Optional[_Iterable[_Union[Adjustment, _Mapping]]] = ..., locally_edited: _Optional[bool] = ..., last_pull_id: _Optional[str] = ..., copied_from_order_id: _Optional[str] = ..., note: _Optional[str] = ..., fulfillment: _Optional[str] = ..., overwrites: _Optional[_Iterable[_Union[OrderOverwrite, _Mapping]]] = ..., modified_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Product(_message.Message):
    __slots__ = ("id", "account_id", "sku", "title", "created_by", "created_by_pull_id", "listings", "created_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_PULL_ID_FIELD_NUMBER: _ClassVar[int]
    LISTINGS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    account_id: str
    sku: str
    title: str
    created_by: ProductOrigin
    created_by_pull_id: str
    listings: _containers.RepeatedCompositeFieldContainer[Listing]
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., account_id: _Optional[str] = ..., sku: _Optional[str] = ..., title: _Optional[str] = ..., created_by: _Optional[_Union[ProductOrigin, str]] = ..., created_by_pull_id: _Optional[str] = ..., listings: _Optional[_Iterable[_Union[Listing, _Mapping]]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Listing(_message.Message):
    __slots__ = ("id", "account_id", "store_id", "channel", "external_id", "external_variation_id", "sku", "title", "product_id", "matched_by", "state", "price", "last_pull_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_VARIATION_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    MATCHED_BY_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    LAST_PULL_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    account_id: str
    store_id: str
    channel: str
    external_id: str
    external_variation_id: str
    sku: str
    title: str
    product_id: str
    matched_by: MatchedBy
    state: str
    price: Money
    last_pull_id: str
    def __init__(self, id: _Optional[str] = ..., account_id: _Optional[str] = ..., store_id: _Optional[str] = ..., channel: _Optional[str] = ..., external_id: _Optional[str] = ..., external_variation_id: _Optional[str] = ..., sku: _Optional[str] = ..., title: _Optional[str] = ..., product_id: _Optional[str] = ..., matched_by: _Optional[_Union[MatchedBy, str]] = ..., state: _Optional[str] = ..., price: _Optional[_Union[Money, _Mapping]] = ..., last_pull_id: _Optional[str] = ...) -> None: ...

class Fee(_message.Message):
    __slots__ = ("id", "account_id", "store_id", "order_id", "listing_id", "product_id", "external_id", "kind", "channel_kind", "amount", "occurred_at", "order_external_id", "description", "last_pull_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    LISTING_ID_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_KIND_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    ORDER_EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    LAST_PULL_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    account_id: str
    store_id: str
    order_id: str
    listing_id: str
    product_id: str
    external_id: str
    kind: FeeKind
    channel_kind: str
    amount: Money
    occurred_at: _timestamp_pb2.Timestamp
    order_external_id: str
    description: str
    last_pull_id: str
    def __init__(self, id: _Optional[str] = ..., account_id: _Optional[str] = ..., store_id: _Optional[str] = ..., order_id: _Optional[str] = ..., listing_id: _Optional[str] = ..., product_id: _Optional[str] = ..., external_id: _Optional[str] = ..., kind: _Optional[_Union[FeeKind, str]] = ..., channel_kind: _Optional[str] = ..., amount: _Optional[_Union[Money, _Mapping]] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., order_external_id: _Optional[str] = ..., description: _Optional[str] = ..., last_pull_id: _Optional[str] = ...) -> None: ...
