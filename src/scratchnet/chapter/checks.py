"""Value checks of the chapter scripts' configs, in the vocabulary of `scratchnet.core.checks`.

Checks only read the config: the store is opened afterwards, by the script.
"""

from omegaconf import DictConfig, OmegaConf

from scratchnet.chapter.differentiation import FUNCTIONS
from scratchnet.config.schema import Config
from scratchnet.config.validate import check_tracking_uri, validate_config
from scratchnet.core.checks import (
    check_choice,
    check_finite,
    check_int,
    check_name,
    check_non_negative,
    check_positive,
    check_unit_interval,
    fail,
    is_number,
)
from scratchnet.nn import OPTIMIZERS
from scratchnet.nn.two_layer_net import ACTIVATIONS, DTYPE_NAMES, PARAM_NAMES


def check_tracking(tracking: DictConfig) -> None:
    """`tracking.uri` (None: the default store) and a non-empty `tracking.experiment`."""
    check_tracking_uri(tracking.uri)
    check_name("tracking.experiment", tracking.experiment)


def check_training(cfg: DictConfig) -> None:
    """Check `data`, `model`, `optimizer`, `trainer` and `seed` as `scratchnet-train` does."""
    full = OmegaConf.merge(
        OmegaConf.structured(Config),
        {
            "data": cfg.data,
            "model": cfg.model,
            "optimizer": cfg.optimizer,
            "trainer": cfg.trainer,
            "seed": cfg.seed,
        },
    )
    full.tracking.enabled = False
    validate_config(full)


def check_loss_functions(cfg: DictConfig) -> None:
    """Same-length outputs, a label inside them, delta >= 0, at least two plot points."""
    if len(cfg.y1) != len(cfg.y2) or len(cfg.y1) < 2:
        fail("y2", list(cfg.y2), f"a list as long as y1 ({len(cfg.y1)} >= 2 values)")
    for key in ("y1", "y2"):
        for i, v in enumerate(cfg[key]):
            check_unit_interval(f"{key}[{i}]", v)
    check_int("label", cfg.label, 0, len(cfg.y1) - 1)
    check_non_negative("delta", cfg.delta)
    check_int("points", cfg.points, 2)


def check_why_loss(cfg: DictConfig, shapes: dict[str, tuple[int, ...]] | None = None) -> None:
    """Training settings, and a weight that exists: `weight.param` and an index inside it."""
    check_training(cfg)
    w = cfg.weight
    check_choice("weight.param", w.param, PARAM_NAMES)
    check_positive("weight.span", w.span)
    check_int("weight.points", w.points, 3)
    if shapes is not None:
        shape = shapes[w.param]
        index = list(w.index)
        if len(index) != len(shape) or any(
            not 0 <= i < n for i, n in zip(index, shape, strict=True)
        ):
            bounds = ", ".join(f"0..{n - 1}" for n in shape)
            fail("weight.index", index, f"[{bounds}] for {w.param} of shape {shape}")


def check_numerical_differentiation(cfg: DictConfig) -> None:
    """A known function, finite points, decades 0 <= first <= last <= 300, known dtypes."""
    check_choice("function", cfg.function, tuple(FUNCTIONS))
    check_finite("x", cfg.x)
    check_int("first_decade", cfg.first_decade, 0, 300)
    check_int("last_decade", cfg.last_decade, cfg.first_decade, 300)
    if not cfg.dtypes:
        fail("dtypes", [], ", ".join(DTYPE_NAMES))
    for d in cfg.dtypes:
        check_choice("dtypes", d, DTYPE_NAMES)
    for x in cfg.tangent_at:
        check_finite("tangent_at", x)
    check_positive("tangent_h", cfg.tangent_h)
    bounds = list(cfg.plot_range)
    if len(bounds) != 2 or not all(is_number(v) for v in bounds) or bounds[0] >= bounds[1]:
        fail("plot_range", bounds, "[low, high] with low < high")


def check_gradient_field(cfg: DictConfig) -> None:
    """A grid with low < high and 2..100 points per axis."""
    g = cfg.grid
    check_finite("grid.low", g.low)
    check_finite("grid.high", g.high)
    if g.high <= g.low:
        fail("grid.high", g.high, f"a number > grid.low ({g.low})")
    check_int("grid.points", g.points, 2, 100)


def check_gradient_descent(cfg: DictConfig) -> list[float]:
    """Positive learning rates, a 2-D start, thresholds; returns the lrs to run."""
    if cfg.lr is not None:
        check_positive("lr", cfg.lr)
        lrs = [cfg.lr]
    else:
        if not cfg.lrs:
            fail("lrs", [], "a non-empty list of numbers > 0 (or set lr)")
        for lr in cfg.lrs:
            check_positive("lrs", lr)
        lrs = list(cfg.lrs)
    if len(cfg.init_x) != 2 or not all(is_number(v) for v in cfg.init_x):
        fail("init_x", list(cfg.init_x), "two finite numbers [x0, x1]")
    check_int("step_num", cfg.step_num, 1, 100_000)
    check_positive("converged_below", cfg.converged_below)
    if not is_number(cfg.diverged_factor) or cfg.diverged_factor < 1:
        fail("diverged_factor", cfg.diverged_factor, "a finite number >= 1")
    check_positive("plot_extent", cfg.plot_extent)
    return lrs


def check_gradient_check(cfg: DictConfig) -> None:
    """Sizes are non-empty [input, hidden, output, batch] lists of integers >= 1."""
    if not cfg.sizes:
        fail("sizes", [], "a non-empty list of [input, hidden, output, batch]")
    for size in cfg.sizes:
        if len(size) != 4 or any(isinstance(v, bool) or v < 1 for v in size):
            fail("sizes", list(size), "[input, hidden, output, batch], integers >= 1")
    check_positive("weight_init_std", cfg.weight_init_std)
    check_choice("activation", cfg.activation, tuple(ACTIVATIONS))
    check_int("seed", cfg.seed, 0)
    check_positive("timing.min_time", cfg.timing.min_time)
    check_int("timing.repeats", cfg.timing.repeats, 1)


def check_minibatch_loss(cfg: DictConfig) -> None:
    """The training settings, checked as `scratchnet-train` checks them."""
    check_training(cfg)


def _check_range(key: str, bounds: list) -> None:
    if len(bounds) != 2 or not all(is_number(v) for v in bounds) or bounds[0] >= bounds[1]:
        fail(key, bounds, "[low, high] with low < high")


def check_optimizer_paths(cfg: DictConfig) -> None:
    """Known optimizers at lrs > 0, a 2-D start, 1..10,000 steps, and plot windows."""
    if not cfg.lrs:
        fail("lrs", {}, f"optimizer: lr pairs, optimizers among {', '.join(OPTIMIZERS)}")
    for name, lr in cfg.lrs.items():
        check_choice("lrs", name, tuple(OPTIMIZERS))
        check_positive(f"lrs.{name}", lr)
    if len(cfg.start) != 2 or not all(is_number(v) for v in cfg.start):
        fail("start", list(cfg.start), "two finite numbers [x, y]")
    check_int("steps", cfg.steps, 1, 10_000)
    _check_range("x_range", list(cfg.x_range))
    _check_range("y_range", list(cfg.y_range))
