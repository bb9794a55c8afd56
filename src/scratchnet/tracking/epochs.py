"""The training loop's MLflow callback: every epoch's metrics, buffered and sent in whole
epochs (`recorder.epoch_chunks`), riding out a tracking server that is briefly away."""

import contextlib
import logging
import time
from collections.abc import Callable, Mapping

from mlflow.entities import Metric

from scratchnet.tracking.failures import first_line, unreachable
from scratchnet.tracking.recorder import RunRecorder, epoch_chunks, now_ms
from scratchnet.tracking.server import fail_fast, is_server, probe, wait_for_server
from scratchnet.training import Callback, TrainPlan, TrainResult

log = logging.getLogger("scratchnet")
# Epochs kept while a tracking server is away: 10,000 epochs of 6 metrics, ~15 MB (a Metric
# is ~244 bytes). A full buffer waits for the server (tracking.server_wait_seconds).
MAX_BUFFERED_METRICS = 60_000


class EpochLogger(Callback):
    """Logs every epoch's metrics (step = epoch), batching epochs into one `log_batch` call.

    A call costs ~4-20 ms on SQLite and ~50 ms over HTTP, more than a digits epoch, so
    epochs are buffered and sent at most every `flush_seconds` (0: every epoch), at the end
    (unless `flush_at_end` is False: the caller then sends them with what it records next),
    and before the run is closed for any reason (`flush`). A run shorter than
    `flush_seconds` (a sweep job on digits) sends its epochs in one call. Each hook holds
    interrupts while it writes.
    """

    def __init__(
        self,
        recorder: RunRecorder,
        flush_seconds: float = 1.0,
        server_wait: float = 0.0,
        final_tags: Callable[[TrainResult], Mapping[str, object]] | None = None,
        flush_at_end: bool = True,
    ) -> None:
        self.recorder = recorder
        self.flush_seconds = flush_seconds
        self.server_wait = server_wait
        self.final_tags = final_tags  # how the run ended, sent with its last epochs
        self.flush_at_end = flush_at_end
        self._server = (
            recorder.client.tracking_uri if is_server(recorder.client.tracking_uri) else ""
        )
        self._pending: list[Metric] = []
        self._last_flush = time.monotonic()
        self._away = False

    def on_train_begin(self, plan: TrainPlan) -> None:
        self._last_flush = time.monotonic()

    def on_epoch_end(self, epoch: int, metrics: Mapping[str, float]) -> None:
        now = now_ms()
        self._pending.extend(Metric(k, float(v), now, epoch) for k, v in metrics.items())
        if time.monotonic() - self._last_flush >= self.flush_seconds:
            self.flush(final=False)

    def on_train_end(self, result: TrainResult) -> None:
        if self.flush_at_end:
            self.flush(tags=self.final_tags(result) if self.final_tags else {})

    def flush(self, final: bool = True, tags: Mapping[str, object] = {}) -> None:
        """Send the buffered epochs, whole epochs per call, each sent one dropped from the
        buffer (an interrupt waits for the call in flight).

        A tracking server that does not answer, or stops answering during a call (which then
        fails at once instead of retrying for minutes: `fail_fast`), keeps them buffered (at
        most `MAX_BUFFERED_METRICS`) for the next flush while training goes on; a final
        flush, or a full buffer, waits for it up to `server_wait` seconds, then raises.
        """
        must = final or len(self._pending) >= MAX_BUFFERED_METRICS
        if self._server and self._pending:
            if not must and probe(self._server, timeout=1.0) is not None:
                return self._keep("does not answer")
            if must:
                wait_for_server(self._server, self.server_wait)
        for chunk in list(epoch_chunks(self._pending, self.recorder.room(tags))):
            try:
                with contextlib.nullcontext() if must or not self._server else fail_fast():
                    self.recorder.send(chunk, tags)
            except Exception as err:
                if must or not self._server or not unreachable(err):
                    raise
                log.debug("epochs not sent: %s", first_line(err))
                return self._keep("stopped answering")
            del self._pending[: len(chunk)]
            tags = {}
        if tags:
            self.recorder.send(tags=tags)
        if self._away:
            log.info("tracking server back: buffered epochs sent")
        self._away = False
        self._last_flush = time.monotonic()

    def _keep(self, why: str) -> None:
        if not self._away:
            log.warning(
                "tracking server %s %s: keeping the run's epochs (up to %d metrics) until it "
                "answers",
                self._server,
                why,
                MAX_BUFFERED_METRICS,
            )
        self._away = True
        self._last_flush = time.monotonic()
