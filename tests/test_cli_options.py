"""What every reading command shares: stdin, empty inputs and sides, selections that match
nothing, and sizes as people write them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from restate_inspect.cli import options
from restate_inspect.cli.options import byte_size
from restate_inspect.framing import encode_frame
from restate_inspect.protocol.v1._proto import v2_pb2 as pb
from tests.helpers import SAMPLES, run_cli


def test_stdin_on_a_terminal_without_input_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(options, "stdin_is_terminal", lambda: True)
    result = run_cli(["decode"])
    assert result.exit_code == 2 and "no input" in result.stderr


@pytest.mark.parametrize("command", ["decode", "journal", "check", "streams"])
@pytest.mark.parametrize("given", [b"", b"\n \n"])
def test_empty_input_is_said_and_is_not_clean(command: str, given: bytes) -> None:
    """Nothing piped in (`gzip -c missing.bin | restate-inspect decode`) is not a green
    result for a script: RI010, exit 1; and no attempt that never ended is made of it."""
    result = run_cli([command, "--json", "-"], stdin=given)
    assert result.exit_code == 1
    records = [json.loads(line) for line in result.stdout.splitlines()]
    if command != "streams":  # streams: one record per stream, and there is none
        assert [(r["kind"], r["code"], r["stream"]) for r in records] == [
            ("problem", "RI010", None)
        ]
    text = run_cli([command, "-"], stdin=given)
    assert text.exit_code == 1 and "RI2" not in text.stdout
    assert "RI010" in text.stdout and "<stdin> is " in text.stdout
    garbage = run_cli([command, "--json", "-"], stdin=b"\x00\x00\x00")
    assert garbage.stdout  # three bytes are something: reported
    assert "RI010" not in garbage.stdout


def test_an_empty_side_of_a_pair_is_said(tmp_path: Path) -> None:
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    response = str(SAMPLES / "v6-call-other.resp.bin")
    result = run_cli(["decode", "--json", "--request", str(empty), "--response", response])
    codes = [json.loads(line).get("code") for line in result.stdout.splitlines()]
    assert codes.count("RI010") == 1 and result.exit_code == 1


@pytest.mark.parametrize("command", ["decode", "journal", "check", "streams"])
def test_a_selection_that_matches_nothing_is_said_on_stderr(command: str) -> None:
    capture = str(SAMPLES / "v1-features.pcapng")
    missed = run_cli([command, "--json", "--service", "Nope", capture])
    assert (missed.exit_code, missed.stdout) == (1, "")  # a script must not go green on it
    assert "nothing in the input matches --service Nope" in missed.stderr
    found = run_cli([command, "--service", "Demo/greet", capture])
    assert "Demo/greet" in found.stdout or command == "check"  # check: a clean invocation
    assert "nothing in the input" not in found.stderr


@pytest.mark.parametrize(
    ("given", "size"),
    [("4096", 4096), ("64k", 64 << 10), ("64M", 64 << 20), ("64MiB", 64 << 20), ("1g", 1 << 30),
     ("0", 0), (" 2 KB ", 2048)],
)  # fmt: skip
def test_sizes_are_read_as_people_write_them(given: str, size: int) -> None:
    assert byte_size(given) == size


def test_size_options_take_suffixes_and_zero_means_no_limit() -> None:
    """--max-length 64M is accepted; 0 means no limit for it as for --max-payload."""
    stream = str(SAMPLES / "v1-call-other.req.bin")
    default = run_cli(["decode", "--json", stream]).stdout
    assert run_cli(["decode", "--json", "--max-length", "64M", stream]).stdout == default
    assert run_cli(["decode", "--json", "--max-length", "0", stream]).stdout == default
    limited = run_cli(["decode", "--json", "--max-length", "10", stream])
    assert '"code":"RI103"' in limited.stdout and limited.exit_code == 1
    wrong = run_cli(["decode", "--max-length", "6x", stream])
    assert wrong.exit_code == 2 and "is not a size" in wrong.stderr
    payload = b"\x00" + bytes(range(1, 256)) * 40  # not text: shown as a hexdump
    frame = encode_frame(0x0400, pb.InputEntryMessage(value=payload))
    v1 = ["decode", "--protocol-version", "1", "-"]
    whole = run_cli([*v1, "--max-payload", "0"], stdin=frame).stdout
    cut = run_cli([*v1, "--max-payload", "1k"], stdin=frame).stdout
    assert len(cut) < len(whole) and "9177 not shown" in cut and "not shown" not in whole
