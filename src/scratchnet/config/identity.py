"""A run's identity: the config that defines what it computes, its hash, params and name."""

import hashlib
import json
from typing import Any

from omegaconf import DictConfig, OmegaConf

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
    `lr=0.1 bs=100 h=50 seed=0` (with `n=<train_size>` when the training set is subset)."""
    if cfg.tracking.run_name:
        return str(cfg.tracking.run_name)
    t = cfg.trainer
    parts = [f"lr={t.lr:g}", f"bs={t.batch_size}", f"h={cfg.model.hidden_size}"]
    if cfg.data.train_size is not None:
        parts.append(f"n={cfg.data.train_size}")
    parts.append(f"seed={cfg.seed}")
    return " ".join(parts)
