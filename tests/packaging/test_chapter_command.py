"""`scratchnet-chapter <name> [overrides]`: the chapter's studies as one installed command."""

import ast

import pytest

from harness import REPO
from scratchnet.cli import studies
from scratchnet.cli.studies import STUDIES, main


def test_every_study_has_a_module_a_config_and_a_script():
    modules = {p.stem for p in (REPO / "src" / "scratchnet" / "cli" / "studies").glob("[!_]*.py")}
    configs = {p.stem for p in (REPO / "conf" / "chapter").glob("*.yaml")}
    scripts = {p.stem for p in (REPO / "experiments").glob("*.py")}
    assert set(STUDIES) == modules == configs == scripts


def test_each_script_is_a_shim_running_the_study_of_its_name():
    for name in STUDIES:
        tree = ast.parse((REPO / "experiments" / f"{name}.py").read_text())
        docstring, imported, guard = tree.body  # nothing else
        assert ast.get_docstring(tree)
        assert isinstance(imported, ast.ImportFrom) and imported.module == "scratchnet.cli.studies"
        assert isinstance(guard, ast.If) and ast.unparse(guard.test) == "__name__ == '__main__'"
        assert [ast.unparse(s) for s in guard.body] == [f"run_study('{name}')"]


def test_help_lists_every_study_with_what_it_shows(capsys):
    main(["--help"])
    out = capsys.readouterr().out
    for name in STUDIES:
        (row,) = [line for line in out.splitlines() if line.strip().startswith(name + " ")]
        assert studies.summary(name) in row


def test_an_unknown_study_is_one_line_naming_the_allowed_ones_and_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["gradient_desent", "lr=0.1"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "scratchnet-chapter: error: study='gradient_desent' is not allowed "
        f"(allowed: {', '.join(STUDIES)})"
    ]


def test_no_study_prints_the_usage_and_exits_2(capsys):
    with pytest.raises(SystemExit) as exit_:
        main([])
    assert exit_.value.code == 2
    assert "studies:" in capsys.readouterr().err
