"""`journal`, `check` and `rules` as users run them: the catalogue, ignoring and summing
findings, one line per invocation, and why an attempt is cut."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import SAMPLES, run_cli


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
    nothing = run_cli(["check", "--ignore", "RI01,RI10,RI11,RI2", "-"], stdin=cut)
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
