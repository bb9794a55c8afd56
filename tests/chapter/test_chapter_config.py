"""The chapter configs: every YAML composes against its schema and passes its own checks."""

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig

from scratchnet.chapter import checks as cc
from scratchnet.config import chapter as schemas
from scratchnet.core.errors import ConfigError
from scratchnet.core.paths import config_dir

CHECKS = {
    "loss_functions": cc.check_loss_functions,
    "why_loss_not_accuracy": cc.check_why_loss,
    "numerical_differentiation": cc.check_numerical_differentiation,
    "gradient_field": cc.check_gradient_field,
    "gradient_descent": cc.check_gradient_descent,
    "gradient_check": cc.check_gradient_check,
    "minibatch_loss": cc.check_minibatch_loss,
    "optimizer_paths": cc.check_optimizer_paths,
}


def composed(name: str, *overrides: str) -> DictConfig:
    schemas.register_chapter_configs()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        return compose(config_name=f"chapter/{name}", overrides=list(overrides))


@pytest.mark.parametrize("name", sorted(schemas.SCHEMAS))
def test_each_script_config_composes_and_passes_its_checks(name):
    cfg = composed(name)
    CHECKS[name](cfg)
    assert cfg.tracking.experiment == f"chapter.{name}"
    assert cfg.tracking.uri is None


def test_there_is_one_config_per_script():
    assert sorted(p.stem for p in (config_dir() / "chapter").glob("*.yaml")) == sorted(CHECKS)


def test_gradient_descent_runs_all_lrs_unless_one_lr_is_given():
    assert cc.check_gradient_descent(composed("gradient_descent")) == [10, 1, 0.1, 0.01, 1e-10]
    assert cc.check_gradient_descent(composed("gradient_descent", "lr=0.5")) == [0.5]


@pytest.mark.parametrize(
    ("name", "override", "named"),
    [
        ("gradient_descent", "lr=-1", "lr=-1.0"),
        ("gradient_descent", "lrs=[0.1,0]", "lrs=0.0"),
        ("gradient_descent", "init_x=[1.0]", "init_x"),
        ("gradient_check", "sizes=[[4,3,2]]", "sizes=[4, 3, 2]"),
        ("gradient_check", "activation=tanh", "activation='tanh'"),
        ("loss_functions", "label=10", "label=10"),
        ("loss_functions", "y2=[0.5,0.5]", "y2="),
        ("numerical_differentiation", "dtypes=[float16]", "dtypes='float16'"),
        ("numerical_differentiation", "last_decade=0", "last_decade=0"),
        ("gradient_field", "grid.high=-3", "grid.high=-3.0"),
        ("why_loss_not_accuracy", "weight.param=W3", "weight.param='W3'"),
        ("why_loss_not_accuracy", "trainer.lr=0", "trainer.lr=0.0"),
        ("minibatch_loss", "trainer.batch_size=0", "trainer.batch_size=0"),
        ("minibatch_loss", "model.dropout_ratio=1", "model.dropout_ratio=1.0"),
        ("optimizer_paths", "+lrs.adamw=0.1", "lrs='adamw'"),
        ("optimizer_paths", "lrs.sgd=0", "lrs.sgd=0.0"),
        ("optimizer_paths", "start=[1.0]", "start=[1.0]"),
        ("optimizer_paths", "steps=0", "steps=0"),
    ],
)
def test_a_bad_value_is_rejected_naming_the_key_and_value(name, override, named):
    with pytest.raises(ConfigError, match="is not allowed") as err:
        CHECKS[name](composed(name, override))
    assert named in str(err.value)


def test_a_weight_index_outside_the_array_is_rejected_with_its_bounds():
    cfg = composed("why_loss_not_accuracy", "weight.index=[50,0]")
    shapes = {"W1": (64, 50), "b1": (50,), "W2": (50, 10), "b2": (10,)}
    with pytest.raises(ConfigError, match=r"weight.index=\[50, 0\].*\[0..49, 0..9\]"):
        cc.check_why_loss(cfg, shapes)


def test_a_tracking_uri_with_an_unknown_scheme_is_rejected():
    cfg = composed("gradient_field", "tracking.uri=ftp://host/db")
    with pytest.raises(ConfigError, match="tracking.uri='ftp://host/db'"):
        cc.check_tracking(cfg.tracking)
