"""A sweep read back and diagnosed: what every report section, figure and export is made of.

`every` holds each run read (the sweep's children and the runs it reused), diagnosed; `diag`
is its current attempts, the runs every table and figure counts; `superseded` the attempts a
later attempt of the same configuration replaced (listed apart, counted nowhere).
"""

from dataclasses import dataclass

import pandas as pd

from scratchnet.analysis.diagnosis import DEFAULT_THRESHOLDS
from scratchnet.analysis.tables import diagnose_runs
from scratchnet.analysis.thresholds import Thresholds
from scratchnet.tracking.frames import Sweep, SweepData, current_attempts, superseded_attempts


@dataclass(frozen=True)
class Study:
    """A diagnosed sweep (or single run): the store's frames and the diagnosis of its runs."""

    data: SweepData
    every: pd.DataFrame
    diag: pd.DataFrame
    superseded: pd.DataFrame
    thresholds: Thresholds
    is_sweep: bool = True  # False: a one-run report, whose `sweep` is the run itself

    @property
    def sweep(self) -> Sweep:
        """The parent run (or, for a one-run report, the run)."""
        return self.data.sweep

    @property
    def history(self) -> pd.DataFrame:
        """One row per run and epoch, every run read."""
        return self.data.history


def analyse(
    data: SweepData, thresholds: Thresholds = DEFAULT_THRESHOLDS, is_sweep: bool = True
) -> Study:
    """Diagnose every run of `data` and split off the superseded attempts."""
    every = diagnose_runs(data.runs, data.history, thresholds)
    current = current_attempts(every).reset_index(drop=True)
    gone = superseded_attempts(every).reset_index(drop=True)
    return Study(data, every, current, gone, thresholds, is_sweep)
