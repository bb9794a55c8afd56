"""A sweep's histories read in one query are exactly what get_metric_history returns."""

import math

from mlflow.entities import Metric

from scratchnet.tracking.reader import metric_points
from scratchnet.tracking.recorder import RunRecorder
from scratchnet.tracking.store import resolve_uri


def one_by_one(client, run_ids, keys):
    return [
        (r, m.key, m.step, m.timestamp, m.value)
        for r in run_ids
        for k in keys
        for m in client.get_metric_history(r, k)
    ]


def test_one_query_reads_every_point_as_the_client_does(store_uri, client):
    ids = []
    for n in range(3):
        recorder = RunRecorder.start(resolve_uri(store_uri), "bulk", f"r{n}", {}, {})
        points = [Metric("train_loss", 0.1 * n + s / 3, 1000 + s, s) for s in range(20)]
        points += [Metric("test_acc", 1 / (s + 1), 1000, s) for s in range(20)]
        points += [Metric("test_acc", 0.5, 2000, 3), Metric("test_loss", math.nan, 5, 0)]
        recorder.log_metric_batch(points)
        recorder.end("FINISHED")
        ids.append(recorder.run_id)
    keys = ["train_loss", "test_acc", "test_loss"]
    bulk = metric_points(client, ids, keys)
    expected = one_by_one(client, ids, keys)
    assert len(bulk) == len(expected) == 3 * 42
    # same points, the same order per run and key, NaN where the client gives NaN
    assert [p for p in bulk if not math.isnan(p[4])] == [
        p for p in sorted(expected, key=lambda p: (p[0], p[1])) if not math.isnan(p[4])
    ]
    assert sum(math.isnan(p[4]) for p in bulk) == sum(math.isnan(p[4]) for p in expected) == 3
