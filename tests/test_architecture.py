"""The shape of the code, kept: short modules and functions (the import layers are checked by
`lint-imports` in `make lint`, with the contracts in pyproject.toml)."""

import ast
from pathlib import Path

from harness import REPO

SRC = REPO / "src"
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 60
# Functions allowed to be longer, each with its reason.
LONG_FUNCTIONS: dict[str, str] = {}


def modules() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def test_no_module_is_over_300_lines():
    long = {
        str(p.relative_to(SRC)): n
        for p in modules()
        if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert not long, f"split these modules: {long}"


def test_no_function_is_over_60_lines_unless_it_says_why():
    long = {}
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                name = f"{path.relative_to(SRC)}:{node.name}"
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES and name not in LONG_FUNCTIONS:
                    long[name] = lines
    assert not long, f"shorten these functions (or add them, with a reason): {long}"


def test_nothing_outside_the_entry_points_imports_the_cli():
    for path in modules():
        if "cli" in path.relative_to(SRC).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not any(n.startswith("scratchnet.cli") for n in names), path
