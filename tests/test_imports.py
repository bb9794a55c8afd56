"""Importing scratchnet has no side effects on the user's tools, and one quantity has one name."""

import subprocess
import sys
import textwrap

from scratchnet.analysis.diagnosis import Diagnosis
from scratchnet.tracking.frames import PARAM_COLUMNS, RUN_COLUMNS, SPLIT_METRICS, TAG_COLUMNS
from scratchnet.tracking.names import EPOCH_METRICS

IMPORT_EVERYTHING_AND_DRAW = textwrap.dedent(
    """
    import importlib, pkgutil
    import matplotlib
    matplotlib.use("svg")  # the user's choice, not the Agg canvas scratchnet draws on
    import scratchnet
    names = [m.name for m in pkgutil.walk_packages(scratchnet.__path__, "scratchnet.")]
    names += ["hydra_plugins.scratchnet_grid_sweeper", "hydra_plugins.scratchnet_optuna_sweeper"]
    for name in names:
        importlib.import_module(name)
    import pandas as pd
    from scratchnet.report import notebook as nb
    from scratchnet.tracking.synthetic import curve
    history = curve(20, kind="overfit", onset=8).assign(run_id="r")
    runs = pd.DataFrame([{"run_id": "r", "name": "r", "status": "FINISHED", "seed": 0,
                          "diverged": False, "diverged_epoch": pd.NA, "epochs_logged": 21,
                          "lr": 0.1, "batch_size": 32, "hidden_size": 50, "train_size": None}])
    nb.png(nb.learning_curve_grid(runs, history))
    print(len(names), matplotlib.get_backend())
    """
)


def test_importing_every_scratchnet_module_and_drawing_leaves_the_backend_alone():
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_EVERYTHING_AND_DRAW],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    count, backend = done.stdout.split()
    assert int(count) > 80 and backend == "svg"


def words(name: str) -> tuple[str, ...]:
    """A column name's words in order-free form: gap_acc_final and final_gap_acc are equal."""
    return tuple(sorted(name.split("_")))


def test_every_column_of_the_frames_and_the_diagnosis_names_one_quantity_once():
    final = [f"final_{k}" for k in SPLIT_METRICS]  # the runs frame's last-epoch summary
    diagnosis = [f for f in Diagnosis.__dataclass_fields__]
    columns = [*RUN_COLUMNS, *PARAM_COLUMNS, *TAG_COLUMNS, *EPOCH_METRICS, *final, *diagnosis]
    distinct = set(columns)
    assert len({words(c) for c in distinct}) == len(distinct), sorted(distinct)
