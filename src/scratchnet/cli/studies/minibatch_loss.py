"""The chapter's training loop per iteration: every mini-batch's loss against the epoch-level
train and test loss, showing the noise of stochastic gradient descent.

Metrics share one x axis, step = updates the weights have had: `batch_loss` (measured just
before the batch's update; streamed after each epoch, <= 1000 per log_batch call) and
`train_loss`, `val_loss`, `test_loss`, `train_acc`, `val_acc`, `test_acc` at each epoch's end
(epoch 0 at step 0; the val_ ones when there is a validation split).
"""

import logging

import hydra
from omegaconf import DictConfig

from scratchnet.chapter import figures
from scratchnet.chapter.checks import check_minibatch_loss
from scratchnet.chapter.minibatch import (
    EpochHook,
    EpochPoint,
    batch_loss_noise,
    train_recording_batches,
)
from scratchnet.cli.chapter import (
    CONFIG_PATH,
    chapter_run,
    checked,
    config_name,
    task_overrides,
    tracked_store,
)
from scratchnet.config import build_net, check_batch_size, load_data, train_options
from scratchnet.tracking.recorder import RunRecorder

NAME = "minibatch_loss"
SPLIT_METRICS = ("train_loss", "val_loss", "test_loss", "train_acc", "val_acc", "test_acc")
log = logging.getLogger("scratchnet")


def streamer(run: RunRecorder) -> EpochHook:
    """Log an epoch's new batch losses (step = iteration) and its metrics as it ends."""

    def on_epoch(point: EpochPoint, new_losses: list[float]) -> None:
        run.log_series("batch_loss", new_losses, first_step=point.iteration - len(new_losses))
        shown = {k: point.metrics[k] for k in SPLIT_METRICS if k in point.metrics}
        run.log_metrics(shown, step=point.iteration)

    return on_epoch


@hydra.main(version_base="1.3", config_path=CONFIG_PATH, config_name=config_name(NAME))
def main(cfg: DictConfig) -> None:
    """Train with the chapter's loop, streaming batch and epoch losses to one run."""
    checked(NAME, lambda: check_minibatch_loss(cfg))
    uri = tracked_store(NAME, cfg.tracking)
    data = checked(NAME, lambda: load_data(cfg))
    checked(NAME, lambda: check_batch_size(cfg.trainer.batch_size, data.train_size))
    net = build_net(cfg, data)
    with chapter_run(uri, cfg, NAME, overrides=task_overrides()) as run:
        result = train_recording_batches(
            net,
            data,
            **train_options(cfg),
            on_epoch=streamer(run),
        )
        last = result.points[-1]
        run.log_series("batch_loss", result.batch_losses[last.iteration :], last.iteration)
        spread = batch_loss_noise(result)
        run.log_metrics({"batch_loss_std.last_epoch": spread}, step=result.iterations)
        run.set_tags({"diverged": str(result.diverged_at is not None).lower()})
        figure = figures.minibatch_figure(result.batch_losses, result.points)
        run.log_figures({"minibatch_loss": figure})
    log.info(
        "%d iterations, %d epochs: train loss %.4f, test loss %.4f, test acc %.4f; "
        "batch loss std over the last epoch %.4f",
        result.iterations,
        last.epoch,
        last.metrics["train_loss"],
        last.metrics["test_loss"],
        last.metrics["test_acc"],
        spread,
    )
    if result.diverged_at is not None:
        log.warning("diverged at epoch %d", result.diverged_at)
