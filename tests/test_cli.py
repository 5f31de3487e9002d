"""The command line as users run it: output forms, exit codes, hostile input, no tracebacks."""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from restate_inspect import __version__, cli
from restate_inspect.cli import browsing, options, output
from restate_inspect.cli.options import byte_size
from restate_inspect.events import DecodedFrame
from restate_inspect.framing import encode_frame
from restate_inspect.invocations import Invocation
from restate_inspect.protocol.v1._proto import v2_pb2 as pb
from tests import capturewriter as cw
from tests.helpers import SAMPLES, captures_dir, expected_streams, run_cli
from tests.hostile import hostile_stream

REQ = str(SAMPLES / "v1-call-other.req.bin")
RESP = str(SAMPLES / "v1-call-other.resp.bin")
FRAME_KEYS = [
    "kind", "stream", "direction", "offset", "time", "packet", "type", "type_hex", "name",
    "flags", "flag_names", "length", "entry_index", "protocol_version", "message", "annotations",
]  # fmt: skip
PROBLEM_KEYS = [
    "kind", "code", "severity", "message", "stream", "direction", "offset", "length",
    "entry_index", "rule", "undecoded", "invocation_id", "attempt",
]  # fmt: skip
SGR = re.compile(r"\x1b\[[0-9;]*m")


def test_version() -> None:
    result = run_cli(["--version"])
    assert (result.exit_code, result.stdout) == (0, f"restate-inspect {__version__}\n")


def test_python_dash_m_and_the_console_script() -> None:
    for command in (
        [sys.executable, "-m", "restate_inspect"],
        [str(Path(sys.executable).parent / "restate-inspect")],
    ):
        result = subprocess.run(
            [*command, "decode", REQ], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stderr
        assert "StartMessage" in result.stdout and "\x1b" not in result.stdout


def test_help_shows_examples() -> None:
    result = run_cli(["decode", "--help"])
    assert result.exit_code == 0
    assert "xxd -p stream.bin | restate-inspect decode" in result.stdout
    assert "--request" in result.stdout and "--input-format" in result.stdout


def test_clean_pair_in_json_follows_the_documented_schema() -> None:
    result = run_cli(["decode", "--json", "--request", REQ, "--response", RESP])
    assert result.exit_code == 0
    records = [json.loads(line) for line in result.stdout.splitlines()]
    (told,) = [r for r in records if r["kind"] == "problem"]  # no content type: inferred
    assert (told["code"], told["severity"]) == ("RI115", "info") and list(told) == PROBLEM_KEYS
    frames = [r for r in records if r["kind"] == "frame"]
    assert all(list(r) == FRAME_KEYS and r["protocol_version"] == 2 for r in frames)
    call = next(r for r in frames if r["name"] == "CallEntryMessage")
    assert call["type_hex"] == "0x0c01" and call["direction"] == "sdk_to_runtime"
    assert call["entry_index"] == 1 and call["stream"].endswith("v1-call-other")
    assert call["annotations"]["target"] == "Demo/greet"
    assert call["annotations"]["payloads"]["parameter"] == {"view": "json", "json": "alice"}
    assert call["message"]["parameter"] == "ImFsaWNlIg=="  # canonical mapping: bytes as base64


def test_problems_in_json_carry_offset_and_length_and_exit_1() -> None:
    data = (SAMPLES / "v1-call-other.req.bin").read_bytes()[:100]
    result = run_cli(["decode", "--json", "-"], stdin=data)
    assert result.exit_code == 1
    problem = json.loads(result.stdout.splitlines()[-1])
    assert list(problem) == PROBLEM_KEYS
    assert (problem["code"], problem["offset"], problem["length"], problem["undecoded"]) == (
        "RI102",
        78,
        22,
        True,
    )


def test_text_output_in_a_pipe_is_plain_and_colour_is_on_request() -> None:
    plain = run_cli(["decode", REQ])
    assert plain.exit_code == 0 and "\x1b" not in plain.stdout
    assert "CallEntryMessage" not in plain.stdout and "InputEntryMessage" in plain.stdout
    coloured = run_cli(["decode", "--color", "always", REQ])
    assert SGR.search(coloured.stdout)
    assert SGR.sub("", coloured.stdout) == plain.stdout


def test_no_color_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    result = run_cli(["decode", "--color", "always", REQ])
    assert not re.search(r"\x1b\[[0-9;]*3[0-9]", result.stdout)  # no foreground colours


def test_bytes_shows_header_and_body_rows() -> None:
    result = run_cli(["decode", "--bytes", RESP])
    assert re.search(r"header\s+00000000  0c 01 00 00 00 00 00 16 ", result.stdout)
    assert re.search(r"body\s+00000008  0a 04 44 65 6d 6f", result.stdout)
    as_json = run_cli(["decode", "--json", "--bytes", RESP])
    records = [json.loads(line) for line in as_json.stdout.splitlines()]
    first = next(r for r in records if r["kind"] == "frame")
    assert first["bytes"].startswith("0c010000000000160a04")


def test_hex_piped_on_stdin() -> None:
    hex_text = (SAMPLES / "v1-call-other.resp.hex").read_text()
    result = run_cli(["decode"], stdin=hex_text)
    assert (
        result.exit_code == 0 and "CallEntryMessage" in result.stdout and "<stdin>" in result.stdout
    )


def test_stdin_on_a_terminal_without_input_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(options, "stdin_is_terminal", lambda: True)
    result = run_cli(["decode"])
    assert result.exit_code == 2 and "no input" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["decode", "/nonexistent/x.bin"], "cannot open /nonexistent/x.bin"),
        (["decode", REQ, "--request", REQ], "either INPUT or --request"),
        (["decode", "--input-format", "pcapx", REQ], "Invalid value"),
        (["decode", "--max-length", "-1", REQ], "Invalid value"),
        (["check", "--ignore", "RI9", REQ], "no rule has the code 'RI9'"),
        (["rules", "RI233", "X1"], "no rule has the code 'X1'"),
    ],
)
def test_usage_errors_and_unreadable_input_exit_2(args: list[str], message: str) -> None:
    result = run_cli(args)
    assert result.exit_code == 2
    assert message in result.stderr + result.stdout


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


