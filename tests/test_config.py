"""The config schema and the value checks that types cannot express."""

import pytest
from omegaconf import OmegaConf

from scratchnet.config import Config, config_hash, flatten, identity, run_name, validate_config
from scratchnet.config.schema import OPTIMIZER_SCHEMAS, AdamConfig, MomentumConfig, RMSpropConfig
from scratchnet.core.errors import ConfigError
from scratchnet.core.paths import config_dir
from scratchnet.nn import OPTIMIZERS

CONF = config_dir()


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


def with_optimizer(cfg, schema):
    return OmegaConf.merge(cfg, {"optimizer": OmegaConf.structured(schema)})


def test_run_names_show_the_levers_away_from_their_defaults():
    assert run_name(make()) == "lr=0.5 bs=32 h=50 seed=0"
    levers = make(
        model__weight_decay_lambda=0.01,
        model__dropout_ratio=0.5,
        model__weight_init_std="he",
        model__activation="relu",
    )
    adam = with_optimizer(levers, AdamConfig(beta1=0.8))
    assert run_name(adam) == (
        "lr=0.5 bs=32 h=50 opt=adam(beta1=0.8) wd=0.01 drop=0.5 init=he act=relu seed=0"
    )
    assert run_name(with_optimizer(make(model__weight_init_std=0.1), MomentumConfig())) == (
        "lr=0.5 bs=32 h=50 opt=momentum init=0.1 seed=0"
    )


@pytest.mark.parametrize("name", sorted(OPTIMIZER_SCHEMAS))
def test_each_optimizer_yaml_agrees_with_its_schema_and_the_books_class(name):
    yaml = OmegaConf.load(CONF / "optimizer" / f"{name}.yaml")
    yaml.pop("defaults")
    schema = OPTIMIZER_SCHEMAS[name]()
    assert OmegaConf.to_container(yaml) == vars(schema)
    book = OPTIMIZERS[name]()
    assert schema.book_lr == book.lr
    for key, value in vars(schema).items():
        if key not in ("name", "book_lr"):
            assert getattr(book, key) == value, key


def test_an_optimizer_choice_is_validated_with_its_hyperparameters():
    validate_config(with_optimizer(make(), RMSpropConfig()))
    with pytest.raises(ConfigError, match=r"optimizer.decay_rate=1.5 is not allowed"):
        validate_config(with_optimizer(make(), RMSpropConfig(decay_rate=1.5)))
