"""The one place settings are read: environment variables with the `PASSAGE_` prefix (SPEC section 1)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.domain.rules import DEFAULT_CLEARANCE_REQUIRED

DEFAULT_ACK_HOURS = "critical=24,high=72,medium=168"
DEV_SECRET = "passage-development-secret-do-not-use-in-production"
ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PASSAGE_", extra="ignore")

    env: str = Field("development", description="development | test | production")
    kafka_bootstrap: str = "127.0.0.1:9092"
    # Passed through to every Kafka client (SASL/TLS for a production cluster).
    kafka_security_protocol: str = "PLAINTEXT"
    kafka_sasl_mechanism: str | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: str | None = None
    kafka_ssl_cafile: str | None = None
    replication_factor: int = 1
    min_insync_replicas: int = 1
    database_url: str = ""
    topic_prefix: str = "passage"
    partitions: int = 12
    sweep_interval_s: float = 60.0
    wage_grace_days: int = 60
    checkin_days: int = 90
    arrival_grace_hours: int = 72
    clearance_required: str = ",".join(sorted(DEFAULT_CLEARANCE_REQUIRED))
    # SPEC section 10: REFERRAL_STALLED after this long unanswered; escalation limits per severity.
    referral_accept_hours: float = Field(48.0, ge=0)
    ack_hours: str = DEFAULT_ACK_HOURS
    secret_key: str = DEV_SECRET
    log_format: str = "console"
    log_level: str = "INFO"
    var_dir: Path = ROOT / "var"
    kafka_cache_dir: Path = Path.home() / ".cache" / "passage" / "kafka"
    # Records per worker batch at most (a backlog; live traffic comes in smaller ones). 2,000 against
    # 500: 15-24% less worker CPU and 27-47% more events/s in an A/B of the pipeline (issue 20).
    worker_batch_size: int = 2000
    worker_batch_wait_s: float = 0.05
    # A worker that stops heartbeating (kill -9, lost machine) loses its partitions after this long;
    # faust's own default (60 s) would leave a dead worker's cases unprojected for a minute.
    worker_session_timeout_s: float = 10.0
    publish_timeout_s: float = 10.0
    # Webhooks (SPEC section 11; services/notify): per-attempt timeout, retry backoff, retry window.
    webhook_timeout_s: float = 10.0
    webhook_retry_base_s: float = 1.0
    webhook_retry_max_delay_s: float = 3600.0
    webhook_retry_for_s: float = 24 * 3600.0
    webhook_poll_s: float = 1.0  # how often each sender looks for due retries without being woken
    # The worker's /metrics, /healthz and /readyz (SPEC section 14); 0 turns the server off.
    worker_metrics_port: int = 9464
    worker_metrics_host: str = "127.0.0.1"  # 0.0.0.0 in a container, so Prometheus can reach it
    # Officer console (services/console): how long a signed-in session lasts.
    console_session_hours: float = Field(8.0, gt=0)
    # Personal data (SPEC section 9, services/privacy): base64 of 32 bytes; development generates
    # var/master.key when unset. PREVIOUS: comma-separated keys still accepted during a rotation.
    master_key: str | None = None
    master_key_previous: str = ""
    # With a value, the sweep requests erasure of cases returned more than this many days ago.
    retention_days: int | None = None

    @field_validator("clearance_required")
    @classmethod
    def _upper(cls, value: str) -> str:
        return ",".join(code.strip().upper() for code in value.split(",") if code.strip())

    @field_validator("ack_hours")
    @classmethod
    def _ack_hours(cls, value: str) -> str:
        parse_ack_hours(value)  # refuse a bad value at startup, with the reason
        return value

    @model_validator(mode="after")
    def _refuse_unsafe_defaults(self) -> Settings:
        if self.env == "production" and self.secret_key == DEV_SECRET:
            raise ValueError(
                "PASSAGE_SECRET_KEY is the development default; set a long random secret "
                "before running with PASSAGE_ENV=production"
            )
        if self.env == "production" and not self.database_url:
            raise ValueError("PASSAGE_DATABASE_URL is empty; point it at PostgreSQL for production")
        return self

    @property
    def clearance_required_set(self) -> frozenset[str]:
        return frozenset(self.clearance_required.split(","))

    @property
    def ack_hours_by_severity(self) -> dict[str, float]:
        return parse_ack_hours(self.ack_hours)

    @property
    def db_url(self) -> str:
        """The view database: PASSAGE_DATABASE_URL, else the SQLite file var/passage.db."""
        return self.database_url or f"sqlite:///{self.var_dir / 'passage.db'}"

    def topic(self, name: str) -> str:
        """Full topic name: `journey.v1` -> `passage.journey.v1`."""
        return f"{self.topic_prefix}.{name}"

    @property
    def journey_topic(self) -> str:
        return self.topic("journey.v1")

    @property
    def alerts_topic(self) -> str:
        return self.topic("alerts.v1")

    @property
    def dlq_topic(self) -> str:
        return self.topic("journey.dlq")

    def kafka_client_options(self) -> dict[str, object]:
        """Security options for kafka-python clients (producer, admin, consumers); the faust worker
        builds its own SSL context from the same settings."""
        options: dict[str, object] = {"security_protocol": self.kafka_security_protocol}
        if self.kafka_ssl_cafile:
            options["ssl_cafile"] = self.kafka_ssl_cafile
        if self.kafka_sasl_mechanism:
            options.update(
                sasl_mechanism=self.kafka_sasl_mechanism,
                sasl_plain_username=self.kafka_sasl_username,
                sasl_plain_password=self.kafka_sasl_password,
            )
        return options

    def aiokafka_options(self) -> dict[str, object]:
        """The same security options in aiokafka's spelling (the bulk rebuild's and the worker's
        journey reader): aiokafka takes an SSL context, not a file."""
        options = self.kafka_client_options()
        cafile = options.pop("ssl_cafile", None)
        if self.kafka_security_protocol in ("SSL", "SASL_SSL"):
            from aiokafka.helpers import create_ssl_context

            options["ssl_context"] = create_ssl_context(cafile=cafile)
        return options


def parse_ack_hours(value: str) -> dict[str, float]:
    """`critical=24,high=72,medium=168` -> hours per severity; a severity left out keeps its default."""
    limits = {
        severity: float(hours) for severity, hours in (pair.split("=", 1) for pair in DEFAULT_ACK_HOURS.split(","))
    }
    for item in (part.strip() for part in value.split(",")):
        severity, sep, hours = item.partition("=")
        severity = severity.strip()
        if not item:
            continue
        if not sep or severity not in limits:
            raise ValueError(
                f"PASSAGE_ACK_HOURS item {item!r} is not severity=hours with severity one of "
                "critical, high, medium (e.g. 'critical=24,high=72,medium=168')"
            )
        try:
            number = float(hours)
        except ValueError:
            number = -1.0
        if not number >= 0 or number == float("inf"):  # 0: escalate at the next sweep
            raise ValueError(f"PASSAGE_ACK_HOURS: {severity}={hours.strip()!r} must be a number of hours, 0 or more")
        limits[severity] = number
    return limits


@lru_cache
def get_settings() -> Settings:
    """Settings read once per process; tests build `Settings(...)` directly instead."""
    return Settings()
