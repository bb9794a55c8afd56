"""The one vocabulary of value checks: every bad value is reported in one message shape.

    key=value is not allowed (allowed: what would be)

Config validation, the datasets, the network, the analysis thresholds and the chapter
studies all check through these functions, so a message reads the same wherever it comes
from, and each rule ("a finite number > 0") is written once.
"""

import math
from collections.abc import Collection
from typing import Any, NoReturn

import numpy as np

from scratchnet.core.errors import ConfigError

POSITIVE = "a finite number > 0"
NON_NEGATIVE = "a finite number >= 0"
FINITE = "a finite number"
OPEN_FRACTION = "a number strictly between 0 and 1"
FRACTION = "a number in [0, 1)"
UNIT_INTERVAL = "a number in [0, 1]"


def not_allowed(key: str, value: Any, allowed: str) -> ConfigError:
    """The error for `key=value`, naming what is allowed (raise it, or chain it `from`)."""
    return ConfigError(f"{key}={value!r} is not allowed (allowed: {allowed})")


def fail(key: str, value: Any, allowed: str) -> NoReturn:
    """Raise the one-line ConfigError `key=value is not allowed (allowed: ...)`."""
    raise not_allowed(key, value, allowed)


def is_int(value: Any) -> bool:
    """An integer (numpy's too), but not a bool."""
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    """A finite int or float (numpy's too), but not a bool."""
    real = isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)
    return real and math.isfinite(value)


def check_int(key: str, value: Any, low: int = 1, high: int | None = None) -> int:
    """An integer in low..high (no upper bound when high is None); returns it as an int."""
    allowed = f"an integer >= {low}" if high is None else f"an integer in {low}..{high}"
    if not is_int(value) or value < low or (high is not None and value > high):
        fail(key, value, allowed)
    return int(value)


def check_positive(key: str, value: Any) -> float:
    """A finite number > 0; returns it as a float."""
    if not is_number(value) or value <= 0:
        fail(key, value, POSITIVE)
    return float(value)


def check_non_negative(key: str, value: Any) -> float:
    """A finite number >= 0; returns it as a float."""
    if not is_number(value) or value < 0:
        fail(key, value, NON_NEGATIVE)
    return float(value)


def check_finite(key: str, value: Any) -> float:
    """Any finite number; returns it as a float."""
    if not is_number(value):
        fail(key, value, FINITE)
    return float(value)


def check_open_fraction(key: str, value: Any) -> float:
    """A number strictly between 0 and 1; returns it as a float."""
    if not is_number(value) or not 0 < value < 1:
        fail(key, value, OPEN_FRACTION)
    return float(value)


def check_fraction(key: str, value: Any) -> float:
    """A number in [0, 1): a share that may be none but never all; returns it as a float."""
    if not is_number(value) or not 0 <= value < 1:
        fail(key, value, FRACTION)
    return float(value)


def check_unit_interval(key: str, value: Any) -> float:
    """A number in [0, 1]; returns it as a float."""
    if not is_number(value) or not 0 <= value <= 1:
        fail(key, value, UNIT_INTERVAL)
    return float(value)


def check_choice(key: str, value: Any, choices: Collection[str]) -> str:
    """One of `choices` (listed in the message in their own order); returns it."""
    if not isinstance(value, str) or value not in choices:
        fail(key, value, ", ".join(choices))
    return value


def check_name(key: str, value: Any) -> str:
    """A non-empty string that is not only spaces; returns it."""
    if not isinstance(value, str) or not value.strip():
        fail(key, value, "a non-empty name")
    return value


def shortened(text: str, keep: int = 40) -> str:
    """`text`, or its first `keep` characters and how long it is, for a message."""
    return text if len(text) <= keep else f"{text[:keep]}... ({len(text)} characters)"


def check_length(key: str, value: str, limit: int, what: str = "characters") -> str:
    """A string of at most `limit` characters; returns it."""
    if len(value) > limit:
        fail(key, shortened(value), f"at most {limit} {what}, MLflow's limit")
    return value
