"""Analysing in a notebook: a sweep (or a run) read into pandas, diagnosed, and drawn with the
report's own figure functions (docs/analysis.ipynb walks through it).

    from scratchnet.report import notebook as nb

    study = nb.load("lr_batch_hidden")          # latest sweep; sweep="latest~1", tracking_uri=...
    study.diag                                  # one row per run: params, tags, diagnosis
    study.history                               # one row per run and epoch
    nb.seed_spread(study.diag)                  # per configuration: mean and 95% CI over seeds
    nb.statements(study)                        # per factor: resolved or not, and why
    nb.learning_curve_grid(study.diag, study.history)   # a matplotlib Figure

Every figure function takes the frames `load` returns and gives back a `matplotlib.figure.
Figure` drawn without pyplot, so importing scratchnet never changes the matplotlib backend;
`nb.show(fig)` displays one in a notebook, `nb.png(fig)` gives its PNG bytes.
"""

from matplotlib.figure import Figure

from scratchnet.analysis.comparisons import comparisons
from scratchnet.analysis.diagnosis import DEFAULT_THRESHOLDS
from scratchnet.analysis.effects import effect_table, effect_tables
from scratchnet.analysis.importance import importance
from scratchnet.analysis.matching import matched_configs
from scratchnet.analysis.seeds import seed_spread
from scratchnet.analysis.thresholds import Thresholds
from scratchnet.core.checks import fail
from scratchnet.core.png import png_bytes
from scratchnet.report.charts import heatmaps
from scratchnet.report.curves import learning_curve_grid
from scratchnet.report.effects import effect_figure
from scratchnet.report.factors import metric_words
from scratchnet.report.figures import plan_figures
from scratchnet.report.parallel import importance_figure, parallel_coordinates
from scratchnet.report.statements import statement
from scratchnet.report.study import Study, analyse
from scratchnet.tracking.lookup import find_run
from scratchnet.tracking.lookup import load_run as read_run
from scratchnet.tracking.reader import load_sweep
from scratchnet.tracking.store import open_client

__all__ = [
    "Study",
    "comparisons",
    "effect_figure",
    "effect_table",
    "effect_tables",
    "figure",
    "heatmaps",
    "importance",
    "importance_figure",
    "learning_curve_grid",
    "load",
    "load_run",
    "matched_configs",
    "parallel_coordinates",
    "png",
    "seed_spread",
    "show",
    "statements",
]


def load(
    experiment: str,
    sweep: str = "latest",
    tracking_uri: str | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> Study:
    """A sweep of `experiment` read and diagnosed: `.diag` (current runs), `.history`,
    `.superseded`, `.every` (all runs read), `.sweep` (the parent run)."""
    data = load_sweep(open_client(tracking_uri), experiment, sweep)
    return analyse(data, thresholds)


def load_run(
    run: str, tracking_uri: str | None = None, thresholds: Thresholds = DEFAULT_THRESHOLDS
) -> Study:
    """One run (an id or its prefix) read and diagnosed, as a one-row Study."""
    client = open_client(tracking_uri)
    return analyse(read_run(client, find_run(client, run)), thresholds, is_sweep=False)


def statements(study: Study) -> list[str]:
    """The report's noise-aware statements, one per neighbouring pair of each factor's levels."""
    metric = metric_words(study.diag)
    found = comparisons(study.diag)
    return [statement(c, metric) for factor in found for c in found[factor]]


def figure(study: Study, name: str) -> Figure:
    """One of the report's figures by name (learning_curves, heatmaps, gap_vs_hidden, ...)."""
    specs = {s.name: s for s in plan_figures(study.diag, study.history)}
    if name not in specs:
        fail("figure", name, ", ".join(specs))
    spec = specs[name]
    if spec.draw is None:
        fail("figure", name, f"a figure this sweep supports; {spec.note}")
    return spec.draw()


def png(fig: Figure) -> bytes:
    """A figure's PNG bytes (the same bytes the report embeds)."""
    return png_bytes(fig)


def show(fig: Figure):  # -> IPython.display.Image
    """The figure as an image a notebook displays (no pyplot, no backend needed)."""
    from IPython.display import Image

    return Image(png_bytes(fig))
