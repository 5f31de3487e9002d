"""`journal`, `check` and `rules`: the conversation as invocations and attempts, checked
against the protocol's rules, and the catalogue of those rules."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from enum import StrEnum
from typing import Annotated

import typer

from restate_inspect.cli.options import (
    EXIT_CLEAN,
    EXIT_PROBLEMS,
    ColorMode,
    ColorOpt,
    Inputs,
    JsonOpt,
    fail,
    reads_input,
)
from restate_inspect.cli.output import (
    console_for,
    progress_bar,
    quiet_on_a_closed_pipe,
    write_records,
)
from restate_inspect.invocations import Invocation, invocations
from restate_inspect.readers import InputError
from restate_inspect.render.jsonl import invocation_record, invocation_records, problem_record
from restate_inspect.rules import RULES, UNCHECKED, Problem, Severity
from restate_inspect.streams import Tally

JOURNAL_HELP = """The journal timeline of every invocation: its attempts, and in each, every
frame in the order it happened with its entry index, a one-line summary, the entry's state
(completed, pending, acked, awaiting ack) and the rule findings where they happen.

Attempts that share a StartMessage id are one invocation; each replay is checked against
what the earlier attempts sent.

\b
Examples:
  restate-inspect journal samples/v1-features.pcapng --service Demo/awakeSuspend
  restate-inspect journal --request attempt.req.bin --response attempt.resp.bin
  restate-inspect journal --json capture.pcap | jq -c 'select(.kind == "entry" and .completable
    and (.completed | not))'
  restate-inspect journal --oneline --json capture.pcap
    | jq -r 'select(.ending != "end").invocation_id'
  sudo tcpdump -i lo -U -w - port 9080 | restate-inspect journal -
"""


@quiet_on_a_closed_pipe
@reads_input()
def journal(
    inputs: Inputs,
    json_output: JsonOpt = False,
    oneline: Annotated[
        bool,
        typer.Option(
            "--oneline",
            help="One line per invocation: its id, target, attempts, how it ended, and its "
            "problems by severity (with --json: the invocation records only).",
        ),
    ] = False,
    color: ColorOpt = ColorMode.AUTO,
) -> None:
    show_journal(inputs, json_output=json_output, oneline=oneline, color=color)


def show_journal(
    inputs: Inputs, *, json_output: bool, oneline: bool = False, color: ColorMode = ColorMode.AUTO
) -> None:
    """journal's work, for any input (the proxy's too): invocations as they end."""
    from restate_inspect.render.journal import JournalRenderer  # noqa: PLC0415
    from restate_inspect.render.text import TextRenderer  # noqa: PLC0415

    where, selection = inputs.source, inputs.selection
    console = console_for(color)
    text, problems = JournalRenderer(console), TextRenderer(console)
    tally = Tally()
    shown = 0
    try:
        with progress_bar(where.path) as progress:
            built = invocations(inputs.decoded(progress))
            for item in selection.chosen(built):
                if isinstance(item, Invocation):
                    shown += 1
                    own = Tally()
                    _tally_invocation(own, item)
                    tally.merge(own)
                    if json_output:
                        records = [invocation_record(item)] if oneline else invocation_records(item)
                        write_records(records)
                    elif oneline:
                        text.invocation_line(item, own)
                    else:
                        text.invocation(item)
                elif isinstance(item, Problem):
                    tally.add(item)
                    if json_output:
                        write_records([problem_record(item)])
                    else:
                        problems.render(item)
    except InputError as exc:
        fail(str(exc))
    if not json_output:
        problems.summary(tally)
    nothing = inputs.matched_nothing(shown, tally)
    raise typer.Exit(EXIT_PROBLEMS if tally.failing or nothing else EXIT_CLEAN)


def _tally_invocation(tally: Tally, invocation: Invocation) -> None:
    tally.streams += len(invocation.attempts)
    for attempt in invocation.attempts:
        tally.frames += attempt.excess.frames
        tally.bytes += attempt.excess.bytes
        for moment in attempt.timeline:
            if moment.item is not None:
                tally.add(moment.item)
            for finding in moment.findings:
                tally.add(finding)


class FailOn(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


CHECK_HELP = """Check the conversation against the protocol's rules: every finding, with its
code, severity, invocation, attempt, stream, direction, offset and entry index.

Exit code 1 when a finding is an error (or, with --fail-on, a warning or any finding), and
when some of the input could not be checked at all (RI104, RI114, RI116, RI243): nothing
found wrong is never said of bytes that were not read.

\b
Examples:
  restate-inspect check samples/v1-features.pcapng
  restate-inspect check --fail-on warning --request attempt.req.bin --response attempt.resp.bin
  restate-inspect check --json capture.pcapng | jq -r '.code' | sort | uniq -c
  restate-inspect check capture.pcapng --ignore RI233,RI241

