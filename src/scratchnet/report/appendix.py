"""The report's appendix: how its terms are defined, and what code, data and packages made it."""

import re

import pandas as pd

from scratchnet.analysis import diagnosis
from scratchnet.analysis.thresholds import Thresholds
from scratchnet.report.cells import MISSING, distinct, versions
from scratchnet.report.markup import Block, Bullets, Heading, Pairs, Para


def environment_blocks(diag: pd.DataFrame) -> list[Block]:
    """Package versions of the build, code versions and dataset digests of the runs."""
    commits = distinct(diag["git_commit"])
    dirty = (diag["git_dirty"] == "true").sum()
    digests = sorted(
        {f"{n}: {d}" for n, d in zip(diag["dataset"], diag["dataset_digest"], strict=True) if d}
    )
    rows = [
        ("git commit of the runs", ", ".join(commits) or MISSING),
        ("runs from a dirty checkout", str(int(dirty))),
        ("dataset digest (SHA-256)", "; ".join(digests) or MISSING),
    ]
    return [
        Heading(2, "Environment"),
        Para("Code and data of the runs, from their tags:"),
        Pairs(tuple(rows)),
        Para("Packages that built this report:"),
        Pairs(tuple(versions())),
    ]


def definition_blocks(t: Thresholds) -> list[Block]:
    """How best epoch, gaps, onset and verdict are defined, and the thresholds used."""
    doc = (diagnosis.__doc__ or "").split("Definitions:", 1)[-1].replace("**", "")
    doc = doc.replace("`", "").strip()
    items = tuple(" ".join(p.split()) for p in re.split(r"\n- ", "\n" + doc) if p.strip())
    rows = tuple((k, f"{v:g}") for k, v in t.as_dict().items())
    return [
        Heading(2, "Definitions"),
        Bullets(items),
        Para("Thresholds used (change with --threshold NAME=VALUE):"),
        Pairs(rows),
    ]
