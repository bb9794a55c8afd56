"""Thresholds: defaults, NAME=VALUE overrides, range checks."""

import pytest

from scratchnet.analysis import Thresholds, parse_thresholds
from scratchnet.core.errors import ConfigError


def test_defaults_are_valid():
    assert Thresholds().check() == Thresholds()


def test_overrides_replace_only_the_named_values():
    t = parse_thresholds(["min_span=5", "overfit_gap_acc=0.1"])
    assert (t.min_span, t.overfit_gap_acc) == (5, 0.1)
    assert t.noise_k == Thresholds().noise_k


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("nope=1", "NAME=VALUE with NAME one of"),
        ("min_span", "NAME=VALUE"),
        ("min_span=2.5", "an integer"),
        ("noise_k=abc", "a number"),
        ("underfit_train_acc=2", "[0, 1]"),
        ("min_rise_abs=-1", ">= 0"),
        ("smooth_window=0", ">= 1"),
    ],
)
def test_bad_override_is_a_config_error_naming_it(item: str, message: str):
    with pytest.raises(ConfigError, match="threshold") as err:
        parse_thresholds([item])
    assert message in str(err.value)
