"""A whole-command fuzz campaign: mutated captures and streams of every protocol version,
generated text, hostile payloads, compressed inputs, through every command, with a time
and a memory limit per case. What breaks a rule is saved under fuzz/failures/.

    python fuzz/campaign.py --cases 100000 --workers 2

Each worker runs the command line in its own process, case after case, as a user would
(sys.argv, stdin, stdout), and checks what a user must be able to count on: no traceback,
no internal error (exit 3), an exit code of 0, 1 or 2, no escape reaching a terminal from
text output, NDJSON that parses, and the case's time and peak memory within their limits.
"""

from __future__ import annotations

import argparse
import base64
import bz2
import contextlib
import gzip
import hashlib
import io
import json
import lzma
import multiprocessing
import os
import random
import re
import resource
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from restate_inspect.cli import main as cli_main  # noqa: E402 - after the path is set

COMMANDS = (
    ["decode"], ["decode", "--json"], ["decode", "--bytes"], ["journal"], ["journal", "--json"],
    ["journal", "--oneline"], ["check"], ["check", "--json"], ["streams"], ["streams", "--json"],
)  # fmt: skip
FORCED: tuple[list[str], ...] = (
    [], [], [], ["-f", "hex"], ["-f", "base64"], ["-f", "raw"], ["-f", "numbers"],
    ["-f", "python-bytes"], ["--protocol-version", "6"], ["--protocol-version", "1"],
)  # fmt: skip
SEED_LIMIT = 2 * 1024 * 1024  # larger captures are left out of the seeds: cases stay quick
_ESCAPES = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]")  # what text output must never carry


# --- inputs ----------------------------------------------------------------------------------


def seeds(shared: Path) -> dict[str, list[bytes]]:
    """Real inputs by family: captures, bodies (streams/*.bin) and samples, V1/V2 and V4+."""
    found: dict[str, list[bytes]] = {}
    for path in sorted(shared.glob("*/*.pcap*")) + sorted((ROOT / "samples").glob("*.pcap*")):
        if path.stat().st_size <= SEED_LIMIT:
            found.setdefault(f"capture-{_family(path.name)}", []).append(path.read_bytes())
    bodies = sorted(shared.glob("*/streams/*.bin")) + sorted((ROOT / "samples").glob("*.bin"))
    for path in bodies:
        if path.stat().st_size <= SEED_LIMIT:
            found.setdefault(f"stream-{_family(str(path))}", []).append(path.read_bytes())
    return found


def _family(name: str) -> str:
    return "v4+" if re.search(r"(^|/)v[5-8]-", name) else "v1-v2"


def generated(rng: random.Random, family_seeds: dict[str, list[bytes]]) -> tuple[str, bytes]:
    """An input of a random kind: a mutated seed, text around bytes, or a hostile shape."""
    kind = rng.choice(["mutated", "mutated", "mutated", "text", "hostile", "compressed"])
    family = rng.choice(sorted(family_seeds))
    data = rng.choice(family_seeds[family])
    if kind == "mutated":
        return family, mutate(rng, data)
    if kind == "text":
        return f"text-{family}", as_text(rng, mutate(rng, data)[: rng.randint(0, 4096)])
    if kind == "hostile":
        return "hostile", hostile(rng)
    packed = mutate(rng, data) if rng.random() < 0.5 else data
    return f"compressed-{family}", compress(rng, packed)


