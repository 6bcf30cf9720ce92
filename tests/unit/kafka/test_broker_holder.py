"""Who holds the broker's port decides what `passage kafka start` does: launch, leave this checkout's
broker alone, use another checkout's broker, or refuse a port held by something that is not Kafka."""

from __future__ import annotations

import pytest

from services.config import Settings
from services.kafka import broker
from services.kafka.broker import Holder, holder


@pytest.mark.parametrize(
    ("ours", "taken", "answers_kafka", "expected"),
    [
        (True, True, True, Holder.US),
        (True, False, False, Holder.US),  # this checkout's node still starting: not bound yet
        (False, False, False, Holder.NOBODY),
        (False, True, True, Holder.KAFKA),
        (False, True, False, Holder.OTHER),
    ],
)
def test_holder_is_decided_by_pid_file_port_and_protocol(ours, taken, answers_kafka, expected):
    assert holder(ours, taken, answers_kafka) is expected


class Probes:
    """What `start` would observe on a machine: ports held by others, and which of them speak Kafka."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, taken: set[int], kafka: set[int]) -> None:
        monkeypatch.setattr(broker, "_alive", lambda node: False)
        monkeypatch.setattr(broker, "_port_taken", lambda port: port in taken)
        monkeypatch.setattr(broker, "answers", lambda bootstrap, expected_brokers=1: self._answers(bootstrap))
        monkeypatch.setattr(broker, "jar_dir", self._launch_attempted)
        self.kafka = kafka
        self.launches = 0

    def _answers(self, bootstrap: str) -> bool:
        return all(int(address.rsplit(":", 1)[1]) in self.kafka for address in bootstrap.split(","))

    def _launch_attempted(self, settings: Settings) -> None:
        self.launches += 1
        raise broker.BrokerError("would launch")


def settings_on(port: int, tmp_path) -> Settings:
    return Settings(env="test", kafka_bootstrap=f"127.0.0.1:{port}", var_dir=tmp_path, _env_file=None)


def test_start_uses_a_broker_another_checkout_started(monkeypatch, tmp_path):
    probes = Probes(monkeypatch, taken={29092, 29093}, kafka={29092})
    assert broker.start(settings_on(29092, tmp_path)) == ("127.0.0.1:29092", False)
    assert probes.launches == 0 and not broker.ours(settings_on(29092, tmp_path))


def test_start_refuses_a_port_held_by_something_that_is_not_kafka(monkeypatch, tmp_path):
    probes = Probes(monkeypatch, taken={29092}, kafka=set())
    with pytest.raises(broker.BrokerError, match="port 29092 is taken by a process that does not answer as a Kafka"):
        broker.start(settings_on(29092, tmp_path))
    assert probes.launches == 0


def test_start_refuses_a_taken_controller_port(monkeypatch, tmp_path):
    Probes(monkeypatch, taken={29093}, kafka=set())
    with pytest.raises(broker.BrokerError, match="port 29093 is taken"):
        broker.start(settings_on(29092, tmp_path))


def test_start_never_borrows_a_cluster(monkeypatch, tmp_path):
    """The fault tests kill and restart the cluster's nodes: only nodes this checkout started will do."""
    probes = Probes(monkeypatch, taken={19092, 19093, 19094, 19192, 19193, 19194}, kafka={19092, 19093, 19094})
    with pytest.raises(broker.BrokerError, match="port 19092 answers as a Kafka broker this checkout did not start"):
        broker.start(settings_on(9092, tmp_path), nodes=3)
    assert probes.launches == 0


def test_start_launches_on_free_ports(monkeypatch, tmp_path):
    probes = Probes(monkeypatch, taken=set(), kafka=set())
    with pytest.raises(broker.BrokerError, match="would launch"):
        broker.start(settings_on(29092, tmp_path))
    assert probes.launches == 1
