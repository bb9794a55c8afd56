"""The contenders, each an epoch generator: one `next()` = one training epoch (+ its evaluation).

Every generator first yields once after its set-up (and, where the loop has one, the
epoch-0 evaluation), so the caller can time `next()` calls alone. All train the chapter's
784-50-10 sigmoid net with SGD (lr 0.1, batch 100, batches drawn with replacement), one
epoch = ceil(n_train / 100) updates, and evaluate loss and accuracy on the full train and
test sets after every epoch unless said otherwise.
"""

import math
import time
import warnings
from collections.abc import Iterator, Mapping

import numpy as np

from scratchnet.data import Dataset
from scratchnet.nn import TwoLayerNet
from scratchnet.training import Callback, TrainResult, train

HIDDEN, LR, BATCH, INIT_STD = 50, 0.1, 100, 0.01
Epochs = Iterator[None]


def initial_net(data: Dataset, seed: int = 0, dtype: type = np.float32, **levers) -> TwoLayerNet:
    """The chapter's net: W = 0.01 N(0, 1), zero biases (and any lever: dropout_ratio, ...)."""
    return TwoLayerNet(
        data.input_size, HIDDEN, data.num_classes, INIT_STD, seed=seed, dtype=dtype, **levers
    )


# ---------------------------------------------------------------- scratchnet, public API


def train_run(data: Dataset, epochs: int, **train_kwargs) -> TrainResult:
    """One plain `train()` run of the workload from a fresh net, epochs back to back."""
    return train(
        initial_net(data),
        data,
        lr=LR,
        batch_size=BATCH,
        epochs=epochs,
        sampling="with_replacement",
        **train_kwargs,
    )


def scratchnet_runs(data: Dataset, epochs: int, **train_kwargs) -> Epochs:
    """Whole `scratchnet.training.train` runs: one `next()` = a fresh net trained `epochs` epochs.

    Whole runs, because `train` evaluates epoch e while epoch e + 1 trains: no point between
    two epochs separates one epoch's work from the next. A run's time over `epochs` is an
    upper bound of the epoch time: it includes the set-up and the epoch-0 evaluation.
    """
    yield
    while True:
        train_run(data, epochs, **train_kwargs)
        yield


class Timed(Callback):
    """Wraps a callback and adds up the seconds spent in it per epoch: its epoch-end hooks
    after epoch 0 and its final hook (which writes what is still buffered). The start hook
    and epoch 0's report are a run's fixed cost, not an epoch's."""

    def __init__(self, inner: Callback) -> None:
        self.inner = inner
        self.seconds = 0.0

    def on_train_begin(self, plan) -> None:
        self.inner.on_train_begin(plan)

    def on_epoch_end(self, epoch: int, metrics: Mapping[str, float]) -> None:
        start = time.perf_counter()
        self.inner.on_epoch_end(epoch, metrics)
        if epoch > 0:
            self.seconds += time.perf_counter() - start

    def on_train_end(self, result: TrainResult) -> None:
        start = time.perf_counter()
        self.inner.on_train_end(result)
        self.seconds += time.perf_counter() - start


# ---------------------------------------------------------------- the book's loop


def book_epochs(data: Dataset, seed: int = 0) -> Epochs:
    """The chapter's loop as the book writes it, re-implemented as the baseline.

    float64 weights; the batch drawn by the legacy `np.random.choice` (with replacement);
    one-hot float64 labels; after each update the batch loss is computed again by a second
    forward pass (the book appends it to a list); after each epoch the accuracy (argmax of
    prediction vs argmax of one-hot) on the full train and test sets, each in one pass, and
    no full-set loss, as in the book.
    """
    x_train, x_test = data.x_train, data.x_test
    eye = np.eye(data.num_classes)
    t_train, t_test = eye[data.t_train], eye[data.t_test]
    np.random.seed(seed)
    init = initial_net(data, seed, dtype=np.float64)
    params = {k: v.copy() for k, v in init.params.items()}

    def sigmoid(a):
        return 1 / (1 + np.exp(-a))

    def softmax(a):
        a = a - a.max(axis=1, keepdims=True)
        e = np.exp(a)
        return e / e.sum(axis=1, keepdims=True)

    def predict(x):
        z1 = sigmoid(x @ params["W1"] + params["b1"])
        return softmax(z1 @ params["W2"] + params["b2"])

    def loss(x, t):
        y = predict(x)
        labels = t.argmax(axis=1)
        return -np.sum(np.log(y[np.arange(len(y)), labels] + 1e-7)) / len(y)

    def accuracy(x, t):
        return np.sum(predict(x).argmax(axis=1) == t.argmax(axis=1)) / float(len(x))

    def gradient(x, t):
        z1 = sigmoid(x @ params["W1"] + params["b1"])
        y = softmax(z1 @ params["W2"] + params["b2"])
        dy = (y - t) / len(x)
        da1 = (dy @ params["W2"].T) * (1 - z1) * z1
        return {"W1": x.T @ da1, "b1": da1.sum(axis=0), "W2": z1.T @ dy, "b2": dy.sum(axis=0)}

    n = len(x_train)
    per_epoch = math.ceil(n / BATCH)
    losses, accs = [], []
    yield
    with np.errstate(over="ignore"):
        while True:
            for _ in range(per_epoch):
                mask = np.random.choice(n, BATCH)
                x_batch, t_batch = x_train[mask], t_train[mask]
                grad = gradient(x_batch, t_batch)
                for key in params:
                    params[key] -= LR * grad[key]
                losses.append(loss(x_batch, t_batch))
            accs.append((accuracy(x_train, t_train), accuracy(x_test, t_test)))
            yield


