"""A tqdm progress bar over epochs that shows the latest accuracies."""

import sys
from collections.abc import Mapping

from tqdm.auto import tqdm

from scratchnet.training.callbacks import Callback, TrainResult
from scratchnet.training.plan import TrainPlan


class ProgressBar(Callback):
    """One bar per run, advanced per epoch, with the accuracies it is judged by as its postfix
    (train and validation; train and test when there is no validation split)."""

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
        shown = [k for k in ("train_acc", "val_acc", "val_loss") if k in metrics]
        shown = shown if "val_acc" in metrics else ["train_acc", "test_acc", "test_loss"]
        self._bar.set_postfix({k: f"{metrics[k]:.4f}" for k in shown})

    def on_train_end(self, result: TrainResult) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
