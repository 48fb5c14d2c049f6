from makersync.v1 import resources_pb2 as _resources_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PullRequest(_message.Message):
    __slots__ = ("store_id", "start_date", "end_date", "dry_run")
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    store_id: str
    start_date: str
    end_date: str
    dry_run: bool
    def __init__(self, store_id: _Optional[str] = ..., start_date: _Optional[str] = ..., end_date: _Optional[str] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class GetPullRequest(_message.Message):
    __slots__ = ("pull_id",)
    PULL_ID_FIELD_NUMBER: _ClassVar[int]
    pull_id: str
    def __init__(self, pull_id: _Optional[str] = ...) -> None: ...

class WatchPullRequest(_message.Message):
    __slots__ = ("pull_id",)
    PULL_ID_FIELD_NUMBER: _ClassVar[int]
    pull_id: str
    def __init__(self, pull_id: _Optional[str] = ...) -> None: ...

class ListPullsRequest(_message.Message):
    __slots__ = ("store_id", "page_size", "page_token")
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    store_id: str
    page_size: int
    page_token: str
    def __init__(self, store_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListPullsResponse(_message.Message):
    __slots__ = ("pulls", "next_page_token")
    PULLS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    pulls: _containers.RepeatedCompositeFieldContainer[_resources_pb2.PullJob]
    next_page_token: str
    def __init__(self, pulls: _Optional[_Iterable[_Union[_resources_pb2.PullJob, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CancelPullRequest(_message.Message):
    __slots__ = ("pull_id",)
    PULL_ID_FIELD_NUMBER: _ClassVar[int]
    pull_id: str
    def __init__(self, pull_id: _Optional[str] = ...) -> None: ...

class SyncStoreRequest(_message.Message):
    __slots__ = ("store_id",)
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    store_id: str
    def __init__(self, store_id: _Optional[str] = ...) -> None: ...
