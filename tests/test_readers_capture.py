"""The capture chain on synthetic captures: which exchanges are Restate streams and their
versions, other traffic, the CLI on a capture, the same attempt seen twice, one-sided captures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from restate_inspect.events import Chunk, DecodedFrame, StreamInfo
from restate_inspect.readers import capture_events
from restate_inspect.rules import Problem
from tests import capturewriter as cw
from tests.captures import (
    REQUEST,
    RESPONSE,
    RUNTIME,
    SDK,
    decode,
    expected,
    frames_of,
    h2_packets,
    problems,
    shape,
)
from tests.helpers import SAMPLES, Pieces, assert_split_invariant


def test_protocol_version_comes_from_the_media_type_without_its_parameters() -> None:
    from restate_inspect.location import StreamKey

    def version(content_type: str) -> int | None:
        headers = (("content-type", content_type),)
        info = StreamInfo(StreamKey("tcp0", "s1"), "invocation", "a -> b", "HTTP/2", None, 1,
                          request_headers=headers)  # fmt: skip
        return info.protocol_version

    assert version("application/vnd.restate.invocation.v2") == 2
    assert version("application/vnd.restate.invocation.v1; charset=utf-8") == 1
    assert version("application/vnd.restate.invocation.v²") is None
    assert version("application/json") is None


def test_other_http_and_other_tcp_are_listed_or_reported_not_decoded() -> None:
    other = cw.http1_exchange(b"hello", b"world", path="/health")
    items = decode(cw.pcap(cw.conversation_packets(other)))
    (info, *_) = [i for i in items if isinstance(i, StreamInfo)]
    assert info.kind == "other" and not [i for i in items if isinstance(i, DecodedFrame)]
    noise = cw.conversation_packets([(0, b"SSH-2.0-OpenSSH_9.2\r\n"), (1, b"SSH-2.0-x\r\n")])
    assert [p.code for p in problems(decode(cw.pcap(noise)))] == ["RI314"]
    hello = bytes.fromhex("1603010080") + bytes.fromhex("0100007c0303") + bytes(122)
    tls = cw.conversation_packets([(0, hello), (1, bytes.fromhex("1603030005") + bytes(5))])
    (found,) = problems(decode(cw.pcap(tls)))
    assert found.code == "RI314" and "is TLS: encrypted" in found.message


def test_streams_says_why_a_capture_has_no_stream(tmp_path: Path) -> None:
    """What belongs to no stream (here: the traffic is TLS) is told under the table, not
    just counted; a selection and --json (one record per stream) leave it out."""
    from tests.helpers import run_cli

    hello = bytes.fromhex("1603010080") + bytes.fromhex("0100007c0303") + bytes(122)
    path = tmp_path / "tls.pcap"
    path.write_bytes(cw.pcap(cw.conversation_packets([(0, hello)])))
    result = run_cli(["streams", str(path)])
    assert result.exit_code == 0
    *_, told, footer = result.stdout.splitlines()
    assert told.startswith("RI314 info") and "is TLS: encrypted" in told
    assert footer == "0 streams, 0 frames; 1 info"
    assert "RI314" not in run_cli(["streams", "--stream", "tcp0", str(path)]).stdout
    assert run_cli(["streams", "--json", str(path)]).stdout == ""


def test_cli_decode_and_streams_on_a_synthetic_capture(tmp_path: Path) -> None:
    from tests.helpers import run_cli

    path = tmp_path / "one.pcapng"
    path.write_bytes(cw.pcapng([cw.Section([cw.Interface(cw.EN10MB)], h2_packets())]))
    result = run_cli(["streams", str(path)])
    assert (
        result.exit_code == 0
        and "tcp0/s1" in result.stdout
        and "POST /invoke/Demo/callOther" in result.stdout
    )
    result = run_cli(["decode", "--service", "Demo/callOther", str(path)])
    assert result.exit_code == 0 and "CallEntryMessage" in result.stdout
    result = run_cli(["decode", "--service", "Nope", "--json", str(path)])
    assert result.exit_code == 1 and result.stdout == ""  # nothing matched


def test_cli_on_a_capture_of_a_protocol_version_not_interpreted(tmp_path: Path) -> None:
    """A V9 exchange, a version no family reads, is listed and framed, says once that it
    is not interpreted, and breaks no rule; check exits 1, as it could not check it."""
    import json

    from tests.helpers import run_cli

    path = tmp_path / "v9.pcap"
    path.write_bytes(cw.pcap(cw.conversation_packets(cw.h2_exchange(REQUEST, RESPONSE, version=9))))
    check = run_cli(["check", "--json", str(path)])
    (finding,) = [json.loads(line) for line in check.stdout.splitlines()]
    assert check.exit_code == 1 and (finding["code"], finding["severity"]) == ("RI114", "info")
    assert finding["invocation_id"] and finding["attempt"] == 1
    assert "protocol V9" in finding["message"]
    streams = run_cli(["streams", str(path)])
    assert "not interpreted (protocol V9)" in streams.stdout
    records = [
        json.loads(line) for line in run_cli(["decode", "--json", str(path)]).stdout.splitlines()
    ]
    frames = [r for r in records if r["kind"] == "frame"]
    assert [f["name"] for f in frames[:2]] == ["StartMessage", None]
    assert all(f["entry_index"] is None for f in frames)
    assert all(f["message"] is None and "body_base64" in f["annotations"] for f in frames[1:])
    journal = run_cli(["journal", str(path)])
    assert journal.exit_code == 0 and "1 attempt · not interpreted (protocol V9)" in journal.stdout


def _attempt_on(port: int, start: float) -> list[cw.Packet]:
    """One attempt (REQUEST, RESPONSE) on its own connection from client port `port`."""
    talk = cw.Conversation(("10.0.0.1", port), ("10.0.0.2", 9080), start=start)
    talk.handshake()
    for side, data in cw.h2_exchange(REQUEST, RESPONSE):
        talk.segment(side, data)
    return talk.packets


def _journaled(packets: list[cw.Packet]) -> tuple[list[Any], list[Problem]]:
    from restate_inspect.invocations import Invocation, invocations

    packets = sorted(packets, key=lambda packet: packet.time)
    items = list(invocations(decode(cw.pcap(packets))))
    return [i for i in items if isinstance(i, Invocation)], problems(items)


def test_an_attempt_seen_on_two_connections_at_once_is_shown_once() -> None:
    """Through a proxy or NAT, `tcpdump -i any` sees each attempt on two connections at the
    same time: it is one attempt, and the copy is told, not journaled again."""
    copied = _attempt_on(40000, 1_700_000_000.0) + _attempt_on(40100, 1_700_000_000.0004)
    (invocation,), (found,) = _journaled(copied)
    assert [str(a.stream) for a in invocation.attempts] == ["tcp0/s1"]
    assert (found.code, str(found.stream), found.attempt) == ("RI315", "tcp1/s1", 1)
    assert found.invocation_id == invocation.invocation_id
    assert "same frames as tcp0/s1" in found.message


def test_the_same_attempt_again_after_the_first_ended_is_not_a_copy() -> None:
    """A retry that sends what the last attempt sent comes after it: both are journaled."""
    again = _attempt_on(40000, 1_700_000_000.0) + _attempt_on(40100, 1_700_000_001.0)
    journaled, found = _journaled(again)
    assert [str(i.attempts[0].stream) for i in journaled] == ["tcp0/s1", "tcp1/s1"]
    assert found == []


def test_an_attempt_with_other_frames_at_the_same_time_is_not_a_copy() -> None:
    other = _attempt_on(40000, 1_700_000_000.0)
    talk = cw.Conversation(("10.0.0.1", 40100), ("10.0.0.2", 9080), start=1_700_000_000.0004)
    talk.handshake()
    for side, data in cw.h2_exchange(REQUEST, RESPONSE[:-8]):  # without its EndMessage
        talk.segment(side, data)
    journaled, found = _journaled(other + talk.packets)
    assert sum(len(i.attempts) for i in journaled) == 2
    assert [p.code for p in found if p.code == "RI315"] == []


def test_an_http2_endpoint_in_request_response_mode_is_shown_so(tmp_path: Path) -> None:
    """An endpoint that declared REQUEST_RESPONSE gets the runtime's whole body, END_STREAM
    and all, before it answers (h2_exchange sends it so); the journal names the mode."""
    from tests.helpers import run_cli

    request = (SAMPLES / "v2-py-flaky-error.req.bin").read_bytes()
    response = (SAMPLES / "v2-py-flaky-error.resp.bin").read_bytes()
    path = tmp_path / "request-response.pcap"
    exchange = cw.h2_exchange(request, response, path="/invoke/Demo/flaky", version=2)
    path.write_bytes(cw.pcap(cw.conversation_packets(exchange)))
    text = run_cli(["journal", str(path)]).stdout
    assert "tcp0/s1 · HTTP/2 request/response · V2" in text
    records = [
        json.loads(line) for line in run_cli(["journal", "--json", str(path)]).stdout.splitlines()
    ]
    (attempt,) = [r for r in records if r["kind"] == "attempt"]
    assert attempt["mode"] == "request_response"


def test_a_capture_of_one_side_says_so_and_does_not_blame_the_runtime() -> None:
    """A capture filter on one address or port keeps only the runtime's packets: the
    connection says so, and its completions, for the SDK's entries that the capture lacks,
    are not errors."""
    from restate_inspect.rules import Severity

    talk = cw.Conversation(("10.0.0.1", 40000), ("10.0.0.2", 9080))
    runtime_side = [talk.segment(0, flags=cw.SYN)]
    talk.segment(1, flags=cw.SYN | cw.ACK)
    runtime_side.append(talk.segment(0, flags=cw.ACK))
    for side, data in cw.h2_exchange(REQUEST, RESPONSE):
        packet = talk.segment(side, data)
        if side == 0:
            runtime_side.append(packet)
    (invocation,), found = _journaled(runtime_side)
    (one_sided,) = [p for p in found if p.code == "RI316"]
    assert one_sided.severity is Severity.WARNING
    assert "only the packets from 10.0.0.1:40000, none from 10.0.0.2:9080" in one_sided.message
    (attempt,) = invocation.attempts
    completions = [f for f in attempt.all_findings() if f.code == "RI210"]
    assert completions and all(f.severity is Severity.INFO for f in completions)
    assert all(f.severity is not Severity.ERROR for f in attempt.all_findings())
    both_sides = _attempt_on(40000, 1_700_000_000.0)
    assert [p.code for p in _journaled(both_sides)[1] if p.code == "RI316"] == []
    reset = talk.segment(0, flags=cw.RST | cw.ACK)  # said when the one side ends it, too
    (at_reset,) = [
        p for p in problems(decode(cw.pcap([*runtime_side, reset]))) if p.code == "RI316"
    ]
    assert at_reset.packet == len(runtime_side) + 1


def test_a_capture_of_the_sdks_side_alone_is_read_from_its_start() -> None:
    """Without its client's preface, an HTTP/2 server's side is still read whole: its
    SETTINGS, then answers to requests that the capture does not have."""
    talk = cw.Conversation(("10.0.0.1", 40000), ("10.0.0.2", 9080))
    talk.segment(0, flags=cw.SYN)
    sdk_side = [talk.segment(1, flags=cw.SYN | cw.ACK)]
    talk.segment(0, flags=cw.ACK)
    request = (SAMPLES / "v2-py-flaky-error.req.bin").read_bytes()
    response = (SAMPLES / "v2-py-flaky-error.resp.bin").read_bytes()  # 831 bytes: told apart
    for side, data in cw.h2_exchange(request, response, chunk=40, version=2):
        packet = talk.segment(side, data)
        if side == 1:
            sdk_side.append(packet)
    items = decode(cw.pcap(sdk_side))
    assert shape(frames_of(items, SDK)) == expected(response)
    assert frames_of(items, RUNTIME) == []
    assert [p.code for p in problems(items)] == ["RI316"]
    garbage = cw.Conversation(("10.0.0.1", 40001), ("10.0.0.2", 9080))
    garbage.segment(0, flags=cw.SYN)
    server_side = [garbage.segment(1, flags=cw.SYN | cw.ACK), garbage.segment(1, b"\xff" * 300)]
    found = problems(decode(cw.pcap(server_side)))
    assert [p.code for p in found] == ["RI314", "RI316"]  # not held on to: skipped at once
    assert "is neither HTTP/2 nor HTTP/1.1" in found[0].message


def test_a_short_exchange_of_the_sdks_side_alone_is_read_when_its_connection_ends() -> None:
    """An HTTP/2 server's side too short to tell apart while it lasts (a quick call on a
    connection of its own): once it ends, what it sent is all it will send, and is read."""
    for ending in ("fin", "end of capture"):
        talk = cw.Conversation(("10.0.0.1", 40000), ("10.0.0.2", 9080))
        talk.segment(0, flags=cw.SYN)
        sdk_side = [talk.segment(1, flags=cw.SYN | cw.ACK)]
        talk.segment(0, flags=cw.ACK)
        exchange = cw.h2_exchange(REQUEST, RESPONSE)
        for side, data in exchange:
            packet = talk.segment(side, data)
            if side == 1:
                sdk_side.append(packet)
        assert sum(len(data) for side, data in exchange if side) < 256  # too few to tell
        if ending == "fin":
            sdk_side.append(talk.segment(1, flags=cw.FIN | cw.ACK))
        items = decode(cw.pcap(sdk_side))
        assert shape(frames_of(items, SDK)) == expected(RESPONSE), ending
        assert [p.code for p in problems(items)] == ["RI316"], ending
    short_garbage = cw.Conversation(("10.0.0.1", 40001), ("10.0.0.2", 9080))
    short_garbage.segment(0, flags=cw.SYN)
    server_side = [short_garbage.segment(1, flags=cw.SYN | cw.ACK)]
    server_side.append(short_garbage.segment(1, b"\xff" * 100))
    one_sided, skipped = problems(decode(cw.pcap(server_side)))
    assert (one_sided.code, skipped.code) == ("RI316", "RI314")
    assert "is neither HTTP/2 nor HTTP/1.1" in skipped.message


def _chain(pieces: list[bytes]) -> list[Any]:
    return list(capture_events(Pieces(pieces), "t"))


@pytest.mark.parametrize("http", ["HTTP/2", "HTTP/1.1", "HTTP/2 with a lost segment"])
@given(seed=st.integers(0, 2**32))
def test_the_capture_chain_is_the_same_however_the_file_arrives(http: str, seed: int) -> None:
    """Packets, TCP, HTTP and the Restate events they carry, from a capture that comes in
    pieces of any size (a pipe): the same events."""
    exchange = (
        cw.http1_exchange(REQUEST, RESPONSE)
        if http == "HTTP/1.1"
        else cw.h2_exchange(REQUEST, RESPONSE)
    )
    packets = cw.conversation_packets(exchange, segment=200)
    if "lost" in http:
        del packets[6]
    whole = assert_split_invariant(_chain, cw.pcap(packets), seed)
    assert any(isinstance(event, Chunk) for event in whole)
