"""Batches made ahead on a spare core train the very same net as batches gathered per update.

`FastStepper(prefetch=True)` is what `train()` runs when the evaluation overlaps the
updates; these tests hold it to the inline path bit for bit, and to never waiting on a
thread that has not begun.
"""

import signal
import threading

import numpy as np
import pytest

from harness import in_the_loop
from scratchnet.data import Dataset, load_dataset
from scratchnet.nn import SGD, TwoLayerNet
from scratchnet.training import Callback, batch_indices, make_plan, train
from scratchnet.training.prefetch import CHUNK_BATCHES
from scratchnet.training.steps import FastStepper


@pytest.fixture(scope="module")
def digits() -> Dataset:
    return load_dataset("digits", seed=0)


def fresh_net(data: Dataset) -> TwoLayerNet:
    return TwoLayerNet(data.input_size, 30, data.num_classes, 0.5, seed=0)


def epoch_batches(data: Dataset, batch_size: int, sampling: str, seed: int = 0):
    plan = make_plan(data.train_size, batch_size, epochs=1)
    return next(batch_indices(plan, sampling, np.random.default_rng(seed)))[1]


def trained(data: Dataset, batches, prefetch: bool, planned=None) -> TwoLayerNet:
    """A fresh net after `batches`, with the stepper told `planned` (default: the batches)."""
    net = fresh_net(data)
    stepper = FastStepper(net, data, SGD(0.3), prefetch=prefetch)
    try:
        stepper.plan(batches if planned is None else planned)
        for rows in batches:
            stepper.step(rows)
    finally:
        stepper.close()
    return net


def assert_same_weights(a: TwoLayerNet, b: TwoLayerNet) -> None:
    for name in a.params:
        assert np.array_equal(a.params[name], b.params[name]), name


@pytest.mark.parametrize("sampling", ["shuffle", "with_replacement"])
def test_prefetched_batches_train_the_same_weights_bit_for_bit(digits, sampling):
    batches = epoch_batches(digits, 50, sampling)  # shuffle: 1347 rows, a short last batch
    assert len(batches) > 2 * CHUNK_BATCHES
    assert_same_weights(trained(digits, batches, True), trained(digits, batches, False))


def test_a_batch_other_than_the_planned_one_is_gathered_on_the_spot(digits):
    batches = epoch_batches(digits, 50, "shuffle")
    planned = [rows.copy() for rows in batches]  # equal rows, but not the arrays stepped
    assert_same_weights(
        trained(digits, batches, True, planned=planned), trained(digits, batches, False)
    )


def test_a_chunk_the_busy_thread_has_not_begun_is_made_by_the_updates(digits):
    batches = epoch_batches(digits, 50, "shuffle")
    net = fresh_net(digits)
    stepper = FastStepper(net, digits, SGD(0.3), prefetch=True)
    release = threading.Event()
    try:
        stepper.prefetcher._thread.submit(lambda: release.wait(60))  # the spare core is busy
        stepper.plan(batches)
        for rows in batches:
            stepper.step(rows)  # would wait 60 s if it waited for the thread
        finished_first = not release.is_set()
    finally:
        release.set()
        stepper.close()
    assert finished_first
    assert_same_weights(net, trained(digits, batches, False))


def prefetch_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("scratchnet-prefetch")]


def test_an_overlapped_train_prefetches_and_leaves_no_thread_behind(digits):
    seen = []

    class Watch(Callback):
        def on_epoch_end(self, epoch, metrics):
            seen.append(len(prefetch_threads()))

    kw = dict(lr=0.3, batch_size=50, epochs=2, eval_threads=2, callbacks=[Watch()])
    train(fresh_net(digits), digits, **kw)
    assert max(seen) == 1  # while training
    assert not prefetch_threads()  # after


def test_the_epochs_hand_work_to_threads_without_python_level_locks_a_ctrl_c_could_leave_held(
    digits,
):
    """Ctrl-C raises between two bytecodes: inside `threading`'s or `concurrent.futures`'
    Python code it can leave a lock held that a helper thread then waits on forever (the
    run's close hung so). Sampled every 0.1 ms, the epochs are never found there."""
    seen = {"epochs": 0, "locking": 0}

    def sample(signum, frame):
        if in_the_loop(frame, "overlapped"):  # the epochs: updates and evaluation
            seen["epochs"] += 1
            code = frame.f_code.co_filename
            seen["locking"] += "threading.py" in code or "concurrent/futures" in code

    previous = signal.signal(signal.SIGALRM, sample)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.0001, 0.0001)
        train(fresh_net(digits), digits, lr=0.1, batch_size=1, epochs=2, eval_threads=2)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert seen["epochs"] > 100  # it sampled them
    assert seen["locking"] == 0
