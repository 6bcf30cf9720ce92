"""Bootstrap and run one worker: wire the clients (`services.bootstrap`), migrate the schema, run the faust app until
SIGINT/SIGTERM (or a fatal error), then stop cleanly.

A stop lets the batch in progress finish (up to STOP_GRACE_S) so its offsets can be committed, and
leaves the group; records fetched but not started are left for the next owner of their partitions.
"""

from __future__ import annotations

import asyncio
import gc
import signal
import threading
import time

from services.bootstrap import bootstrap
from services.config import Settings
from services.logs import get_logger
from services.notify.agent import add_notifier_agent
from services.notify.notifier import Notifier
from services.storage.migrate import migrate
from services.worker.app import STOP_GRACE_S, Worker, build_app
from services.worker.ops import OpsServer, open_alert_counts, update_lag
from services.worker.pipeline import Pipeline

log = get_logger(__name__)
GC_YOUNG_THRESHOLD = 20_000
OPEN_ALERTS_EVERY_S = 15.0


def run(settings: Settings) -> int:
    """`serve` on uvloop: the loop runs the journey reader's fetches, faust's notifier consumer and
    timers; uvloop ran faust's per-record machinery about a quarter to a third faster than asyncio's
    own loop (issue 20's probe; bench/worker.py measures the worker and its baselines on it)."""
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        return runner.run(serve(settings))


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop's loop where it is installed (it comes with uvicorn[standard]), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


async def serve(settings: Settings, stop: asyncio.Event | None = None) -> int:
    """Run until `stop` is set or a signal arrives; 0 after a clean stop, 1 after a fatal error."""
    loop = asyncio.get_running_loop()
    stop = stop or asyncio.Event()
    # Signals reach only the main thread; embedded in another thread, the caller sets `stop`.
    signals = (signal.SIGINT, signal.SIGTERM) if threading.current_thread() is threading.main_thread() else ()
    for sig in signals:
        loop.add_signal_handler(sig, stop.set)
    clients = bootstrap(settings)
    engine, publisher = clients.engine, clients.publisher
    failure: asyncio.Future = loop.create_future()

    def on_fatal(error: BaseException) -> None:
        if not failure.done():
            failure.set_result(error)
        stop.set()

    try:
        revision = await asyncio.to_thread(migrate, engine)
        pipeline = Pipeline(settings, engine, publisher, keyring=clients.keyring)
        await asyncio.to_thread(pipeline.flush_outbox)  # changes a previous run committed but did not publish
        worker = Worker(pipeline, on_fatal)
        app = build_app(settings, worker, sweep_out=clients.journey)
        notifier = Notifier(settings, engine, owned=lambda: _owned(app, settings.alerts_topic))
        add_notifier_agent(app, settings, notifier)
        ops = _ops_server(settings, app, engine, publisher)
        await app.start()
        await notifier.start()
        if ops is not None:
            await ops.start()
        # Everything built so far (modules, schemas, faust, SQLAlchemy) lives as long as the worker:
        # frozen out of the collector's view, so its periodic full collections no longer walk it
        # (they cost ~60 us per event of wall time on a 5000-event backlog).
        gc.freeze()
        # A batch allocates a few hundred thousand short-lived objects (records, models, rows); at the
        # default threshold (700) the collector ran ~1,100 young collections per 30,000 events, 1.7 s
        # of a 19 s drain. At 20,000 it runs ~15, 0.25 s; cycles are still collected, in larger sweeps.
        gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
        log.info(
            "worker started",
            topic=settings.journey_topic,
            group=app.reader.group,
            schema=revision,
            database=engine.dialect.name,
        )
        await stop.wait()
        if not await app.reader.stop(STOP_GRACE_S):
            log.warning("the batch in progress did not finish in time; it will be delivered again")
        await notifier.stop()
        if ops is not None:
            await ops.stop()
        await app.stop()
        log.info("worker stopped", batches=worker.batches)
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
        await asyncio.to_thread(clients.close)
    return 1 if failure.done() else 0


def _owned(app, topic: str) -> set[int]:
    """The partitions of `topic` this worker holds now."""
    try:
        return {tp.partition for tp in app.consumer.assignment() if tp.topic == topic}
    except Exception:  # the consumer is not up yet (or stopping): it owns nothing
        return set()


def _ops_server(settings: Settings, app, engine, publisher) -> OpsServer | None:
    if not settings.worker_metrics_port:
        return None
    from services import metrics
    from services.web import database_check

    counted_at = [float("-inf")]

    async def refresh() -> None:
        await update_lag([app.reader.consumer, app.consumer], {settings.journey_topic, settings.alerts_topic})
        # An aggregate over the inbox: every OPEN_ALERTS_EVERY_S (a scrape interval), not every refresh.
        if time.monotonic() - counted_at[0] >= OPEN_ALERTS_EVERY_S:
            metrics.set_open_alerts(await asyncio.to_thread(open_alert_counts, engine))
            counted_at[0] = time.monotonic()

    checks = {"kafka": publisher.reachable, "database": database_check(engine)}
    return OpsServer(settings.worker_metrics_port, checks, refresh, host=settings.worker_metrics_host)
