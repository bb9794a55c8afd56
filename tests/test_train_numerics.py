"""The fast trainer computes what the chapter's plain path computes, and does it repeatably.

The reference is the straightforward loop: float64 net, `TwoLayerNet.gradient` (backprop,
fresh arrays every step), `TwoLayerNet.evaluate`. The optimized path is `train()` as it
runs by default: float32 `Workspace` buffers, in-place updates, learning rate folded into
dL/da2, BLAS threads capped per phase.
"""

import signal

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from harness import MNIST_DIR, in_the_loop
from scratchnet.data import Dataset, load_dataset
from scratchnet.data.features import RowReader
from scratchnet.nn import SGD, TwoLayerNet
from scratchnet.training import Callback, batch_indices, make_plan, train
from scratchnet.training.evaluation import BlockEvaluator, evaluate
from scratchnet.training.fast import Workspace
from scratchnet.training.steps import sgd_step


@pytest.fixture(scope="module")
def digits() -> Dataset:
    return load_dataset("digits", seed=0)


@pytest.fixture(scope="module")
def digits3() -> Dataset:
    """Train, validation and test."""
    return load_dataset("digits", seed=0, val_fraction=0.1)


def make_net(data: Dataset, dtype=np.float32, activation="sigmoid", seed=0, std=0.01):
    return TwoLayerNet(
        data.input_size, 30, data.num_classes, std, activation=activation, dtype=dtype, seed=seed
    )


def reference_history(net, data, *, lr, batch_size, epochs, sampling="shuffle", seed=0):
    """The plain loop: same batches as train(), `sgd_step` and `TwoLayerNet.evaluate`."""
    plan = make_plan(data.train_size, batch_size, epochs)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1,)))
    history = [{"epoch": 0, **evaluate(net, data, 10000)}]
    with np.errstate(all="ignore"):
        for epoch, batches in batch_indices(plan, sampling, rng):
            for idx in batches:
                sgd_step(net, data.x_train[idx], data.t_train[idx], lr)
            history.append({"epoch": epoch, **evaluate(net, data, 10000)})
    return history


def assert_close_histories(fast, ref, n_test: int, loss_tol: float = 2e-4):
    assert [row["epoch"] for row in fast] == [row["epoch"] for row in ref]
    for a, b in zip(fast, ref, strict=True):
        for key in ("train_loss", "test_loss"):
            assert a[key] == pytest.approx(b[key], abs=loss_tol), (a["epoch"], key)
        # float32 may flip the argmax of a row or two whose top classes tie within 1e-6.
        assert a["test_acc"] == pytest.approx(b["test_acc"], abs=2.5 / n_test)


# ---------------------------------------------------------------- one step, one evaluation


@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_workspace_step_equals_the_backprop_update(digits, activation, dtype):
    plain = make_net(digits, dtype, activation, std=0.5)
    fast = make_net(digits, dtype, activation, std=0.5)
    workspace = Workspace(fast)
    reader = RowReader(digits.x_train, 1.0, fast.dtype)
    rng = np.random.default_rng(1)
    for size in (32, 32, 7):  # a second step reuses the buffers; 7 is a short last batch
        rows = rng.integers(0, len(digits.x_train), size)
        sgd_step(plain, digits.x_train[rows], digits.t_train[rows], 0.3)
        workspace.step(reader, digits.t_train, rows, SGD(0.3))
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    for name, value in plain.params.items():
        assert fast.params[name].dtype == np.dtype(dtype)
        np.testing.assert_allclose(fast.params[name], value, rtol=rtol, atol=rtol * 1e-2)


def block_evaluate(net, x, t, block_rows):
    """(loss, accuracy) of `x` summed from the workspace's blocks, as the evaluator does."""
    reader, workspace = RowReader(x, 1.0, net.dtype), Workspace(net)
    sums = [
        workspace.block_sums(reader, t, i, min(i + block_rows, len(x)))
        for i in range(0, len(x), block_rows)
    ]
    return sum(loss for loss, _ in sums) / len(x), sum(c for _, c in sums) / len(x)


@pytest.mark.parametrize("chunk_size", [1, 7, 100, 10000])
def test_workspace_block_sums_equal_net_evaluate(digits, chunk_size):
    net = make_net(digits, std=0.5)
    loss, acc = block_evaluate(net, digits.x_test, digits.t_test, chunk_size)
    ref_loss, ref_acc = net.evaluate(digits.x_test, digits.t_test, chunk_size=10000)
    assert loss == pytest.approx(ref_loss, rel=1e-6)
    assert acc == ref_acc


@pytest.mark.parametrize("block_rows", [1, 64, 2048])
def test_evaluator_equals_net_evaluate_and_ignores_its_thread_count(digits, block_rows):
    net = make_net(digits, std=0.5)
    ref_loss, ref_acc = net.evaluate(digits.x_train, digits.t_train)
    results = []
    for threads, snapshot in ((1, False), (2, False), (3, False), (2, True)):
        evaluator = BlockEvaluator(net, digits, threads, block_rows, snapshot)
        try:
            evaluator.start()
            results.append(evaluator.result())
        finally:
            evaluator.close()
    assert results[0] == results[1] == results[2] == results[3]  # bit for bit
    assert results[0]["train_loss"] == pytest.approx(ref_loss, rel=1e-6)
    assert results[0]["train_acc"] == ref_acc


