"""The trained sweep repeats two configurations over seeds: its report gives them means with
95% intervals, draws them as mean curves with shaded intervals, and states its comparisons."""

from matplotlib.collections import PolyCollection

from scratchnet.analysis import diagnose_runs
from scratchnet.report.curves import learning_curve_grid
from scratchnet.tracking.reader import load_sweep


def markdown(built) -> str:
    return (built.first.out_dir / "report.md").read_text(encoding="utf-8")


def test_configurations_over_seeds_have_means_with_95_percent_intervals(built):
    section = markdown(built).split("## Configurations over seeds")[1].split("\n## ")[0]
    assert "mean ± CI" in section and "Student t" in section
    rows = [line for line in section.splitlines() if line.startswith("| 1 |")]
    assert len(rows) == 1 and " ± " in rows[0]  # the best configuration ran with 2 seeds


def test_factor_tables_give_intervals_and_each_factor_gets_statements(built):
    section = markdown(built).split("## How the factors matter")[1].split("\n## ")[0]
    assert "| 2 | 6 | 2 |" in section  # lr=2: six runs over two seeds
    assert section.count(" ± ") >= 5
    statements = [line for line in section.splitlines() if line.startswith("- ")]
    assert any(line.startswith("- learning rate 2 vs 0.05: +") for line in statements)
    assert all("pp validation accuracy" in line for line in statements)
    assert "How these statements are made" in section


def test_configurations_repeated_over_seeds_are_drawn_as_means_with_shaded_intervals(built):
    data = load_sweep(built.store.client, built.store.experiment)
    diag = diagnose_runs(data.runs, data.history)
    fig = learning_curve_grid(diag, data.history)
    bands = [c for ax in fig.get_axes() for c in ax.collections if isinstance(c, PolyCollection)]
    titles = [text.get_text() for text in fig.texts]  # the cells' titles
    repeated = [t for t in titles if "(mean of 2 of 2 runs over seeds, 95% CI shaded)" in t]
    assert len(repeated) == 2  # lr=2 with h=10 and h=200
    failed_apart = [t for t in titles if "mean of 1 of 2 runs" in t and "drawn apart" in t]
    assert len(failed_apart) == 1  # lr=2 h=50: the run that failed at epoch 2 is not averaged
    assert len(bands) == 3 * 2 * 3  # 3 cells x (accuracy, loss) x (train, validation, test)


def test_sweeps_over_two_factors_get_parallel_coordinates_and_importance(built):
    md = markdown(built)
    assert "![Parallel coordinates](parallel_coordinates.png)" in md
    assert "![Which factors matter most](importance.png)" in md
