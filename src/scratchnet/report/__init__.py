"""Overfitting reports: figures (matplotlib's object API) and self-contained HTML + Markdown.

from scratchnet.tracking.lazy import LazyStore     # or an MLflow client: store.open_client()
from scratchnet.report import build_report
report = build_report(LazyStore(), "lr_batch_hidden")    # latest sweep of the study
print(report.out_dir / "report.html")
"""

from scratchnet.report.build import Report, build_report, default_out_dir
from scratchnet.report.figures import FigureSpec, plan_figures

__all__ = ["FigureSpec", "Report", "build_report", "default_out_dir", "plan_figures"]
