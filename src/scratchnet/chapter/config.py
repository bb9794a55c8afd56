"""Typed schemas of the chapter scripts' configs (`conf/chapter/`) and their value checks.

Study values live in the YAML files only (`MISSING` here), so there is one place to read them;
the schemas give types, so `lr=abc` or an unknown key fails while Hydra composes.
"""

import math
from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, DictConfig, OmegaConf

from scratchnet.chapter.differentiation import FUNCTIONS
from scratchnet.config import (
    ACTIVATIONS,
    DTYPES,
    Config,
    DataConfig,
    ModelConfig,
    TrainerConfig,
    check_choice,
    check_tracking_uri,
    validate_config,
)
from scratchnet.config import fail_value as _fail
from scratchnet.nn.two_layer_net import PARAM_NAMES
from scratchnet.tracking import resolve_uri


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
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    seed: int = 0
    tracking: ChapterTracking = field(default_factory=ChapterTracking)


SCHEMAS: dict[str, type] = {
    "loss_functions": LossFunctionsConfig,
    "why_loss_not_accuracy": WhyLossConfig,
    "numerical_differentiation": NumericalDifferentiationConfig,
    "gradient_field": GradientFieldConfig,
    "gradient_descent": GradientDescentConfig,
    "gradient_check": GradientCheckConfig,
    "minibatch_loss": MinibatchLossConfig,
}


def register_chapter_configs() -> None:
    """Store each schema as `chapter/base_<name>`, the first entry of its YAML's defaults."""
    store = ConfigStore.instance()
    for name, schema in SCHEMAS.items():
        store.store(group="chapter", name=f"base_{name}", node=schema, package="_global_")


# ---------------------------------------------------------------- value checks


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def check_positive(key: str, value: Any) -> None:
    """A finite number > 0."""
    if not _is_number(value) or value <= 0:
        _fail(key, value, "a finite number > 0")


def check_finite(key: str, value: Any) -> None:
    """Any finite number."""
    if not _is_number(value):
        _fail(key, value, "a finite number")


def check_count(key: str, value: Any, low: int = 1, high: int | None = None) -> None:
    """An integer in low..high (no upper bound if high is None)."""
    allowed = f"an integer >= {low}" if high is None else f"an integer in {low}..{high}"
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= low
    if not ok or (high is not None and value > high):
        _fail(key, value, allowed)


def check_tracking(tracking: DictConfig) -> str:
    """Validate `tracking.*` and return the resolved store URI (its folder made if needed)."""
    uri = tracking.uri
    check_tracking_uri(uri)
    if not tracking.experiment or not tracking.experiment.strip():
        _fail("tracking.experiment", tracking.experiment, "a non-empty name")
    return resolve_uri(uri)


def check_training(cfg: DictConfig) -> None:
    """Check `data`, `model`, `trainer` and `seed` exactly as `scratchnet-train` does."""
    full = OmegaConf.merge(
        OmegaConf.structured(Config),
        {"data": cfg.data, "model": cfg.model, "trainer": cfg.trainer, "seed": cfg.seed},
    )
    full.tracking.enabled = False
    validate_config(full)


def check_loss_functions(cfg: DictConfig) -> None:
    """Same-length outputs, a label inside them, delta >= 0, at least two plot points."""
    if len(cfg.y1) != len(cfg.y2) or len(cfg.y1) < 2:
        _fail("y2", list(cfg.y2), f"a list as long as y1 ({len(cfg.y1)} >= 2 values)")
    for key in ("y1", "y2"):
        for i, v in enumerate(cfg[key]):
            if not _is_number(v) or not 0 <= v <= 1:
                _fail(f"{key}[{i}]", v, "a probability in [0, 1]")
    check_count("label", cfg.label, 0, len(cfg.y1) - 1)
    if not _is_number(cfg.delta) or cfg.delta < 0:
        _fail("delta", cfg.delta, "a finite number >= 0")
    check_count("points", cfg.points, 2)