@pytest.mark.parametrize("command", ["decode", "journal", "check"])
def test_a_capture_without_restate_traffic_says_how_it_is_recognised(
    command: str, tmp_path: Path
) -> None:
    """A capture taken in the wrong place (another port, the wrong interface) is the likely
    reason; stdout stays as it is (a --json reader gets nothing)."""
    health = [
        (0, b"GET /health HTTP/1.1\r\nhost: sdk\r\n\r\n"),
        (1, b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"),
    ]
    capture = tmp_path / "health.pcap"
    capture.write_bytes(cw.pcap(cw.conversation_packets(health)))
    result = run_cli([command, "--json", str(capture)])
    assert result.exit_code == (1 if command == "check" else 0)  # check: nothing checked
    assert f"no Restate invocation in {capture}" in result.stderr
    assert "application/vnd.restate.invocation.vN" in result.stderr
    assert all('"kind":"frame"' not in line for line in result.stdout.splitlines())
    restate = run_cli([command, "--json", str(SAMPLES / "v1-features.pcapng")])
    assert "no Restate invocation" not in restate.stderr
    cut = tmp_path / "cut.pcapng"  # the errors are the reason: no advice on where to capture
    cut.write_bytes((SAMPLES / "v1-features.pcapng").read_bytes()[:400] + b"\xff" * 40)
    broken = run_cli([command, str(cut)])
    assert broken.exit_code == 1 and "no Restate invocation" not in broken.stderr


def test_streams_of_a_file_or_a_pair_is_one_row() -> None:
    """A raw stream is one stream, however many frames it holds."""
    (one,) = [json.loads(line) for line in run_cli(["streams", "--json", REQ]).stdout.splitlines()]
    assert one["stream_kind"] == "file"
    assert one["frames"] == {"runtime_to_sdk": 4, "sdk_to_runtime": 0}
    pair = run_cli(["streams", "--json", "--request", REQ, "--response", RESP])
    (both,) = [json.loads(line) for line in pair.stdout.splitlines()]
    assert both["frames"] == {"runtime_to_sdk": 4, "sdk_to_runtime": 4}
    assert both["ending"] == "end" and both["invocation_id"].startswith("inv_")
    text = run_cli(["streams", REQ]).stdout
    assert "1 stream, 4 frames" in text and "a file: no HTTP" in text


def test_request_or_response_alone_fixes_the_direction() -> None:
    result = run_cli(["decode", "--json", "--response", REQ])
    first = json.loads(result.stdout.splitlines()[0])
    assert first["direction"] == "sdk_to_runtime"
    result = run_cli(["decode", "--json", "--request", RESP])
    assert json.loads(result.stdout.splitlines()[0])["direction"] == "runtime_to_sdk"


def test_hostile_payloads_stay_inert_in_text(tmp_path: Path) -> None:
    path = tmp_path / "hostile.bin"
    path.write_bytes(hostile_stream())
    for colour in ("never", "always"):
        result = run_cli(["decode", "--bytes", "--color", colour, "--max-payload", "0", str(path)])
        assert result.exit_code == 1
        text = SGR.sub("", result.stdout)  # our own styling is the only escape allowed
        assert all(c.isprintable() or c == "\n" for c in text), repr(
            [c for c in text if not (c.isprintable() or c == "\n")][:5]
        )
        assert "[bold red]markup[/bold red]" in text
        assert "RI103" in text and "4294967295" in text


def test_hostile_payloads_stay_inert_in_json(tmp_path: Path) -> None:
    path = tmp_path / "hostile.bin"
    path.write_bytes(hostile_stream())
    result = run_cli(["decode", "--json", str(path)])
    assert result.stdout.isascii()
    assert all(c.isprintable() or c == "\n" for c in result.stdout)
    records = [json.loads(line) for line in result.stdout.splitlines()]
    start = next(r for r in records if r["kind"] == "frame")
    assert start["message"]["key"].startswith("\x1b[2J")  # the data itself is intact


@pytest.mark.parametrize(
    "command",
    [
        "decode --response {}",
        "decode --json --response {}",
        "journal --response {}",
        "check --response {}",
        "streams --response {}",
        "rules",  # rich's own handling of a closed pipe exits 1
        "rules --json",
        "--help",
    ],
)
def test_a_closed_pipe_ends_quietly_and_clean(tmp_path: Path, command: str) -> None:
    """| head: no traceback, no complaint, and exit 0, not 1 ("problems found")."""
    path = tmp_path / "many.bin"
    path.write_bytes((SAMPLES / "v1-call-other.resp.bin").read_bytes() * 3000)
    run = f"{sys.executable} -m restate_inspect {command.format(path)}"
    script = f"set -o pipefail; {run} | head -n 1"  # check: 3,000 findings, exit 1 in full
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=False)
    assert len(result.stdout.splitlines()) == 1
    assert result.stderr == ""
    assert result.returncode == 0


