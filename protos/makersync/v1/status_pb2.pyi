import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from makersync.v1 import resources_pb2 as _resources_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetStatusRequest(_message.Message):
    __slots__ = ("account_id",)
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    def __init__(self, account_id: _Optional[str] = ...) -> None: ...

class GetStatusResponse(_message.Message):
    __slots__ = ("version", "started_at", "uptime_seconds", "plugins", "stores", "daemon_id", "database", "running_pulls")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    UPTIME_SECONDS_FIELD_NUMBER: _ClassVar[int]
    PLUGINS_FIELD_NUMBER: _ClassVar[int]
    STORES_FIELD_NUMBER: _ClassVar[int]
    DAEMON_ID_FIELD_NUMBER: _ClassVar[int]
    DATABASE_FIELD_NUMBER: _ClassVar[int]
    RUNNING_PULLS_FIELD_NUMBER: _ClassVar[int]
    version: str
    started_at: _timestamp_pb2.Timestamp
    uptime_seconds: int
    plugins: _containers.RepeatedCompositeFieldContainer[_resources_pb2.ChannelInfo]
    stores: _containers.RepeatedCompositeFieldContainer[StoreStatus]
    daemon_id: str
    database: str
    running_pulls: _containers.RepeatedCompositeFieldContainer[_resources_pb2.PullJob]
    def __init__(self, version: _Optional[str] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., uptime_seconds: _Optional[int] = ..., plugins: _Optional[_Iterable[_Union[_resources_pb2.ChannelInfo, _Mapping]]] = ..., stores: _Optional[_Iterable[_Union[StoreStatus, _Mapping]]] = ..., daemon_id: _Optional[str] = ..., database: _Optional[str] = ..., running_pulls: _Optional[_Iterable[_Union[_resources_pb2.PullJob, _Mapping]]] = ...) -> None: ...

class StoreStatus(_message.Message):
    __slots__ = ("store_id", "account_id", "channel", "name", "state", "last_pull", "next_automatic_pull_at", "last_error", "warnings")
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    LAST_PULL_FIELD_NUMBER: _ClassVar[int]
    NEXT_AUTOMATIC_PULL_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    store_id: str
    account_id: str
    channel: str
    name: str
    state: _resources_pb2.StoreState
    last_pull: _resources_pb2.PullJob
    next_automatic_pull_at: _timestamp_pb2.Timestamp
    last_error: str
    warnings: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, store_id: _Optional[str] = ..., account_id: _Optional[str] = ..., channel: _Optional[str] = ..., name: _Optional[str] = ..., state: _Optional[_Union[_resources_pb2.StoreState, str]] = ..., last_pull: _Optional[_Union[_resources_pb2.PullJob, _Mapping]] = ..., next_automatic_pull_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_error: _Optional[str] = ..., warnings: _Optional[_Iterable[str]] = ...) -> None: ...
