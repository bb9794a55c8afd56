"""Which factors matter most: the share of the validation metric's variance each explains.

For each varied factor, eta squared of its main effect: the variance between the means of its
levels (weighted by their runs) over the total variance of the metric, over the runs that
finished without diverging. Continuous factors of a search are taken in bins
(`scratchnet.analysis.levels`). Deterministic (no model is fitted), and for a full grid it is
the one-way ANOVA share of each factor; the shares need not sum to 1 (interactions, and
factors sampled together in a search, share variance).
"""

import pandas as pd

from scratchnet.analysis.levels import levels
from scratchnet.analysis.tables import usable, varied_factors

METRIC = "best_acc"


def eta_squared(values: pd.Series, groups: pd.Series) -> float:
    """Between-level sum of squares over the total sum of squares (NaN when no variance)."""
    frame = pd.DataFrame({"v": values.to_numpy(float), "g": groups.astype(object).to_numpy()})
    frame = frame.dropna(subset=["v"])
    frame["g"] = frame["g"].map(lambda g: "—missing—" if pd.isna(g) else g)
    total = float(((frame["v"] - frame["v"].mean()) ** 2).sum())
    if total <= 0:
        return float("nan")
    means = frame.groupby("g")["v"].agg(["mean", "size"])
    between = float((means["size"] * (means["mean"] - frame["v"].mean()) ** 2).sum())
    return between / total


def importance(diag: pd.DataFrame, metric: str = METRIC) -> pd.DataFrame:
    """factor, levels and `share` (eta squared of `metric`), the largest share first."""
    ok = usable(diag)
    rows = []
    for factor in varied_factors(diag):
        grouped = levels(ok, factor)
        share = eta_squared(ok[metric], grouped)
        rows.append({"factor": factor, "levels": int(grouped.nunique()), "share": share})
    table = pd.DataFrame(rows, columns=["factor", "levels", "share"])
    return table.sort_values(
        ["share", "factor"], ascending=[False, True], kind="stable"
    ).reset_index(drop=True)
