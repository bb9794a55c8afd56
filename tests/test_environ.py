"""Environment settings for a block: set while it runs, then exactly as before."""

import os

import pytest

from scratchnet.core.environ import environment


def test_a_block_sees_its_settings_and_afterwards_each_variable_is_as_it_was(monkeypatch):
    monkeypatch.setenv("SCRATCHNET_TEST_SET", "before")
    monkeypatch.delenv("SCRATCHNET_TEST_UNSET", raising=False)
    with (
        pytest.raises(RuntimeError),
        environment({"SCRATCHNET_TEST_SET": "during", "SCRATCHNET_TEST_UNSET": "during"}),
    ):
        assert os.environ["SCRATCHNET_TEST_SET"] == os.environ["SCRATCHNET_TEST_UNSET"] == "during"
        raise RuntimeError("the block fails")
    assert os.environ["SCRATCHNET_TEST_SET"] == "before"
    assert "SCRATCHNET_TEST_UNSET" not in os.environ
