"""Gradient check: backprop vs numerical gradients of TwoLayerNet, and the cost of the latter.

Per size (step = its position in `sizes`): max relative error per parameter against the
chapter's numerical gradient and against the delta-free one, seconds per gradient each way
and the slowdown numerical / backprop.
"""

import logging

import hydra
from omegaconf import DictConfig

from scratchnet.chapter import figures
from scratchnet.chapter.checks import check_gradient_check
from scratchnet.chapter.gradcheck import check_size, sizes_from
from scratchnet.cli.chapter import (
    CONFIG_PATH,
    chapter_run,
    checked,
    config_name,
    task_overrides,
    tracked_store,
)

NAME = "gradient_check"
log = logging.getLogger("scratchnet")


@hydra.main(version_base="1.3", config_path=CONFIG_PATH, config_name=config_name(NAME))
def main(cfg: DictConfig) -> None:
    """Check and time every size in one run; a figure of errors and slowdowns."""
    checked(NAME, lambda: check_gradient_check(cfg))
    uri = tracked_store(NAME, cfg.tracking)
    with chapter_run(uri, cfg, NAME, overrides=task_overrides()) as run:
        checks = []
        for step, size in enumerate(sizes_from(cfg.sizes)):
            c = check_size(
                size,
                cfg.weight_init_std,
                cfg.activation,
                cfg.seed,
                cfg.timing.min_time,
                cfg.timing.repeats,
            )
            checks.append(c)
            metrics = {f"max_rel_error.{k}": v for k, v in c.errors.items()}
            metrics |= {f"max_rel_error_no_delta.{k}": v for k, v in c.errors_without_delta.items()}
            metrics |= {
                "num_params": size.num_params,
                "numerical_ms": 1000 * c.numerical_s,
                "backprop_ms": 1000 * c.backprop_s,
                "slowdown": c.slowdown,
            }
            run.log_metrics(metrics, step=step)
            run.set_tags({f"size.{step}": size.label})
            errors = " ".join(f"{k}={v:.1e}" for k, v in c.errors.items())
            bare = " ".join(f"{k}={v:.1e}" for k, v in c.errors_without_delta.items())
            log.info(
                "%s: max rel error %s (without delta: %s); numerical %.0fx slower",
                size.label,
                errors,
                bare,
                c.slowdown,
            )
        worst = max(max(c.errors.values()) for c in checks)
        run.log_metrics({"worst_rel_error": worst})
        run.log_figures({"gradient_check": figures.gradcheck_figure(checks)})
