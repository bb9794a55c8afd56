"""MLflow's limits on what a run records, checked before anything is written.

SQLite ignores the lengths MLflow's schema declares; PostgreSQL (the tracking server's store)
refuses them in the middle of a run ("value too long for type character varying(250)"),
after the experiment was made. So every backend checks the same limits up front, each as one
line naming the value (`scratchnet.core.checks`).
"""

from collections.abc import Mapping

from scratchnet.core.checks import check_length
from scratchnet.tracking.names import (
    MAX_EXPERIMENT_NAME_LENGTH,
    MAX_KEY_LENGTH,
    MAX_PARAM_VALUE_LENGTH,
    MAX_RUN_NAME_LENGTH,
    MAX_TAG_VALUE_LENGTH,
)


def check_record_limits(
    experiment: str,
    run_name: str,
    params: Mapping[str, str] = {},  # noqa: B006 (read only)
    tags: Mapping[str, str] = {},  # noqa: B006 (read only)
    run_name_key: str = "tracking.run_name",
) -> None:
    """ConfigError naming the first name, key or value longer than MLflow accepts."""
    check_length("tracking.experiment", experiment, MAX_EXPERIMENT_NAME_LENGTH)
    check_length(run_name_key, run_name, MAX_RUN_NAME_LENGTH)
    for kind, items, limit in (
        ("param", params, MAX_PARAM_VALUE_LENGTH),
        ("tag", tags, MAX_TAG_VALUE_LENGTH),
    ):
        for key, value in items.items():
            check_length(f"{kind} key", key, MAX_KEY_LENGTH)
            check_length(key, str(value), limit)
