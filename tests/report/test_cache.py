"""A report rebuilt into its folder draws only the figures whose inputs changed."""

import shutil

import pandas as pd
import pytest

from scratchnet.analysis.diagnosis import DEFAULT_THRESHOLDS
from scratchnet.analysis.thresholds import Thresholds
from scratchnet.report.build import build_report
from scratchnet.report.cache import CACHE_FILE, FigureCache, frames_digest

FIGURES = {
    "learning_curves",
    "heatmaps",
    "gap_vs_hidden",
    "lr_sensitivity",
    "parallel_coordinates",
    "importance",
}


@pytest.fixture(scope="module")
def first(trained_store, tmp_path_factory):
    """A report built (read only) into a folder of its own."""
    out = tmp_path_factory.mktemp("cached") / "report"
    return build_report(trained_store.client, trained_store.experiment, out_dir=out, write=False)


def rebuild(store, first, folder, thresholds=DEFAULT_THRESHOLDS):
    """The report built again into a copy of the first build's folder."""
    shutil.copytree(first.out_dir, folder)
    return build_report(
        store.client, store.experiment, out_dir=folder, thresholds=thresholds, write=False
    )


def files(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def test_the_first_build_draws_every_figure_and_records_their_inputs(first):
    assert set(first.drawn) == FIGURES
    assert (first.out_dir / CACHE_FILE).exists()


def test_a_rebuild_of_an_unchanged_sweep_draws_nothing_and_writes_the_same_bytes(
    trained_store, first, tmp_path
):
    again = rebuild(trained_store, first, tmp_path / "again")
    assert again.drawn == ()
    assert files(again.out_dir) == files(first.out_dir)


def test_a_changed_diagnosis_draws_the_figures_again(trained_store, first, tmp_path):
    stricter = Thresholds(underfit_train_acc=0.999)  # more runs underfit: the verdicts change
    again = rebuild(trained_store, first, tmp_path / "again", stricter)
    assert set(again.drawn) == FIGURES


def test_a_figure_changed_on_disk_is_drawn_again(trained_store, first, tmp_path):
    folder = tmp_path / "again"
    shutil.copytree(first.out_dir, folder)
    (folder / "heatmaps.png").write_bytes(b"not the figure")
    again = build_report(
        trained_store.client, trained_store.experiment, out_dir=folder, write=False
    )
    assert again.drawn == ("heatmaps",)
    assert (again.out_dir / "heatmaps.png").read_bytes() == (
        first.out_dir / "heatmaps.png"
    ).read_bytes()


def test_a_figures_key_follows_its_inputs_and_its_name():
    frame = pd.DataFrame({"lr": [0.1, 1.0], "best_acc": [0.9, 0.8]})
    changed = frame.assign(best_acc=[0.9, 0.7])
    one = FigureCache(None, frames_digest([frame]))
    assert one.key("heatmaps") == FigureCache(None, frames_digest([frame.copy()])).key("heatmaps")
    assert one.key("heatmaps") != FigureCache(None, frames_digest([changed])).key("heatmaps")
    assert one.key("heatmaps") != one.key("importance")
