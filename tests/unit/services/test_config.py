import os

import pytest
from pydantic import ValidationError

from services.config import DEV_SECRET, Settings


def test_defaults_follow_the_spec(monkeypatch):
    for name in [n for n in os.environ if n.startswith("PASSAGE_")]:
        monkeypatch.delenv(name)
    s = Settings()
    assert s.kafka_bootstrap == "127.0.0.1:9092"
    assert s.partitions == 12 and s.sweep_interval_s == 60
    assert (s.wage_grace_days, s.checkin_days, s.arrival_grace_hours) == (60, 90, 72)
    assert "SA" in s.clearance_required_set and "GB" not in s.clearance_required_set
    assert s.journey_topic == "passage.journey.v1"
    assert s.alerts_topic == "passage.alerts.v1"
    assert s.dlq_topic == "passage.journey.dlq"
    assert s.db_url.startswith("sqlite:///") and s.db_url.endswith("var/passage.db")


def test_environment_variables_are_read(monkeypatch):
    monkeypatch.setenv("PASSAGE_TOPIC_PREFIX", "ke")
    monkeypatch.setenv("PASSAGE_CLEARANCE_REQUIRED", "sa, ae")
    s = Settings()
    assert s.journey_topic == "ke.journey.v1"
    assert s.clearance_required_set == {"SA", "AE"}


def test_production_refuses_the_development_secret():
    with pytest.raises(ValidationError, match="PASSAGE_SECRET_KEY"):
        Settings(env="production", secret_key=DEV_SECRET, database_url="postgresql://x/y")


def test_production_needs_a_database_url():
    with pytest.raises(ValidationError, match="PASSAGE_DATABASE_URL"):
        Settings(env="production", secret_key="s" * 40, database_url="")


def test_tls_and_sasl_options_reach_the_kafka_clients():
    s = Settings(
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="PLAIN",
        kafka_sasl_username="u",
        kafka_sasl_password="p",
        kafka_ssl_cafile="/etc/ca.pem",
    )
    assert s.kafka_client_options() == {
        "security_protocol": "SASL_SSL",
        "ssl_cafile": "/etc/ca.pem",
        "sasl_mechanism": "PLAIN",
        "sasl_plain_username": "u",
        "sasl_plain_password": "p",
    }


def test_case_work_settings_default_to_the_spec_and_parse_per_severity():
    s = Settings(_env_file=None)
    assert s.referral_accept_hours == 48
    assert s.ack_hours_by_severity == {"critical": 24, "high": 72, "medium": 168}
    assert Settings(ack_hours="high=12, critical=0.5").ack_hours_by_severity == {
        "critical": 0.5,
        "high": 12,
        "medium": 168,
    }
    assert Settings(ack_hours="medium=0", referral_accept_hours=0).ack_hours_by_severity["medium"] == 0


@pytest.mark.parametrize("value", ["urgent=3", "critical", "critical=-0.5", "high=-1", "medium=soon", "high=inf"])
def test_a_bad_ack_hours_value_is_refused_with_the_reason(value):
    with pytest.raises(ValidationError, match="PASSAGE_ACK_HOURS"):
        Settings(ack_hours=value)


def test_aiokafka_clients_take_the_kafka_security_settings_in_aiokafkas_spelling(tmp_path):
    settings = Settings(
        env="test",
        var_dir=tmp_path,
        _env_file=None,
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username="worker",
        kafka_sasl_password="pw",
    )
    options = settings.aiokafka_options()
    assert options.pop("ssl_context") is not None
    assert options == {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "worker",
        "sasl_plain_password": "pw",
    }
    assert Settings(env="test", var_dir=tmp_path, _env_file=None).aiokafka_options() == {
        "security_protocol": "PLAINTEXT"
    }
