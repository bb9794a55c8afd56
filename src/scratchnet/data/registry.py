"""The registered datasets: their shapes, classes, pixel range, mirrors and checksums."""

from collections.abc import Mapping
from dataclasses import dataclass

from scratchnet.core.checks import check_choice

IDX_STEMS = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


@dataclass(frozen=True)
class DatasetSpec:
    """What a registered dataset looks like and, for IDX datasets, where to fetch it."""

    name: str
    image_shape: tuple[int, int]
    num_classes: int
    max_value: int
    mirrors: tuple[str, ...] = ()
    sha256: Mapping[str, str] | None = None
    root_example: str = "/path/to/idx/folder"
    # A folder a system package installs the four IDX files into, read when it exists.
    system_dir: str | None = None
    system_package: str | None = None

    @property
    def is_idx(self) -> bool:
        """True when the data comes as the four MNIST-style IDX files."""
        return self.sha256 is not None

    def checksum(self, stem: str) -> str:
        """The SHA-256 of IDX file `stem`'s decompressed payload."""
        if self.sha256 is None:
            raise ValueError(f"{self.name} has no IDX files")
        return self.sha256[stem]


DATASETS: dict[str, DatasetSpec] = {
    "digits": DatasetSpec(name="digits", image_shape=(8, 8), num_classes=10, max_value=16),
    "mnist": DatasetSpec(
        name="mnist",
        image_shape=(28, 28),
        num_classes=10,
        max_value=255,
        mirrors=(
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
        ),
        sha256={
            "train-images-idx3-ubyte": (
                "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"
            ),
            "train-labels-idx1-ubyte": (
                "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"
            ),
            "t10k-images-idx3-ubyte": (
                "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"
            ),
            "t10k-labels-idx1-ubyte": (
                "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"
            ),
        },
        root_example="/usr/share/datasets/mnist",
    ),
    "fashion_mnist": DatasetSpec(
        name="fashion_mnist",
        image_shape=(28, 28),
        num_classes=10,
        max_value=255,
        mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        sha256={
            "train-images-idx3-ubyte": (
                "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"
            ),
            "train-labels-idx1-ubyte": (
                "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"
            ),
            "t10k-images-idx3-ubyte": (
                "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"
            ),
            "t10k-labels-idx1-ubyte": (
                "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"
            ),
        },
        root_example="/usr/share/datasets/fashion-mnist",
        system_dir="/usr/share/datasets/fashion-mnist",
        system_package="dataset-fashion-mnist",  # Debian's
    ),
}


def get_spec(name: str) -> DatasetSpec:
    """The registered spec of `name`, else ConfigError listing the known datasets."""
    return DATASETS[check_choice("data.name", name, tuple(sorted(DATASETS)))]
