"""Structured configs: the typed schema of every composed config, registered with Hydra.

Hydra checks types while it composes (`trainer.lr=abc` fails there); the ranges types cannot
express are checked by `scratchnet.config.validate`. Defaults live in the YAML files of
`conf/`; the ones here are for library use and must agree with them.
"""

from dataclasses import dataclass, field

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
    weight_init_std: float = 0.01
    activation: str = "sigmoid"
    dtype: str = "float32"


@dataclass
class EarlyStoppingConfig:
    patience: int | None = None  # epochs without a new best validation loss; None: off
    min_delta: float = 0.0  # a new best must be this much lower
    restore_best: bool = True  # end with the best epoch's weights


@dataclass
class TrainerConfig:
    name: str = "sgd"
    lr: float = 0.5
    batch_size: int = 32
    epochs: int | None = 30
    iters_num: int | None = None
    sampling: str = "shuffle"
    eval_chunk_size: int = 10000
    divergence_factor: float | None = 3.0
    divergence_patience: int = 3
    early_stopping: EarlyStoppingConfig = field(default_factory=EarlyStoppingConfig)
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
    log_figure: bool = True


@dataclass
class SweepConfig:
    resume: bool = True
    wait: bool = False  # the same sweep running already: wait for it (else exit 2)


@dataclass
class StudyConfig:
    name: str = "default"
    description: str = "One TwoLayerNet trained with mini-batch SGD."


@dataclass
class Config:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    tracking: TrackingConfig = field(default_factory=TrackingConfig)
    sweep: SweepConfig = field(default_factory=SweepConfig)
    study: StudyConfig = field(default_factory=StudyConfig)
    seed: int = 0


def register_configs() -> None:
    """Register the schemas so that every composed config is type-checked by Hydra."""
    ConfigStore.instance().store(name="base_config", node=Config)
