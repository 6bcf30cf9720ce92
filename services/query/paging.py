"""Keyset paging: `limit` 1-500 (default 50) and an opaque cursor holding the last row's sort key.

A cursor is base64url(JSON [kind, *key]). The next page is "rows after this key" in the list's
total order (every order ends in a unique column), so pages stay stable while rows are added:
no row is skipped or shown twice because of an offset that moved. A cursor from another list,
or one that was altered, answers 422.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import Query

from services.web import ApiError

Limit = Annotated[int, Query(ge=1, le=500, description="page size, 1-500")]
CursorParam = Annotated[
    str | None, Query(max_length=1024, description="next_cursor of the previous page; omit for the first page")
]
DEFAULT_LIMIT = 50

T = TypeVar("T")


def encode_cursor(kind: str, key: Sequence[Any]) -> str:
    values = [value.isoformat() if isinstance(value, datetime) else value for value in key]
    raw = json.dumps([kind, *values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(kind: str, cursor: str | None, parsers: Sequence[Callable[[Any], Any]]) -> tuple | None:
    """The key in `cursor` (None for the first page), each value passed through its parser."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        if not isinstance(data, list) or data[0] != kind or len(data) != len(parsers) + 1:
            raise ValueError("not a cursor of this list")
        return tuple(parse(value) for parse, value in zip(parsers, data[1:], strict=True))
    except (ValueError, TypeError, IndexError, binascii.Error, UnicodeDecodeError):
        raise ApiError(
            422,
            "the cursor is not one this list issued; pass next_cursor from the previous page unchanged, "
            "or omit it to start from the first page",
            [{"path": "query.cursor", "message": "invalid cursor"}],
        ) from None


def timestamp(value: str) -> datetime:
    """Parser for datetimes in cursors: ISO 8601, given back as the database returned it
    (aware from PostgreSQL, naive UTC from SQLite), so the comparison matches stored values."""
    if not isinstance(value, str):
        raise ValueError("not a datetime")
    return datetime.fromisoformat(value)


def strict(kind: type) -> Callable[[Any], Any]:
    """Parser for ids and ranks in cursors: exactly `kind`, and something the database can compare
    (a 32-bit integer; text without NUL), so an altered cursor is a 422, never a database error."""

    def parse(value: Any) -> Any:
        if type(value) is not kind:
            raise ValueError(f"not a {kind.__name__}")
        if isinstance(value, int) and not -(2**31) <= value < 2**31:  # type(value) is kind: the int parser
            raise ValueError("out of range")
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("NUL in text")
        return value

    return parse


def page(rows: Sequence[T], limit: int, kind: str, key: Callable[[T], Sequence[Any]]) -> tuple[list[T], str | None]:
    """Trim a `limit + 1` fetch to the page and the cursor of the next one (None on the last page)."""
    items = list(rows[:limit])
    if len(rows) <= limit:
        return items, None
    return items, encode_cursor(kind, key(items[-1]))
