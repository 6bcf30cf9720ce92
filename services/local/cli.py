"""`passage up`: every part of Passage on one machine (SPEC section 8).

In order: Kafka (the local broker, unless PASSAGE_KAFKA_BOOTSTRAP is set or a broker already
answers there), the topics, the view schema, the demo credentials, then `passage worker`,
`passage gateway` and `passage query` as supervised child processes whose logs are merged into
one stream. Ctrl-C or SIGTERM stops every part and exits 0; if a part dies, the others are stopped
and the exit code is 1, naming the part. The broker is stopped on exit only if `up` started it:
a broker someone else started is theirs to stop (`passage kafka stop`).
"""

from __future__ import annotations

import argparse
import signal
import socket
import sys
import time

from services.config import Settings
from services.errors import CommandError

STOP_GRACE_S = 75.0  # the worker may take up to 60 s to finish the batch in progress
READY_WARN_S = 120.0
NAMES = ("up", "worker", "gateway", "query")


class _Interrupted(Exception):
    """A signal arrived while `up` was still starting (before any child ran)."""


def register(sub: argparse._SubParsersAction) -> None:
    up = sub.add_parser("up", help="everything on one machine: broker, topics, worker, gateway, query")
    up.add_argument("--gateway-port", type=int, default=8080, help="default 8080")
    up.add_argument("--query-port", type=int, default=8081, help="default 8081")
    up.add_argument("--host", default="127.0.0.1", help="address the HTTP services listen on (default 127.0.0.1)")
    up.set_defaults(func=_up)


