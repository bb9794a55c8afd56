"""Structured configs: the typed schema of every composed config, registered with Hydra.

Hydra checks types while it composes (`trainer.lr=abc` fails there); the ranges types cannot
express are checked by `scratchnet.config.validate`. Defaults live in the YAML files of
`conf/`; the ones here are for library use and must agree with them.
"""

from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore


@dataclass
class DataConfig:
    name: str = "digits"
    root: str | None = None
    cache_dir: str | None = None
    train_size: int | None = None
    test_fraction: float = 0.25
    val_fraction: float = 0.1
    normalize: bool = True


@dataclass
class ModelConfig:
    name: str = "two_layer_net"
    hidden_size: int = 50
    # A number > 0, or xavier / sigmoid / he / relu: typed Any because OmegaConf has no
    # float-or-str union; `validate.check_model` checks the value.
    weight_init_std: Any = 0.01
    activation: str = "sigmoid"
    dtype: str = "float32"
    weight_decay_lambda: float = 0.0  # the loss gains 0.5 lambda (|W1|^2 + |W2|^2)
    dropout_ratio: float = 0.0  # the hidden layer's dropout, in [0, 1)


@dataclass
class OptimizerConfig:
    """The `optimizer` group's common part: which update rule, and the lr the book's class
    defaults to (`book_lr`: studies that compare optimizers at the book's rates use it as
    `trainer.lr`; a run's lr is always `trainer.lr`)."""

    name: str = "sgd"
    book_lr: float = 0.01


@dataclass
class SGDConfig(OptimizerConfig):
    name: str = "sgd"


@dataclass
class MomentumConfig(OptimizerConfig):
    name: str = "momentum"
    momentum: float = 0.9


@dataclass
class NesterovConfig(OptimizerConfig):
    name: str = "nesterov"
    momentum: float = 0.9


@dataclass
class AdaGradConfig(OptimizerConfig):
    name: str = "adagrad"


@dataclass
class RMSpropConfig(OptimizerConfig):
    name: str = "rmsprop"
    decay_rate: float = 0.99


@dataclass
class AdamConfig(OptimizerConfig):
    name: str = "adam"
    book_lr: float = 0.001
    beta1: float = 0.9
    beta2: float = 0.999


# Each option's schema, stored as `optimizer/base_<name>` (the first entry of its YAML's
# defaults), so a key the optimizer does not have fails while Hydra composes.
OPTIMIZER_SCHEMAS: dict[str, type[OptimizerConfig]] = {
    "sgd": SGDConfig,
    "momentum": MomentumConfig,
    "nesterov": NesterovConfig,
    "adagrad": AdaGradConfig,
    "rmsprop": RMSpropConfig,
    "adam": AdamConfig,
}


@dataclass
class EarlyStoppingConfig:
    patience: int | None = None  # epochs without a new best validation loss; None: off
    min_delta: float = 0.0  # a new best must be this much lower
    restore_best: bool = True  # end with the best epoch's weights


@dataclass
class TrainerConfig:
    name: str = "minibatch"
    lr: float = 0.5
    batch_size: int = 32
    epochs: int | None = 30
    iters_num: int | None = None
    sampling: str = "shuffle"
    eval_chunk_size: int = 10000
    divergence_factor: float | None = 3.0
    divergence_patience: int = 3
    early_stopping: EarlyStoppingConfig = field(default_factory=EarlyStoppingConfig)
    batch_loss: bool = False  # also log train_batch_loss: the epoch's mean mini-batch loss
    progress: bool = True


@dataclass
class TrackingConfig:
    enabled: bool = True
    uri: str | None = None
    experiment: str = "scratchnet"
    run_name: str | None = None
    flush_seconds: float = 1.0
    server_wait_seconds: float = 120.0
    log_weights: bool = True
    log_figure: bool = False  # learning_curves.png per run; the report draws every curve


@dataclass
class SweepConfig:
    resume: bool = True
    wait: bool = False  # the same sweep running already: wait for it (else exit 2)


@dataclass
class StudyConfig:
    name: str = "default"
    description: str = "One TwoLayerNet trained with mini-batches."


@dataclass
class Config:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    tracking: TrackingConfig = field(default_factory=TrackingConfig)
    sweep: SweepConfig = field(default_factory=SweepConfig)
    study: StudyConfig = field(default_factory=StudyConfig)
    seed: int = 0


def register_configs() -> None:
    """Register the schemas so that every composed config is type-checked by Hydra."""
    store = ConfigStore.instance()
    store.store(name="base_config", node=Config)
    for name, schema in OPTIMIZER_SCHEMAS.items():
        store.store(group="optimizer", name=f"base_{name}", node=schema)
