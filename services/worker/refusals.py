"""Which failures of a batch's transaction are one record's fault, and how to say why safely.

SPEC section 7: "No single record can stop projection." When storing a batch fails, the worker
sorts the error into one of two kinds:
- transient (`is_transient`, and `persist.Conflict`: another worker changed a case meanwhile):
  the database is unreachable or the connection dropped. Nothing is wrong with the records: the
  batch is retried whole, with backoff, and its offsets wait;
- anything else (a `DataError` such as a NUL character in a text column, a value the column
  refuses, an exception while building the rows): the batch is split in halves and each half
  stored in its own transaction, down to single records, so the good records commit and each
  record that still fails alone goes to the dead-letter topic (`pipeline.Pipeline.store`).
  A unique-constraint error (`IntegrityError`) is first retried as a race; only if it persists
  does the split start.

`reason` never carries SQL, SQL parameters or values from the row: a database error's detail
("Failing row contains (...)", "Key (...)=(...)") and quoted input can hold a migrant's name, so
only the error's class, its SQLSTATE and the first line of its message, with quoted text and
key/value lists replaced by `…`, are kept. The same text is what the worker logs.
"""

from __future__ import annotations

import re
import traceback

import psycopg
from sqlalchemy import exc as sa

# Raised by the driver itself where the worker talks to it directly (the timeline's COPY).
DRIVER_TRANSIENT = (psycopg.OperationalError, psycopg.InterfaceError)
TRANSIENT_STORE = (sa.OperationalError, sa.InterfaceError, sa.DisconnectionError, sa.TimeoutError,
                   *DRIVER_TRANSIENT)
_QUOTED = re.compile(r"\"[^\"]*\"|'[^']*'|\([^()]*\)=\([^()]*\)")
MAX_MESSAGE = 300


def is_transient(error: BaseException) -> bool:
    """True when retrying the same records later can succeed: the records are not at fault."""
    if isinstance(error, TRANSIENT_STORE):
        return True
    return isinstance(error, sa.DBAPIError) and bool(error.connection_invalidated)


def reason(error: BaseException, what: str = "the database refused the record") -> str:
    """One line naming the error without any value from the record: safe for headers and logs."""
    cause = error.orig if isinstance(error, sa.StatementError) and error.orig is not None else error
    name = type(cause).__name__
    sqlstate = getattr(cause, "sqlstate", None)
    if isinstance(cause, psycopg.Error) and cause.diag.message_primary:
        message = cause.diag.message_primary
    else:
        message = str(cause)
    message = redact(message)
    state = f" (SQLSTATE {sqlstate})" if sqlstate else ""
    return f"{what}: {name}{state}: {message}" if message else f"{what}: {name}{state}"


def redact(message: str) -> str:
    """The first line of `message`, quoted text and key/value lists blanked, SQL cut off."""
    first = message.strip().splitlines()[0] if message.strip() else ""
    first = first.split("[SQL:")[0].split("[parameters:")[0].strip()
    return _QUOTED.sub("…", first)[:MAX_MESSAGE]


def frames(error: BaseException) -> str:
    """Where the error happened (file, line, code) without its message or any local variable."""
    return "".join(traceback.format_tb(error.__traceback__))[-4000:]
