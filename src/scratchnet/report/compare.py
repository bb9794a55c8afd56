"""`scratchnet-report --compare A B`: what changed between two sweeps, and what it did.

The definition (the parents' recorded params and search spaces), the data (dataset digests),
the code (git commits) and the packages (recorded on each parent) side by side; then every
configuration matched by the factors either sweep varies, with the deltas of the choice
accuracy (validation), test at the chosen epoch and the gap, and verdict changes; then the
configurations only one sweep has. HTML + Markdown, as the report.
"""

import json
from pathlib import Path

import pandas as pd

from scratchnet.analysis.diagnosis import DEFAULT_THRESHOLDS
from scratchnet.analysis.matching import matched_configs
from scratchnet.analysis.tables import format_value, sorted_values
from scratchnet.analysis.thresholds import Thresholds
from scratchnet.core.paths import repo_root
from scratchnet.report.build import Report, Say, page_files, write_files
from scratchnet.report.cells import MISSING, Column, factor_column, frame_table, utc
from scratchnet.report.layout import chosen_on
from scratchnet.report.markup import Block, Heading, Note, Para, Table
from scratchnet.report.study import Study, analyse
from scratchnet.tracking.frames import PARAM_COLUMNS
from scratchnet.tracking.lookup import find_parent
from scratchnet.tracking.names import PACKAGES_TAG, SWEEP_PARAMS
from scratchnet.tracking.reader import load_parent
from scratchnet.tracking.store import Client


def side_by_side(title: str, a: dict[str, str], b: dict[str, str]) -> list[Block]:
    """A key | A | B table of every key either side has, the differing ones first."""
    keys = sorted(set(a) | set(b), key=lambda k: (a.get(k) == b.get(k), k))
    rows = tuple(
        (k, a.get(k, MISSING), b.get(k, MISSING), "same" if a.get(k) == b.get(k) else "changed")
        for k in keys
    )
    changed = sum(r[3] == "changed" for r in rows)
    head = [Heading(3, f"{title} ({changed} changed)")]
    return (
        [*head, Table(("key", "A", "B", ""), rows)] if rows else [*head, Para("Nothing recorded.")]
    )


def search_space(study: Study) -> dict[str, str]:
    """The recorded search space (what ran), key by key."""
    try:
        found = json.loads(study.sweep.params.get(SWEEP_PARAMS, "{}"))
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in found.items()}


def packages(study: Study) -> dict[str, str]:
    """The package versions recorded on the parent when the sweep started."""
    try:
        return dict(json.loads(study.sweep.tags.get(PACKAGES_TAG, "{}")))
    except ValueError:
        return {}


def provenance(study: Study) -> dict[str, str]:
    """The runs' code and data: git commits, dirty checkouts, dataset digests."""
    diag = study.diag
    digests = {
        f"{n}: {d}" for n, d in zip(diag["dataset"], diag["dataset_digest"], strict=True) if d
    }
    shown = "; ".join(sorted(digests)) if len(digests) <= 3 else f"{len(digests)} distinct"
    return {
        "git commit of the runs": ", ".join(sorted(set(diag["git_commit"].dropna()))) or MISSING,
        "runs from a dirty checkout": str(int((diag["git_dirty"] == "true").sum())),
        "dataset digests (SHA-256 of each run's split arrays)": shown or MISSING,
    }


def settings(study: Study) -> dict[str, str]:
    """Each recorded setting's distinct values among the runs (`lr`: `0.5, 2`)."""
    diag = study.diag
    shown = {}
    for column in (c for c in PARAM_COLUMNS if c in diag):
        values = sorted_values(diag[column])
        shown[column] = ", ".join(format_value(column, v) for v in values) or MISSING
    return shown


def header(a: Study, b: Study) -> list[Block]:
    """Which two sweeps."""
    blocks: list[Block] = [
        Heading(1, f"Sweep comparison: {a.sweep.short_id} vs {b.sweep.short_id}")
    ]
    for label, study in (("A", a), ("B", b)):
        s = study.sweep
        blocks.append(
            Para(
                f"{label}: sweep {s.short_id} of experiment {s.experiment!r} (parent run "
                f"{s.run_id}, {s.name!r}), {s.status}, started {utc(s.start_time)}, "
                f"{len(study.diag)} runs."
            )
        )
    return blocks