# ---------------------------------------------------------------- PyTorch


def torch_available() -> str | None:
    """The torch version, or None when it is not importable."""
    try:
        import torch
    except ImportError:
        return None
    return torch.__version__


def torch_epochs(data: Dataset, threads: int | None = None, seed: int = 0) -> Epochs:
    """The same model and loop in PyTorch on the CPU: float32, same initial weights.

    nn.Linear-sigmoid-nn.Linear, CrossEntropyLoss, optim.SGD(lr=0.1); batches by
    torch.randint (with replacement); evaluation under inference_mode in 10,000-row chunks,
    loss and accuracy on the full train and test sets. `threads` sets torch's intra-op
    threads (None: torch's default).
    """
    import torch
    from torch import nn

    previous = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        torch.manual_seed(seed)
        with warnings.catch_warnings():  # our arrays are read-only; torch never writes them
            warnings.simplefilter("ignore", UserWarning)
            x_train, x_test = torch.from_numpy(data.x_train), torch.from_numpy(data.x_test)
            t_train, t_test = torch.from_numpy(data.t_train), torch.from_numpy(data.t_test)
        init = initial_net(data, seed)
        model = nn.Sequential(
            nn.Linear(data.input_size, HIDDEN), nn.Sigmoid(), nn.Linear(HIDDEN, data.num_classes)
        )
        with torch.no_grad():
            for layer, w, b in ((model[0], "W1", "b1"), (model[2], "W2", "b2")):
                layer.weight.copy_(torch.from_numpy(init.params[w].T.copy()))
                layer.bias.copy_(torch.from_numpy(init.params[b]))
        optimizer = torch.optim.SGD(model.parameters(), lr=LR)
        loss_fn = nn.CrossEntropyLoss()
        n = len(x_train)
        per_epoch = math.ceil(n / BATCH)

        def evaluate(x, t):
            loss_sum, correct = 0.0, 0
            with torch.inference_mode():
                for start in range(0, len(x), 10000):
                    out = model(x[start : start + 10000])
                    tc = t[start : start + 10000]
                    loss_sum += float(nn.functional.cross_entropy(out, tc, reduction="sum"))
                    correct += int((out.argmax(dim=1) == tc).sum())
            return loss_sum / len(x), correct / len(x)

        yield
        while True:
            for _ in range(per_epoch):
                idx = torch.randint(0, n, (BATCH,))
                optimizer.zero_grad(set_to_none=True)
                loss_fn(model(x_train[idx]), t_train[idx]).backward()
                optimizer.step()
            evaluate(x_train, t_train), evaluate(x_test, t_test)
            yield
    finally:
        torch.set_num_threads(previous)


# ---------------------------------------------------------------- scikit-learn


def sklearn_epochs(data: Dataset, seed: int = 0) -> Epochs:
    """MLPClassifier with the same algorithm: one `partial_fit` = one epoch, training only.

    logistic hidden units, solver sgd, momentum 0, alpha 0, batch 100, constant lr 0.1
    (sklearn shuffles each epoch, i.e. samples without replacement, and initialises its own
    way); no evaluation, so this row is to be read against the training-only rows.
    """
    from sklearn.neural_network import MLPClassifier

    model = MLPClassifier(
        hidden_layer_sizes=(HIDDEN,),
        activation="logistic",
        solver="sgd",
        alpha=0.0,
        batch_size=BATCH,
        learning_rate="constant",
        learning_rate_init=LR,
        momentum=0.0,
        nesterovs_momentum=False,
        shuffle=True,
        random_state=seed,
    )
    classes = np.arange(data.num_classes)
    yield
    while True:
        model.partial_fit(data.x_train, data.t_train, classes=classes)
        yield


# ---------------------------------------------------------------- scratchnet's phases


def scratchnet_phase_epochs(data: Dataset, phase: str, seed: int = 0) -> Epochs:
    """The trainer's two phases alone, as `train` runs them: the updates, or the evaluation.

    Uses the same stepper, evaluator and thread settings as `scratchnet.training.train`
    (the updates' batches gathered ahead on the spare core, as when train() overlaps).
    """
    from scratchnet.nn import SGD
    from scratchnet.training import batch_indices, make_plan
    from scratchnet.training.blas import (
        EVAL_BLOCK_ROWS,
        STEP_BLAS_THREADS,
        blas_threads,
        default_eval_threads,
    )
    from scratchnet.training.evaluation import BlockEvaluator
    from scratchnet.training.steps import FastStepper

    net = initial_net(data, seed)
    threads = default_eval_threads()
    stepper = FastStepper(net, data, SGD(LR), prefetch=threads > 1)
    evaluator = BlockEvaluator(net, data, threads, EVAL_BLOCK_ROWS, snapshot=False)
    rng = np.random.default_rng(seed)
    plan = make_plan(data.train_size, BATCH, epochs=1)
    yield
    try:
        while True:
            if phase == "steps":
                _, batches = next(batch_indices(plan, "with_replacement", rng))
                with blas_threads(STEP_BLAS_THREADS):
                    stepper.plan(batches)
                    for idx in batches:
                        stepper.step(idx)
            else:
                with blas_threads(1):
                    evaluator.start()
                    evaluator.result()
            yield
    finally:
        evaluator.close()
        stepper.close()
