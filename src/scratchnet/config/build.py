"""From a composed config to the objects a run trains: dataset, net and `train()` options.

No MLflow here: building a net is the same with tracking on or off.
"""

from typing import Any

import numpy as np
from omegaconf import DictConfig

from scratchnet.data import Dataset, load_dataset
from scratchnet.nn import TwoLayerNet
from scratchnet.training.stopping import EarlyStopping

# The initial weights come from SeedSequence(seed, spawn_key=(0,)); the batches use key 1 and
# the dropout masks key 2 (scratchnet.training.loop, where the other keys are listed).
NET_SEED_KEY = 0


def load_data(cfg: DictConfig) -> Dataset:
    """The dataset `cfg.data` names, with the train subset `data.train_size` if set."""
    d = cfg.data
    return load_dataset(
        d.name,
        root=d.root,
        cache_dir=d.cache_dir,
        train_size=d.train_size,
        seed=cfg.seed,
        normalize=d.normalize,
        test_fraction=d.test_fraction,
        val_fraction=d.val_fraction,
    )


def build_net(cfg: DictConfig, data: Dataset) -> TwoLayerNet:
    """TwoLayerNet sized for `data`, initialised from `seed` (its spawn key 0)."""
    m = cfg.model
    rng = np.random.default_rng(np.random.SeedSequence(cfg.seed, spawn_key=(NET_SEED_KEY,)))
    return TwoLayerNet(
        data.input_size,
        m.hidden_size,
        data.num_classes,
        weight_init_std=m.weight_init_std,
        activation=m.activation,
        dtype=np.dtype(m.dtype).type,
        rng=rng,
        weight_decay_lambda=m.weight_decay_lambda,
        dropout_ratio=m.dropout_ratio,
    )


def optimizer_options(o: DictConfig) -> dict[str, float]:
    """The optimizer's hyperparameters beside lr (momentum, decay_rate, beta1, beta2)."""
    return {str(k): float(v) for k, v in o.items() if k not in ("name", "book_lr")}


def train_options(cfg: DictConfig) -> dict[str, Any]:
    """`train()`'s keyword arguments from `cfg.trainer`, `cfg.optimizer` and `seed`."""
    t = cfg.trainer
    return {
        "lr": t.lr,
        "optimizer": cfg.optimizer.name,
        "optimizer_options": optimizer_options(cfg.optimizer),
        "batch_loss": t.batch_loss,
        "batch_size": t.batch_size,
        "epochs": t.epochs,
        "iters_num": t.iters_num,
        "sampling": t.sampling,
        "seed": cfg.seed,
        "eval_chunk_size": t.eval_chunk_size,
        "divergence_factor": t.divergence_factor,
        "divergence_patience": t.divergence_patience,
        "early_stopping": early_stopping(t.early_stopping),
    }


def early_stopping(e: DictConfig) -> EarlyStopping | None:
    """The trainer's early stopping from `trainer.early_stopping` (None when patience is null)."""
    if e.patience is None:
        return None
    return EarlyStopping(patience=e.patience, min_delta=e.min_delta, restore_best=e.restore_best)
