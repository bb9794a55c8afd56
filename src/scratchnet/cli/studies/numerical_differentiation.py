"""Forward vs central difference error against h in float64 and float32, and tangent lines.

Truncation error falls as h shrinks until rounding error takes over; in float32 h = 1e-50
rounds to 0 and the estimate is 0/0. Metrics: best h and smallest error per method and dtype,
the error at every h (step k for h = 10^-k) and the tangents' slopes.
"""

import logging

import hydra
import numpy as np
from omegaconf import DictConfig

from scratchnet.chapter import differentiation as nd
from scratchnet.chapter import figures
from scratchnet.chapter.checks import check_numerical_differentiation
from scratchnet.cli.chapter import (
    CONFIG_PATH,
    chapter_run,
    checked,
    config_name,
    task_overrides,
    tracked_store,
)

NAME = "numerical_differentiation"
log = logging.getLogger("scratchnet")


@hydra.main(version_base="1.3", config_path=CONFIG_PATH, config_name=config_name(NAME))
def main(cfg: DictConfig) -> None:
    """Errors of both methods in each dtype for every h, and the tangent lines, in one run."""
    checked(NAME, lambda: check_numerical_differentiation(cfg))
    uri = tracked_store(NAME, cfg.tracking)
    f, df = nd.FUNCTIONS[cfg.function]
    hs = nd.decade_steps(cfg.first_decade, cfg.last_decade)
    exact = df(cfg.x)
    with chapter_run(uri, cfg, NAME, overrides=task_overrides()) as run:
        errors = {}
        for method in nd.METHODS:
            for dtype in cfg.dtypes:
                values = nd.estimates(f, cfg.x, hs, method, dtype)
                err = nd.abs_errors(values, exact)
                errors[method, dtype] = err
                best = nd.best_step(hs, err)
                key = f"{method}.{dtype}"
                run.log_series(f"error.{key}", err, first_step=cfg.first_decade)
                run.log_metrics({f"best_h.{key}": best.h, f"min_error.{key}": best.error})
                run.set_tags({f"estimate_at_smallest_h.{key}": values[-1]})
                log.info(
                    "%-7s %-7s best h=%.0e error=%.3g; at h=%.0e the estimate is %s",
                    method,
                    dtype,
                    best.h,
                    best.error,
                    hs[-1],
                    values[-1],
                )
        tangents = [nd.tangent(f, x0, cfg.tangent_h) for x0 in cfg.tangent_at]
        run.log_metrics({f"slope_at_{t.x0:g}": t.slope for t in tangents})
        run.set_tags({"float32_of_smallest_h": repr(float(np.float32(hs[-1])))})
        low, high = cfg.plot_range
        run.log_figures(
            {
                "error_vs_h": figures.error_vs_h_figure(hs, errors, exact),
                "tangent_lines": figures.tangent_figure(f, low, high, tangents),
            }
        )
    for t in tangents:
        log.info("tangent at x=%g: slope %.6f (exact %.6f)", t.x0, t.slope, df(t.x0))
