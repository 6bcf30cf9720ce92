"""The base of every payload model: frozen, and unknown fields are refused rather than dropped."""

from pydantic import BaseModel, ConfigDict


class Payload(BaseModel):
    """One event type's payload at one schema version. Subclasses name what happened."""

    model_config = ConfigDict(frozen=True, extra="forbid")
