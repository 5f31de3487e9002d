"""Quality gates that run with the tests: ruff, mypy --strict, sans-IO layering, coverage."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT

PACKAGE = ROOT / "restate_inspect"
# What touches files, terminals or screens; every other module takes bytes or records and
# returns records.
IO_MODULES = (
    "__init__.py", "__main__.py", "readers/__init__.py", "readers/compressed.py", "export.py",
    "readers/admin.py",  # asks the runtime's admin API over HTTP
    "readers/proxy.py",  # listens, connects and forwards
)  # fmt: skip
IO_PACKAGES = ("cli", "render", "tui")
SANS_IO = tuple(
    sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if "_proto" not in path.parts
        and path.parts[len(PACKAGE.parts)] not in IO_PACKAGES
        and str(path.relative_to(PACKAGE)) not in IO_MODULES
    )
)
# The core below the readers: the protocol families, the journal and what they stand on
# load no reader, and neither the HTTP/2 libraries the readers use.
CORE = tuple(module for module in SANS_IO if not module.startswith("readers/"))
FORBIDDEN_MODULES = {
    "io", "os", "sys", "pathlib", "shutil", "tempfile", "subprocess", "select",
    "urllib", "http.client", "http.server", "asyncio",
    "multiprocessing", "rich", "textual", "typer", "click", "restate_inspect.cli",
    "restate_inspect.render", "restate_inspect.tui",
}  # fmt: skip
# The readers package's own module opens files; its sans-IO submodules may be used.
FORBIDDEN_EXACTLY = {"restate_inspect.readers"}
FORBIDDEN_CALLS = {"open", "print", "input"}
# Full branch coverage is required of the riskiest layers, by their own tests.
COVERAGE_RUN: pytest.StashKey[subprocess.Popen[str]] = pytest.StashKey()
COVERED = {
    "restate_inspect.framing": ("tests/test_framing.py",),
    "restate_inspect.protocol": (
        "tests/test_framing.py",
        "tests/test_protocol.py",
        "tests/test_protocol_v1.py",
        "tests/test_protocol_v4.py",
        "tests/test_protocol_v1_messages.py",
        "tests/test_protocol_v1_entries.py",
        "tests/test_protocol_v1_summaries.py",
        "tests/test_protocol_v1_notes.py",
        "tests/test_protocol_v4_messages.py",
        "tests/test_protocol_v4_reading.py",
        "tests/test_protocol_reading.py",
        "tests/test_protocol_v4_notes.py",
        "tests/test_protocol_v4_numbering.py",
        "tests/test_protocol_inference.py",
        "tests/test_protocol_v1_journal.py",
        "tests/test_protocol_v1_numbering.py",
        "tests/test_protocol_v1_replay.py",
        "tests/test_invocations.py",
        "tests/test_protocol_v1_conditions.py",
        "tests/test_protocol_v4_rules.py",
        "tests/test_protocol_v4_journal.py",
        "tests/test_protocol_v4_entries.py",
        "tests/test_protocol_v4_summaries.py",
        "tests/test_protocol_attempt.py",
    ),
}


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COV_CORE")}
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, env=env, check=False)


def test_ruff_lint_and_format() -> None:
    lint = _run(sys.executable, "-m", "ruff", "check", "--output-format", "concise", ".")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    form = _run(sys.executable, "-m", "ruff", "format", "--check", ".")
    assert form.returncode == 0, form.stdout + form.stderr


def test_mypy_strict() -> None:
    result = _run(sys.executable, "-m", "mypy")
    assert result.returncode == 0, result.stdout + result.stderr


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("module", SANS_IO)
def test_sans_io_layers_touch_no_io_or_ui(module: str) -> None:
    path = PACKAGE / module
    bad = {
        name
        for name in _imports(path)
        if name in FORBIDDEN_EXACTLY
        or any(name == f or name.startswith(f + ".") for f in FORBIDDEN_MODULES)
    }
    assert not bad, f"{module} imports {bad}"
    calls = {
        node.func.id
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }
    assert not calls & FORBIDDEN_CALLS, f"{module} calls {calls & FORBIDDEN_CALLS}"


def test_sans_io_layers_load_no_io_or_ui_packages() -> None:
    """Transitively too: importing them pulls in neither rich, textual, typer nor click."""
    modules = ", ".join(_module_name(m) for m in SANS_IO)
    code = (
        f"import sys, importlib\nfor m in '{modules}'.split(', '): importlib.import_module(m)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'rich', 'textual', 'typer', 'click'}))"
    )
    result = _run(sys.executable, "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def _module_name(module: str) -> str:
    return "restate_inspect." + module.removesuffix(".py").removesuffix("/__init__").replace(
        "/", "."
    )


@pytest.mark.parametrize("module", CORE)
def test_the_core_loads_no_reader_in_a_fresh_interpreter(module: str) -> None:
    """Transitively: the protocol families and the journal are fed records, and know
    nothing of where they came from."""
    name = _module_name(module)
    code = (
        f"import sys, importlib\nimportlib.import_module({name!r})\n"
        "print(sorted(m for m in sys.modules if m == 'restate_inspect.readers' or "
        "m.startswith('restate_inspect.readers.') or m.split('.')[0] in {'hyperframe', 'hpack'}))"
    )
    result = _run(sys.executable, "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]", f"{name} loads {result.stdout.strip()}"


# what only one command needs, and which every other command would pay for at its start
ONE_COMMANDS_PACKAGES = ("textual", "asyncio", "ssl", "urllib.request")  # tui, proxy, --admin


def test_importing_the_commands_loads_no_package_only_one_command_needs() -> None:
    code = (
        "import restate_inspect.cli, sys\n"
        f"print([m for m in {ONE_COMMANDS_PACKAGES!r} if m in sys.modules])"
    )
    result = _run(sys.executable, "-c", code)
    assert result.stdout.strip() == "[]", result.stderr


def test_json_output_does_not_import_rich() -> None:
    """NDJSON needs no terminal: decode --json starts without rich."""
    sample = str(ROOT / "samples" / "v1-call-other.req.bin")
    code = (
        "import sys\nfrom restate_inspect.cli import main\n"
        f"sys.argv = ['restate-inspect', 'decode', '--json', {sample!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('rich' in sys.modules, file=sys.stderr)"
    )
    result = _run(sys.executable, "-c", code)
    assert result.stdout.startswith('{"kind":')
    assert result.stderr.strip() == "False"


def test_the_tui_model_is_free_of_ui_toolkits() -> None:
    """tui/model.py is the view's logic: tests and benchmarks drive it without a screen."""
    code = (
        "import sys, restate_inspect.tui.model; "
        "print(sorted({'rich', 'textual'} & {m.split('.')[0] for m in sys.modules}))"
    )
    result = _run(sys.executable, "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def coverage_run() -> subprocess.Popen[str]:
    """The coverage run of the riskiest layers' tests, started: conftest.py starts it when
    the session begins, so that it runs on another core beside the rest of the suite."""
    tests = sorted({test for files in COVERED.values() for test in files})
    args = [sys.executable, "-m", "pytest", *tests, "-q", "-p", "no:cacheprovider"]
    args += ["-o", "addopts=", "--cov-branch", "--cov-report=term-missing", "--cov-fail-under=100"]
    args += [f"--cov={module}" for module in COVERED]
    env = {k: v for k, v in os.environ.items() if not k.startswith("COV_CORE")}
    return subprocess.Popen(args, cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip


def test_riskiest_layers_have_full_branch_coverage(request: pytest.FixtureRequest) -> None:
    started = request.config.stash.get(COVERAGE_RUN, None)
    run = started if started is not None else coverage_run()
    stdout, stderr = run.communicate()
    assert run.returncode == 0, stdout[-4000:] + stderr[-2000:]


# --- size limits ---------------------------------------------------------------------------

MODULE_LINES, CLASS_LINES, FUNCTION_LINES = 400, 250, 40
# What is over a limit, with why. The list only shrinks: an entry that fits fails the test,
# so that its exception goes with it. Generated protobuf code (_proto) is not ours.
# Exceptions to the limits, each with its reason; none is left. The test fails on an entry
# that fits, so the list can only shrink.
OVER_THE_LIMITS: dict[str, str] = {}


def _sizes() -> dict[str, tuple[int, int]]:
    """Lines of every module, class and function of the package, and its limit, by name
    (path, path:Class, path:Class.method)."""
    sizes: dict[str, tuple[int, int]] = {}
    for path in sorted((ROOT / "restate_inspect").rglob("*.py")):
        if "_proto" in path.parts:
            continue
        name = str(path.relative_to(ROOT))
        text = path.read_text()
        sizes[name] = (text.count("\n"), MODULE_LINES)
        _walk(ast.parse(text), name + ":", sizes)
    return sizes


def _walk(node: ast.AST, prefix: str, sizes: dict[str, tuple[int, int]]) -> None:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            name = prefix + child.name
            limit = CLASS_LINES if isinstance(child, ast.ClassDef) else FUNCTION_LINES
            sizes[name] = ((child.end_lineno or child.lineno) - child.lineno + 1, limit)
            _walk(child, name + ".", sizes)


def test_modules_classes_and_functions_are_within_the_limits() -> None:
    over = {name: size for name, (size, limit) in _sizes().items() if size > limit}
    unexplained = {name: size for name, size in over.items() if name not in OVER_THE_LIMITS}
    assert not unexplained, (
        f"over the limits (module {MODULE_LINES}, class {CLASS_LINES}, function "
        f"{FUNCTION_LINES} lines): {unexplained}"
    )
    fitting = set(OVER_THE_LIMITS) - set(over)
    assert not fitting, f"these fit now: take them off OVER_THE_LIMITS: {sorted(fitting)}"
