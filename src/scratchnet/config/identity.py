"""A run's identity: the config that defines what it computes, its hash, params and name."""

import hashlib
import json
from typing import Any

from omegaconf import DictConfig, OmegaConf

from scratchnet.config.schema import OPTIMIZER_SCHEMAS, ModelConfig

# Settings that change how a run is recorded or shown, not what it computes.
NON_IDENTITY_KEYS = ("tracking", "sweep", "trainer.progress")


def identity(cfg: DictConfig) -> dict[str, Any]:
    """The resolved config minus the settings that do not change what a run computes."""
    resolved = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(resolved, dict)
    plain: dict[str, Any] = {str(k): v for k, v in resolved.items()}
    for dotted in NON_IDENTITY_KEYS:
        *parents, leaf = dotted.split(".")
        node = plain
        for p in parents:
            node = node.get(p, {})
        node.pop(leaf, None)
    return plain


def config_hash(cfg: DictConfig) -> str:
    """SHA-256 of `identity(cfg)`: two runs with the same hash compute the same thing."""
    text = json.dumps(identity(cfg), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def flatten(cfg: DictConfig) -> dict[str, str]:
    """Dotted key -> string value of every leaf of the resolved config (MLflow params)."""
    out: dict[str, str] = {}

    def walk(node: Any, prefix: str) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, f"{prefix}{k}.")
        else:
            out[prefix[:-1]] = "None" if node is None else str(node)

    walk(OmegaConf.to_container(cfg, resolve=True), "")
    return out


def run_name(cfg: DictConfig) -> str:
    """`tracking.run_name`, else a name that tells a sweep's runs apart in the UI:
    `lr=0.1 bs=100 h=50 seed=0`, with `n=<train_size>` when the training set is subset and
    each lever that is not at its default (`opt=adam wd=0.01 drop=0.5 init=he act=relu`)."""
    if cfg.tracking.run_name:
        return str(cfg.tracking.run_name)
    t = cfg.trainer
    parts = [f"lr={t.lr:g}", f"bs={t.batch_size}", f"h={cfg.model.hidden_size}"]
    if cfg.data.train_size is not None:
        parts.append(f"n={cfg.data.train_size}")
    parts += lever_parts(cfg)
    parts.append(f"seed={cfg.seed}")
    return " ".join(parts)


def lever_parts(cfg: DictConfig) -> list[str]:
    """The run name's parts for the levers away from their defaults: the optimizer (with any
    hyperparameter not the book's), weight decay, dropout, initialisation and activation."""
    m, o, default = cfg.model, cfg.optimizer, ModelConfig()
    parts = []
    if o.name != "sgd":
        schema = OPTIMIZER_SCHEMAS.get(o.name)
        book = vars(schema()) if schema else {}
        moved = [f"{k}={o[k]:g}" for k in o if k not in ("name", "book_lr") and o[k] != book.get(k)]
        parts.append(f"opt={o.name}" + (f"({','.join(moved)})" if moved else ""))
    if m.weight_decay_lambda != default.weight_decay_lambda:
        parts.append(f"wd={m.weight_decay_lambda:g}")
    if m.dropout_ratio != default.dropout_ratio:
        parts.append(f"drop={m.dropout_ratio:g}")
    if m.weight_init_std != default.weight_init_std:
        init = m.weight_init_std
        parts.append(f"init={init}" if isinstance(init, str) else f"init={init:g}")
    if m.activation != default.activation:
        parts.append(f"act={m.activation}")
    return parts
