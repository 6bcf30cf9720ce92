"""The one place settings are read: environment variables with the `PASSAGE_` prefix (SPEC section 1)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_CLEARANCE_REQUIRED = "AF,BH,ID,IQ,JO,KW,LB,LY,MY,OM,QA,SA,SD,SS,SY,TH,AE,YE"
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
    clearance_required: str = DEFAULT_CLEARANCE_REQUIRED
    secret_key: str = DEV_SECRET
    log_format: str = "console"
    log_level: str = "INFO"
    var_dir: Path = ROOT / "var"
    kafka_cache_dir: Path = Path.home() / ".cache" / "passage" / "kafka"
    worker_batch_size: int = 500
    worker_batch_wait_s: float = 0.05
    # A worker that stops heartbeating (kill -9, lost machine) loses its partitions after this long;
    # faust's own default (60 s) would leave a dead worker's cases unprojected for a minute.
    worker_session_timeout_s: float = 10.0
    publish_timeout_s: float = 10.0
    # Officer console (services/console): how long a signed-in session lasts.
    console_session_hours: float = Field(8.0, gt=0)

    @field_validator("clearance_required")
    @classmethod
    def _upper(cls, value: str) -> str:
        return ",".join(code.strip().upper() for code in value.split(",") if code.strip())

    @model_validator(mode="after")
    def _refuse_unsafe_defaults(self) -> "Settings":
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


@lru_cache
def get_settings() -> Settings:
    """Settings read once per process; tests build `Settings(...)` directly instead."""
    return Settings()