def mutate(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        if not out:
            out += rng.randbytes(rng.randint(1, 64))
        at = rng.randrange(len(out))
        choice = rng.randrange(7)
        if choice == 0:
            out[at] ^= 1 << rng.randrange(8)
        elif choice == 1:
            out[at] = rng.choice([0x00, 0xFF, 0x7F, 0x80, 0x1B])
        elif choice == 2:
            del out[at : at + rng.randint(1, 256)]
        elif choice == 3:
            out[at:at] = rng.randbytes(rng.randint(1, 256))
        elif choice == 4:
            out = out[: rng.randint(0, len(out))]
        elif choice == 5:
            piece = bytes(out[at : at + rng.randint(1, 2048)])
            out[at:at] = piece * rng.randint(1, 8)
        else:
            out[at : at + 4] = rng.randrange(1 << 32).to_bytes(4, "big")  # a length field
    return bytes(out)


def as_text(rng: random.Random, data: bytes) -> bytes:
    form = rng.randrange(6)
    if form == 0:
        return data.hex().encode()
    if form == 1:
        return " ".join(f"{b:02x}" for b in data).encode()
    if form == 2:
        return base64.b64encode(data)
    if form == 3:
        return ("[" + ", ".join(str(b) for b in data) + "]").encode()
    if form == 4:
        return repr(data).encode()
    return json.dumps({"body": base64.b64encode(data).decode(), "isBase64Encoded": True}).encode()


def hostile(rng: random.Random) -> bytes:
    """Shapes that cost: floods of one character, escapes, long lines, huge claims."""
    shape = rng.randrange(6)
    size = rng.randint(1, 400_000)
    if shape == 0:
        return bytes([rng.randrange(32, 127)]) * size
    if shape == 1:
        return b"\x1b[2J\x1b]0;pwned\x07" + "\u202e".encode() * 1000
    if shape == 2:
        return b"\x00\x00\x00\x00" + (0xFFFFFFF0).to_bytes(4, "big") + rng.randbytes(64)
    if shape == 3:
        return rng.randbytes(size)
    if shape == 4:
        return (b"\x00\x05\x00\x00\x00\x00\x00\x00") * (size // 8)  # empty frames
    return b"\n" * size


def compress(rng: random.Random, data: bytes) -> bytes:
    packers: list[Callable[[bytes], bytes]] = [gzip.compress, bz2.compress, lzma.compress]
    packed = rng.choice(packers)(data)
    return packed[: rng.randint(len(packed) // 2, len(packed))] if rng.random() < 0.2 else packed


# --- one case --------------------------------------------------------------------------------


class _TimeUp(Exception):
    pass


def _time_up(*_: object) -> None:
    raise _TimeUp


Case = tuple[int, str, list[str], bytes, bool]  # number, input family, args, input, piped


def run_case(case: Case) -> dict[str, Any]:
    """Run one command on one input in this process; what went wrong, if anything. A
    case that fails is saved by the worker: the campaign's process keeps no input."""
    number, family, args, data, piped = case
    seconds, limit, out_dir = _SETTINGS["seconds"], _SETTINGS["limit"], _SETTINGS["out"]
    folder = Path(_SETTINGS["tmp"])
    path, out_path, err_path = (folder / f"{name}-{os.getpid()}" for name in ("in", "out", "err"))
    path.write_bytes(data)
    argv = ["restate-inspect", *args, "-" if piped else str(path)]
    saved = sys.argv, sys.stdin, sys.stdout, sys.stderr
    with out_path.open("wb") as out, err_path.open("wb") as err:  # files: a command may close
        sys.argv = argv
        sys.stdin = io.TextIOWrapper(io.BytesIO(data))
        sys.stdout = io.TextIOWrapper(out, write_through=True)
        sys.stderr = io.TextIOWrapper(err, write_through=True)
        Path("/proc/self/clear_refs").write_text("5")  # the peak from here on
        started, code, problem = time.monotonic(), 0, None
        signal.signal(signal.SIGALRM, _time_up)
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            cli_main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except _TimeUp:
            problem = f"over {seconds} s"
        except MemoryError:
            problem = "MemoryError"
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            sys.argv, sys.stdin, sys.stdout, sys.stderr = saved
    spent, peak = time.monotonic() - started, _peak()
    problem = problem or _judge(
        args, code, out_path.read_bytes(), err_path.read_bytes(), peak, limit
    )
    result = {"case": number, "family": family, "args": argv[1:], "code": code,
              "seconds": round(spent, 3), "peak_mb": peak >> 20, "problem": problem}  # fmt: skip
    if problem is not None:
        _save(Path(out_dir), data, result)
    return result


def _peak() -> int:
    status = Path("/proc/self/status").read_text()
    match = re.search(r"VmHWM:\s*(\d+) kB", status)
    return int(match[1]) * 1024 if match else 0


def _judge(
    args: list[str], code: int, stdout: bytes, stderr: bytes, peak: int, limit: int
) -> str | None:
    if b"Traceback" in stderr or b"internal error" in stderr or code == 3:
        return "internal error: " + stderr.decode("utf-8", "replace")[-300:]
    if code not in (0, 1, 2):
        return f"exit code {code}"
    if "--json" in args:
        for line in stdout.splitlines():
            try:
                json.loads(line)
            except ValueError:
                return f"not JSON: {line[:120]!r}"
    elif _ESCAPES.search(stdout):
        return f"control character in text output: {_ESCAPES.search(stdout)!r}"
    if _ESCAPES.search(stderr):
        return "control character on stderr"
    if peak > limit:
        return f"peak memory {peak >> 20} MB"
    return None


_SETTINGS: dict[str, Any] = {}  # a worker's: limits, where to write


def _worker_setup(settings: dict[str, Any]) -> None:
    _SETTINGS.update(settings)
    memory = settings["limit"] * 4
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))  # a runaway stops here


# --- the campaign ------------------------------------------------------------------------------


def cases(total: int, seed: int, shared: Path) -> Iterator[Case]:
    """The campaign's cases, made as they are taken: none is held."""
    rng = random.Random(seed)
    family_seeds = seeds(shared)
    for number in range(total):
        family, data = generated(rng, family_seeds)
        args = [*rng.choice(COMMANDS), *rng.choice(FORCED)]
        yield number, family, args, data, rng.random() < 0.3


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=30.0, help="time limit per case")
    parser.add_argument("--memory-mb", type=int, default=300, help="peak RSS limit per case")
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "captures")
    parser.add_argument("--out", type=Path, default=ROOT / "fuzz" / "failures")
    args = parser.parse_args()
    limit = args.memory_mb << 20
    args.out.mkdir(parents=True, exist_ok=True)
    tally: Counter[tuple[str, str]] = Counter()
    failures: Counter[str] = Counter()
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        settings = {"seconds": args.seconds, "limit": limit, "out": str(args.out), "tmp": tmp}
        pool = stack.enter_context(
            multiprocessing.get_context("fork").Pool(
                args.workers, _worker_setup, (settings,), maxtasksperchild=500
            )
        )
        made = cases(args.cases, args.seed, args.shared)
        for done, result in enumerate(pool.imap_unordered(run_case, made, chunksize=4), 1):
            shown = result["args"]
            command = shown[0] + (" --json" if "--json" in shown else "")
            tally[(command, result["family"])] += 1
            if result["problem"] is not None:
                failures[result["problem"].split(":")[0]] += 1
            if done % 1000 == 0:
                rate = done / (time.monotonic() - started)
                print(f"{done} cases, {sum(failures.values())} failures, {rate:.0f}/s", flush=True)
    report = {
        "cases": args.cases,
        "seconds": round(time.monotonic() - started),
        "failures": dict(failures),
        "by_command_and_family": {f"{c} | {f}": n for (c, f), n in sorted(tally.items())},
    }
    print(json.dumps(report, indent=2))
    return 1 if failures else 0


def _save(out: Path, data: bytes, result: dict[str, Any]) -> None:
    name = hashlib.sha256(data).hexdigest()[:16]
    (out / f"{name}.bin").write_bytes(data)
    (out / f"{name}.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    sys.exit(main())