def _up(args: argparse.Namespace, settings: Settings) -> int:
    import logging

    from services.local.supervisor import Part, Supervisor

    # `up` says itself what these would (schema revision, readiness), in one line each.
    for noisy in ("httpx", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    for port, option in ((args.gateway_port, "--gateway-port"), (args.query_port, "--query-port")):
        if _taken(args.host, port):
            raise CommandError(f"port {port} on {args.host} is taken by another process; stop it or pass {option}")
    python = [sys.executable, "-u", "-m", "services"]
    parts = [
        Part("worker", [*python, "worker"]),
        Part("gateway", [*python, "gateway", "--host", args.host, "--port", str(args.gateway_port)]),
        Part("query", [*python, "query", "--host", args.host, "--port", str(args.query_port)]),
    ]
    supervisor = Supervisor(parts, sys.stdout, NAMES)
    say = lambda text: supervisor.say("up", text)  # noqa: E731
    local = f"http://{'127.0.0.1' if args.host in ('0.0.0.0', '::') else args.host}"
    urls = {"gateway": f"{local}:{args.gateway_port}", "query": f"{local}:{args.query_port}"}
    signals = {"count": 0}

    def interrupt(_signum, _frame) -> None:
        raise _Interrupted

    def count(_signum, _frame) -> None:
        signals["count"] += 1  # no locks, no I/O: safe whatever the main thread was doing

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    broker_state = {"launched": False}
    died = None
    try:
        _kafka(settings, say, broker_state)
        _prepare(settings, urls, say)
        for sig in previous:
            signal.signal(sig, count)
        supervisor.start()
        died = _supervise(supervisor, urls, lambda: signals["count"] > 0, say)
    except _Interrupted:
        say("interrupted while starting")
    finally:
        for sig in previous:
            signal.signal(sig, count)  # from here on a signal only hurries the clean-up along
        if any(part.process for part in parts):
            say(
                f"the {died.name} exited (code {died.process.returncode}); stopping the others"
                if died
                else "stopping every part (a second Ctrl-C kills them at once)"
            )
        supervisor.stop(STOP_GRACE_S, hurry=lambda: signals["count"] > 1)
        if broker_state["launched"]:
            from services.kafka import broker

            broker.stop(settings)
            say("stopped the local Kafka broker this command started")
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if died is not None:
        raise CommandError(
            f"the {died.name} exited unexpectedly with code {died.process.returncode} "
            "(its log lines are above, prefixed with its name); the other parts were stopped"
        )
    say("stopped")
    return 0


def _kafka(settings: Settings, say, state: dict) -> None:
    """Make sure Kafka answers; `state["launched"]` tells whether this command started the local
    broker (set before starting it, so an interrupted start is cleaned up too)."""
    from services.kafka import broker

    if "kafka_bootstrap" in settings.model_fields_set:
        say(f"using Kafka at {settings.kafka_bootstrap} (PASSAGE_KAFKA_BOOTSTRAP)")
        return
    if broker.answers(settings.kafka_bootstrap):
        say(f"a Kafka broker already answers at {settings.kafka_bootstrap}; using it (it stays running on exit)")
        return
    say("starting the local Kafka broker (the first run fetches its jars with Maven)")
    state["launched"] = True
    try:
        bootstrap, _started = broker.start(settings)
    except broker.BrokerError as error:
        raise CommandError(str(error)) from None
    say(f"Kafka answers at {bootstrap} (log: {broker.plan(settings)[0].log_file}); it stops when `up` stops")


def _prepare(settings: Settings, urls: dict[str, str], say) -> None:
    """Topics, the view schema and the demo credentials, before any service starts."""
    from kafka.errors import KafkaError
    from sqlalchemy.exc import SQLAlchemyError

    from services.demo import credentials
    from services.errors import SchemaMismatch
    from services.kafka.topics import create_topics
    from services.storage.db import make_engine
    from services.storage.migrate import migrate

    try:
        created = create_topics(settings)
    except KafkaError as error:
        raise CommandError(
            f"could not create the topics on {settings.kafka_bootstrap} ({error}); "
            "check PASSAGE_KAFKA_BOOTSTRAP and the PASSAGE_KAFKA_* security settings"
        ) from None
    say(f"topics {'created: ' + ', '.join(created) if created else 'exist'} (prefix {settings.topic_prefix})")
    engine = make_engine(settings)
    try:
        revision = migrate(engine)
        say(f"view database ready ({engine.url.render_as_string(hide_password=True)}, schema {revision})")
        creds, issued = credentials.ensure(settings, engine, urls["gateway"], urls["query"])
    except (SQLAlchemyError, SchemaMismatch) as error:
        raise CommandError(
            f"the view database failed ({str(error).splitlines()[0]}); check PASSAGE_DATABASE_URL"
        ) from None
    except credentials.CredentialsError as error:
        raise CommandError(str(error)) from None
    finally:
        engine.dispose()
    where = credentials.path(settings)
    # Secrets go to a terminal only: redirected output ends up in log files (SPEC section 8).
    if issued and sys.stdout.isatty():
        say(f"demo credentials issued ({', '.join(issued)}), saved to {where} (mode 0600):")
        say(f"  supervisor token (query API, scope *): {creds.supervisor_token}")
        say(f"  recruiting agent key (gateway, agency demo-recruiting_agent): {creds.agency_keys['recruiting_agent']}")
    elif issued:
        say(
            f"demo credentials issued ({', '.join(issued)}); the keys and tokens are in {where} (mode 0600), "
            "not printed here because this output is not a terminal"
        )
    else:
        say(f"demo credentials: {where}")
    say(f"officer console: {urls['query']}/console/ (sign in with an officer token, e.g. the supervisor's)")


def _supervise(supervisor, urls: dict[str, str], stop_requested, say):
    """Run until a stop is requested (returns None) or a part exits (returns it)."""
    import httpx

    pending, began, warned = dict(urls), time.monotonic(), False
    while not stop_requested():
        died = supervisor.exited()
        if died is not None:
            return died
        for name, url in list(pending.items()):
            try:
                if httpx.get(f"{url}/readyz", timeout=1.0).status_code == 200:
                    del pending[name]
            except httpx.TransportError:
                pass
            if not pending:
                say(f"ready: gateway {urls['gateway']}, query {urls['query']}; Ctrl-C stops everything")
                say("try: passage demo --migrants 200")
        if pending and not warned and time.monotonic() - began > READY_WARN_S:
            warned = True
            say(f"not ready after {READY_WARN_S:.0f}s: {', '.join(pending)} (see their /readyz and log lines)")
        time.sleep(0.5 if pending else 0.2)
    return None


def _taken(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False
