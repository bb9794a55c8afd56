"""Open report.html in headless Chromium: the figures decode and render, nothing runs.

Skipped when /usr/bin/chromium is absent (CI installs it: apt-get install chromium).
"""

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread

from harness import CHROMIUM_FLAGS
from scratchnet.report.markup import CSP

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="chromium is not installed (apt-get install chromium)"
)
PROBE = """<script>
window.addEventListener("load", () => {
  const sizes = [...document.images].map(i => i.complete + ":" + i.naturalWidth);
  document.body.setAttribute("data-probe", sizes.join(","));
});
</script>"""


def chromium(*args: str, profile: Path) -> subprocess.CompletedProcess:
    """Headless Chromium with networking, GPU and background services off."""
    flags = [*CHROMIUM_FLAGS, f"--user-data-dir={profile}"]
    return subprocess.run(
        [str(CHROMIUM), *flags, *args], capture_output=True, text=True, timeout=120
    )


def test_every_figure_decodes_in_the_browser(built, tmp_path):
    page = (built.first.out_dir / "report.html").read_text(encoding="utf-8")
    # A copy whose policy also allows the probe script (the report itself allows none).
    probed = page.replace(CSP, CSP + "; script-src 'unsafe-inline'").replace(
        "</body>", PROBE + "</body>"
    )
    copy = tmp_path / "probe.html"
    copy.write_text(probed, encoding="utf-8")
    done = chromium(
        "--virtual-time-budget=10000", "--dump-dom", copy.as_uri(), profile=tmp_path / "p1"
    )
    assert done.returncode == 0, done.stderr[-2000:]
    probe = re.search(r'data-probe="([^"]*)"', done.stdout)
    assert probe, done.stdout[-2000:]
    sizes = probe.group(1).split(",")
    assert len(sizes) == page.count("<img ")
    assert all(s.startswith("true:") and int(s.split(":")[1]) > 100 for s in sizes), sizes


def test_report_renders_as_a_nontrivial_screenshot(built, tmp_path):
    shot = tmp_path / "shot.png"
    html = built.first.out_dir / "report.html"
    done = chromium(
        f"--screenshot={shot}",
        "--window-size=1200,2000",
        "--hide-scrollbars",
        html.as_uri(),
        profile=tmp_path / "p2",
    )
    assert done.returncode == 0 and shot.is_file(), done.stderr[-2000:]
    pixels = imread(shot)
    assert pixels.shape[:2] == (2000, 1200)
    colors = np.unique((pixels[..., :3] * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    assert len(colors) > 200  # text, tables and figures; a blank or broken page has few


def test_injected_script_in_a_run_name_never_runs(built, tmp_path):
    done = chromium(
        "--virtual-time-budget=5000",
        "--dump-dom",
        (built.first.out_dir / "report.html").as_uri(),
        profile=tmp_path / "p3",
    )
    assert done.returncode == 0
    assert "<script>" not in done.stdout
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in done.stdout
    shutil.rmtree(tmp_path / "p3", ignore_errors=True)
