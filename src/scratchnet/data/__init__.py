"""Datasets for scratchnet: IDX reading/writing and one loader for digits, MNIST, Fashion-MNIST."""

from scratchnet.data.dataset import Dataset, load_dataset
from scratchnet.data.idx import read_idx, write_idx
from scratchnet.data.registry import DATASETS

__all__ = ["DATASETS", "Dataset", "load_dataset", "read_idx", "write_idx"]
