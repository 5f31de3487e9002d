from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class SuspensionMessageV6(_message.Message):
    __slots__ = ("waiting_completions", "waiting_signals", "waiting_named_signals")
    WAITING_COMPLETIONS_FIELD_NUMBER: _ClassVar[int]
    WAITING_SIGNALS_FIELD_NUMBER: _ClassVar[int]
    WAITING_NAMED_SIGNALS_FIELD_NUMBER: _ClassVar[int]
    waiting_completions: _containers.RepeatedScalarFieldContainer[int]
    waiting_signals: _containers.RepeatedScalarFieldContainer[int]
    waiting_named_signals: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, waiting_completions: _Optional[_Iterable[int]] = ..., waiting_signals: _Optional[_Iterable[int]] = ..., waiting_named_signals: _Optional[_Iterable[str]] = ...) -> None: ...
