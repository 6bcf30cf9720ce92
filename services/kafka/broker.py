"""The local Kafka broker (KRaft) run from jars that Maven fetches once into a cache outside the repo.

`start` is idempotent: a node whose pid file points at a live process that answers is left alone.
Readiness is asked of the broker (cluster metadata) under a deadline, never assumed after a sleep.

A port held by a process this checkout did not start (no live pid file) is judged by `holder`:
a single broker that answers Kafka's protocol there (another checkout's `passage up`, or a broker
run by hand) is used as it is, and neither started nor stopped by this checkout; anything else on
the port is refused. A cluster (`--nodes 3`, the fault tests) is never borrowed: those tests kill
and restart its nodes, which only works on nodes this checkout started.
"""

from __future__ import annotations

import base64
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TypedDict

from services.config import ROOT, Settings
from services.logs import get_logger

log = get_logger(__name__)

DEPLOY = ROOT / "deploy" / "kafka"
POM = DEPLOY / "pom.xml"
TEMPLATE = DEPLOY / "server.properties"
LOG_CONFIG = DEPLOY / "log4j2.yaml"
KAFKA_VERSION = "4.1.1"
CLUSTER_BASE_PORT = 19092  # --nodes N: brokers on 19092.., controllers on 19192..


class BrokerError(RuntimeError):
    """A one-line reason the broker could not be fetched, started or stopped."""


class Holder(Enum):
    """Who holds a node's ports when `start` looks at them."""

    NOBODY = "nobody"  # free: launch the node
    US = "us"  # this checkout's node (its pid file names a live process)
    KAFKA = "kafka"  # another process that answers Kafka's protocol: another checkout's broker
    OTHER = "other"  # another process that does not answer as a Kafka broker


def holder(ours: bool, taken: bool, answers_kafka: bool) -> Holder:
    """Who holds a node's ports, from what `start` observed: whether this checkout's pid file names
    a live process (`ours`), whether its ports are taken, and whether a Kafka broker answers on them."""
    if ours:
        return Holder.US
    if not taken:
        return Holder.NOBODY
    return Holder.KAFKA if answers_kafka else Holder.OTHER


@dataclass(frozen=True)
class Node:
    node_id: int
    port: int
    controller_port: int
    home: Path

    @property
    def pid_file(self) -> Path:
        return self.home / "kafka.pid"

    @property
    def log_file(self) -> Path:
        return self.home / "kafka.log"

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def config_file(self) -> Path:
        return self.home / "server.properties"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


def plan(settings: Settings, nodes: int = 1) -> list[Node]:
    """Where each node listens and keeps its files: one node on the configured port, or a cluster."""
    if nodes == 1:
        port = int(settings.kafka_bootstrap.split(",")[0].rsplit(":", 1)[1])
        return [Node(1, port, port + 1, settings.var_dir / "kafka")]
    base = settings.var_dir / "kafka-cluster"
    return [
        Node(i, CLUSTER_BASE_PORT + i - 1, CLUSTER_BASE_PORT + 100 + i - 1, base / f"node-{i}")
        for i in range(1, nodes + 1)
    ]


def bootstrap_for(nodes: list[Node]) -> str:
    return ",".join(node.address for node in nodes)


