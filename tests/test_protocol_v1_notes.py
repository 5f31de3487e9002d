"""What a V1-V3 message says beyond its fields, in the annotations of decode --json: ids,
awakeables, what an error means and blames."""

from __future__ import annotations

from restate_inspect.events import Frame, FrameContext
from restate_inspect.framing import encode_frame
from restate_inspect.location import Direction
from restate_inspect.protocol import message_notes
from restate_inspect.protocol.v1._proto import v2_pb2 as pb
from restate_inspect.values import awakeable_id, invocation_id_text
from tests.helpers import read_all
from tests.v1_conversation import (
    ID,
    RUNTIME,
    SDK,
)


def _notes(
    direction: Direction, kind: int, message: object, context: FrameContext
) -> dict[str, object]:
    (frame,) = read_all(encode_frame(kind, message), direction=direction)  # type: ignore[arg-type]
    assert isinstance(frame, Frame)
    notes: dict[str, object] = {}
    message_notes(frame, context, notes)
    return notes


def test_frame_notes_of_the_messages_that_have_some() -> None:
    known = FrameContext(1, ID)
    assert _notes(RUNTIME, 0x0000, pb.StartMessage(id=ID), FrameContext()) == {
        "invocation_id": invocation_id_text(ID)
    }
    assert _notes(SDK, 0x0C03, pb.AwakeableEntryMessage(), known) == {
        "awakeable_id": awakeable_id(ID, 1)
    }
    assert _notes(SDK, 0x0C03, pb.AwakeableEntryMessage(), FrameContext()) == {}
    completes = _notes(SDK, 0x0C04, pb.CompleteAwakeableEntryMessage(id=awakeable_id(ID, 3)), known)
    assert completes["awakeable"] == {
        "invocation_id": invocation_id_text(ID),
        "invocation_id_bytes": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYX",
        "entry_index": 3,
    }
    assert _notes(SDK, 0x0C04, pb.CompleteAwakeableEntryMessage(id="nope"), known) == {}
    assert _notes(
        SDK, 0x0C02, pb.OneWayCallEntryMessage(service_name="S", handler_name="h"), known
    ) == {"target": "S/h"}
    error = pb.ErrorMessage(code=571, related_entry_type=0x0C01)
    assert _notes(SDK, 0x0003, error, known) == {
        "meaning": "the SDK received a message it did not expect in its state",
        "related_entry_type_name": "CallEntryMessage",
    }
    assert _notes(SDK, 0x0003, pb.ErrorMessage(code=500, related_entry_type=0x7777), known) == {
        "related_entry_type_name": None
    }
    assert _notes(SDK, 0x0005, pb.EndMessage(), known) == {}


def test_error_notes_without_meaning_or_related_type() -> None:
    assert _notes(SDK, 0x0003, pb.ErrorMessage(code=500), FrameContext()) == {}
