"""Inference with a trained net, and why batches: the test set predicted one image at a time,
then in batches of 1, 10, 100 and 1000, gives the same labels, many times faster per image.

The net is an MLflow run's model (`scratchnet.load_net`): `source.run_id`, else the newest
finished run of `source.experiment` (seed_mnist), else one trained here with `source.train`.
Metrics, step = batch size: `seconds_per_image`, `seconds`, `speedup` (per image, over one at
a time), `accuracy`; one image at a time: `*.one_at_a_time`; `speedup.png`.
"""

import logging

import hydra
from hydra import compose
from omegaconf import DictConfig
from threadpoolctl import threadpool_limits

from scratchnet.chapter import figures
from scratchnet.chapter.checks import check_batch_inference
from scratchnet.chapter.inference import (
    ONE_AT_A_TIME,
    Timing,
    same_predictions,
    speedup,
    time_inference,
)
from scratchnet.cli.chapter import CONFIG_PATH, chapter_run, checked, config_name, tracked_store
from scratchnet.config import load_data, register_configs
from scratchnet.core.errors import ConfigError
from scratchnet.data import Dataset
from scratchnet.nn import TwoLayerNet
from scratchnet.tracking.models import latest_model_run, load_net, run_config
from scratchnet.tracking.recorder import RunRecorder
from scratchnet.tracking.run import run as train_run

NAME = "batch_inference"
SINGLE = "one_at_a_time"
log = logging.getLogger("scratchnet")


def trained_source(uri: str, cfg: DictConfig) -> str:
    """Train the source net with scratchnet-train's config and `source.train`; its run id."""
    register_configs()
    root = [f"data.root={cfg.data_root}"] if cfg.data_root else []
    overrides = [*cfg.source.train, *root, f"tracking.uri={uri}", "trainer.progress=false"]
    log.info("no run with a model in experiment %r: training one (%s)", cfg.source.experiment,
             " ".join(cfg.source.train))  # fmt: skip
    outcome = train_run(compose("config", overrides=overrides), overrides=overrides, source=NAME)
    if outcome.model_uri is None or outcome.run_id is None:
        raise ConfigError(f"the run trained with source.train={list(cfg.source.train)} diverged")
    return outcome.run_id


def source_net(uri: str, cfg: DictConfig) -> tuple[str, TwoLayerNet, Dataset]:
    """The source run's id, its net, and its data (read from `data_root` when given)."""
    run_id = cfg.source.run_id or latest_model_run(uri, cfg.source.experiment)
    run_id = run_id or trained_source(uri, cfg)
    net = load_net(run_id, uri)
    run_cfg = run_config(uri, run_id)
    if cfg.data_root:
        run_cfg.data.root = cfg.data_root
    data = load_data(run_cfg)
    if data.input_size != net.params["W1"].shape[0]:
        raise ConfigError(
            f"data_root={cfg.data_root} holds {data.input_size} features per image, the net of "
            f"run {run_id} takes {net.params['W1'].shape[0]} (allowed: the run's data)"
        )
    return run_id, net, data


def log_timings(run: RunRecorder, single: Timing, batched: list[Timing]) -> None:
    """Each batch size's numbers at step = batch size; one at a time's as `*.one_at_a_time`."""
    run.log_metrics(
        {f"seconds_per_image.{SINGLE}": single.seconds_per_image,
         f"seconds.{SINGLE}": single.seconds, f"accuracy.{SINGLE}": single.accuracy}
    )  # fmt: skip
    for t in batched:
        numbers = {"seconds_per_image": t.seconds_per_image, "seconds": t.seconds,
                   "speedup": speedup(single, t), "accuracy": t.accuracy}  # fmt: skip
        run.log_metrics(numbers, step=t.batch_size)
    run.set_tags({"same_predictions": str(same_predictions([single, *batched])).lower()})
    run.log_figures({"speedup": figures.speedup_figure(single, batched)})


@hydra.main(version_base="1.3", config_path=CONFIG_PATH, config_name=config_name(NAME))
def main(cfg: DictConfig) -> None:
    """Load (or train) the net, time its predictions each way, record them in one run."""
    checked(NAME, lambda: check_batch_inference(cfg))
    uri = tracked_store(NAME, cfg.tracking)
    run_id, net, data = checked(NAME, lambda: source_net(uri, cfg))
    x, t = data.x_test, data.t_test
    with (
        chapter_run(uri, cfg, NAME, params={"source.run": run_id}) as run,
        threadpool_limits(cfg.threads),
    ):
        single = time_inference(net, x, t, ONE_AT_A_TIME, cfg.repeats)
        batched = [time_inference(net, x, t, b, cfg.repeats) for b in cfg.batch_sizes]
        log_timings(run, single, batched)
    log.info("net of run %s, %d test images (%s):", run_id, len(t), data.name)
    for timing in (single, *batched):
        size = SINGLE.replace("_", " ") if timing.batch_size == ONE_AT_A_TIME else timing.batch_size
        log.info(
            "  batch %-14s %9.2f us/image  %8.4f s  x%-7.1f accuracy %.4f",
            size, 1e6 * timing.seconds_per_image, timing.seconds, speedup(single, timing),
            timing.accuracy,
        )  # fmt: skip
