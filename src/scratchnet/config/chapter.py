"""Typed schemas of the chapter scripts' configs (`conf/chapter/`), registered with Hydra.

Study values live in the YAML files only (`MISSING` here), so there is one place to read them;
the schemas give types, so `lr=abc` or an unknown key fails while Hydra composes.
"""

from dataclasses import dataclass, field

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING

from scratchnet.config.schema import DataConfig, ModelConfig, OptimizerConfig, TrainerConfig


@dataclass
class ChapterTracking:
    uri: str | None = None
    experiment: str = MISSING
    run_name: str | None = None


@dataclass
class LossFunctionsConfig:
    label: int = MISSING
    y1: list[float] = MISSING
    y2: list[float] = MISSING
    delta: float = MISSING
    points: int = MISSING
    tracking: ChapterTracking = field(default_factory=ChapterTracking)


@dataclass
class WeightSweep:
    param: str = MISSING
    index: list[int] = MISSING
    span: float = MISSING
    points: int = MISSING


@dataclass
class WhyLossConfig:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)  # the chapter's SGD
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    weight: WeightSweep = field(default_factory=WeightSweep)
    seed: int = 0
    tracking: ChapterTracking = field(default_factory=ChapterTracking)


@dataclass
class NumericalDifferentiationConfig:
    function: str = MISSING
    x: float = MISSING
    first_decade: int = MISSING
    last_decade: int = MISSING
    dtypes: list[str] = MISSING
    tangent_at: list[float] = MISSING
    tangent_h: float = MISSING
    plot_range: list[float] = MISSING
    tracking: ChapterTracking = field(default_factory=ChapterTracking)


@dataclass
class Grid:
    low: float = MISSING
    high: float = MISSING
    points: int = MISSING


@dataclass
class GradientFieldConfig:
    grid: Grid = field(default_factory=Grid)
    tracking: ChapterTracking = field(default_factory=ChapterTracking)


@dataclass
class GradientDescentConfig:
    lr: float | None = None
    lrs: list[float] = MISSING
    init_x: list[float] = MISSING
    step_num: int = MISSING
    converged_below: float = MISSING
    diverged_factor: float = MISSING
    plot_extent: float = MISSING
    tracking: ChapterTracking = field(default_factory=ChapterTracking)


@dataclass
class Timing:
    min_time: float = MISSING
    repeats: int = MISSING


@dataclass
class GradientCheckConfig:
    sizes: list[list[int]] = MISSING
    weight_init_std: float = MISSING
    activation: str = MISSING
    seed: int = 0
    timing: Timing = field(default_factory=Timing)
    tracking: ChapterTracking = field(default_factory=ChapterTracking)


@dataclass
class MinibatchLossConfig:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)  # the chapter's SGD
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    seed: int = 0
    tracking: ChapterTracking = field(default_factory=ChapterTracking)


@dataclass
class OptimizerPathsConfig:
    lrs: dict[str, float] = MISSING  # optimizer name -> its lr, drawn in this order
    start: list[float] = MISSING
    steps: int = MISSING
    x_range: list[float] = MISSING
    y_range: list[float] = MISSING
    tracking: ChapterTracking = field(default_factory=ChapterTracking)


SCHEMAS: dict[str, type] = {
    "loss_functions": LossFunctionsConfig,
    "why_loss_not_accuracy": WhyLossConfig,
    "numerical_differentiation": NumericalDifferentiationConfig,
    "gradient_field": GradientFieldConfig,
    "gradient_descent": GradientDescentConfig,
    "gradient_check": GradientCheckConfig,
    "minibatch_loss": MinibatchLossConfig,
    "optimizer_paths": OptimizerPathsConfig,
}


def register_chapter_configs() -> None:
    """Store each schema as `chapter/base_<name>`, the first entry of its YAML's defaults."""
    store = ConfigStore.instance()
    for name, schema in SCHEMAS.items():
        store.store(group="chapter", name=f"base_{name}", node=schema, package="_global_")
