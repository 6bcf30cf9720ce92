"""`passage officer add`: token printed once on the last line, only its HMAC stored, re-adding rotates."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from services.cli import main
from services.secrets import hash_secret
from services.storage.tables import Officer


@pytest.fixture
def cli(cli_engine):
    return cli_engine


def officer(engine, officer_id: str) -> Officer:
    with Session(engine) as session:
        return session.exec(select(Officer).where(Officer.id == officer_id)).one()


def add(capsys, *args: str) -> tuple[int, list[str], str]:
    code = main(["officer", "add", *args])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


def test_add_prints_the_token_alone_on_the_last_line_and_stores_only_its_hash(cli, capsys):
    code, lines, _ = add(capsys, "--id", "amina", "--role", "officer", "--scope", "dest:sa", "--scope", "origin:Kerala")
    token = lines[-1]
    assert code == 0 and token.startswith("pot_") and " " not in token and len(token) > 40
    row = officer(cli, "amina")
    assert row.token_hash == hash_secret("test-secret", token)
    assert token not in (row.token_hash, row.id, *row.scopes)
    assert row.role == "officer" and row.scopes == ["dest:SA", "origin:Kerala"] and not row.disabled


def test_adding_again_rotates_the_token_and_replaces_role_and_scopes(cli, capsys):
    _, first, _ = add(capsys, "--id", "amina", "--role", "officer", "--scope", "dest:SA")
    code, second, _ = add(capsys, "--id", "amina", "--role", "supervisor", "--scope", "*")
    row = officer(cli, "amina")
    assert code == 0 and first[-1] != second[-1] and "rotated" in second[0]
    assert row.token_hash == hash_secret("test-secret", second[-1])
    assert (row.role, row.scopes) == ("supervisor", ["*"])


@pytest.mark.parametrize(
    "args",
    [
        ["--id", "x", "--role", "officer", "--scope", "dest:ZZ"],
        ["--id", "x", "--role", "officer", "--scope", "region:Kerala"],
        ["--id", "x", "--role", "admin", "--scope", "*"],
        ["--id", "x", "--role", "officer"],
    ],
)
def test_bad_usage_exits_2_and_says_what_is_valid(cli, capsys, args):
    with pytest.raises(SystemExit) as exit_:
        main(["officer", "add", *args])
    assert exit_.value.code == 2
    assert "usage" in capsys.readouterr().err
