"""`passage webhook add|list|disable|deliveries` against a SQLite database."""

from __future__ import annotations

import pytest

from services.cli import main
from services.notify.signing import SECRET_PREFIX, signature, signing_secret
from services.notify.store import subscriptions


@pytest.fixture
def engine(cli_engine):
    return cli_engine


def test_add_prints_the_signing_secret_alone_on_the_last_line(engine, capsys):
    assert (
        main(
            [
                "webhook",
                "add",
                "--agency",
                "helpline-1",
                "--url",
                "https://example.org/hook",
                "--min-severity",
                "high",
                "--scope",
                "dest:sa",
                "--scope",
                "origin:Kerala",
            ]
        )
        == 0
    )
    secret = capsys.readouterr().out.splitlines()[-1]
    [sub] = subscriptions(engine)
    assert secret.startswith(f"{SECRET_PREFIX}_") and secret == signing_secret("test-secret", sub.id, sub.salt)
    assert (sub.agency_id, sub.min_severity, sub.scopes) == ("helpline-1", "high", ("dest:SA", "origin:Kerala"))
    assert secret not in str(sub)  # only the salt is stored
    assert signature(secret, 1, b"{}").startswith("t=1,v1=")


def test_list_disable_and_deliveries(engine, capsys):
    main(["webhook", "add", "--agency", "helpline-1", "--url", "http://127.0.0.1:9000/hook"])
    [sub] = subscriptions(engine)
    capsys.readouterr()
    assert main(["webhook", "list"]) == 0
    assert f"{sub.id}\thelpline-1\tenabled\tmedium\t*\thttp://127.0.0.1:9000/hook" in capsys.readouterr().out
    assert main(["webhook", "deliveries", sub.id]) == 0
    assert "0 deliveries" in capsys.readouterr().out
    assert main(["webhook", "disable", sub.id]) == 0
    assert subscriptions(engine)[0].disabled


@pytest.mark.parametrize(
    "argv",
    [
        ["webhook", "add", "--agency", "helpline-1", "--url", "ftp://example.org/x"],
        ["webhook", "add", "--agency", "helpline-1", "--url", "https://example.org", "--scope", "dest:XX"],
        ["webhook", "add", "--agency", "helpline-1", "--url", "https://example.org", "--min-severity", "low"],
    ],
)
def test_bad_usage_exits_2(engine, argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2


def test_an_unknown_subscription_is_a_one_line_error(engine, capsys):
    assert main(["webhook", "disable", "nope"]) == 1
    assert "passage webhook list" in capsys.readouterr().err
    assert main(["webhook", "deliveries", "nope"]) == 1
