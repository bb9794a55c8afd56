"""The MLflow UI in a real headless Chromium shows a real sweep: its parent and every child,
and each child's Dataset, Source and Models columns filled.

A 2-job sweep fills a SQLite store, `mlflow server` serves it on a free loopback port, and
Selenium drives Debian's chromium + chromium-driver to the experiment's runs page, expands
the parent and reads the run names and cells; a screenshot is saved and its path printed.
"""

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from integration_support import mlflow_ui, parent_and_children, sweep
from mlflow.tracking import MlflowClient

from harness import CHROMIUM_FLAGS, new_store

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
BROWSER_FLAGS = (*CHROMIUM_FLAGS, "--window-size=1600,900")
RUN_NAME_CELL = "//div[@role='gridcell'][@col-id='attributes.`Run Name`']"
COLUMN_CELL = "//div[@row-id='{run_id}']//div[@role='gridcell'][@col-id='attributes.`{column}`']"
RUN_NAME_HEADER = "//div[@role='columnheader'][@col-id='attributes.`Run Name`']"
CLOSE_ASSISTANT = "button[data-component-id='mlflow.assistant.chat_panel.close']"
WAIT_S = 60


def browser_missing() -> str | None:
    """Why the browser test cannot run here, or None when it can."""
    if not CHROMIUM or not CHROMEDRIVER:
        return (
            "chromium and chromedriver are not installed (apt-get install chromium chromium-driver)"
        )
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[browser]')"
    return None


@pytest.fixture
def browser():
    """Headless Chromium through chromedriver, in a fresh profile; quit afterwards."""
    reason = browser_missing()
    if reason:
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="scratchnet-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*BROWSER_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def served_sweep(tmp_path_factory) -> Iterator[tuple[str, MlflowClient]]:
    """A 2-job sweep in a SQLite store, served by `mlflow server` for the module's tests:
    (base URL, client)."""
    if browser_missing():
        pytest.skip(browser_missing() or "")
    tmp_path = tmp_path_factory.mktemp("ui")
    uri = new_store(tmp_path / "store")
    with mlflow_ui(uri, tmp_path / "store" / "artifacts") as server:
        # The server starts while the sweep runs: both take seconds.
        sweep(uri, tmp_path, "tracking.experiment=ui_sweep", "trainer.lr=0.1,0.5")
        server.wait()
        yield server.url, MlflowClient(tracking_uri=uri)


def visible_run_names(driver) -> list[str]:
    """The names in the runs table's Run Name column, top to bottom."""
    from selenium.webdriver.common.by import By

    return [a.text for a in driver.find_elements(By.XPATH, f"{RUN_NAME_CELL}//a") if a.text]


def tidy_for_screenshot(driver) -> None:
    """Best effort: close the assistant side panel and widen the Run Name column."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    try:
        for close in driver.find_elements(By.CSS_SELECTOR, CLOSE_ASSISTANT):
            close.click()
        handle = driver.find_element(
            By.XPATH, f"{RUN_NAME_HEADER}//div[contains(@class, 'ag-header-cell-resize')]"
        )
        ActionChains(driver).drag_and_drop_by_offset(handle, 160, 0).perform()
    except WebDriverException:
        pass


def open_expanded(browser, url: str, parent, kids, shot: Path) -> None:
    """The experiment's runs page with the parent folded, then expanded to show its children."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{url}/#/experiments/{parent.info.experiment_id}/runs")
    try:
        expand = WebDriverWait(browser, WAIT_S).until(
            lambda d: d.find_element(
                By.XPATH, f"//div[@row-id='{parent.info.run_id}']{RUN_NAME_CELL}//button"
            )
        )
        assert visible_run_names(browser) == [parent.info.run_name]  # children folded in
        expand.click()
        WebDriverWait(browser, WAIT_S).until(lambda d: len(visible_run_names(d)) == 1 + len(kids))
        tidy_for_screenshot(browser)
    finally:
        browser.save_screenshot(str(shot))
        print(f"\nscreenshot: {shot}\nrun names: {visible_run_names(browser)}")


def cell_text(driver, run_id: str, column: str) -> str:
    """The text of run `run_id`'s cell in the runs table's `column`, its lines joined by spaces."""
    from selenium.webdriver.common.by import By

    cell = driver.find_element(By.XPATH, COLUMN_CELL.format(run_id=run_id, column=column))
    return " ".join(cell.text.split())


def test_the_runs_page_shows_the_sweep_parent_and_its_children(browser, served_sweep, tmp_path):
    url, client = served_sweep
    parent, kids = parent_and_children(client)
    open_expanded(browser, url, parent, kids, tmp_path / "mlflow_ui_runs.png")
    names = visible_run_names(browser)
    assert names[0] == parent.info.run_name
    assert sorted(names[1:]) == sorted(k.info.run_name for k in kids)
    assert sorted(names[1:]) == ["lr=0.1 bs=32 h=50 n=200 seed=0", "lr=0.5 bs=32 h=50 n=200 seed=0"]


def test_the_runs_page_fills_each_runs_dataset_source_and_model(browser, served_sweep, tmp_path):
    url, client = served_sweep
    parent, kids = parent_and_children(client)
    open_expanded(browser, url, parent, kids, tmp_path / "mlflow_ui_columns.png")
    for kid in kids:
        (training,) = [
            i.dataset
            for i in client.get_run(kid.info.run_id).inputs.dataset_inputs
            if any(t.value == "training" for t in i.tags)
        ]
        row = {c: cell_text(browser, kid.info.run_id, c) for c in ("Dataset", "Source", "Models")}
        print(f"{kid.info.run_name}: {row}")
        assert row["Dataset"].startswith(f"digits/train ({training.digest})")
        assert row["Dataset"].endswith("+2")  # validation and test, folded
        assert row["Source"] == "scratchnet-train"
        assert row["Models"] == "pyfunc"
