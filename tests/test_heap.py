"""A sweep process's imports are kept out of later garbage collections, and a command's exit
collects nothing (`core.heap`)."""

import gc
import subprocess
import sys

import pytest

from scratchnet.core.heap import imports_settled


@pytest.fixture(autouse=True)
def unfrozen():
    """The test process's heap as it was: frozen objects hide from `gc.get_referrers`."""
    yield
    gc.unfreeze()


def test_nothing_is_collected_in_the_block_and_what_it_made_is_frozen_after():
    before = gc.get_freeze_count()
    with imports_settled():
        assert not gc.isenabled()
        kept = [[i] for i in range(1000)]
    assert gc.isenabled()
    assert gc.get_freeze_count() >= before + len(kept)


def test_collection_comes_back_when_the_block_raises():
    with pytest.raises(ImportError), imports_settled():
        raise ImportError("no such module")
    assert gc.isenabled()


def test_a_process_that_collected_nothing_before_still_collects_nothing_after():
    gc.disable()
    try:
        with imports_settled():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


EXITS = """
import atexit, gc, sys
from scratchnet.core.heap import no_collection_at_exit
gc.disable()  # the cycle below is left for the exit's collection alone
if sys.argv[1] == "frozen":
    no_collection_at_exit()
atexit.register(lambda: print("another exit handler ran"))
class Cycle:
    def __del__(self):
        print("collected at exit")
a = Cycle(); a.me = a; del a
"""


@pytest.mark.parametrize("mode", ["plain", "frozen"])
def test_after_the_last_exit_handler_a_command_collects_no_cycle(mode):
    done = subprocess.run(
        [sys.executable, "-c", EXITS, mode], capture_output=True, text=True, check=True
    )
    assert "another exit handler ran" in done.stdout
    assert ("collected at exit" in done.stdout) == (mode == "plain")
