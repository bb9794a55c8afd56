"""A report rebuilt from a backed-up store, and from that store moved, has the same bytes as
the report of the original."""

import shutil
from pathlib import Path

import pytest
from store_support import ok, store_cli, tree_digest, uri_of

from scratchnet.report.build import build_report
from scratchnet.tracking.store import open_client

pytestmark = pytest.mark.slow


def report(folder: Path, out: Path, write: bool = True) -> dict[str, str]:
    built = build_report(open_client(uri_of(folder)), "swept", out_dir=out, write=write)
    assert {p.name for p in built.files} >= {"report.html", "report.md"}
    return tree_digest(out)


def test_report_rebuilds_byte_identical_from_a_backup_and_from_it_moved(source, tmp_path):
    original = report(source.folder, tmp_path / "original", write=False)  # shared: read only
    ok(store_cli("backup", str(tmp_path / "backup"), "--store", str(source.folder), cwd=tmp_path))
    assert report(tmp_path / "backup", tmp_path / "from-backup") == original
    shutil.move(tmp_path / "backup", tmp_path / "moved")
    assert report(tmp_path / "moved", tmp_path / "from-moved") == original
