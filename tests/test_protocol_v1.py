"""The V1-V3 family as the seam sees it: how its messages end an attempt, what framing asks
of its type codes, every entry type the runtime stored in the shared captures known by its
code, and its readers."""

from __future__ import annotations

from restate_inspect.events import Frame
from restate_inspect.framing import encode_frame
from restate_inspect.protocol import ending_of
from restate_inspect.protocol.v1 import FAMILY as V1
from restate_inspect.protocol.v1._proto import v2_pb2 as pb
from restate_inspect.protocol.v1.messages import COMPLETED, V3_TABLE
from tests.helpers import read_all, stored_entry_types


def test_endings_of_v1_messages() -> None:
    wire = (
        encode_frame(0x0005)
        + encode_frame(0x0002, pb.SuspensionMessage(entry_indexes=[1, 2]))
        + encode_frame(0x0003, pb.ErrorMessage(code=571))
        + encode_frame(0x0005, b"\xff")
        + encode_frame(0x0400, pb.InputEntryMessage())
    )
    frames = [f for f in read_all(wire) if isinstance(f, Frame)]
    assert [ending_of(f) for f in frames] == ["end", "suspended on 1,2", "error 571", None, None]


def test_framing_hints_of_the_family() -> None:
    hints = V1.hints
    assert hints.plausible(0x0C01, 0x8001) and hints.plausible(0x0001, 0)
    assert not hints.plausible(0x0000, 0)  # a StartMessage only begins a stream
    assert not hints.plausible(0x0005, 0x0001)  # an End is not completable
    assert not hints.plausible(0x0C06, 0)  # a V3 type: V1 and V2 streams do not have it
    assert hints.describe(0x0C06) == f"{V3_TABLE.by_code[0x0C06].name} (0x0c06)"
    assert hints.describe(0x7777) == "type 0x7777"


def test_every_entry_type_the_runtime_stored_is_known_by_its_code() -> None:
    stored = stored_entry_types(current=False)
    assert {"Input", "Call", "Sleep"} <= stored
    for entry_type in stored:
        code = V1.stored_type(entry_type)
        assert code is not None and V3_TABLE.by_code[code].name == entry_type + "EntryMessage"
    assert (V1.stored_flags(completed=True), V1.stored_flags(completed=False)) == (COMPLETED, 0)


def test_each_version_is_read_by_its_table() -> None:
    assert [V1.reader(v).table.version for v in (1, 2, 3, None)] == [2, 2, 3, 2]
    assert V1.reader(3).version == 3 and V1.reader(None).version is None
