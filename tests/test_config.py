"""The config schema and the value checks that types cannot express."""

import pytest
from omegaconf import OmegaConf

from scratchnet.config import Config, config_hash, flatten, identity, validate_config
from scratchnet.core.errors import ConfigError


def make(**dotted):
    cfg = OmegaConf.structured(Config)
    for key, value in dotted.items():
        OmegaConf.update(cfg, key.replace("__", "."), value)
    return cfg


def test_defaults_are_valid():
    validate_config(make())


@pytest.mark.parametrize(
    ("key", "value", "allowed"),
    [
        ("trainer__lr", -1.0, "finite number > 0"),
        ("trainer__lr", 0.0, "finite number > 0"),
        ("trainer__lr", float("nan"), "finite number > 0"),
        ("trainer__lr", float("inf"), "finite number > 0"),
        ("trainer__batch_size", 0, "integer >= 1"),
        ("trainer__epochs", 0, "integer >= 1"),
        ("model__hidden_size", 0, "integer >= 1"),
        ("model__weight_init_std", -0.1, "finite number > 0, or one of xavier, sigmoid, he"),
        ("model__weight_init_std", "glorot", "finite number > 0, or one of xavier, sigmoid, he"),
        ("model__weight_decay_lambda", -0.1, "finite number >= 0"),
        ("model__dropout_ratio", 1.0, "a number in [0, 1)"),
        ("optimizer__name", "adamw", "sgd, momentum, nesterov, adagrad, rmsprop, adam"),
        ("model__activation", "tanh", "sigmoid, relu"),
        ("model__dtype", "float16", "float32, float64"),
        ("trainer__sampling", "random", "shuffle, with_replacement"),
        ("data__train_size", 0, "integer >= 1"),
        ("data__test_fraction", 1.0, "between 0 and 1"),
        ("tracking__uri", "notascheme://x", "sqlite:///"),
        ("tracking__uri", "sqlite:///", "sqlite:///"),
        ("seed", -3, "integer >= 0"),
    ],
)
def test_bad_value_is_named_with_what_is_allowed(key, value, allowed):
    with pytest.raises(ConfigError) as err:
        validate_config(make(**{key: value}))
    message = str(err.value)
    assert key.replace("__", ".") in message
    assert allowed in message
    assert "\n" not in message


def test_epochs_and_iters_num_together_are_rejected():
    with pytest.raises(ConfigError, match="set exactly one"):
        validate_config(make(trainer__iters_num=100))


def test_iters_num_alone_is_accepted():
    validate_config(make(trainer__epochs=None, trainer__iters_num=100))


def test_config_hash_ignores_tracking_and_progress():
    base = make()
    other = make(tracking__experiment="elsewhere", trainer__progress=False, sweep__resume=False)
    assert config_hash(base) == config_hash(other)


def test_config_hash_changes_with_what_is_computed():
    assert config_hash(make()) != config_hash(make(trainer__lr=0.25))
    assert config_hash(make()) != config_hash(make(seed=1))


def test_identity_drops_tracking_but_keeps_the_rest():
    plain = identity(make())
    assert "tracking" not in plain
    assert "progress" not in plain["trainer"]
    assert plain["trainer"]["lr"] == 0.5


def test_flatten_gives_dotted_string_params():
    params = flatten(make())
    assert params["trainer.lr"] == "0.5"
    assert params["data.root"] == "None"
    assert all(isinstance(v, str) for v in params.values())
