"""The admin API as an input, against a stand-in that answers /query as restate-server does:
the SQL it is asked, the token it is given, its rows read like a dump, and every way it can
fail said in one line (exit 2)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from restate_inspect.events import StoredJournal, StoredRow
from restate_inspect.readers.admin import admin_events, query
from restate_inspect.readers.formats import InputError
from tests.helpers import run_cli

JOURNAL = [
    {"id": "inv_1", "index": 0, "entry_type": "Command: Input", "raw": "", "version": 2},
    {"id": "inv_1", "index": 1, "entry_type": "Command: Output", "raw": "", "version": 2},
]
INVOCATIONS = [{"id": "inv_1", "status": "completed", "pinned_service_protocol_version": 6,
                "target_service_name": "Demo", "target_handler_name": "greet"}]  # fmt: skip


class Admin(BaseHTTPRequestHandler):
    asked: ClassVar[list[tuple[str, str | None]]] = []
    answer: ClassVar[bytes | None] = None  # instead of the rows
    status: ClassVar[int] = 200

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        Admin.asked.append((body["query"], self.headers.get("authorization")))
        rows = JOURNAL if "sys_journal" in body["query"] else INVOCATIONS
        data = Admin.answer if Admin.answer is not None else json.dumps({"rows": rows}).encode()
        self.send_response(Admin.status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def admin() -> Iterator[str]:
    Admin.asked, Admin.answer, Admin.status = [], None, 200
    server = ThreadingHTTPServer(("127.0.0.1", 0), Admin)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def test_it_asks_for_the_chosen_invocations_journals_and_reads_them(admin: str) -> None:
    events = list(admin_events(admin, ("inv_1",), ("Demo/greet",), "secret"))
    (journal,) = [e for e in events if isinstance(e, StoredJournal)]
    assert journal.facts == INVOCATIONS[0] and journal.rows == 2
    assert [e.entry_type for e in events if isinstance(e, StoredRow)] == [
        "Command: Input", "Command: Output",
    ]  # fmt: skip
    (sql, token), (sql2, _) = Admin.asked
    assert sql.startswith("SELECT * FROM sys_journal WHERE id LIKE 'inv_1%' OR id IN (SELECT id "
                          "FROM sys_invocation WHERE target_service_name = 'Demo' AND "
                          "target_handler_name = 'greet')")  # fmt: skip
    assert token == "Bearer secret" and sql2.startswith("SELECT * FROM sys_invocation WHERE")


def test_quotes_in_a_choice_cannot_end_the_sql_string(admin: str) -> None:
    list(admin_events(admin, ("x' OR '1'='1",)))
    assert "id LIKE 'x'' OR ''1''=''1%'" in Admin.asked[0][0]


def test_the_token_comes_from_the_environment_as_for_restates_cli(
    admin: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RESTATE_AUTH_TOKEN", "from-env")
    query(admin, "SELECT 1")
    assert Admin.asked[-1][1] == "Bearer from-env"


@pytest.mark.parametrize(
    ("status", "answer", "said"),
    [
        (401, b"unauthorized", "answered 401"),
        (200, b"<html>", "did not answer JSON"),
        (200, b'{"error": "x"}', 'without "rows"'),
    ],
)
def test_what_goes_wrong_is_one_line(admin: str, status: int, answer: bytes, said: str) -> None:
    Admin.status, Admin.answer = status, answer
    with pytest.raises(InputError, match=said):
        query(admin, "SELECT 1")


def test_the_cli_reads_the_admin_api_and_says_when_it_cannot(admin: str) -> None:
    result = run_cli(["journal", "--admin", admin, "--service", "Demo"])
    assert result.exit_code == 0
    assert "Demo/greet" in result.stdout and "stored journal" in result.stdout
    unreachable = run_cli(["journal", "--admin", "http://127.0.0.1:1"])
    assert unreachable.exit_code == 2 and "cannot reach the admin API" in unreachable.stderr
    both = run_cli(["decode", "--admin", admin, "some-file"])
    assert both.exit_code == 2 and "not both" in both.stderr
