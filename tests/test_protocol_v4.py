"""The V4-V8 family as the seam sees it: what framing asks of its type codes, every entry
type the runtime stored in the shared captures known by its code, and its readers."""

from __future__ import annotations

from restate_inspect.location import Direction
from restate_inspect.protocol.v4 import FAMILY as V4
from restate_inspect.protocol.v4.messages import LATEST
from tests.helpers import stored_entry_types

RUNTIME, SDK = Direction.RUNTIME_TO_SDK, Direction.SDK_TO_RUNTIME


def test_framing_hints_of_the_family() -> None:
    hints = V4.hints
    assert hints.plausible(0x0403, 0x8000) and hints.plausible(0x8002, 0)
    assert not hints.plausible(0x0000, 0) and not hints.plausible(0x8002, 0x8000)
    assert not hints.plausible(0x0200, 0)  # known by name only: no body to check
    assert hints.describe(0x0403) == "SetStateCommandMessage (0x0403)"
    assert hints.describe(0x7777) == "type 0x7777"


def test_every_entry_type_the_runtime_stored_is_known_by_its_code() -> None:
    """`Command: Call` is CallCommandMessage, `Notification: Call` its completion, and
    `Notification: Signal` the signal notification (which no CompletionNotification is)."""
    stored = stored_entry_types(current=True)
    assert {"Command: Input", "Notification: Signal"} <= stored
    for entry_type in stored:
        code = V4.stored_type(entry_type)
        assert code is not None, entry_type
        kind, name = entry_type.split(": ")
        expected = {"Command": "CommandMessage", "Notification": "CompletionNotificationMessage"}
        want = "SignalNotificationMessage" if name == "Signal" else name + expected[kind]
        assert LATEST.by_code[code].name == want
    assert V4.stored_flags(completed=True) == 0  # a V4+ journal keeps no flags


def test_a_told_version_is_read_by_its_table_and_an_inferred_one_labelled() -> None:
    told, inferred = V4.reader(6), V4.reader(6, told=False)
    assert (told.told, told.version, told.table.version) == (6, 6, 6)
    assert (inferred.told, inferred.version, inferred.table.version) == (None, 6, 7)
    assert V4.reader(None).told is None
