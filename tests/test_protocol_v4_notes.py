"""What V4-V8 frames say to a human: completion ids and signals by name, what a suspension
waits on, awakeable ids, errors, later fields; how a stream ends."""

from __future__ import annotations

from typing import Any

import pytest
from google.protobuf.message import Message

from restate_inspect.events import Frame, FrameContext
from restate_inspect.location import Direction
from restate_inspect.protocol import ending_of, message_notes
from restate_inspect.protocol.v4._proto import v5_pb2, v6_pb2, v7_pb2
from restate_inspect.protocol.v4.notes import future_text, later_fields, signal
from restate_inspect.values import SIGNAL_PREFIX, awakeable_id, invocation_id_text
from tests.v4_frames import one_frame

RUNTIME, SDK = Direction.RUNTIME_TO_SDK, Direction.SDK_TO_RUNTIME
ID = bytes(range(24))


def _notes(frame: Frame, context: FrameContext | None = None) -> dict[str, Any]:
    notes: dict[str, Any] = {}
    message_notes(frame, context or FrameContext(), notes)
    return notes


def test_completion_ids_and_signals_by_name() -> None:
    call = one_frame(0x040D, v7_pb2.CallCommandMessage(service_name="S", handler_name="h",
                                                    invocation_id_notification_idx=1,
                                                    result_completion_id=2))  # fmt: skip
    assert _notes(call, FrameContext(None, ID, 3)) == {
        "command_index": 3,
        "ids": {
            "invocation_id_notification_idx": "completion #1",
            "result_completion_id": "completion #2",
        },
        "target": "S/h",
    }
    cancel = one_frame(
        0x0410,
        v7_pb2.SendSignalCommandMessage(target_invocation_id="inv_1", idx=1, void=v7_pb2.Void()),
    )
    assert _notes(cancel)["ids"] == {"idx": "signal 1 (CANCEL)"}
    named = one_frame(
        0xFBFF,
        v7_pb2.SignalNotificationMessage(name="ready", void=v7_pb2.Void()),
        direction=RUNTIME,
    )
    assert _notes(named)["ids"] == {"name": "signal 'ready'"}
    assert signal(5) == "signal 5 (reserved)" and signal(17) == "signal 17"


def test_awakeables_by_their_sign_1_ids() -> None:
    arrived = one_frame(
        0xFBFF,
        v7_pb2.SignalNotificationMessage(idx=17, value=v7_pb2.Value(content=b"1")),
        direction=RUNTIME,
    )
    token = awakeable_id(ID, 17, SIGNAL_PREFIX)
    assert _notes(arrived, FrameContext(None, ID))["awakeable_id"] == token
    assert "awakeable_id" not in _notes(arrived)  # which invocation: its StartMessage tells
    cancelled = one_frame(
        0xFBFF, v7_pb2.SignalNotificationMessage(idx=1, void=v7_pb2.Void()), direction=RUNTIME
    )
    assert "awakeable_id" not in _notes(cancelled, FrameContext(None, ID))
    completes = one_frame(0x0414, v7_pb2.CompleteAwakeableCommandMessage(awakeable_id=token))
    assert _notes(completes)["awakeable"] == {
        "invocation_id": invocation_id_text(ID),
        "signal_index": 17,
    }
    old = one_frame(
        0x0414, v7_pb2.CompleteAwakeableCommandMessage(awakeable_id=awakeable_id(ID, 4))
    )
    assert _notes(old)["awakeable"] == {"invocation_id": invocation_id_text(ID), "entry_index": 4}
    assert "awakeable" not in _notes(
        one_frame(0x0414, v7_pb2.CompleteAwakeableCommandMessage(awakeable_id="x"))
    )


def test_what_a_suspension_waits_on() -> None:
    tree = v7_pb2.Future(
        combinator_type=v7_pb2.ALL_COMPLETED,
        waiting_completions=[2],
        nested_futures=[v7_pb2.Future(waiting_signals=[1], waiting_named_signals=["s"])],
    )
    v7 = one_frame(0x0001, v7_pb2.SuspensionMessage(awaiting_on=tree))
    assert (
        _notes(v7)["awaiting"] == "all of (completion #2, first of (signal 1 (CANCEL), signal 's'))"
    )
    assert _notes(one_frame(0x0001, v7_pb2.SuspensionMessage()))["awaiting"] == "nothing"
    v6 = one_frame(
        0x0001,
        v6_pb2.SuspensionMessage(
            waiting_completions=[1], waiting_signals=[1], waiting_named_signals=["n"]
        ),
        version=6,
    )
    assert _notes(v6)["awaiting"] == "completion #1, signal 1 (CANCEL), signal 'n'"
    assert _notes(one_frame(0x0001, b"", version=6))["awaiting"] == "nothing"
    assert (
        future_text(v7_pb2.Future(combinator_type=9, waiting_completions=[1]))  # type: ignore[arg-type]
        == "combinator 9 of (completion #1)"
    )
    assert future_text(v7_pb2.Future()) == "nothing"


def test_errors_name_the_command_they_blame() -> None:
    error = one_frame(
        0x0002, v7_pb2.ErrorMessage(code=570, related_command_type=0x0411, related_command_index=2)
    )
    notes = _notes(error)
    assert notes["meaning"].startswith("the SDK could not replay the journal")
    assert notes["related_command_type_name"] == "RunCommandMessage"
    assert _notes(
        one_frame(0x0002, v7_pb2.ErrorMessage(code=500, related_command_type=0x7777))
    ) == {"related_command_type_name": None}


