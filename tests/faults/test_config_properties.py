"""Properties of `validate_config`: every valid config passes; corrupting any single field of a
valid config raises ConfigError naming that field, on one line."""

import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from omegaconf import DictConfig, OmegaConf

from scratchnet.config import Config, validate_config
from scratchnet.config.validate import MODELS, TRAINERS, URI_SCHEMES
from scratchnet.core.errors import ConfigError
from scratchnet.data import DATASETS
from scratchnet.nn import OPTIMIZERS
from scratchnet.nn.two_layer_net import ACTIVATIONS as ACTIVATION_FUNCTIONS
from scratchnet.nn.two_layer_net import DTYPE_NAMES, INIT_SCALES
from scratchnet.training import SAMPLINGS

ACTIVATIONS = tuple(ACTIVATION_FUNCTIONS)

NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=1, max_size=12)
POSITIVE_FLOATS = st.floats(min_value=1e-9, max_value=1e6, allow_nan=False)
POSITIVE_INTS = st.integers(min_value=1, max_value=10**9)
NON_POSITIVE_INTS = st.integers(min_value=-(10**9), max_value=0)
NOT_FINITE = st.sampled_from([math.nan, math.inf, -math.inf])
NON_POSITIVE_FLOATS = st.floats(max_value=0.0, allow_nan=False, allow_infinity=False) | NOT_FINITE
NEGATIVE_FLOATS = st.floats(max_value=0.0, exclude_max=True) | NOT_FINITE
FRACTIONS = st.floats(min_value=0, max_value=1, exclude_max=True)
NOT_FRACTIONS = st.floats(max_value=0, exclude_max=True) | st.floats(min_value=1) | NOT_FINITE


@st.composite
def valid_configs(draw: st.DrawFn) -> dict[str, Any]:
    """Dotted key -> value for every field validate_config checks, all within range."""
    epochs = draw(st.none() | POSITIVE_INTS)
    return {
        "data.name": draw(st.sampled_from(sorted(DATASETS))),
        "data.train_size": draw(st.none() | POSITIVE_INTS),
        "data.test_fraction": draw(
            st.floats(min_value=0, max_value=1, exclude_min=True, exclude_max=True)
        ),
        "data.normalize": draw(st.booleans()),
        "model.name": draw(st.sampled_from(MODELS)),
        "model.hidden_size": draw(POSITIVE_INTS),
        "model.weight_init_std": draw(POSITIVE_FLOATS | st.sampled_from(sorted(INIT_SCALES))),
        "model.activation": draw(st.sampled_from(ACTIVATIONS)),
        "model.dtype": draw(st.sampled_from(DTYPE_NAMES)),
        "model.weight_decay_lambda": draw(st.just(0.0) | POSITIVE_FLOATS),
        "model.dropout_ratio": draw(FRACTIONS),
        "optimizer.name": draw(st.sampled_from(sorted(OPTIMIZERS))),
        "optimizer.book_lr": draw(POSITIVE_FLOATS),
        "trainer.name": draw(st.sampled_from(TRAINERS)),
        "trainer.lr": draw(POSITIVE_FLOATS),
        "trainer.batch_size": draw(POSITIVE_INTS),
        "trainer.epochs": epochs,
        "trainer.iters_num": draw(POSITIVE_INTS) if epochs is None else None,
        "trainer.sampling": draw(st.sampled_from(SAMPLINGS)),
        "trainer.eval_chunk_size": draw(POSITIVE_INTS),
        "trainer.divergence_factor": draw(
            st.none() | st.floats(min_value=1, max_value=1e6, exclude_min=True)
        ),
        "tracking.enabled": draw(st.booleans()),
        "tracking.uri": draw(st.sampled_from([None, "http://127.0.0.1:5000", "https://m.example"])),
        "tracking.experiment": draw(NAMES),
        "tracking.flush_seconds": draw(st.floats(min_value=0, max_value=1e6)),
        "seed": draw(st.integers(min_value=0, max_value=2**32)),
    }


def build(values: dict[str, Any]) -> DictConfig:
    cfg = OmegaConf.structured(Config)
    for key, value in values.items():
        OmegaConf.update(cfg, key, value)
    return cfg


def not_in(choices: tuple[str, ...] | list[str]) -> st.SearchStrategy[str]:
    return NAMES.filter(lambda name: name not in choices)


# key -> values that key must reject (every other field staying valid)
CORRUPTIONS: dict[str, st.SearchStrategy[Any]] = {
    "data.name": not_in(sorted(DATASETS)),
    "data.train_size": NON_POSITIVE_INTS,
    "data.test_fraction": st.floats(max_value=0) | st.floats(min_value=1) | NOT_FINITE,
    "model.name": not_in(MODELS),
    "model.hidden_size": NON_POSITIVE_INTS,
    "model.weight_init_std": NON_POSITIVE_FLOATS | not_in(sorted(INIT_SCALES)),
    "model.activation": not_in(ACTIVATIONS),
    "model.dtype": not_in(DTYPE_NAMES),
    "model.weight_decay_lambda": NEGATIVE_FLOATS,
    "model.dropout_ratio": NOT_FRACTIONS,
    "optimizer.name": not_in(sorted(OPTIMIZERS)),
    "optimizer.book_lr": NON_POSITIVE_FLOATS,
    "trainer.name": not_in(TRAINERS),
    "trainer.lr": NON_POSITIVE_FLOATS,
    "trainer.batch_size": NON_POSITIVE_INTS,
    "trainer.epochs": NON_POSITIVE_INTS,
    "trainer.iters_num": NON_POSITIVE_INTS,
    "trainer.sampling": not_in(SAMPLINGS),
    "trainer.eval_chunk_size": NON_POSITIVE_INTS,
    "trainer.divergence_factor": st.floats(max_value=1) | NOT_FINITE,
    "tracking.uri": not_in(URI_SCHEMES).map(lambda scheme: f"{scheme}://x")
    | st.just("sqlite:relative.db"),
    "tracking.experiment": st.sampled_from(["", " ", "\t"]),
    "tracking.flush_seconds": st.floats(max_value=0, exclude_max=True) | NOT_FINITE,
    "seed": st.integers(max_value=-1, min_value=-(2**40)),
}


@st.composite
def corrupted_configs(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """(the corrupted key, a valid config with just that key's value out of range)."""
    values = draw(valid_configs())
    key = draw(st.sampled_from(sorted(CORRUPTIONS)))
    values[key] = draw(CORRUPTIONS[key])
    if key == "trainer.epochs":  # the other of the pair stays unset
        values["trainer.iters_num"] = None
    if key == "trainer.iters_num":
        values["trainer.epochs"] = None
    if key.startswith("tracking."):
        values["tracking.enabled"] = True  # tracking settings are checked only when used
    return key, values


@settings(max_examples=300, deadline=None)
@given(valid_configs())
def test_every_valid_config_passes(values: dict[str, Any]) -> None:
    validate_config(build(values))


@settings(max_examples=500, deadline=None)
@given(corrupted_configs())
def test_any_single_corrupted_field_is_a_one_line_config_error_naming_it(
    case: tuple[str, dict[str, Any]],
) -> None:
    key, values = case
    try:
        validate_config(build(values))
    except ConfigError as err:
        message = str(err)
    else:
        raise AssertionError(f"{key}={values[key]!r} was accepted")
    assert f"{key}=" in message
    assert "\n" not in message
    assert "allowed" in message or "set exactly one" in message
