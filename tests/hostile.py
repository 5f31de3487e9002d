"""A stream whose payloads try everything a terminal or rich could act on."""

from __future__ import annotations

from restate_inspect.events import HEADER
from restate_inspect.framing import encode_frame
from restate_inspect.protocol.v1._proto import v2_pb2 as pb

ATTACKS = [
    "\x1b[2J\x1b[H",  # clear the screen
    "\x1b]0;owned\x07",  # OSC: set the window title, BEL-terminated
    "\x1b]8;;http://evil.example\x1b\\link\x1b]8;;\x1b\\",  # OSC 8 hyperlink
    "\x9b31m",  # C1 CSI
    "\x07",  # BEL
    "\x00nul",
    "[bold red]markup[/bold red] [link=http://x]x[/link]",
    "carriage\rreturn",
    "bidi \u202eevil\u202c",
    "\x7fdel",
]
TEXT = "".join(ATTACKS)
DATA = TEXT.encode()


def hostile_stream() -> bytes:
    return b"".join(
        [
            encode_frame(
                0x0000,
                pb.StartMessage(
                    id=b"\x01" * 24,
                    debug_id=TEXT,
                    known_entries=1,
                    key=TEXT,
                    state_map=[pb.StartMessage.StateEntry(key=DATA, value=DATA)],
                ),
            ),
            encode_frame(
                0x0400,
                pb.InputEntryMessage(
                    headers=[pb.Header(key=TEXT, value=TEXT)], value=DATA, name=TEXT
                ),
            ),
            encode_frame(
                0x0001,
                pb.CompletionMessage(
                    entry_index=0, value=b'{"x": "' + DATA.replace(b"\\", b"") + b'"}'
                ),
            ),
            encode_frame(
                0x0C01, pb.CallEntryMessage(service_name=TEXT, handler_name=TEXT, parameter=DATA)
            ),
            encode_frame(
                0x0C04,
                pb.CompleteAwakeableEntryMessage(
                    id=TEXT, failure=pb.Failure(code=571, message=TEXT)
                ),
            ),
            encode_frame(0xFC00, b"\x62" + bytes([len(DATA)]) + DATA),  # custom entry named with it
            encode_frame(
                0x0003, pb.ErrorMessage(code=570, message=TEXT + "\n" + TEXT, description=TEXT)
            ),
            HEADER.pack(0x0C01, 0, 0xFFFFFFFF) + DATA,  # a 4 GiB claim, then the rest
        ]
    )