def test_an_internal_error_is_one_line_and_exit_3(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken() -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(cli, "app", broken)
    monkeypatch.delenv("RESTATE_INSPECT_DEBUG", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    assert exit_info.value.code == 3
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: boom" in err and "Traceback" not in err
    monkeypatch.setenv("RESTATE_INSPECT_DEBUG", "1")
    with pytest.raises(SystemExit):
        cli.main()
    assert "Traceback" in capsys.readouterr().err


def test_interrupt_exits_130(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted() -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "app", interrupted)
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    assert exit_info.value.code == 130


def test_text_rendering_of_a_sample_matches_its_golden_file() -> None:
    """Golden output of the text renderer: its layout (test_corpus checks the decoding)."""
    golden = Path(__file__).parent / "golden" / "v2-py-flaky-error.txt"
    args = ["decode", "--request", str(SAMPLES / "v2-py-flaky-error.req.bin")]
    args += ["--response", str(SAMPLES / "v2-py-flaky-error.resp.bin")]
    result = run_cli(args)
    output = result.stdout.replace(str(SAMPLES), "samples")
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(output)
    assert output == golden.read_text()


# --- tui: what the command hands the app (the app itself: test_tui.py) ------------------


@dataclass
class _Opened:
    load: Callable[[Callable[[int], None]], Iterator[Any]]
    name: str
    size: int | None
    keep: int
    cancel: threading.Event  # set when the app ends: a live capture's reading stops

    def invocations(self) -> list[Invocation]:
        return [i for i in self.load(lambda done: None) if isinstance(i, Invocation)]


@pytest.fixture
def tui_app(monkeypatch: pytest.MonkeyPatch) -> list[_Opened]:
    """The tui command on a (pretend) terminal, with the app's run() recorded, not run."""
    import restate_inspect.tui.app as tui_app_module

    opened: list[_Opened] = []
    monkeypatch.setattr(options, "stdout_is_terminal", lambda: True)
    monkeypatch.setattr(options, "stdin_is_terminal", lambda: True)
    monkeypatch.setattr(tui_app_module, "run", lambda *args: opened.append(_Opened(*args)))
    return opened


def test_tui_needs_a_terminal() -> None:
    result = run_cli(["tui", str(SAMPLES / "v1-features.pcapng")])
    assert result.exit_code == 2
    assert "needs a terminal" in result.stderr


def test_tui_without_input_opens_the_bundled_sample(tui_app: list[_Opened]) -> None:
    result = run_cli(["tui"])
    assert result.exit_code == 0, result.stderr
    (opened,) = tui_app
    assert "bundled sample" in opened.name and opened.size == browsing.SAMPLE_CAPTURE.stat().st_size
    assert browsing.SAMPLE_CAPTURE.read_bytes() == (SAMPLES / "v1-features.pcapng").read_bytes()
    stored = json.loads((captures_dir() / "v1-features" / "sys_invocation.json").read_text())
    assert {i.invocation_id for i in opened.invocations()} == {r["id"] for r in stored["rows"]}


def test_tui_selects_invocations_and_keeps_a_bounded_number(tui_app: list[_Opened]) -> None:
    capture = str(SAMPLES / "v1-features.pcapng")
    assert (
        run_cli(["tui", capture, "--service", "Counter", "--max-invocations", "5"]).exit_code == 0
    )
    (opened,) = tui_app
    assert opened.keep == 5
    targets = {i.target for i in opened.invocations()}
    assert targets and all(t is not None and t.startswith("Counter/") for t in targets)


def test_tui_reports_a_missing_input_before_the_screen_changes(tui_app: list[_Opened]) -> None:
    result = run_cli(["tui", "no/such/capture.pcap"])
    assert result.exit_code == 2
    assert "cannot open no/such/capture.pcap: No such file or directory" in result.stderr
    assert not tui_app
    result = run_cli(["tui", "x.bin", "--request", "y.bin"])
    assert result.exit_code == 2 and not tui_app


def test_tui_reads_stdin_then_takes_keys_from_the_terminal(
    tui_app: list[_Opened], monkeypatch: pytest.MonkeyPatch
) -> None:
    duplicated: list[tuple[int, int]] = []
    terminal = os.open(os.devnull, os.O_RDONLY)
    monkeypatch.setattr(os, "open", lambda path, flags: terminal)
    monkeypatch.setattr(os, "dup2", lambda a, b: duplicated.append((a, b)))
    hex_text = (SAMPLES / "v1-side-effect.req.hex").read_text()
    result = run_cli(["tui", "-"], stdin=hex_text)
    assert result.exit_code == 0, result.stderr
    assert duplicated == [(terminal, 0)]  # the terminal took stdin's place for keys
    (opened,) = tui_app
    assert opened.name == "<stdin>" and opened.size == len(hex_text)
    (invocation,) = opened.invocations()  # the bytes read before are what is decoded
    expected = expected_streams("", SAMPLES / "v1-side-effect.expected.txt")
    timeline = invocation.attempts[0].timeline
    frames = [m.item.frame for m in timeline if isinstance(m.item, DecodedFrame)]
    assert [f.type for f in frames] == [e.type for e in expected[0].frames["req"]]


def test_tui_without_a_terminal_for_keys_says_so(
    tui_app: list[_Opened], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_terminal(path: str, flags: int) -> int:
        raise OSError("no tty")

    monkeypatch.setattr(os, "open", no_terminal)
    result = run_cli(["tui", "-"], stdin=b"\x00\x00")
    assert result.exit_code == 2
    assert "no terminal to take keys from" in result.stderr
    assert not tui_app


def test_a_progress_bar_for_a_large_input_even_compressed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    capture = (SAMPLES / "v1-features.pcapng").read_bytes()
    packed = tmp_path / "big.pcapng.gz"
    packed.write_bytes(gzip.compress(capture * 2))
    terminal = io.StringIO()
    terminal.isatty = lambda: True  # type: ignore[method-assign]
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setattr(output, "PROGRESS_FROM", packed.stat().st_size + 1)
    with output.progress_bar(str(packed)) as progress:
        assert progress is not None  # what the file holds is large, not the file
        progress(packed.stat().st_size)
    assert "reading" in terminal.getvalue()
    assert "[progress" not in terminal.getvalue()  # a style, not markup shown as text
    monkeypatch.setattr(output, "PROGRESS_FROM", 2 * len(capture) + 1)
    with output.progress_bar(str(packed)) as progress:
        assert progress is None


def test_rules_lists_the_catalogue_and_selects_by_code_or_its_start() -> None:
    from restate_inspect.rules import RULES

    listed = run_cli(["rules", "--json"])
    assert listed.exit_code == 0
    records = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [r["code"] for r in records] == list(RULES)
    assert records[0] == {
        "kind": "rule",
        "code": "RI001",
        "severity": "error",
        "text": RULES["RI001"].title,
        "reference": "input",
    }
    text = run_cli(["rules", "ri31,RI233"]).stdout.splitlines()
    assert [line.split()[0] for line in text] == [
        *(code for code in RULES if code.startswith("RI31")),
        "RI233",
    ]
    assert text[-1].split()[1] == "info" and RULES["RI233"].title in text[-1]


def test_check_ignore_leaves_findings_out_of_the_output_and_the_exit_code() -> None:
    cut = (SAMPLES / "v1-call-other.req.bin").read_bytes()[:100]  # ends inside a frame: RI102
    failing = run_cli(["check", "--json", "-"], stdin=cut)
    found = [json.loads(line) for line in failing.stdout.splitlines()]
    assert failing.exit_code == 1 and "RI102" in {f["code"] for f in found}
    ignored = run_cli(["check", "--json", "--ignore", "ri10", "-"], stdin=cut)
    left = [json.loads(line) for line in ignored.stdout.splitlines()]
    assert left == [f for f in found if not f["code"].startswith("RI10")]
    assert all(f["severity"] != "error" for f in left) and ignored.exit_code == 0
    nothing = run_cli(["check", "--ignore", "RI10,RI11,RI2", "-"], stdin=cut)
    assert nothing.exit_code == 0 and "no findings" in nothing.stdout
    assert "by code" not in nothing.stdout


def test_check_sums_the_findings_up_by_code_most_frequent_first() -> None:
    """What `jq -r .code | sort | uniq -c` would say, under the text: the codes to --ignore."""
    capture = str(SAMPLES / "v1-features.pcapng")
    found = [json.loads(line) for line in run_cli(["check", "--json", capture]).stdout.splitlines()]
    codes: dict[str, int] = {}
    for finding in found:
        codes[finding["code"]] = codes.get(finding["code"], 0) + 1
    *_, by_code = run_cli(["check", capture]).stdout.splitlines()
    listed = dict(part.split(": ") for part in by_code.removeprefix("by code: ").split(", "))
    assert {code: int(count) for code, count in listed.items()} == codes
    assert list(map(int, listed.values())) == sorted(codes.values(), reverse=True)


def test_tui_follows_a_pipe_on_stdin_and_reads_a_file_to_its_end(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A pipe (tcpdump -U -w - | restate-inspect tui -) keeps being read on a descriptor of
    its own, as fd 0 becomes the terminal's; a file given as stdin is read first."""
    read_end, write_end = os.pipe()
    os.write(write_end, b"live bytes")
    os.close(write_end)
    with open(read_end, "rb") as pipe:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(pipe))
        handle = browsing._stdin_pipe()
        assert handle is not None and handle.fileno() != read_end
        assert handle.read() == b"live bytes"
        handle.close()
    path = tmp_path / "stdin.bin"
    path.write_bytes(b"x")
    with path.open("rb") as file:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(file))
        assert browsing._stdin_pipe() is None
    monkeypatch.setattr(sys, "stdin", io.StringIO("a test's stdin has no descriptor"))
    assert browsing._stdin_pipe() is None


def test_the_tuis_pipe_reads_what_comes_and_gives_up_when_told() -> None:
    """The TUI's decoding thread must end for the app to: a quiet pipe reads as ended
    once the app's stop event is set, instead of blocking for ever."""
    read_end, write_end = os.pipe()
    os.write(write_end, b"0123456789")
    stop = threading.Event()
    pipe = browsing._StoppablePipe(os.fdopen(read_end, "rb"), stop)
    assert pipe.read(4) == b"0123" and pipe.read1(100) == b"456789"
    threading.Timer(0.3, stop.set).start()
    started = time.monotonic()
    assert pipe.read() == b""  # nothing more came, and the writer is still open
    assert 0.25 < time.monotonic() - started < 5
    os.close(write_end)
    read_end, write_end = os.pipe()
    os.write(write_end, b"all of it")
    os.close(write_end)
    assert (
        browsing._StoppablePipe(os.fdopen(read_end, "rb"), threading.Event()).read() == b"all of it"
    )


def test_journal_oneline_gives_each_invocation_in_one_line() -> None:
    """The invocations and their order, endings and findings are those of journal --json."""
    capture = str(SAMPLES / "v1-features.pcapng")
    full = [
        json.loads(line) for line in run_cli(["journal", "--json", capture]).stdout.splitlines()
    ]
    invocations = [r for r in full if r["kind"] == "invocation"]
    result = run_cli(["journal", "--oneline", capture])
    *lines, summary = result.stdout.splitlines()
    info = sum(r["problems"].get("info", 0) for r in invocations)
    assert result.exit_code == 0 and summary == f"210 frames, 10505 bytes; {info} info"
    assert len(lines) == len(invocations) == 32
    for line, record in zip(lines, invocations, strict=True):
        attempts = f"{record['attempts']} attempt{'s' if record['attempts'] > 1 else ''}"
        assert line.startswith(f"{record['invocation_id']}  {record['target']}")
        assert f"  {attempts} · {record['ending']}" in line
        info = record["problems"].get("info", 0)
        assert line.endswith(f" · {info} info") if info else line.endswith(record["ending"])
    records = run_cli(["journal", "--oneline", "--json", capture]).stdout.splitlines()
    assert [json.loads(line) for line in records] == invocations


def test_a_capture_time_past_the_year_9999_is_shown_not_failed_on(tmp_path: Path) -> None:
    request = (SAMPLES / "v1-call-other.req.bin").read_bytes()
    response = (SAMPLES / "v1-call-other.resp.bin").read_bytes()
    packets = cw.conversation_packets(cw.h2_exchange(request, response), start=3.2e11)
    path = tmp_path / "far.pcapng"
    path.write_bytes(cw.pcapng([cw.Section([cw.Interface(cw.EN10MB)], packets)]))
    result = run_cli(["streams", str(path)])
    assert result.exit_code == 0 and "32000000000" in result.stdout.splitlines()[1]


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


def test_an_attempt_cut_by_the_capture_says_why_in_journal_as_in_streams(tmp_path: Path) -> None:
    cut = tmp_path / "cut.pcapng"
    cut.write_bytes((SAMPLES / "v1-features.pcapng").read_bytes()[:30000])
    listed = run_cli(["streams", "--json", str(cut)]).stdout
    rows = [json.loads(line) for line in listed.splitlines()]
    attempts = [
        json.loads(line)
        for line in run_cli(["journal", "--json", str(cut)]).stdout.splitlines()
        if json.loads(line)["kind"] == "attempt"
    ]
    unended = {r["stream"]: r["ending"] for r in rows if r["ending"].startswith("no terminal")}
    assert unended and any("cut by the capture's end" in e for e in unended.values())
    said = {a["stream"]: a["ending_text"] for a in attempts if a["stream"] in unended}
    assert said == unended
