"""Errors that cross layers: raised in one layer (Kafka, storage, privacy) and answered in another
(the HTTP services, the worker, the `passage` command). This module imports nothing of Passage's,
so any layer may raise them without an import cycle. Errors that stay inside one module (the
gateway's `MalformedJson`, the worker's `Conflict`, ...) are defined next to their use; the HTTP
answer itself is `services.web.ApiError`, raised only at the HTTP edge."""

from __future__ import annotations


class CommandError(Exception):
    """A failure the user of the `passage` command can act on; its message is printed alone on
    stderr and the command exits 1 (services/cli.py)."""


class PublishFailed(RuntimeError):
    """The broker did not acknowledge in time or is unreachable, or personal fields could not be
    sealed (the key store is down); nothing can be promised (HTTP 503, the worker retries)."""


class SchemaMismatch(RuntimeError):
    """The database has Passage tables that Alembic does not know and that differ from the models."""


class MasterKeyMissing(RuntimeError):
    """No usable master key, or a data key wrapped by a master key this process does not hold."""
