"""A cluster id the storage tool can read: its parser takes an id that starts with '-' for an option."""

from __future__ import annotations

import base64
from collections.abc import Iterator

from hypothesis import given
from hypothesis import strategies as st

from services.kafka.broker import _cluster_id

# 0xf8 as the first byte encodes to '-' in URL-safe base64: the draw that failed a CI run.
DASH_FIRST = bytes([0xF8]) + bytes(15)


def draws(*values: bytes) -> Iterator[bytes]:
    yield from values


def test_an_id_starting_with_a_dash_is_drawn_again():
    assert base64.urlsafe_b64encode(DASH_FIRST).decode().startswith("-")
    second = bytes(range(16))
    source = draws(DASH_FIRST, second)

    cluster_id = _cluster_id(lambda: next(source))

    assert cluster_id == base64.urlsafe_b64encode(second).decode().rstrip("=")


@given(st.binary(min_size=16, max_size=16))
def test_every_id_is_22_url_safe_characters_not_starting_with_a_dash(first):
    source = draws(first, bytes(range(16)))

    cluster_id = _cluster_id(lambda: next(source))

    assert len(cluster_id) == 22
    assert not cluster_id.startswith("-")
    assert set(cluster_id) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
