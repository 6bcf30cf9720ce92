"""A real webhook receiver on loopback for the notifier's tests: answers from a script, records
what it got (headers, body, when), and can hang."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HANG = -1  # a scripted "answer" that never comes (until the receiver closes)


@dataclass(frozen=True)
class Received:
    delivery_id: str
    signature: str
    raw: bytes
    at: float
    answered: int

    @property
    def body(self) -> dict:
        return json.loads(self.raw)


class Receiver:
    def __init__(self, script: Iterable[int] = (), default: int = 200) -> None:
        self.script = list(script)
        self.default = default
        self.received: list[Received] = []
        self.released = threading.Event()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server hook's name
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver._lock:
                    status = receiver.script.pop(0) if receiver.script else receiver.default
                    receiver.received.append(
                        Received(
                            self.headers.get("Passage-Delivery-Id", ""),
                            self.headers.get("Passage-Signature", ""),
                            raw,
                            time.monotonic(),
                            status,
                        )
                    )
                if status == HANG:
                    receiver.released.wait()
                    return
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()

    def of_case(self, case_id: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.body.get("case_id") == case_id]