Every code is explained by `restate-inspect rules`.
"""


@quiet_on_a_closed_pipe
@reads_input()
def check(
    inputs: Inputs,
    json_output: JsonOpt = False,
    fail_on: Annotated[
        FailOn, typer.Option("--fail-on", help="The least severe finding that makes exit 1.")
    ] = FailOn.ERROR,
    ignore: Annotated[
        list[str] | None,
        typer.Option(
            "--ignore",
            metavar="CODE",
            help="Leave out the findings with this code, or codes that start so (repeat it, "
            "or list codes with commas); they do not count for the exit code.",
        ),
    ] = None,
    color: ColorOpt = ColorMode.AUTO,
) -> None:
    run_check(inputs, json_output=json_output, fail_on=fail_on, ignore=ignore, color=color)


def run_check(
    inputs: Inputs,
    *,
    json_output: bool,
    fail_on: FailOn = FailOn.ERROR,
    ignore: list[str] | None = None,
    color: ColorMode = ColorMode.AUTO,
) -> None:
    """check's work, for any input (the proxy's too): findings as invocations end."""
    from restate_inspect.render.text import TextRenderer  # noqa: PLC0415

    ignored = _rule_codes(ignore or [])
    where, selection = inputs.source, inputs.selection
    console = console_for(color)
    text = TextRenderer(console)
    tally = Tally()
    checked = 0
    codes: Counter[str] = Counter()
    try:
        with progress_bar(where.path) as progress:
            built = invocations(inputs.decoded(progress))
            for item in selection.chosen(built):
                checked += isinstance(item, Invocation)
                for finding in _findings_of(item):
                    if finding.code in ignored:
                        continue
                    tally.add(finding)
                    codes[finding.code] += 1
                    if json_output:
                        write_records([problem_record(finding)])
                    else:
                        text.finding(finding)
    except InputError as exc:
        fail(str(exc))
    unchecked = sum(codes[code] for code in UNCHECKED)
    if not json_output:
        text.check_summary(tally, checked, codes, unchecked)
    nothing = inputs.matched_nothing(checked, tally) or not checked  # green on nothing: no
    failing = nothing or unchecked > 0 or any(tally.problems[s] for s in _AT_LEAST[fail_on])
    raise typer.Exit(EXIT_PROBLEMS if failing else EXIT_CLEAN)


def _rule_codes(asked: list[str]) -> list[str]:
    """The catalogue's codes that were asked for, listed with commas or not, in any case; a
    start of codes (RI2) asks for every code it starts. One that asks for none is a usage
    error."""
    codes: list[str] = []
    for word in (w.strip().upper() for text in asked for w in text.split(",")):
        if not word:
            continue
        found = [code for code in RULES if code.startswith(word)]
        if not found:
            fail(f"no rule has the code {word!r}; `restate-inspect rules` lists them")
        codes += [code for code in found if code not in codes]
    return codes


RULES_HELP = """The catalogue of findings: each code, its severity, what it means, and where
the spec (or the capture, the input) says so. Codes are stable: scripts may match on them.

\b
Examples:
  restate-inspect rules
  restate-inspect rules RI210 RI3
  restate-inspect rules --json | jq -r 'select(.severity == "error") | .code'
"""


@quiet_on_a_closed_pipe
def rules(
    codes: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[CODE]...",
            help="Only these codes, or the codes that start so (RI2: the journal's rules).",
            show_default=False,
        ),
    ] = None,
    json_output: JsonOpt = False,
    color: ColorOpt = ColorMode.AUTO,
) -> None:
    from rich.text import Text  # noqa: PLC0415

    from restate_inspect.render.text import SEVERITY_STYLES  # noqa: PLC0415

    chosen = [RULES[code] for code in _rule_codes(codes)] if codes else RULES.values()
    if json_output:
        write_records(
            {"kind": "rule", "code": r.code, "severity": r.severity.value, "text": r.title,
             "reference": r.reference}
            for r in chosen
        )  # fmt: skip
        return
    console = console_for(color)
    for rule in chosen:
        line = Text(f"{rule.code}  ")
        line.append(f"{rule.severity.value:<8}", SEVERITY_STYLES[rule.severity])
        line.append(f"{rule.title}  ").append(f"({rule.reference})", "dim")
        console.print(line)


_AT_LEAST = {
    FailOn.ERROR: (Severity.ERROR,),
    FailOn.WARNING: (Severity.ERROR, Severity.WARNING),
    FailOn.INFO: (Severity.ERROR, Severity.WARNING, Severity.INFO),
}


def _findings_of(item: object) -> list[Problem]:
    """An invocation's findings, or a problem outside any invocation."""
    if isinstance(item, Invocation):
        return _findings(item)
    return [item] if isinstance(item, Problem) else []


def _findings(invocation: Invocation) -> list[Problem]:
    """Every problem of an invocation's attempts: the decoder's and the rules'."""
    out: list[Problem] = []
    for attempt in invocation.attempts:
        for moment in attempt.timeline:
            if isinstance(moment.item, Problem):
                out.append(
                    replace(
                        moment.item, invocation_id=attempt.invocation_id, attempt=attempt.number
                    )
                )
            out.extend(moment.findings)
    return out
