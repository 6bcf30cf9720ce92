"""Hardening at the edges, without I/O beyond a temporary directory and SQLite: disable/enable
commands, private files under var/, escaped log lines, and unexpected errors without tracebacks."""

from __future__ import annotations

import os
import stat

import pytest
import structlog
from fastapi import FastAPI
from fastapi.testclient import TestClient

from services import hardening
from services.errors import CommandError
from services.files import make_private
from services.gateway import cli as gateway_cli
from services.gateway.agencies import authenticate
from services.logs import escape, escape_control_characters
from services.query import cli as query_cli
from services.storage.db import make_engine
from services.storage.tables import Officer
from tests.commands import run_command


def test_agency_disable_is_immediate_and_add_refuses_until_enable(unit_settings, capsys):
    assert (
        run_command(
            gateway_cli,
            ["agency", "add", "--id", "acme", "--kind", "employer", "--employer-id", "SA-E7"],
            unit_settings,
        )
        == 0
    )
    out = capsys.readouterr().out
    key = out.splitlines()[-1]
    assert "SA-E7" in out
    engine = make_engine(unit_settings)
    try:
        assert authenticate(engine, unit_settings.secret_key, key) is not None
        assert run_command(gateway_cli, ["agency", "disable", "acme"], unit_settings) == 0
        assert authenticate(engine, unit_settings.secret_key, key) is None  # the next request is refused
        with pytest.raises(CommandError, match="passage agency enable acme"):
            run_command(gateway_cli, ["agency", "add", "--id", "acme", "--kind", "employer"], unit_settings)
        assert run_command(gateway_cli, ["agency", "enable", "acme"], unit_settings) == 0
        assert authenticate(engine, unit_settings.secret_key, key) is not None
        with pytest.raises(CommandError, match="no agency nobody"):
            run_command(gateway_cli, ["agency", "disable", "nobody"], unit_settings)
    finally:
        engine.dispose()


def test_officer_disable_and_enable(unit_settings, capsys):
    assert (
        run_command(
            query_cli, ["officer", "add", "--id", "o1", "--role", "officer", "--scope", "dest:SA"], unit_settings
        )
        == 0
    )
    assert run_command(query_cli, ["officer", "disable", "o1"], unit_settings) == 0
    engine = make_engine(unit_settings)
    try:
        with engine.connect() as connection:
            assert connection.execute(Officer.__table__.select()).first().disabled
        with pytest.raises(CommandError, match="passage officer enable o1"):
            run_command(
                query_cli, ["officer", "add", "--id", "o1", "--role", "officer", "--scope", "dest:SA"], unit_settings
            )
        assert run_command(query_cli, ["officer", "enable", "o1"], unit_settings) == 0
        with engine.connect() as connection:
            assert not connection.execute(Officer.__table__.select()).first().disabled
    finally:
        engine.dispose()


def test_files_under_var_become_private(tmp_path):
    var = tmp_path / "var"
    (var / "kafka" / "data").mkdir(parents=True)
    for path in (var / "passage.db", var / "kafka" / "data" / "segment.log"):
        path.write_text("x")
        path.chmod(0o644)
    for directory in (var, var / "kafka", var / "kafka" / "data"):
        directory.chmod(0o755)
    make_private(var)
    modes = {
        path.relative_to(tmp_path).as_posix(): stat.S_IMODE(path.stat().st_mode) for path in [var, *var.rglob("*")]
    }
    assert modes == {
        "var": 0o700,
        "var/kafka": 0o700,
        "var/kafka/data": 0o700,
        "var/passage.db": 0o600,
        "var/kafka/data/segment.log": 0o600,
    }


def test_the_passage_command_creates_private_files(tmp_path, monkeypatch):
    from services import cli as passage_cli
    from services.config import get_settings

    monkeypatch.setenv("PASSAGE_VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    previous = os.umask(0o022)
    try:
        passage_cli.main(["officer", "add", "--id", "o1", "--role", "officer", "--scope", "*"])
        assert stat.S_IMODE((tmp_path / "var" / "passage.db").stat().st_mode) & 0o077 == 0
    finally:
        os.umask(previous)
        get_settings.cache_clear()


def test_control_characters_in_log_values_are_escaped():
    event = escape_control_characters(
        None, "info", {"event": "request", "path": "/v1/\x1b[2J\x00", "status": 404, "exception": "Traceback\n  line"}
    )
    assert event == {"event": "request", "path": "/v1/\\x1b[2J\\x00", "status": 404, "exception": "Traceback\n  line"}
    assert escape("caf\u00e9 \u0085") == "caf\u00e9 \\x85"


def test_an_unexpected_error_is_a_json_500_and_one_line_without_traceback(capsys):
    app = FastAPI()

    @app.get("/boom")
    def boom() -> None:
        def deeper(depth: int) -> int:
            secret = "Quaxtonville"  # noqa: F841 - a local a traceback with locals would print
            return deeper(depth + 1)

        deeper(0)

    hardening.install(app, production=False, title="t")
    with structlog.testing.capture_logs() as logs, TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom")
    assert response.status_code == 500 and response.json()["error"]["code"] == "internal"
    assert response.headers["cache-control"] == "no-store"
    assert logs == [
        {
            "event": "unexpected error",
            "error": "RecursionError",
            "where": logs[0]["where"],
            "path": "/boom",
            "log_level": "error",
        }
    ]
    assert "Quaxtonville" not in capsys.readouterr().err
