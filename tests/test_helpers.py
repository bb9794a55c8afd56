"""train()'s helper threads: tasks run in order, an error surfaces where it is waited for."""

import gc
import threading
import time

import pytest

from scratchnet.training.helpers import HelperThread


def test_tasks_run_in_order_on_the_helper_thread_and_waits_return_once_they_ran():
    helper, ran = HelperThread("scratchnet-test"), []
    try:
        done = [
            helper.submit(lambda i=i: ran.append((i, threading.current_thread().name)))
            for i in range(3)
        ]
        for d in done:
            d.wait()
        done[0].wait()  # a second wait returns at once
    finally:
        helper.close()
    assert ran == [(0, "scratchnet-test"), (1, "scratchnet-test"), (2, "scratchnet-test")]


def test_a_tasks_error_is_raised_where_it_is_waited_for_and_the_thread_goes_on():
    helper = HelperThread("scratchnet-test")
    try:
        failed = helper.submit(lambda: 1 / 0)
        after = helper.submit(lambda: None)
        with pytest.raises(ZeroDivisionError):
            failed.wait()
        after.wait()
    finally:
        helper.close()
    assert not [t for t in threading.enumerate() if t.name == "scratchnet-test"]


def test_a_helper_thread_its_owner_forgot_to_close_ends_once_it_is_collected():
    helper = HelperThread("scratchnet-forgotten")
    helper.submit(lambda: None).wait()
    del helper
    gc.collect()
    deadline = time.monotonic() + 30
    while any(t.name == "scratchnet-forgotten" for t in threading.enumerate()):
        assert time.monotonic() < deadline, "the forgotten helper's thread is still running"
        time.sleep(0.01)