def test_a_snapshot_evaluator_reports_the_weights_it_started_with(digits):
    net = make_net(digits, std=0.5)
    evaluator = BlockEvaluator(net, digits, 2, 64, snapshot=True)
    try:
        evaluator.start()
        net.params["W2"] *= 3  # training moves on while the snapshot is evaluated
        moved = evaluate(net, digits, 10000)
        started = evaluator.result()
    finally:
        evaluator.close()
    net.params["W2"] /= 3
    assert started["test_loss"] == pytest.approx(evaluate(net, digits, 10000)["test_loss"])
    assert started["test_loss"] != pytest.approx(moved["test_loss"])


def test_evaluation_keeps_the_saturating_delta_so_a_blow_up_stays_finite(digits):
    net = make_net(digits)
    net.params["W2"] *= 1e6  # softmax saturates: log(0 + 1e-7) instead of -inf
    loss, _ = block_evaluate(net, digits.x_test, digits.t_test, 100)
    assert np.isfinite(loss)
    assert loss == pytest.approx(net.evaluate(digits.x_test, digits.t_test)[0], rel=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_step_on_stored_pixels_equals_a_step_on_the_features(digits, dtype):
    on_pixels, on_features = make_net(digits, dtype, std=0.5), make_net(digits, dtype, std=0.5)
    rows = np.random.default_rng(2).integers(0, digits.train_size, 32)
    pixels = RowReader(digits.pixels_train, digits.scale, np.dtype(dtype))
    features = RowReader(digits.x_train, 1.0, np.dtype(dtype))
    Workspace(on_pixels).step(pixels, digits.t_train, rows, SGD(0.3))
    Workspace(on_features).step(features, digits.t_train, rows, SGD(0.3))
    for name, value in on_features.params.items():
        assert np.array_equal(on_pixels.params[name], value)


def test_workspace_buffers_stay_in_the_nets_dtype(digits):
    net = make_net(digits)
    workspace = Workspace(net)
    reader = RowReader(digits.x_train, 1.0, net.dtype)
    workspace.step(reader, digits.t_train, np.arange(16), SGD(0.1))
    workspace.block_sums(RowReader(digits.x_test, 1.0, net.dtype), digits.t_test, 0, 64)
    indices = ("rows", "hot")  # integer positions, not numbers of the net
    floats = [a for buf in workspace._buffers.values() for k, a in buf.items() if k not in indices]
    assert floats and all(a.dtype == np.float32 for a in floats)


# ---------------------------------------------------------------- whole runs


@pytest.mark.parametrize("sampling", ["shuffle", "with_replacement"])
def test_float32_trainer_tracks_the_float64_reference(digits, sampling):
    kw = dict(lr=0.5, batch_size=32, epochs=5, sampling=sampling, seed=4)
    fast = train(make_net(digits), digits, **kw).history
    ref = reference_history(make_net(digits, np.float64), digits, **kw)
    assert_close_histories(fast, ref, len(digits.t_test))
    assert ref[-1]["test_acc"] > ref[0]["test_acc"] + 0.3  # it did learn


def test_pinned_digits_run(digits):
    """Catches a change to what the trainer computes (values: the float64 reference)."""
    kw = dict(lr=0.5, batch_size=32, epochs=5, sampling="shuffle", seed=0)
    fast = train(make_net(digits), digits, **kw).history
    ref = reference_history(make_net(digits, np.float64), digits, **kw)
    assert_close_histories(fast, ref, len(digits.t_test))
    assert fast[-1]["test_loss"] == pytest.approx(ref[-1]["test_loss"], rel=1e-4)
    assert ref[-1]["test_loss"] == pytest.approx(PINNED_DIGITS["test_loss"], rel=1e-4)
    assert ref[-1]["test_acc"] == pytest.approx(PINNED_DIGITS["test_acc"], abs=1e-9)


PINNED_DIGITS = {"test_loss": 1.4583857938507643, "test_acc": 231 / 450}


def test_one_hot_labels_take_the_reference_path_and_agree(digits):
    one_hot = load_dataset("digits", seed=0, one_hot_label=True)
    kw = dict(lr=0.5, batch_size=32, epochs=3, seed=2)
    labels = train(make_net(digits), digits, **kw).history
    rows = train(make_net(digits), one_hot, **kw).history
    assert_close_histories(labels, rows, len(digits.t_test))


@pytest.mark.skipif(not MNIST_DIR.exists(), reason=f"MNIST not found in {MNIST_DIR}")
def test_mnist_subset_matches_the_float64_reference():
    data = load_dataset("mnist", root=str(MNIST_DIR), train_size=3000)
    kw = dict(lr=0.1, batch_size=100, epochs=3, sampling="with_replacement", seed=0)
    net = TwoLayerNet(784, 50, 10, seed=0)
    fast = train(net, data, **kw).history
    ref = reference_history(TwoLayerNet(784, 50, 10, seed=0, dtype=np.float64), data, **kw)
    assert_close_histories(fast, ref, len(data.t_test))


# ---------------------------------------------------------------- determinism


def test_same_seed_gives_bit_identical_history_and_weights(digits):
    kw = dict(lr=0.5, batch_size=32, epochs=3, sampling="with_replacement", seed=9)
    a, b = make_net(digits), make_net(digits)
    first, second = train(a, digits, **kw), train(b, digits, **kw)
    assert first.history == second.history
    for name in a.params:
        assert np.array_equal(a.params[name], b.params[name])


def test_updates_do_not_depend_on_the_callers_blas_threads(digits):
    """The updates run with one BLAS thread whatever the caller set, so weights are equal."""
    kw = dict(lr=0.5, batch_size=32, epochs=2, seed=5)
    a, b = make_net(digits), make_net(digits)
    train(a, digits, **kw)
    with threadpool_limits(limits=1, user_api="blas"):
        train(b, digits, **kw)
    for name in a.params:
        assert np.array_equal(a.params[name], b.params[name])


def test_history_does_not_depend_on_the_number_of_evaluation_threads(digits):
    kw = dict(lr=0.5, batch_size=32, epochs=2, seed=6)
    one = train(make_net(digits), digits, eval_threads=1, **kw).history
    two = train(make_net(digits), digits, eval_threads=2, **kw).history
    assert one == two


@pytest.mark.parametrize("threads", [2, 3])
def test_three_split_metrics_do_not_depend_on_threads_or_overlap(digits3, threads):
    kw = dict(lr=0.5, batch_size=32, epochs=3, seed=6)
    one = train(make_net(digits3), digits3, eval_threads=1, **kw).history
    many = train(make_net(digits3), digits3, eval_threads=threads, **kw).history
    serial = train(make_net(digits3), digits3, eval_threads=threads, overlap_evaluation=False, **kw)
    assert one == many == serial.history
    assert all("val_loss" in row for row in one)


def test_the_evaluation_reads_each_image_once_per_epoch(digits3):
    evaluator = BlockEvaluator(make_net(digits3), digits3, 1, 64, snapshot=False)
    rows = sum(stop - start for _, start, stop in evaluator.blocks)
    evaluator.close()
    assert rows == digits3.train_size + digits3.val_size + len(digits3.t_test) == 1797


def overlap_pair(data, **kw):
    """The same run with the evaluation overlapped with training and right after it."""
    runs = []
    for overlap in (True, False):
        net = make_net(data)
        result = train(net, data, eval_threads=2, overlap_evaluation=overlap, **kw)
        runs.append((result, net))
    return runs


def test_overlapped_evaluation_gives_the_same_history_and_weights(digits):
    (a, net_a), (b, net_b) = overlap_pair(digits, lr=0.5, batch_size=32, epochs=4, seed=7)
    assert a.history == b.history
    assert a.iterations == b.iterations
    for name in net_a.params:
        assert np.array_equal(net_a.params[name], net_b.params[name])


def test_overlapped_divergence_stops_at_the_same_epoch_with_the_same_weights(digits):
    runs = overlap_pair(digits, lr=200.0, batch_size=32, epochs=6, seed=1)
    (a, net_a), (b, net_b) = runs
    assert a.diverged and a.diverged_at == b.diverged_at < 6
    assert a.history == b.history and a.iterations == b.iterations
    for name in net_a.params:
        assert np.array_equal(net_a.params[name], net_b.params[name])


def test_an_interrupt_while_training_still_reports_the_epoch_being_evaluated(digits):
    """Ctrl-C lands in epoch 3's updates while epoch 2 is evaluated: epoch 2 still arrives."""
    seen = []

    class InterruptSoon(Callback):
        def on_epoch_end(self, epoch, metrics):
            seen.append(epoch)
            if epoch == 1:  # reported once epoch 2 has trained: epoch 3 starts next
                signal.setitimer(signal.ITIMER_REAL, 0.002)

    def interrupt(signum, frame):
        if not in_the_loop(frame, "steps"):  # not there yet: try again shortly
            signal.setitimer(signal.ITIMER_REAL, 0.001)
            return
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        with pytest.raises(KeyboardInterrupt):
            train(
                make_net(digits),
                digits,
                lr=0.1,
                batch_size=1,  # 1,347 updates an epoch: the alarm lands among them
                epochs=50,
                eval_threads=2,
                callbacks=[InterruptSoon()],
            )
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert seen == [0, 1, 2]


def test_training_reads_pixels_and_never_builds_the_float_features():
    data = load_dataset("digits", seed=3)
    train(make_net(data), data, lr=0.5, batch_size=32, epochs=1)
    assert "x_train" not in vars(data) and "x_test" not in vars(data)


def test_thread_caps_are_restored_after_training(digits):
    from threadpoolctl import threadpool_info

    before = [p["num_threads"] for p in threadpool_info()]
    train(make_net(digits), digits, lr=0.5, batch_size=32, epochs=1)
    assert [p["num_threads"] for p in threadpool_info()] == before
