"""Two sweeps side by side: their configurations matched, with the deltas of the outcomes.

Configurations are matched by the values of every factor either sweep varies (over seeds: a
configuration's outcomes are its means over seeds); `same_config` says whether the matched
configurations are the very same configs (equal sets of config hashes), so a delta between
them comes from the code, data or packages and not from a changed setting. Configurations
found on one side only are kept, with `side` saying which.
"""

import pandas as pd

from scratchnet.analysis.seeds import verdict_mix
from scratchnet.analysis.tables import FACTORS, usable, varied_factors

COMPARED = ("best_acc", "test_acc_at_best", "gap_acc_final")


def match_keys(a: pd.DataFrame, b: pd.DataFrame) -> list[str]:
    """The factors either sweep varies, in the factors' order."""
    either = set(varied_factors(a)) | set(varied_factors(b))
    return [f for f in FACTORS if f in either and f in a and f in b]


def per_config(diag: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """One row per configuration: seeds, verdicts, config hashes and mean outcomes."""
    rows = []
    groups = diag.groupby(keys, dropna=False, sort=True) if keys else [((), diag)]
    for values, group in groups:
        values = values if isinstance(values, tuple) else (values,)
        ok = usable(group)
        row: dict[str, object] = dict(zip(keys, values, strict=True))
        row["seeds"] = int(group["seed"].nunique())
        row["verdicts"] = verdict_mix(group)
        hashes = group["config_hash"].dropna() if "config_hash" in group else pd.Series([])
        row["hashes"] = ",".join(sorted(set(hashes.astype(str))))
        digests = group["dataset_digest"].dropna() if "dataset_digest" in group else hashes[:0]
        row["digests"] = ",".join(sorted(set(digests.astype(str))))
        for key in COMPARED:
            row[key] = float(ok[key].mean()) if len(ok) else float("nan")
        rows.append(row)
    return pd.DataFrame(rows)


def matched_configs(a: pd.DataFrame, b: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """(the configurations of both sweeps, outer-joined on the match keys; the keys).

    Columns: the keys, `side` (both, A only, B only), `<outcome>_a`, `<outcome>_b`,
    `<outcome>_delta` (B - A), `verdicts_a`, `verdicts_b`, `seeds_a`, `seeds_b` and
    `same_config`, `same_data` (equal sets of dataset digests).
    """
    keys = match_keys(a, b)
    left, right = per_config(a, keys), per_config(b, keys)
    if not keys:
        left, right = left.assign(_all=0), right.assign(_all=0)
    on = keys or ["_all"]
    both = left.merge(right, how="outer", on=on, suffixes=("_a", "_b"), indicator=True)
    both["side"] = both["_merge"].map(
        {"both": "both", "left_only": "A only", "right_only": "B only"}
    )
    for key in COMPARED:
        both[f"{key}_delta"] = both[f"{key}_b"] - both[f"{key}_a"]
    matched = both["side"] == "both"
    both["same_config"] = matched & (both["hashes_a"] == both["hashes_b"])
    both["same_data"] = matched & (both["digests_a"] == both["digests_b"])
    both = both.drop(columns=["_merge", *(["_all"] if not keys else [])])
    return both.sort_values([*keys, "side"], kind="stable", na_position="last").reset_index(
        drop=True
    ), keys
