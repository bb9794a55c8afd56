"""A tqdm progress bar over epochs that shows the latest accuracies."""

import sys
from collections.abc import Mapping

from tqdm.auto import tqdm

from scratchnet.training.callbacks import Callback, TrainResult
from scratchnet.training.plan import TrainPlan


class ProgressBar(Callback):
    """One bar per run, advanced per epoch, with train/test accuracy as its postfix."""

    def __init__(self, description: str = "train", enabled: bool = True) -> None:
        self.description = description
        self.enabled = enabled and sys.stderr is not None
        self._bar: tqdm | None = None

    def on_train_begin(self, plan: TrainPlan) -> None:
        if self.enabled:
            self._bar = tqdm(total=plan.epochs, desc=self.description, unit="epoch", leave=True)

    def on_epoch_end(self, epoch: int, metrics: Mapping[str, float]) -> None:
        if self._bar is None:
            return
        if epoch > 0:
            self._bar.update(1)
        self._bar.set_postfix(
            train_acc=f"{metrics['train_acc']:.4f}",
            test_acc=f"{metrics['test_acc']:.4f}",
            test_loss=f"{metrics['test_loss']:.4f}",
        )

    def on_train_end(self, result: TrainResult) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
