"""The runtime's journal, asked of its admin API: `POST {admin}/query` with SQL over
`sys_journal` and `sys_invocation`, answered as JSON rows, read like a dump
(journaldump.py). A bearer token, when the API asks for one, comes from --token or from
RESTATE_AUTH_TOKEN, as for Restate's own CLI."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any, Final

from restate_inspect.events import InputEvent
from restate_inspect.readers.formats import InputError
from restate_inspect.readers.journaldump import dump_events, invocation_facts

TOKEN_ENV: Final = "RESTATE_AUTH_TOKEN"  # Restate's CLI reads its bearer token from it
TIMEOUT: Final = 30.0


def admin_events(
    url: str,
    invocations: tuple[str, ...] = (),
    services: tuple[str, ...] = (),
    token: str | None = None,
) -> Iterator[InputEvent]:
    """The stored journals of the chosen invocations (by id or its start), or of the
    invocations of the chosen services (service, or service/handler); all of them when
    none is chosen."""
    where = _where(invocations, services)
    journal = query(url, f'SELECT * FROM sys_journal{where} ORDER BY id, "index"', token)
    facts = query(url, f"SELECT * FROM sys_invocation{where}", token)
    yield from dump_events(journal, invocation_facts(facts))


def _where(invocations: tuple[str, ...], services: tuple[str, ...]) -> str:
    chosen = [f"id LIKE '{_quoted(i)}%'" for i in invocations]
    for service in services:
        name, _, handler = service.partition("/")
        condition = f"target_service_name = '{_quoted(name)}'"
        if handler:
            condition += f" AND target_handler_name = '{_quoted(handler)}'"
        chosen.append(f"id IN (SELECT id FROM sys_invocation WHERE {condition})")
    return f" WHERE {' OR '.join(chosen)}" if chosen else ""


def _quoted(text: str) -> str:
    """A string literal's inside, in SQL: its quotes doubled."""
    return text.replace("'", "''")


def query(url: str, sql: str, token: str | None = None) -> list[dict[str, Any]]:
    """The rows the admin API answers a query with."""
    # here, not at the top: urllib brings ssl, http and email, 40 ms of every command's start
    import urllib.error  # noqa: PLC0415
    import urllib.request  # noqa: PLC0415

    token = token or os.environ.get(TOKEN_ENV) or None
    headers = {"content-type": "application/json", "accept": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    target = url.rstrip("/") + "/query"
    body = json.dumps({"query": sql}).encode()
    request = urllib.request.Request(target, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            answer = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:300].decode("utf-8", "replace").strip()
        raise InputError(f"{target} answered {exc.code} {exc.reason}: {detail}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise InputError(f"cannot reach the admin API at {target}: {reason}") from None
    except ValueError as exc:
        raise InputError(f"{target} did not answer JSON: {exc}") from None
    rows = answer.get("rows") if isinstance(answer, dict) else None
    if not isinstance(rows, list):
        raise InputError(f'{target} answered without "rows"')
    return rows
