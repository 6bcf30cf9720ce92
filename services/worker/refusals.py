"""Which failures of a batch's transaction are one record's fault, and how to say why safely.

SPEC section 7: "No single record can stop projection." When storing a batch fails, the worker
sorts the error into one of three kinds:
- transient (`is_transient`, and `persist.Conflict`: another worker changed a case meanwhile):
  the database is unreachable or the connection dropped. Nothing is wrong with the records: the
  batch is retried whole, with backoff, and its offsets wait;
- the records' fault (`is_record_fault`: a `DataError` such as a NUL character in a text
  column, a value a constraint refuses, an exception while building the rows): the batch is split
  in halves and each half stored in its own transaction, down to single records, so the good
  records commit and each record that still fails alone goes to the dead-letter topic
  (`isolate.isolating`).
  A unique-constraint error (`IntegrityError`) is first retried as a race; only if it persists
  does the split start;
- anything else (a missing column, permissions, an internal error of the server): a fault of the
  database or of the code, not of a record; the batch is left alone and the worker stops (exit 1)
  rather than dead-letter every record that follows.

`reason` never carries SQL, SQL parameters or values from the row: a database error's detail
("Failing row contains (...)", "Key (...)=(...)") and quoted input can hold a migrant's name, so
only the error's class, its SQLSTATE and the first line of its message, with quoted text and
key/value lists replaced by `…`, are kept; of any other exception, only its class and where in
our code it was raised. The same text is what the worker logs.
"""

from __future__ import annotations

import re
import sqlite3
import traceback
from pathlib import Path

import psycopg
from sqlalchemy import exc as sa

from services.config import ROOT

# Raised by the driver itself where the worker talks to it directly (the timeline's COPY).
DRIVER_TRANSIENT = (psycopg.OperationalError, psycopg.InterfaceError)
TRANSIENT_STORE = (sa.OperationalError, sa.InterfaceError, sa.DisconnectionError, sa.TimeoutError, *DRIVER_TRANSIENT)
RECORD_SQLSTATE_CLASSES = ("22", "23", "P0")
_QUOTED = re.compile(r"\"[^\"]*\"|'[^']*'|\([^()]*\)=\([^()]*\)")
MAX_MESSAGE = 300


def is_record_fault(error: BaseException) -> bool:
    """True when the error comes from the records being stored: a value the database refuses
    (SQLSTATE classes 22 data exception, 23 integrity, P0 raised by a trigger; the driver's own
    DataError such as a NUL character), or an exception of our code while turning the records into
    rows. False for anything about the database itself: unreachable, full disk, a missing column,
    permissions, an internal error. Setting records aside for those would empty the stream into
    the dead-letter topic; the batch is retried or the worker stops instead."""
    if is_transient(error):
        return False
    cause = error.orig if isinstance(error, sa.StatementError) and error.orig is not None else error
    if isinstance(cause, psycopg.DataError | psycopg.IntegrityError | sqlite3.DataError | sqlite3.IntegrityError):
        return True
    if isinstance(cause, psycopg.Error):
        return (cause.sqlstate or "").startswith(RECORD_SQLSTATE_CLASSES)
    return not isinstance(cause, sqlite3.Error | sa.SQLAlchemyError)


def is_transient(error: BaseException) -> bool:
    """True when retrying the same records later can succeed: the records are not at fault."""
    if isinstance(error, TRANSIENT_STORE):
        return True
    return isinstance(error, sa.DBAPIError) and bool(error.connection_invalidated)


def reason(error: BaseException, what: str | None = None) -> str:
    """One line naming the error without any value from the record: safe for headers and logs.
    `what` leads it; by default "the database refused the record" for a database error, "the
    worker could not store the record" for any other.

    A database error keeps its message (the server's or driver's own words, values blanked by
    `redact`). Any other exception's message is left out: it may be built from the record (a
    `ValueError(f"... {name}")`); its class and the code location it came from are given instead.
    """
    cause = error.orig if isinstance(error, sa.StatementError) and error.orig is not None else error
    name = type(cause).__name__
    from_database = isinstance(cause, psycopg.Error | sqlite3.Error)
    if what is None:
        what = "the database refused the record" if from_database else "the worker could not store the record"
    if from_database:
        primary = cause.diag.message_primary if isinstance(cause, psycopg.Error) else None
        message = redact(primary or str(cause))
    else:
        message = _origin(cause)
    sqlstate = getattr(cause, "sqlstate", None)
    state = f" (SQLSTATE {sqlstate})" if sqlstate else ""
    return f"{what}: {name}{state}: {message}" if message else f"{what}: {name}{state}"


def redact(message: str) -> str:
    """The first line of `message`, quoted text and key/value lists blanked, SQL cut off."""
    first = message.strip().splitlines()[0] if message.strip() else ""
    first = first.split("[SQL:")[0].split("[parameters:")[0].strip()
    return _QUOTED.sub("…", first)[:MAX_MESSAGE]


def _origin(error: BaseException) -> str:
    """`raised at <file>:<line> in <function>`: the innermost frame of our own code in `error`."""
    ours = [frame for frame in traceback.extract_tb(error.__traceback__) if _ours(frame.filename)]
    if not ours:
        return ""
    frame = ours[-1]
    return f"raised at {Path(frame.filename).relative_to(ROOT)}:{frame.lineno} in {frame.name}"


def _ours(filename: str) -> bool:
    path = Path(filename)
    return path.is_relative_to(ROOT) and ".venv" not in path.parts and "site-packages" not in path.parts


def frames(error: BaseException) -> str:
    """Where the error happened (file, line, code) without its message or any local variable."""
    return "".join(traceback.format_tb(error.__traceback__))[-4000:]
