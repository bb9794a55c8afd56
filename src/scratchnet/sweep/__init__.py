"""Hydra multiruns as MLflow sweeps: identity, pre-flight check, parent run, jobs, sweepers."""
