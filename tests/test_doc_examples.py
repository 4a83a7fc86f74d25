"""Every Python code block of README.md and docs/ runs, on the embedded emulator; every ``sandboxres ...`` command
line shown in a shell block parses.

How a block runs (blocks of one page share what they import, like a reader who went through the page in order):

- a block defining a ``test_...`` function (pytest style) is a test module of its own, run by pytest in a
  subprocess (pytester): every test in it must pass;
- any other block is executed in a fresh interpreter (top-level ``await`` / ``async with`` allowed, as in an
  asyncio REPL); the
  ``unittest.TestCase`` classes it defines are then run and must pass;
- a block right after an HTML comment ``<!-- not-run: reason -->`` is only compiled. Keep these few, with a reason.
"""

from __future__ import annotations

import ast
import re
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from sandboxres._doors.cli import build_parser
from sandboxres._runtime.settings import ENDPOINT_VARIABLES

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
_FENCE = re.compile(r"^```(\w*)\s*$")
_NOT_RUN = re.compile(r"<!--\s*not-run:\s*(.+?)\s*-->")
_CLEARED = (
    *ENDPOINT_VARIABLES,
    "SANDBOXRES_TARGET",
    "SANDBOXRES_KEEP",
    "SANDBOXRES_ENV_FILE",
    "SANDBOXRES_REDIRECT",
    "PYTEST_ADDOPTS",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
)


@dataclass(frozen=True)
class Block:
    page: Path
    line: int
    language: str
    code: str
    not_run: str | None
    index: int  # position among the page's python blocks

    @property
    def id(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks_of(page: Path) -> list[Block]:
    found: list[Block] = []
    lines = page.read_text().splitlines()
    i = 0
    python_index = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match or not match.group(1):
            i += 1
            continue
        start, language = i, match.group(1)
        end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
        previous = next((lines[j] for j in range(start - 1, -1, -1) if lines[j].strip()), "")
        reason = _NOT_RUN.search(previous)
        found.append(
            Block(
                page,
                start + 1,
                language,
                "\n".join(lines[start + 1 : end]) + "\n",
                reason.group(1) if reason else None,
                python_index,
            )
        )
        if language == "python":
            python_index += 1
        i = end + 1
    return found


ALL_BLOCKS = [block for page in PAGES for block in blocks_of(page)]
PYTHON_BLOCKS = [block for block in ALL_BLOCKS if block.language == "python"]
SHELL_BLOCKS = [block for block in ALL_BLOCKS if block.language in ("bash", "sh", "shell", "console")]


def _imports_before(block: Block) -> str:
    """The import statements of the page's earlier python blocks."""
    imports: list[str] = []
    for earlier in PYTHON_BLOCKS:
        if earlier.page == block.page and earlier.index < block.index:
            tree = ast.parse(earlier.code)
            imports += [ast.unparse(node) for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    return "\n".join(imports) + "\n"


def _is_pytest_module(code: str) -> bool:
    tree = ast.parse(code)
    return any(
        isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test_")
        for node in tree.body
    )


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _CLEARED:
        monkeypatch.delenv(name, raising=False)


def test_the_convention_is_used_sparingly() -> None:
    skipped = [block.id for block in PYTHON_BLOCKS if block.not_run]
    assert len(PYTHON_BLOCKS) >= 15
    assert len(skipped) <= 3, skipped


# Other blocks run in a fresh interpreter each (its own embedded emulator), as a reader would run them.
_RUNNER = """
import ast, asyncio, inspect, sys, unittest
code = open(sys.argv[1]).read()
namespace = {"__name__": "doc_block"}
result = eval(compile(code, sys.argv[1], "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT), namespace)
if inspect.iscoroutine(result):
    asyncio.run(result)
cases = [v for v in namespace.values() if isinstance(v, type) and issubclass(v, unittest.TestCase)
         and v.__module__ == "doc_block"]
if cases:
    suite = unittest.TestSuite(unittest.defaultTestLoader.loadTestsFromTestCase(case) for case in cases)
    outcome = unittest.TextTestRunner(verbosity=0).run(suite)
    sys.exit(0 if outcome.wasSuccessful() else 1)
"""


@pytest.mark.parametrize("block", PYTHON_BLOCKS, ids=lambda block: block.id)
def test_python_block_runs(block: Block, clean_env: None, pytester: pytest.Pytester) -> None:
    (pytester.path / "run_block.py").write_text(_RUNNER)
    code = _imports_before(block) + block.code
    compile(code, block.id, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    if block.not_run:
        return
    if _is_pytest_module(block.code):
        pytester.makeini("[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n")
        pytester.makepyfile(**{"test_doc_block": "import pytest\n" + code})
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
        outcomes = result.parseoutcomes()
        assert result.ret == 0 and outcomes.get("passed", 0) >= 1, "\n".join(result.outlines)
        return
    script = pytester.path / "doc_block.py"
    script.write_text(code)
    result = pytester.run(sys.executable, str(pytester.path / "run_block.py"), str(script), timeout=120)
    assert result.ret == 0, "\n".join(result.outlines + result.errlines)


def _command_lines() -> list[tuple[str, list[str]]]:
    """(where, argv) of every ``sandboxres ...`` line in the shell blocks (synopsis lines with [...] excepted)."""
    found = []
    for block in SHELL_BLOCKS:
        for offset, raw in enumerate(block.code.splitlines()):
            line = raw.strip().removeprefix("$ ").split(" #", 1)[0].strip()
            if not re.match(r"^([A-Z_][A-Z0-9_]*=\S*\s+)*sandboxres\s", line + " "):
                continue
            words = shlex.split(line)
            while words and re.match(r"^[A-Z_][A-Z0-9_]*=", words[0]):
                words.pop(0)  # VAR=value prefixes
            if not words or words[0] != "sandboxres" or "[" in line or "|" in line:
                continue
            argv = []
            for word in words[1:]:
                if word in (">", ">>", "&", "&&", ";") or word.startswith(">"):
                    break
                argv.append(word)
            found.append((f"{block.page.relative_to(ROOT)}:{block.line + 1 + offset}", argv))
    return found


COMMANDS = _command_lines()


def test_the_pages_show_command_lines() -> None:
    assert len(COMMANDS) >= 8


@pytest.mark.parametrize(("where", "argv"), COMMANDS, ids=[where for where, _ in COMMANDS])
def test_command_line_parses(where: str, argv: list[str]) -> None:
    try:
        build_parser().parse_args(argv)
    except SystemExit as exc:
        pytest.fail(f"{where}: sandboxres {' '.join(argv)} does not parse (exit {exc.code})")


def test_install_lines_use_a_checkout_until_a_release_exists() -> None:
    installs = [
        (block.id, line.strip())
        for block in SHELL_BLOCKS
        for line in block.code.splitlines()
        if re.search(r"\bpip install\b.*\bsandboxres\b", line)
    ]
    assert installs, "no page says how to install the package"
    for where, line in installs:
        assert "git+" in line or re.search(r"pip install (-e )?\.", line), f"{where}: {line}"
