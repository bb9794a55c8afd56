"""A sweep process's imports are kept out of later garbage collections (`core.heap`)."""

import gc

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
