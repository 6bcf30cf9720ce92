"""QuietSelector: the standard selector's answers, without describing a socket it does not hold."""

from __future__ import annotations

import selectors
import socket

import pytest

from services.config import Settings
from services.kafka.producer import QuietSelector, producer_config


class Described:
    """A file object that counts how often its repr is built (a socket's costs two system calls)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.described = 0

    def fileno(self) -> int:
        return self.sock.fileno()

    def __repr__(self) -> str:
        self.described += 1
        return "described"


@pytest.mark.parametrize("selector_class, described", [(QuietSelector, False), (selectors.DefaultSelector, True)])
def test_get_key_answers_as_the_standard_selector_and_only_the_standard_one_describes_the_socket(
    selector_class, described
):
    left, right = socket.socketpair()
    with left, right, selector_class() as selector:
        watched = Described(left)
        with pytest.raises(KeyError):
            selector.get_key(watched)
        key = selector.register(watched, selectors.EVENT_READ, "reader")
        assert selector.get_key(watched) == key and key.data == "reader"
        selector.unregister(watched)
        with pytest.raises(KeyError):
            selector.get_key(watched)
    assert (watched.described > 0) == described


def test_every_producer_uses_it_and_keeps_no_metrics_of_its_own():
    config = producer_config(Settings())
    assert config["selector"] is QuietSelector and config["metrics_enabled"] is False
