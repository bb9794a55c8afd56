"""On PostgreSQL too, metrics bulk-inserted below MLflow's ORM read back as `log_batch` stores
them (the same points as tests/tracking/test_bulk_metrics.py, on a real cluster)."""

import pytest
from integration_support import postgres_db, postgres_missing, shared_tmp_dir
from mlflow.tracking import MlflowClient

from bulk_support import history, logged

pytestmark = pytest.mark.slow


def test_on_postgresql_the_bulk_writer_stores_what_log_batch_stores():
    reason = postgres_missing()
    if reason:
        pytest.skip(reason)
    with shared_tmp_dir("scratchnet-pg-") as folder, postgres_db(folder) as uri:
        bulk, batches = logged(uri, "bulk", bulk=True, sends=2)  # the second send: duplicates
        plain, _ = logged(uri, "plain", bulk=False)
        client = MlflowClient(tracking_uri=uri)
        assert history(client, bulk) == history(client, plain)
        latest = [client.get_run(r).data.metrics for r in (bulk, plain)]
        assert [{k: v.hex() for k, v in m.items()} for m in latest] == [
            {k: v.hex() for k, v in latest[1].items()}
        ] * 2
        assert batches[0] < 20  # the bulk path was taken: log_batch saw the last steps only
