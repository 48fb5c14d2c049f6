from makersync.v1 import resources_pb2 as _resources_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ListChannelsRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListChannelsResponse(_message.Message):
    __slots__ = ("channels", "next_page_token")
    CHANNELS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    channels: _containers.RepeatedCompositeFieldContainer[_resources_pb2.ChannelInfo]
    next_page_token: str
    def __init__(self, channels: _Optional[_Iterable[_Union[_resources_pb2.ChannelInfo, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ConnectRequest(_message.Message):
    __slots__ = ("account_id", "channel", "credentials", "display_name")
    class CredentialsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    CREDENTIALS_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    channel: str
    credentials: _containers.ScalarMap[str, str]
    display_name: str
    def __init__(self, account_id: _Optional[str] = ..., channel: _Optional[str] = ..., credentials: _Optional[_Mapping[str, str]] = ..., display_name: _Optional[str] = ...) -> None: ...

class DisconnectRequest(_message.Message):
    __slots__ = ("store_id",)
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    store_id: str
    def __init__(self, store_id: _Optional[str] = ...) -> None: ...

class DisconnectResponse(_message.Message):
    __slots__ = ("store_id", "orders_removed", "order_lines_removed", "fees_removed", "listings_removed", "products_removed", "products_kept", "pulls_removed", "tombstones_removed")
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    ORDERS_REMOVED_FIELD_NUMBER: _ClassVar[int]
    ORDER_LINES_REMOVED_FIELD_NUMBER: _ClassVar[int]
    FEES_REMOVED_FIELD_NUMBER: _ClassVar[int]
    LISTINGS_REMOVED_FIELD_NUMBER: _ClassVar[int]
    PRODUCTS_REMOVED_FIELD_NUMBER: _ClassVar[int]
    PRODUCTS_KEPT_FIELD_NUMBER: _ClassVar[int]
    PULLS_REMOVED_FIELD_NUMBER: _ClassVar[int]
    TOMBSTONES_REMOVED_FIELD_NUMBER: _ClassVar[int]
    store_id: str
    orders_removed: int
    order_lines_removed: int
    fees_removed: int
    listings_removed: int
    products_removed: int
    products_kept: int
    pulls_removed: int
    tombstones_removed: int
    def __init__(self, store_id: _Optional[str] = ..., orders_removed: _Optional[int] = ..., order_lines_removed: _Optional[int] = ..., fees_removed: _Optional[int] = ..., listings_removed: _Optional[int] = ..., products_removed: _Optional[int] = ..., products_kept: _Optional[int] = ..., pulls_removed: _Optional[int] = ..., tombstones_removed: _Optional[int] = ...) -> None: ...

class ConfigureRequest(_message.Message):
    __slots__ = ("account_id", "channel", "automatic_updates", "automatic_shipped_date", "default_location_id")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    AUTOMATIC_UPDATES_FIELD_NUMBER: _ClassVar[int]
    AUTOMATIC_SHIPPED_DATE_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_LOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    channel: str
    automatic_updates: bool
    automatic_shipped_date: bool
    default_location_id: str
    def __init__(self, account_id: _Optional[str] = ..., channel: _Optional[str] = ..., automatic_updates: _Optional[bool] = ..., automatic_shipped_date: _Optional[bool] = ..., default_location_id: _Optional[str] = ...) -> None: ...

class ListIntegrationsRequest(_message.Message):
    __slots__ = ("account_id", "page_size", "page_token")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    page_size: int
    page_token: str
    def __init__(self, account_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListIntegrationsResponse(_message.Message):
    __slots__ = ("integrations", "next_page_token")
    INTEGRATIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    integrations: _containers.RepeatedCompositeFieldContainer[_resources_pb2.Integration]
    next_page_token: str
    def __init__(self, integrations: _Optional[_Iterable[_Union[_resources_pb2.Integration, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetStoreRequest(_message.Message):
    __slots__ = ("store_id",)
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    store_id: str
    def __init__(self, store_id: _Optional[str] = ...) -> None: ...