def check_why_loss(cfg: DictConfig, shapes: dict[str, tuple[int, ...]] | None = None) -> None:
    """Training settings, and a weight that exists: `weight.param` and an index inside it."""
    check_training(cfg)
    w = cfg.weight
    check_choice("weight.param", w.param, PARAM_NAMES)
    check_positive("weight.span", w.span)
    check_count("weight.points", w.points, 3)
    if shapes is not None:
        shape = shapes[w.param]
        index = list(w.index)
        if len(index) != len(shape) or any(
            not 0 <= i < n for i, n in zip(index, shape, strict=True)
        ):
            bounds = ", ".join(f"0..{n - 1}" for n in shape)
            _fail("weight.index", index, f"[{bounds}] for {w.param} of shape {shape}")


def check_numerical_differentiation(cfg: DictConfig) -> None:
    """A known function, finite points, decades 0 <= first <= last <= 300, known dtypes."""
    check_choice("function", cfg.function, tuple(FUNCTIONS))
    check_finite("x", cfg.x)
    check_count("first_decade", cfg.first_decade, 0, 300)
    check_count("last_decade", cfg.last_decade, cfg.first_decade, 300)
    if not cfg.dtypes:
        _fail("dtypes", [], ", ".join(DTYPES))
    for d in cfg.dtypes:
        check_choice("dtypes", d, DTYPES)
    for x in cfg.tangent_at:
        check_finite("tangent_at", x)
    check_positive("tangent_h", cfg.tangent_h)
    bounds = list(cfg.plot_range)
    if len(bounds) != 2 or not all(_is_number(v) for v in bounds) or bounds[0] >= bounds[1]:
        _fail("plot_range", bounds, "[low, high] with low < high")


def check_gradient_field(cfg: DictConfig) -> None:
    """A grid with low < high and 2..100 points per axis."""
    g = cfg.grid
    check_finite("grid.low", g.low)
    check_finite("grid.high", g.high)
    if g.high <= g.low:
        _fail("grid.high", g.high, f"a number > grid.low ({g.low})")
    check_count("grid.points", g.points, 2, 100)


def check_gradient_descent(cfg: DictConfig) -> list[float]:
    """Positive learning rates, a 2-D start, thresholds; returns the lrs to run."""
    if cfg.lr is not None:
        check_positive("lr", cfg.lr)
        lrs = [cfg.lr]
    else:
        if not cfg.lrs:
            _fail("lrs", [], "a non-empty list of numbers > 0 (or set lr)")
        for lr in cfg.lrs:
            check_positive("lrs", lr)
        lrs = list(cfg.lrs)
    if len(cfg.init_x) != 2 or not all(_is_number(v) for v in cfg.init_x):
        _fail("init_x", list(cfg.init_x), "two finite numbers [x0, x1]")
    check_count("step_num", cfg.step_num, 1, 100_000)
    check_positive("converged_below", cfg.converged_below)
    if not _is_number(cfg.diverged_factor) or cfg.diverged_factor < 1:
        _fail("diverged_factor", cfg.diverged_factor, "a finite number >= 1")
    check_positive("plot_extent", cfg.plot_extent)
    return lrs


def check_gradient_check(cfg: DictConfig) -> None:
    """Sizes are non-empty [input, hidden, output, batch] lists of integers >= 1."""
    if not cfg.sizes:
        _fail("sizes", [], "a non-empty list of [input, hidden, output, batch]")
    for size in cfg.sizes:
        if len(size) != 4 or any(isinstance(v, bool) or v < 1 for v in size):
            _fail("sizes", list(size), "[input, hidden, output, batch], integers >= 1")
    check_positive("weight_init_std", cfg.weight_init_std)
    check_choice("activation", cfg.activation, ACTIVATIONS)
    check_count("seed", cfg.seed, 0)
    check_positive("timing.min_time", cfg.timing.min_time)
    check_count("timing.repeats", cfg.timing.repeats, 1)


def check_minibatch_loss(cfg: DictConfig) -> None:
    """The training settings, checked as `scratchnet-train` checks them."""
    check_training(cfg)
