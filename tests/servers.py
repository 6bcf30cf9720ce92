"""Servers under test on loopback: a free port, an ASGI app served by uvicorn in a thread, and a
readiness probe for `tests.polling.wait_until`."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import uvicorn
from fastapi import FastAPI

from tests.polling import wait_until


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def http_ok(url: str, timeout_s: float = 5.0) -> bool:
    """Whether GET `url` answers 200 (a readiness probe); no connection is an answer too: not yet."""
    try:
        return httpx.get(url, timeout=timeout_s).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def serving(app: FastAPI, timeout_s: float = 30) -> Iterator[str]:
    """Serve `app` with uvicorn on a free loopback port; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False))
    thread = threading.Thread(target=server.run, name="app-under-test", daemon=True)
    thread.start()

    def started() -> bool:
        assert thread.is_alive(), f"uvicorn exited before it served on port {port}"
        return server.started

    wait_until(started, timeout_s, f"uvicorn serving on port {port}", interval_s=0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=timeout_s)
