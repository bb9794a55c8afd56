"""Real sweeps, real processes: a sweep's report says what ran and covers every config of it.

Overriding a study's swept key on the command line replaces the study's values for that key
(Hydra's basic sweeper: the command line wins per key), and a later sweep overlapping this one
reuses its FINISHED runs as members instead of reporting only what it ran itself.
"""

from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from harness import run_cli
from scratchnet.report.build import build_report
from scratchnet.report.compare import build_comparison
from scratchnet.tracking.names import PARENT_TAG, SWEEP_PARENT_TAG, member_tag

pytestmark = pytest.mark.slow
STUDY = "train_size"
TINY = ("trainer.epochs=2", "trainer.progress=false", "tracking.log_weights=false")
FIRST = ("seed=0,1", "data.train_size=50,100")  # the study sweeps 50,100,200,400,800,null
SECOND = ("seed=0,1", "data.train_size=50,800")  # overlaps the first in train size 50


def sweep(uri: str, cwd: Path, *args: str) -> str:
    """`scratchnet-train -m experiment=train_size ...`; its log (Hydra logs to stdout)."""
    done = run_cli(
        "scratchnet-train",
        "-m",
        f"experiment={STUDY}",
        f"tracking.uri={uri}",
        "tracking.log_figure=false",
        *TINY,
        *args,
        cwd=cwd,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout + done.stderr


def parents(client: MlflowClient) -> list:
    """The sweep parents, oldest first."""
    exp = client.get_experiment_by_name(STUDY).experiment_id
    found = client.search_runs([exp], f"tags.`{SWEEP_PARENT_TAG}` = 'true'")
    return sorted(found, key=lambda r: r.info.start_time)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The first sweep, its report, then the overlapping second sweep and its report."""
    root = tmp_path_factory.mktemp("definition")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri)
    sweep(uri, root, *FIRST)
    first = build_report(client, STUDY, out_dir=root / "first", write=False)
    log = sweep(uri, root, *SECOND)
    second = build_report(client, STUDY, out_dir=root / "second", write=False)
    md = {
        k: (r.out_dir / "report.md").read_text() for k, r in (("first", first), ("second", second))
    }
    return {"client": client, "md": md, "log": log}


def test_the_parent_records_the_grid_that_ran_not_the_studys(store):
    first = parents(store["client"])[0]
    params = first.data.params
    assert params["sweep.params"] == '{"data.train_size": "50,100", "seed": "0,1"}'
    assert params["sweep.grid_size"] == "4"  # 2 train sizes x 2 seeds, not 6 x 2 x 2
    assert params["sweep.study_params"] == '{"data.train_size": "50,100,200,400,800,null"}'


def test_the_report_of_an_overridden_study_neither_warns_nor_calls_a_varied_factor_fixed(store):
    md = store["md"]["first"]
    assert "The sweep defines" not in md
    assert "| training-set size (varied) | 50, 100 |" in md
    assert "| jobs defined (grid size) | 4 |" in md
    assert "| configurations with a run | 4 |" in md


def test_an_overlapping_sweep_links_the_finished_runs_it_skipped(store):
    client = store["client"]
    first, second = parents(client)
    reused = client.search_runs(
        [second.info.experiment_id], f"tags.`{member_tag(second.info.run_id)}` = 'reused'"
    )
    assert sorted(r.data.params["data.train_size"] for r in reused) == ["50", "50"]
    assert {r.data.tags[PARENT_TAG] for r in reused} == {first.info.run_id}
    assert store["log"].count("reused by this sweep") == 2
    assert second.data.metrics["runs_finished"] == 4
    assert second.data.metrics["runs_reused"] == 2


def test_an_overlapping_sweeps_report_covers_every_config_of_its_definition(store):
    md = store["md"]["second"]
    assert "4 runs: 4 FINISHED. 2 of them were reused from earlier sweeps" in md
    assert "| training-set size (varied) | 50, 800 |" in md
    assert "| runs reused from earlier sweeps | 2 |" in md
    assert md.count("| FINISHED | an earlier sweep |") == md.count("| FINISHED | this sweep |") == 2
    assert "The sweep defines" not in md
    ranked = md.split("Runs ranked by")[1].split("##")[0]
    assert sum(line.startswith("| ") and "FINISHED" in line for line in ranked.splitlines()) == 4


def test_compare_of_the_two_sweeps_shows_the_changed_key_matched_configs_and_the_rest(
    store, tmp_path
):
    report = build_comparison(store["client"], ("latest~1", "latest"), STUDY, tmp_path / "cmp")
    md = (report.out_dir / "report.md").read_text()
    assert '| sweep.params | {"data.train_size": "50,100", "seed": "0,1"} |' in md
    assert "| data.train_size | 50,100 | 50,800 | changed |" in md
    both = md.split("## Configurations in both (1)")[1].split("##")[0]
    (row,) = [line for line in both.splitlines() if line.startswith("| 50 | 2 | 2 |")]
    verdicts_a, verdicts_b, change, same_config, data = row.strip("| ").split(" | ")[-5:]
    assert verdicts_a == verdicts_b and not change.strip()  # the very runs: they were reused
    assert (same_config, data) == ("yes", "same")
    assert "## Configurations only in A (1)" in md and "| 100 | 2 |" in md
    assert "## Configurations only in B (1)" in md and "| 800 | 2 |" in md
    assert "| python |" in md and "| git commit of the runs |" in md
    again = build_comparison(store["client"], ("latest~1", "latest"), STUDY, tmp_path / "again")
    assert (again.out_dir / "report.html").read_bytes() == (
        report.out_dir / "report.html"
    ).read_bytes()
