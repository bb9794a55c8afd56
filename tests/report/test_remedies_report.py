"""A real trained lever sweep (dropout 0 vs 0.5, two seeds each, under one parent run) gets a
Remedies section with its figure, rebuilt byte for byte; a sweep without levers gets none."""

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from mlflow.tracking import MlflowClient

import scratchnet.core.paths
from scratchnet.config import register_configs
from scratchnet.report.build import build_report
from scratchnet.tracking.run import run
from scratchnet.tracking.store import get_or_create_experiment, resolve_uri

pytestmark = pytest.mark.slow
EXPERIMENT = "dropout_study"


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("remedies")
    uri = resolve_uri(f"sqlite:///{root / 'store' / 'mlflow.db'}")
    client = MlflowClient(tracking_uri=uri)
    experiment_id = get_or_create_experiment(client, uri, EXPERIMENT)
    tags = {"scratchnet.sweep_parent": "true", "scratchnet.sweep_id": "remedies0123456"}
    parent = client.create_run(experiment_id, run_name="sweep", tags=tags).info.run_id
    register_configs()
    overrides = [
        f"tracking.uri={uri}",
        f"tracking.experiment={EXPERIMENT}",
        "tracking.log_weights=false",
        "tracking.log_figure=false",
        "trainer.progress=false",
        "trainer.epochs=15",
        "trainer.batch_size=10",
        "data.train_size=100",
    ]
    with initialize_config_dir(str(scratchnet.core.paths.config_dir()), version_base="1.3"):
        base = compose("config", overrides=overrides)
    for ratio in (0.0, 0.5):
        for seed in (0, 1):
            cfg = base.copy()
            cfg.model.dropout_ratio, cfg.seed = ratio, seed
            run(cfg, parent_run_id=parent)
    client.set_terminated(parent)
    first = build_report(client, EXPERIMENT, out_dir=root / "one", write=False)
    second = build_report(client, EXPERIMENT, out_dir=root / "two", write=False)
    return first.out_dir, second.out_dir


def test_a_sweep_over_dropout_gets_a_remedies_section_with_its_figure(reports):
    md = (reports[0] / "report.md").read_text(encoding="utf-8")
    section = md[md.index("## Remedies") : md.index("## Figures")]
    assert "### Dropout ratio" in section
    assert "| 0 | 2 | 2 |" in section and "| 0.5 | 2 | 2 |" in section
    assert "gap at the best epoch" in section
    assert "(remedy_dropout_ratio.png)" in section
    assert (reports[0] / "remedy_dropout_ratio.png").read_bytes().startswith(b"\x89PNG")
    assert "drop=0.5" in md  # the run names tell the lever's runs apart


def test_the_remedies_report_rebuilds_byte_for_byte(reports):
    one, two = reports
    names = sorted(p.name for p in one.iterdir())
    assert names == sorted(p.name for p in two.iterdir())
    for name in names:
        assert (one / name).read_bytes() == (two / name).read_bytes(), name


def test_a_sweep_without_levers_has_no_remedies_section(built):
    md = (built.first.out_dir / "report.md").read_text(encoding="utf-8")
    assert "## Remedies" not in md
