"""docs/analysis.ipynb runs, top to bottom, on a real trained sweep (so the documented API
cannot rot), and its figures come out as images."""

import nbformat
import pytest
from nbclient import NotebookClient

from harness import REPO

NOTEBOOK = REPO / "docs" / "analysis.ipynb"


@pytest.fixture(scope="module")
def executed(trained_store, tmp_path_factory, monkeypatch_module) -> nbformat.NotebookNode:
    """The notebook executed by a real Jupyter kernel against the trained sweep's store."""
    monkeypatch_module.setenv("SCRATCHNET_TRACKING_URI", trained_store.uri)
    monkeypatch_module.setenv("SCRATCHNET_EXPERIMENT", trained_store.experiment)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    folder = tmp_path_factory.mktemp("notebook")
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    ).execute()
    return notebook


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def outputs(notebook: nbformat.NotebookNode) -> list[dict]:
    return [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]


def test_the_notebook_executes_without_an_error(executed):
    assert not [o for o in outputs(executed) if o.output_type == "error"]
    assert all(cell.execution_count for cell in executed.cells if cell.cell_type == "code")


def test_the_notebook_loads_the_sweep_and_states_its_seed_comparisons(executed, trained_store):
    text = "".join(o.get("text", "") for o in outputs(executed) if o.output_type == "stream")
    assert f"sweep {trained_store.parent[:8]}: 10 runs, 0 reused, 0 superseded" in text
    assert "pp validation accuracy" in text


def test_the_notebooks_figures_are_pngs(executed):
    images = [o for o in outputs(executed) if "image/png" in o.get("data", {})]
    assert len(images) == 2
