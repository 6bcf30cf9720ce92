"""The worker's operations port (SPEC section 14): `/metrics`, `/healthz` and `/readyz` on
PASSAGE_WORKER_METRICS_PORT (default 9464; 0 turns it off), served by aiohttp in the worker's own
event loop, and the gauges it keeps current: consumer lag per partition and open alerts.

`/readyz` is 200 when the view database and Kafka answer and the faust app runs, else 503 naming
what failed (the same body as the HTTP services' /readyz).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Iterable

from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from services import metrics
from services.logs import get_logger
from services.storage.tables import Alert, table_of

log = get_logger(__name__)
REFRESH_S = 2.0


def open_alert_counts(engine: Engine) -> list[tuple[str, str, int]]:
    alerts = table_of(Alert).c
    # status first: the inbox index (status, ...) serves it without reading resolved alerts
    query = (
        select(alerts.code, alerts.severity, func.count())
        .where(alerts.status.in_(["open", "acknowledged"]))
        .group_by(alerts.code, alerts.severity)
    )
    with engine.connect() as connection:
        return [(row[0], row[1], row[2]) for row in connection.execute(query)]


async def update_lag(consumers: Iterable, topics: set[str]) -> None:
    """Lag = the partition's high watermark minus this worker's position, for the partitions of
    `topics` assigned to `consumers` (the journey reader's, faust's; None: not started yet);
    partitions it no longer holds are removed (another worker reports them)."""
    seen = set()
    for consumer, tp in [(c, tp) for c in consumers if c is not None for tp in c.assignment()]:
        if tp.topic not in topics:
            continue
        highwater, position = consumer.highwater(tp), await consumer.position(tp)
        if highwater is None or position is None:
            continue
        metrics.CONSUMER_LAG.labels(topic=tp.topic, partition=str(tp.partition)).set(max(0, highwater - position))
        seen.add((tp.topic, str(tp.partition)))
    for labels in [tuple(s.labels.values()) for m in metrics.CONSUMER_LAG.collect() for s in m.samples]:
        if labels not in seen:
            with contextlib.suppress(KeyError):
                metrics.CONSUMER_LAG.remove(*labels)


class OpsServer:
    def __init__(
        self, port: int, checks: dict[str, Callable[[], bool]], refresh: Callable, host: str = "127.0.0.1"
    ) -> None:
        self.port, self.host, self.checks, self.refresh = port, host, checks, refresh
        self._runner: web.AppRunner | None = None
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        try:
            await web.TCPSite(self._runner, self.host, self.port).start()
        except OSError as error:  # e.g. a second worker on this host: it projects all the same
            log.warning(
                "worker metrics port unavailable; this worker serves no /metrics. Give each worker on "
                "a host its own PASSAGE_WORKER_METRICS_PORT",
                port=self.port,
                error=str(error),
            )
            await self._runner.cleanup()
            self._runner = None
            return
        self._task = asyncio.create_task(self._keep_fresh(), name="worker-gauges")
        log.info("worker metrics listening", port=self.port)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._runner is not None:
            await self._runner.cleanup()

    async def _keep_fresh(self) -> None:
        while True:
            try:
                await self.refresh()
            except Exception as error:  # a boundary: a gauge may go stale, the worker goes on
                log.debug("could not refresh worker gauges", error=type(error).__name__)
            await asyncio.sleep(REFRESH_S)

    async def _metrics(self, _request: web.Request) -> web.Response:
        body, content_type = metrics.exposition()
        return web.Response(body=body, headers={"Content-Type": content_type})

    async def _healthz(self, _request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def _readyz(self, _request: web.Request) -> web.Response:
        results = {}
        for name, check in self.checks.items():
            try:
                results[name] = bool(await asyncio.to_thread(check))
            except Exception:  # a readiness probe reports failure; it never raises
                results[name] = False
        failed = [name for name, ok in results.items() if not ok]
        if failed:
            message = f"not ready: {', '.join(failed)} unreachable; check they are running"
            body = {"error": {"code": "unavailable", "message": message, "details": [results]}}
            return web.Response(status=503, text=json.dumps(body), content_type="application/json")
        return web.json_response({"status": "ready", "checks": results})