def test_fields_only_a_later_version_has_are_read_and_annotated() -> None:
    start = one_frame(
        0x0000, v6_pb2.StartMessage(id=ID, random_seed=7), version=5, direction=RUNTIME
    )
    notes = _notes(start)
    assert notes["later_version_fields"] == {"random_seed": {"since": "V6", "value": "7"}}
    assert notes["invocation_id"] == invocation_id_text(ID)
    failed = v6_pb2.OutputCommandMessage(
        failure=v6_pb2.Failure(code=1, metadata=[v6_pb2.FailureMetadata(key="k", value="v")])
    )
    assert later_fields(one_frame(0x0401, failed, version=5)) == {
        "failure.metadata": {"since": "V6", "value": [{"key": "k", "value": "v"}]}
    }
    scoped = v7_pb2.CallCommandMessage(service_name="S", scope="s")
    assert later_fields(one_frame(0x040D, scoped, version=6)) == {
        "scope": {"since": "V7", "value": "s"}
    }
    assert "later_version_fields" not in _notes(
        one_frame(0x0000, v5_pb2.StartMessage(id=ID), version=5, direction=RUNTIME)
    )
    assert later_fields(one_frame(0x0003, b"", version=6)) == {}  # nothing to look into
    assert later_fields(one_frame(0xFC01, b"", version=6)) == {}
    plain = one_frame(
        0x0400, v6_pb2.InputCommandMessage(headers=[v6_pb2.Header(key="a")]), version=5
    )
    assert later_fields(plain) == {}
    # field 7 of a V6 Call is unknown to V6, a string (scope) in V7: bytes that are no UTF-8
    # are no V7 scope (found by the fuzz campaign: it was an internal error)
    not_text = v6_pb2.CallCommandMessage(service_name="S").SerializeToString() + b"\x3a\x01\xff"
    assert later_fields(one_frame(0x040D, not_text, version=6)) == {}


def test_frames_without_a_message_have_only_their_place() -> None:
    assert _notes(one_frame(0x0003, b"\xff", version=6), FrameContext(None, None, 2)) == {
        "command_index": 2
    }


WAITS = v6_pb2.SuspensionMessage(waiting_completions=[2], waiting_signals=[1])


@pytest.mark.parametrize(
    ("code", "message", "ending"),
    [
        (0x0003, b"", "end"),
        (0x0001, WAITS, "suspended on completion #2, signal 1 (CANCEL)"),
        (0x0002, v6_pb2.ErrorMessage(code=500), "error 500"),
        (0x0002, v6_pb2.ErrorMessage(code=500, next_retry_delay=9), "error 500 (retry in 9 ms)"),
        (0x0401, v6_pb2.OutputCommandMessage(), None),
        (0x0003, b"\xff", None),
    ],
)  # fmt: skip
def test_how_a_v6_stream_ends(code: int, message: Message | bytes, ending: str | None) -> None:
    assert ending_of(one_frame(code, message, version=6)) == ending


def test_how_a_v7_error_ends_by_its_behavior() -> None:
    assert (
        ending_of(one_frame(0x0002, v7_pb2.ErrorMessage(code=570, behavior=v7_pb2.PAUSE)))
        == "paused (error 570)"
    )
    assert (
        ending_of(one_frame(0x0002, v7_pb2.ErrorMessage(code=500, behavior=v7_pb2.FAIL)))
        == "failed (error 500)"
    )
    assert (
        ending_of(one_frame(0x0002, v7_pb2.ErrorMessage(code=500, behavior=v7_pb2.RETRY)))
        == "error 500"
    )


CANCEL = v7_pb2.SignalNotificationMessage(idx=1, void=v7_pb2.Void())


def test_which_messages_grew_in_later_versions() -> None:
    from restate_inspect.protocol.v4.notes import grows

    assert grows("StartMessage", 5) and grows("StartMessage", 6)  # random_seed; scope
    assert not grows("StartMessage", 7) and not grows("Future", 7)  # itself inside itself
    assert grows("OutputCommandMessage", 5) and not grows("OutputCommandMessage", 6)  # metadata
    assert not grows("SetStateCommandMessage", 4)


def test_frames_without_later_fields_to_look_for() -> None:
    custom = one_frame(0xFC01, b"\x08\x01", version=6)
    assert _notes(custom) == {}  # a custom type: no schema to compare with
    assert _notes(one_frame(0x0002, v6_pb2.ErrorMessage(code=500), version=6)) == {}


def test_the_signals_a_wait_waits_on() -> None:
    from restate_inspect.protocol.v4.notes import signals_of

    tree = v7_pb2.Future(waiting_signals=[1], nested_futures=[
        v7_pb2.Future(waiting_named_signals=["x"])])  # fmt: skip
    assert sorted(map(str, signals_of(v7_pb2.SuspensionMessage(awaiting_on=tree)))) == ["1", "x"]
    assert signals_of(v7_pb2.SuspensionMessage()) == []
    flat = v6_pb2.SuspensionMessage(waiting_signals=[17], waiting_named_signals=["y"])
    assert signals_of(flat) == [17, "y"]
