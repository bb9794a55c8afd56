"""A run's data as MLflow dataset inputs: one per split, in its context (training, validation,
test), so the MLflow UI's Dataset column and the run page name what the run read.

Each split's digest is ours, the SHA-256 of all its arrays (`Dataset.split_digest`), cut to
the 36 characters MLflow's stores keep; the full one is in the profile beside the sizes.
MLflow's own (`mlflow.data.from_numpy`) hashes only the first 10,000 elements.
"""

import json

from mlflow.data.schema import TensorDatasetSchema
from mlflow.entities import Dataset as MlflowDataset
from mlflow.entities import DatasetInput, InputTag
from mlflow.types import Schema, TensorSpec

from scratchnet.data import Dataset
from scratchnet.tracking.names import DATASET_CONTEXT_TAG, DATASET_CONTEXTS

MLFLOW_DIGEST_LENGTH = 36  # mlflow.utils.validation.MAX_DATASET_DIGEST_SIZE
SOURCE_TYPE = "local"  # mlflow.data's LocalArtifactDatasetSource: {"uri": <path>}


def split_schema(data: Dataset, split: str) -> str:
    """The split's arrays as MLflow describes a NumPy dataset: pixels and labels as tensors."""
    pixels, labels = getattr(data, f"pixels_{split}"), getattr(data, f"t_{split}")
    schema = TensorDatasetSchema(
        features=Schema([TensorSpec(pixels.dtype, (-1, *pixels.shape[1:]), "pixels")]),
        targets=Schema([TensorSpec(labels.dtype, (-1, *labels.shape[1:]), "labels")]),
    )
    return json.dumps(schema.to_dict())


def split_input(data: Dataset, split: str) -> DatasetInput:
    """One split as a dataset input: its name, digest, sizes, schema, source and context."""
    digest = data.split_digest(split)
    pixels = getattr(data, f"pixels_{split}")
    profile = {
        "num_rows": int(pixels.shape[0]),
        "features_shape": list(pixels.shape),
        "scale": data.scale,
        "sha256": digest,
        "dataset_sha256": data.digest,
    }
    entity = MlflowDataset(
        name=f"{data.name}/{split}",
        digest=digest[:MLFLOW_DIGEST_LENGTH],
        source_type=SOURCE_TYPE,
        source=json.dumps({"uri": data.source}),
        schema=split_schema(data, split),
        profile=json.dumps(profile),
    )
    return DatasetInput(entity, tags=[InputTag(DATASET_CONTEXT_TAG, DATASET_CONTEXTS[split])])


def dataset_inputs(data: Dataset) -> list[DatasetInput]:
    """Training, validation (when there is one) and test, in that order."""
    return [split_input(data, split) for split, _, _ in data.splits()]