def jar_dir(settings: Settings) -> Path:
    """Fetch the broker jars with Maven once; later calls return the cached directory."""
    target = settings.kafka_cache_dir / KAFKA_VERSION
    marker = target / ".complete"
    if marker.exists():
        return target
    _require(
        "java", "Java 17+ is needed to run the broker; install it with: apt-get install -y openjdk-17-jre-headless"
    )
    mvn = _require("mvn", "Maven is needed to fetch the Kafka jars; install it with: apt-get install -y maven")
    target.mkdir(parents=True, exist_ok=True)
    log.info("fetching kafka jars with maven", version=KAFKA_VERSION, into=str(target))
    result = subprocess.run(
        [
            mvn,
            "-q",
            "-B",
            "-f",
            str(POM),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={target}",
            "-DincludeScope=runtime",
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    if result.returncode != 0:
        tail = (result.stdout + result.stderr).strip().splitlines()[-1:] or ["no output"]
        raise BrokerError(f"Maven could not fetch the Kafka jars ({tail[0]}); check the network and ~/.m2, then retry")
    marker.touch()
    return target


def start(settings: Settings, nodes: int = 1, timeout_s: float = 120.0) -> tuple[str, bool]:
    """Start the node(s) unless running. Returns (bootstrap servers, whether anything was started):
    nothing is started when this checkout's node(s) already run, nor when one broker this checkout
    did not start answers on the port (see `holder`)."""
    layout = plan(settings, nodes)
    bootstrap = bootstrap_for(layout)
    if all(_alive(node) for node in layout) and answers(bootstrap, expected_brokers=nodes):
        return bootstrap, False
    to_launch: list[Node] = []
    for node in layout:
        own = _alive(node)
        taken = [] if own else [port for port in (node.port, node.controller_port) if _port_taken(port)]
        found = holder(own, bool(taken), bool(taken) and answers(node.address))
        if found is Holder.KAFKA and nodes == 1:
            return bootstrap, False
        if found is Holder.KAFKA:
            raise BrokerError(
                f"port {node.port} answers as a Kafka broker this checkout did not start; a cluster must be "
                "this checkout's own (its nodes get killed and restarted): stop that broker where it was started"
            )
        if found is Holder.OTHER:
            raise BrokerError(
                f"port {taken[0]} is taken by a process that does not answer as a Kafka broker; "
                "stop it or set PASSAGE_KAFKA_BOOTSTRAP to another port"
            )
        if found is Holder.NOBODY:
            to_launch.append(node)
    if to_launch:
        jars = jar_dir(settings)
        java = _require(
            "java", "Java 17+ is needed to run the broker; install it with: apt-get install -y openjdk-17-jre-headless"
        )
        voters = ",".join(f"{n.node_id}@127.0.0.1:{n.controller_port}" for n in layout)
        for node in to_launch:
            _write_config(node, voters, settings, nodes)
            _format(java, jars, node)
            _launch(java, jars, node)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        dead = [node for node in layout if not _alive(node)]
        if dead:
            raise BrokerError(f"the broker exited during start-up; see {dead[0].log_file}")
        if answers(bootstrap, expected_brokers=nodes):
            return bootstrap, True
        time.sleep(0.5)
    raise BrokerError(f"the broker did not answer within {timeout_s:.0f}s; see {layout[0].log_file}")


def stop(settings: Settings, nodes: int = 1, timeout_s: float = 30.0) -> bool:
    """Stop the node(s); returns whether anything was running. Every node is asked at once: one by
    one, the last node of a KRaft cluster would lose its controller quorum and wait for it in vain."""
    running = [(node, pid) for node in plan(settings, nodes) if (pid := _pid(node)) is not None]
    for _node, pid in running:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while any(_process_alive(pid) for _node, pid in running) and time.monotonic() < deadline:
        time.sleep(0.1)
    for node, pid in running:
        if _process_alive(pid):
            _signal(pid, signal.SIGKILL)
        node.pid_file.unlink(missing_ok=True)
    return bool(running)


def kill_node(settings: Settings, node_id: int, nodes: int) -> None:
    """kill -9 one node (fault tests)."""
    node = plan(settings, nodes)[node_id - 1]
    pid = _pid(node)
    if pid is not None:
        _signal(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while _process_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)


def answers(bootstrap: str, expected_brokers: int = 1, timeout_s: float = 3.0) -> bool:
    """Whether the cluster at `bootstrap` answers a metadata request with all expected brokers."""
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

    addresses = bootstrap.split(",")
    if not any(_port_open(address) for address in addresses):
        return False  # nothing listens: skip the client and its slow, noisy bootstrap retries
    with _quiet("kafka"):
        try:
            admin = KafkaAdminClient(
                bootstrap_servers=addresses, request_timeout_ms=int(timeout_s * 1000), client_id="passage-status"
            )
        except (KafkaError, OSError):
            return False
        try:
            return len(admin.describe_cluster().get("brokers", [])) >= expected_brokers
        except (KafkaError, OSError):
            return False
        finally:
            admin.close()


@contextmanager
def _quiet(logger_name: str) -> Iterator[None]:
    """A probe expects connection failures: they are its answer, not news for the log."""
    logger = logging.getLogger(logger_name)
    previous = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(previous)


def _port_open(address: str) -> bool:
    host, port = address.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


def ours(settings: Settings, nodes: int = 1) -> bool:
    """Whether every node's pid file in this checkout names a live process (this checkout started it)."""
    return all(_alive(node) for node in plan(settings, nodes))


class Status(TypedDict):
    bootstrap: str
    nodes: dict[int, int | None]  # node id -> pid, None when not running
    answers: bool


def status(settings: Settings, nodes: int = 1) -> Status:
    layout = plan(settings, nodes)
    bootstrap = bootstrap_for(layout)
    return {
        "bootstrap": bootstrap,
        "nodes": {node.node_id: _pid(node) for node in layout},
        "answers": answers(bootstrap, expected_brokers=nodes),
    }


def _write_config(node: Node, voters: str, settings: Settings, nodes: int) -> None:
    node.home.mkdir(parents=True, exist_ok=True)
    replication = 3 if nodes >= 3 else 1
    min_isr = 2 if nodes >= 3 else 1
    text = TEMPLATE.read_text().format(
        node_id=node.node_id,
        voters=voters,
        port=node.port,
        controller_port=node.controller_port,
        data_dir=node.data_dir,
        replication_factor=replication,
        min_insync_replicas=min_isr,
    )
    node.config_file.write_text(text)


def _format(java: str, jars: Path, node: Node) -> None:
    if (node.data_dir / "meta.properties").exists():
        return
    cluster_id_file = node.home.parent / "cluster.id"
    # An id starting with '-' was written by an earlier version and could never be formatted.
    if not cluster_id_file.exists() or cluster_id_file.read_text().startswith("-"):
        cluster_id_file.parent.mkdir(parents=True, exist_ok=True)
        cluster_id_file.write_text(_cluster_id())
    result = subprocess.run(
        [
            java,
            "-cp",
            f"{jars}/*",
            f"-Dlog4j2.configurationFile={LOG_CONFIG}",
            "kafka.tools.StorageTool",
            "format",
            "-t",
            cluster_id_file.read_text().strip(),
            "-c",
            str(node.config_file),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0:
        reason = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
        raise BrokerError(f"formatting {node.data_dir} failed: {reason[0]}; delete it and retry")


def _launch(java: str, jars: Path, node: Node) -> None:
    heap = os.environ.get("KAFKA_HEAP_OPTS", "-Xms256m -Xmx768m")
    with node.log_file.open("ab") as out:
        process = subprocess.Popen(
            [
                java,
                *heap.split(),
                "-XX:+UseG1GC",
                f"-Dlog4j2.configurationFile={LOG_CONFIG}",
                "-cp",
                f"{jars}/*",
                "kafka.Kafka",
                str(node.config_file),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    node.pid_file.write_text(str(process.pid))
    log.info("kafka node starting", node=node.node_id, port=node.port, pid=process.pid)


def _cluster_id(random_bytes: Callable[[], bytes] = lambda: uuid.uuid4().bytes) -> str:
    """A cluster id as Kafka makes one: URL-safe base64 of 16 random bytes, never starting with '-'.

    The storage tool's argument parser reads an id that starts with '-' as an option and fails
    ("argument --cluster-id/-t: expected one argument"); Kafka's own Uuid.randomUuid draws again.
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(random_bytes()).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def _require(command: str, reason: str) -> str:
    path = shutil.which(command)
    if path is None:
        raise BrokerError(reason)
    return path


def _pid(node: Node) -> int | None:
    try:
        pid = int(node.pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    return pid if _process_alive(pid) else None


def _alive(node: Node) -> bool:
    return _pid(node) is not None


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (killed child not yet reaped) counts as dead.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def _signal(pid: int, sig: signal.Signals) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _port_taken(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False
