"""Why the chapter learns on the loss, not the accuracy: move one weight of a trained net.

Accuracy only changes when some example's predicted class flips, so its finite-difference
derivative is exactly 0 at almost every point; the loss's never is.
"""

import logging

import hydra
from omegaconf import DictConfig

from scratchnet.chapter import figures
from scratchnet.chapter.checks import check_why_loss
from scratchnet.chapter.landscape import flat_fraction, sweep_weight
from scratchnet.cli.chapter import (
    CONFIG_PATH,
    chapter_run,
    checked,
    config_name,
    task_overrides,
    tracked_store,
)
from scratchnet.config import build_net, check_batch_size, load_data, train_options
from scratchnet.training import train

NAME = "why_loss_not_accuracy"
log = logging.getLogger("scratchnet")


@hydra.main(version_base="1.3", config_path=CONFIG_PATH, config_name=config_name(NAME))
def main(cfg: DictConfig) -> None:
    """Train briefly, sweep the chosen weight over the training set, record both curves."""
    checked(NAME, lambda: check_why_loss(cfg))
    uri = tracked_store(NAME, cfg.tracking)
    data = checked(NAME, lambda: load_data(cfg))
    checked(NAME, lambda: check_batch_size(cfg.trainer.batch_size, data.train_size))
    net = build_net(cfg, data)
    shapes = {k: v.shape for k, v in net.params.items()}
    checked(NAME, lambda: check_why_loss(cfg, shapes))
    w = cfg.weight
    with chapter_run(uri, cfg, NAME, overrides=task_overrides()) as run:
        result = train(
            net,
            data,
            **train_options(cfg),
        )
        trained = result.history[-1]
        sweep = sweep_weight(net, data.x_train, data.t_train, w.param, w.index, w.span, w.points)
        flat = {
            "loss_flat_fraction": flat_fraction(sweep.losses, sweep.values),
            "accuracy_flat_fraction": flat_fraction(sweep.accuracies, sweep.values),
        }
        run.log_metrics(
            {
                **flat,
                "trained_train_loss": trained["train_loss"],
                "trained_train_acc": trained["train_acc"],
                "trained_weight": sweep.trained_value,
            }
        )
        run.set_tags({"diverged": str(result.diverged).lower()})
        run.log_figures({"loss_vs_accuracy": figures.weight_sweep_figure(sweep)})
    log.info(
        "trained %d iterations: train loss %.4f, accuracy %.4f",
        result.iterations,
        trained["train_loss"],
        trained["train_acc"],
    )
    log.info(
        "%s%s over %d values: the finite-difference slope is exactly 0 at %.1f%% of steps "
        "for accuracy, %.1f%% for the loss",
        w.param,
        list(w.index),
        w.points,
        100 * flat["accuracy_flat_fraction"],
        100 * flat["loss_flat_fraction"],
    )
