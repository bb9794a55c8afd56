"""Reports built from a real trained sweep: content, escaping, reproducibility, write-back."""

import hashlib
import html
import re
from pathlib import Path

import numpy as np

from scratchnet.core.paths import repo_root
from scratchnet.report.build import default_out_dir
from scratchnet.tracking.reader import child_runs

PNGS = (
    "learning_curves.png",
    "heatmaps.png",
    "gap_vs_hidden.png",
    "lr_sensitivity.png",
    "parallel_coordinates.png",
    "importance.png",
)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def text(built, name: str) -> str:
    return (built.first.out_dir / name).read_text(encoding="utf-8")


def test_report_writes_html_markdown_and_the_figures(built):
    names = sorted(p.name for p in built.first.out_dir.iterdir())
    assert names == sorted([".figure-inputs.json", "report.html", "report.md", *PNGS])


def test_rebuilding_from_the_same_store_gives_identical_bytes(built):
    one, two = built.first.out_dir, built.second.out_dir
    names = sorted(p.name for p in one.iterdir())
    assert names == sorted(p.name for p in two.iterdir())
    for name in names:
        assert digest(one / name) == digest(two / name), name


def test_html_is_self_contained(built):
    page = text(built, "report.html")
    assert page.count('<img src="data:image/png;base64,') == len(PNGS)
    assert "<script" not in page.replace("&lt;script", "")
    for needle in ("http://", "https://", "<link", "url(", "@import"):
        assert needle not in page


def test_run_names_and_descriptions_are_html_escaped(built):
    page = text(built, "report.html")
    assert "<script>alert(1)</script>" not in page and "<b>bold</b>" not in page
    assert html.escape(built.store.evil_name) in page
    assert html.escape(built.store.description) in page


def test_markdown_escapes_pipes_and_angle_brackets(built):
    md = text(built, "report.md")
    assert r"\<script\>alert(1)\</script\> \| pipe" in md
    assert built.store.evil_name not in md


def test_markdown_tables_keep_their_shape_whatever_the_cells_hold(built):
    tables, current = [], []
    for line in text(built, "report.md").splitlines() + [""]:
        if line.startswith("|"):
            current.append(len(re.findall(r"(?<!\\)\|", line)))
        elif current:
            tables.append(current)
            current = []
    assert len(tables) > 5
    for pipes in tables:
        assert len(set(pipes)) == 1, pipes


def test_no_local_path_or_build_time_in_the_output(built):
    for name in ("report.html", "report.md"):
        page = text(built, name)
        assert str(built.store.root) not in page
        assert "/tmp" not in page and str(repo_root()) not in page


def test_report_names_the_question_and_the_environment(built):
    md = text(built, "report.md")
    assert "Which lr and hidden size overfit 100 digits?" in md
    for package in ("numpy", "mlflow", "hydra-core", "pandas", "matplotlib"):
        assert f"| {package} |" in md
    assert "dataset digest" in md and "git commit of the runs" in md


def test_figure_of_a_fixed_factor_is_skipped_with_a_note(built):
    md = text(built, "report.md")
    assert "Not drawn: the sweep does not vary the training-set size (all runs: 100)" in md
    assert not (built.first.out_dir / "gap_vs_train_size.png").exists()


def test_diverged_and_failed_runs_are_listed(built):
    md = text(built, "report.md")
    failed = md.split("### Not finished (1)")[1]
    assert "FAILED" in failed.split("##")[0]
    diverged = md.split("### Diverged (")[1]
    assert "lr=50" in diverged.split("###")[0]


def test_report_files_are_logged_on_the_parent_run(built):
    client = built.store.client
    logged = sorted(f.path for f in client.list_artifacts(built.store.parent, "report"))
    assert logged == sorted(f"report/{n}" for n in ["report.html", "report.md", *PNGS])


def test_runs_carry_their_diagnosis_after_a_build(built):
    client, store = built.store.client, built.store
    experiment_id = client.get_experiment_by_name(store.experiment).experiment_id
    runs = child_runs(client, experiment_id, store.parent)
    finished = [r for r in runs if r.info.status == "FINISHED"]
    verdicts = {r.data.tags["overfit.verdict"] for r in finished}
    assert verdicts <= {"good_fit", "overfit", "underfit", "diverged"} and "diverged" in verdicts
    for r in runs:
        assert all(np.isfinite(v) for v in r.data.metrics.values())
        assert "best_epoch" in r.data.metrics
    assert built.second.runs_updated == 0  # the second build found nothing to change


def test_default_out_dir_is_under_reports_by_experiment_and_sweep():
    path = default_out_dir("my study/v2", "0123abcd")
    assert path == repo_root() / "reports" / "my_study_v2" / "0123abcd"
