from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SecretKeySource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SECRET_KEY_SOURCE_UNSPECIFIED: _ClassVar[SecretKeySource]
    SECRET_KEY_SOURCE_FILE: _ClassVar[SecretKeySource]
    SECRET_KEY_SOURCE_ENVIRONMENT: _ClassVar[SecretKeySource]
SECRET_KEY_SOURCE_UNSPECIFIED: SecretKeySource
SECRET_KEY_SOURCE_FILE: SecretKeySource
SECRET_KEY_SOURCE_ENVIRONMENT: SecretKeySource

class RotateSecretKeyRequest(_message.Message):
    __slots__ = ("keep_previous_keys",)
    KEEP_PREVIOUS_KEYS_FIELD_NUMBER: _ClassVar[int]
    keep_previous_keys: bool
    def __init__(self, keep_previous_keys: _Optional[bool] = ...) -> None: ...

class RotateSecretKeyResponse(_message.Message):
    __slots__ = ("stores_reencrypted", "key_source", "new_key_generated", "key_fingerprint", "keys_in_use", "key_file")
    STORES_REENCRYPTED_FIELD_NUMBER: _ClassVar[int]
    KEY_SOURCE_FIELD_NUMBER: _ClassVar[int]
    NEW_KEY_GENERATED_FIELD_NUMBER: _ClassVar[int]
    KEY_FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    KEYS_IN_USE_FIELD_NUMBER: _ClassVar[int]
    KEY_FILE_FIELD_NUMBER: _ClassVar[int]
    stores_reencrypted: int
    key_source: SecretKeySource
    new_key_generated: bool
    key_fingerprint: str
    keys_in_use: int
    key_file: str
    def __init__(self, stores_reencrypted: _Optional[int] = ..., key_source: _Optional[_Union[SecretKeySource, str]] = ..., new_key_generated: _Optional[bool] = ..., key_fingerprint: _Optional[str] = ..., keys_in_use: _Optional[int] = ..., key_file: _Optional[str] = ...) -> None: ...
