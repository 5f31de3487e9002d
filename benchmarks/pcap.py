"""Wall time and peak memory of decoding a capture, side by side with tshark.

    python benchmarks/pcap.py [--rounds N] [--captures DIR] [--capture NAME]... [--no-large]

In one run, alternating (so that drift of a shared machine hits both alike), it measures

  restate-inspect decode --json CAPTURE > /dev/null
  restate-inspect check CAPTURE > /dev/null                      (when the command exists)
  tshark -r CAPTURE -d tcp.port==9080,http2 -Y http2.data.data -T fields -e http2.data.data

on ../shared/captures/big-v2/big-v2.pcap and big-v6/big-v6.pcap (--capture picks one), and
then restate-inspect alone on a capture ten times larger, made from the same packets
repeated with shifted client ports and times, to show that memory stays flat. Peak RSS is
the largest total of the process and any children,
sampled every 50 ms from /proc in a run of its own: the timed runs have nothing beside them,
as sampling takes CPU from the run it measures and sees its end up to 50 ms late. Peak PSS,
beside it, counts each shared page once, split among its sharers. Times are medians.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TSHARK_ARGS = [
    "-d",
    "tcp.port==9080,http2",
    "-Y",
    "http2.data.data",
    "-T",
    "fields",
    "-e",
    "http2.data.data",
]


def _tree_memory_kb(pid: int) -> tuple[int, int]:
    """Resident memory (RSS, PSS) of a process and all its descendants, in KiB."""
    rss, pss, todo = 0, 0, [pid]
    while todo:
        current = todo.pop()
        try:
            rss += _kb(Path(f"/proc/{current}/status").read_text(), "VmRSS:")
            pss += _kb(Path(f"/proc/{current}/smaps_rollup").read_text(), "Pss:")
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, StopIteration, ValueError):
            continue
    return rss, pss


def _kb(text: str, field: str) -> int:
    return int(next(line.split()[1] for line in text.splitlines() if line.startswith(field)))


def timed(command: list[str]) -> float:
    """Wall seconds of a run, with nothing else running beside it: sampling memory would take
    CPU from the run measured, on a machine of few cores, and notice its end late."""
    with open(os.devnull, "wb") as devnull:
        start = time.perf_counter()
        subprocess.run(command, stdout=devnull, stderr=subprocess.DEVNULL, check=False)
        return time.perf_counter() - start


def peak_memory(command: list[str]) -> tuple[float, float]:
    """(peak RSS MiB, peak PSS MiB of the process tree) of a run, sampled every 50 ms."""
    with open(os.devnull, "wb") as devnull:
        process = subprocess.Popen(command, stdout=devnull, stderr=subprocess.DEVNULL)
        peak_rss = peak_pss = 0
        while process.poll() is None:
            rss, pss = _tree_memory_kb(process.pid)
            peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
            time.sleep(0.05)
    return peak_rss / 1024, peak_pss / 1024


def restate_inspect(*args: str) -> list[str]:
    return [sys.executable, "-m", "restate_inspect", *args]


def has_check() -> bool:
    result = subprocess.run(restate_inspect("check", "--help"), capture_output=True, check=False)
    return result.returncode == 0


def repeat_capture(source: Path, target: Path, times: int) -> None:
    """The capture's packets `times` times over: client ports shifted, times moved on."""
    data = source.read_bytes()
    header, records = data[:24], []
    pos = 24
    while pos + 16 <= len(data):
        seconds, fraction, captured, original = struct.unpack_from("<IIII", data, pos)
        records.append((seconds, fraction, original, data[pos + 16 : pos + 16 + captured]))
        pos += 16 + captured
    span = records[-1][0] - records[0][0] + 1
    with target.open("wb") as out:
        out.write(header)
        for round_number in range(times):
            for seconds, fraction, original, frame in records:
                shifted = _shift_client_port(frame, 10 * round_number)
                moved = seconds + span * round_number
                out.write(struct.pack("<IIII", moved, fraction, len(shifted), original) + shifted)


def _shift_client_port(frame: bytes, shift: int) -> bytes:
    """Ethernet + IPv4 + TCP: move the port that is not 9080 (the server's)."""
    if shift == 0 or frame[12:14] != b"\x08\x00" or frame[23] != 6:
        return frame
    tcp = 14 + (frame[14] & 0x0F) * 4
    sport, dport = struct.unpack_from("!HH", frame, tcp)
    sport = sport if sport == 9080 else (sport + shift) % 65536
    dport = dport if dport == 9080 else (dport + shift) % 65536
    return frame[:tcp] + struct.pack("!HH", sport, dport) + frame[tcp + 4 :]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--captures", type=Path, default=ROOT.parent / "shared" / "captures")
    parser.add_argument(
        "--capture", action="append", help="a folder of the captures (default: big-v2, big-v6)"
    )
    parser.add_argument("--no-large", action="store_true", help="skip the 10x capture")
    args = parser.parse_args()
    # as `pip install` does: start-up must not include compiling the package's modules
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(ROOT / "restate_inspect")], check=True
    )
    for name in args.capture or ["big-v2", "big-v6"]:
        capture = args.captures / name / f"{name}.pcap"
        memory = compare(capture, args.rounds)
        if not args.no_large:
            large_run(capture, memory["decode --json"])
    return 0


def compare(capture: Path, rounds: int) -> dict[str, tuple[float, float]]:
    """restate-inspect's decode --json and check beside tshark's DATA extraction."""
    tshark = shutil.which("tshark")
    commands = {"decode --json": restate_inspect("decode", "--json", str(capture))}
    if has_check():
        commands["check"] = restate_inspect("check", str(capture))
    if tshark:
        commands["tshark"] = [tshark, "-r", str(capture), *TSHARK_ARGS]
    else:
        print("tshark not found: apt-get install tshark")
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(rounds):
        for name, command in commands.items():
            times[name].append(timed(command))
    memory = {name: peak_memory(command) for name, command in commands.items()}
    size = capture.stat().st_size / 1e6
    print(f"{capture.name}: {size:.1f} MB; median wall time of {rounds} alternated rounds")
    medians = {name: statistics.median(t) for name, t in times.items()}
    for name, seconds in medians.items():
        rss, pss = memory[name]
        print(f"  {name:14} {seconds:6.2f} s  peak RSS {rss:6.1f} MiB  PSS {pss:6.1f} MiB")
    if "tshark" in medians:
        for name in commands:
            if name != "tshark":
                print(f"  {name} / tshark wall time: {medians[name] / medians['tshark']:.2f}x")
    return memory


def large_run(capture: Path, one: tuple[float, float]) -> None:
    """decode --json on the capture ten times over: memory must stay flat."""
    with tempfile.TemporaryDirectory() as folder:
        large = Path(folder) / f"{capture.stem}-x10.pcap"
        repeat_capture(capture, large, 10)
        command = restate_inspect("decode", "--json", str(large))
        seconds, (rss, pss) = timed(command), peak_memory(command)
        print(f"{large.name}: {large.stat().st_size / 1e6:.0f} MB")
        print(f"  decode --json  {seconds:6.2f} s  peak RSS {rss:6.1f} MiB  PSS {pss:6.1f} MiB"
              f"  (1x: {one[0]:.1f} / {one[1]:.1f} MiB)")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