def config_blocks(a: Study, b: Study) -> list[Block]:
    """Matched configurations with their deltas, then those only one side has."""
    both, keys = matched_configs(a.diag, b.diag)
    chosen = chosen_on(pd.concat([a.diag, b.diag]))
    both["verdict_change"] = [
        "changed" if s == "both" and va != vb else ""
        for s, va, vb in zip(both["side"], both["verdicts_a"], both["verdicts_b"], strict=True)
    ]
    both["same"] = both["same_config"].map({True: "yes", False: "no"})
    both["data"] = both["same_data"].map({True: "same", False: "changed"})
    factors = [factor_column(k) for k in keys]
    matched = both[both["side"] == "both"]
    blocks: list[Block] = [
        Heading(2, f"Configurations in both ({len(matched)})"),
        Para(
            f"Matched by {', '.join(keys) or 'nothing (neither sweep varies a factor)'}; each "
            f"side's mean over its seeds of the {chosen} accuracy at the best epoch (the choice "
            "metric), the test accuracy there and the final accuracy gap; deltas are B - A. "
            "'same config' says whether both sides ran the very same configs (equal config "
            "hashes): a delta there comes from code, data or packages, not from a setting; "
            "'data' whether their dataset digests are equal."
        ),
    ]
    columns: list[Column] = [
        *factors,
        ("seeds_a", "seeds A", "d"),
        ("seeds_b", "seeds B", "d"),
        ("best_acc_a", f"{chosen} acc A", ".4f"),
        ("best_acc_b", f"{chosen} acc B", ".4f"),
        ("best_acc_delta", f"Δ {chosen} acc", "+.4f"),
        ("test_acc_at_best_delta", "Δ test acc @best", "+.4f"),
        ("gap_acc_final_delta", "Δ acc gap", "+.4f"),
        ("verdicts_a", "verdicts A", "s"),
        ("verdicts_b", "verdicts B", "s"),
        ("verdict_change", "verdict", "s"),
        ("same", "same config", "s"),
        ("data", "data", "s"),
    ]
    blocks.append(frame_table(matched, columns) if len(matched) else Para("None."))
    for side, label in (("A only", "a"), ("B only", "b")):
        only = both[both["side"] == side]
        blocks.append(Heading(2, f"Configurations only in {side[0]} ({len(only)})"))
        shown: list[Column] = [
            *factors,
            (f"seeds_{label}", "seeds", "d"),
            (f"best_acc_{label}", f"{chosen} acc @best", ".4f"),
            (f"test_acc_at_best_{label}", "test acc @best", ".4f"),
            (f"verdicts_{label}", "verdicts", "s"),
        ]
        blocks.append(frame_table(only, shown) if len(only) else Para("None."))
    return blocks


def comparison_blocks(a: Study, b: Study) -> list[Block]:
    """The whole comparison."""
    blocks = header(a, b)
    blocks.append(Heading(2, "What changed"))
    blocks += side_by_side("Definition (the parents' params)", a.sweep.params, b.sweep.params)
    blocks += side_by_side("Search space (what ran)", search_space(a), search_space(b))
    blocks += side_by_side("Settings of the runs (distinct values)", settings(a), settings(b))
    blocks += side_by_side("Code and data", provenance(a), provenance(b))
    pa, pb = packages(a), packages(b)
    if not pa or not pb:
        blocks.append(Note("A sweep started before scratchnet recorded package versions has none."))
    blocks += side_by_side("Packages (recorded when each sweep started)", pa, pb)
    return blocks + config_blocks(a, b)


def default_compare_dir(a: Study, b: Study) -> Path:
    """`<repo>/reports/compare/<A short id>-vs-<B short id>/`."""
    return repo_root() / "reports" / "compare" / f"{a.sweep.short_id}-vs-{b.sweep.short_id}"


def build_comparison(
    client: Client,
    refs: tuple[str, str],
    experiment: str | None = None,
    out_dir: Path | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    progress: Say | None = None,
) -> Report:
    """Read both sweeps, diagnose them, write report.md and report.html (nothing written
    back: a comparison only reads the store)."""
    say = progress or (lambda _msg: None)
    studies = []
    for parent in [find_parent(client, ref, experiment) for ref in refs]:
        data = load_parent(client, parent)
        say(f"read {len(data.runs)} runs of sweep {parent.short_id} ({parent.experiment})")
        studies.append(analyse(data, thresholds))
    a, b = studies
    title = f"Sweep comparison: {a.sweep.short_id} vs {b.sweep.short_id}"
    files = page_files(comparison_blocks(a, b), {}, title)
    out_dir = out_dir or default_compare_dir(a, b)
    return Report(out_dir, write_files(out_dir, files), b.sweep.run_id, 0, False)
