"""The golden corpus: every shared capture and every sample, through every command that reads
an input, as the tool printed it when the golden files were made (`python -m
tests.golden_corpus` writes them). A refactor must leave every one byte-identical; a change
of output on purpose regenerates them, and its commit says which outputs changed and why.

Small outputs are kept whole (gzip); the big capture's only as a SHA-256 digest.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import ROOT, SAMPLES, captures_dir, run_cli

GOLDEN = ROOT / "tests" / "golden" / "corpus"
JSON_COMMANDS = ("decode", "journal", "check", "streams")
TEXT_COMMANDS = ("decode", "journal", "check")
BIG_PREFIX = "big-"  # kept as digests: their output is tens of megabytes


@dataclass(frozen=True)
class Case:
    name: str  # the golden file's name, without its suffix
    args: tuple[str, ...]
    digest: bool = False

    @property
    def path(self) -> Path:
        return GOLDEN / (self.name + (".sha256" if self.digest else ".gz"))


def _inputs() -> Iterator[tuple[str, tuple[str, ...], bool]]:
    """(name, input arguments, whether only a digest is kept)."""
    for path in sorted(SAMPLES.glob("*.req.bin")):
        name = path.name.removesuffix(".req.bin")
        response = SAMPLES / f"{name}.resp.bin"
        yield (f"sample-{name}", ("--request", _here(path), "--response", _here(response)), False)
        for side in ("req", "resp"):
            yield (f"sample-{name}.{side}.hex", (_here(SAMPLES / f"{name}.{side}.hex"),), False)
    for path in sorted(SAMPLES.glob("*.pcap*")):
        yield (f"sample-{path.name}", (_here(path),), False)
    shared = captures_dir()
    for folder in sorted(p for p in shared.iterdir() if p.is_dir()):
        for path in sorted(folder.glob(f"{folder.name}.pcap*")):
            yield (path.name, (_here(path),), folder.name.startswith(BIG_PREFIX))


def cases() -> list[Case]:
    out = []
    for name, args, digest in _inputs():
        for command in JSON_COMMANDS:
            out.append(Case(f"{name}.{command}-json", (command, "--json", *args), digest))
        if not digest:
            for command in TEXT_COMMANDS:
                out.append(Case(f"{name}.{command}", (command, "--color", "never", *args)))
    return out


def output(case: Case) -> bytes:
    """What the command prints, and its exit code on the last line. It runs in the
    repository, and is given paths from there, as a user would (paths are in the output)."""
    here = os.getcwd()
    os.chdir(ROOT)
    try:
        result = run_cli(list(case.args))
    finally:
        os.chdir(here)
    return (result.stdout + f"\n[exit {result.exit_code}]\n").encode()


def _here(path: Path) -> str:
    return os.path.relpath(path, ROOT)


def stored(case: Case) -> bytes:
    if case.digest:
        return case.path.read_bytes()
    return gzip.decompress(case.path.read_bytes())


def made(case: Case) -> bytes:
    printed = output(case)
    if case.digest:
        return hashlib.sha256(printed).hexdigest().encode() + b"\n"
    return printed


def main(names: list[str]) -> None:
    """Every golden file anew; or, given names (or their starts), only those."""
    GOLDEN.mkdir(parents=True, exist_ok=True)
    if not names:
        for old in GOLDEN.iterdir():
            old.unlink()
    for case in cases():
        if names and not any(case.name.startswith(name) for name in names):
            continue
        data = made(case)
        case.path.write_bytes(data if case.digest else gzip.compress(data, mtime=0))
        print(case.path.name, len(data), file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
