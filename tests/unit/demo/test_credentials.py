"""Demo credentials: issued once through `passage agency add` / `officer add`, kept in a 0600 file,
reused while they still match the database and the secret key, issued again when they do not."""

from __future__ import annotations

import json
import stat

from sqlmodel import Session

from services.config import Settings
from services.demo import credentials
from services.secrets import hash_secret
from services.storage.db import make_engine
from services.storage.migrate import migrate
from services.storage.tables import Agency, Officer


def _settings(tmp_path, secret: str = "first-secret") -> Settings:
    settings = Settings(
        env="test", database_url=f"sqlite:///{tmp_path / 'passage.db'}", var_dir=tmp_path / "var", secret_key=secret
    )
    migrate(make_engine(settings))  # as `passage up` does before issuing credentials
    return settings


def test_first_run_issues_every_credential_and_saves_them_privately(tmp_path):
    settings = _settings(tmp_path)
    engine = make_engine(settings)
    creds, issued = credentials.ensure(settings, engine, "http://g:1", "http://q:2")
    assert issued == [*(f"demo-{kind}" for kind in credentials.KINDS), *credentials.EXTRA_AGENCIES, "demo-supervisor"]
    assert set(credentials.EXTRA_AGENCIES) == {f"demo-recruiting_agent-{n}" for n in range(2, 6)}
    path = credentials.path(settings)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text())["gateway_url"] == "http://g:1"
    with Session(engine) as session:
        for kind, key in creds.agency_keys.items():
            row = session.get(Agency, f"demo-{kind}")
            assert row.kind == kind and row.key_hash == hash_secret(settings.secret_key, key)
        for agency, key in creds.extra_agency_keys.items():
            row = session.get(Agency, agency)
            assert row.kind == "recruiting_agent" and row.key_hash == hash_secret(settings.secret_key, key)
        officer = session.get(Officer, "demo-supervisor")
        assert officer.role == "supervisor" and officer.scopes == ["*"]
        assert officer.token_hash == hash_secret(settings.secret_key, creds.supervisor_token)
    assert credentials.load(settings) == creds


def test_a_second_run_reuses_them_and_a_new_secret_key_reissues_them(tmp_path):
    settings = _settings(tmp_path)
    first, _ = credentials.ensure(settings, make_engine(settings), "http://g:1", "http://q:2")
    again, issued = credentials.ensure(settings, make_engine(settings), "http://g:3", "http://q:4")
    assert issued == [] and again.agency_keys == first.agency_keys and again.gateway_url == "http://g:3"

    rotated = _settings(tmp_path, secret="second-secret")
    fresh, issued = credentials.ensure(rotated, make_engine(rotated), "http://g:3", "http://q:4")
    assert len(issued) == len(credentials.KINDS) + len(credentials.EXTRA_AGENCIES) + 1
    assert set(fresh.agency_keys.values()).isdisjoint(first.agency_keys.values())


def test_a_file_from_an_older_demo_keeps_its_keys_and_gets_the_further_recruiting_agencies(tmp_path):
    """An older demo kept one agency per kind only: those keys still work, the further recruiting
    agencies are issued, and `passage demo` sees the file was incomplete."""
    settings = _settings(tmp_path)
    first, _ = credentials.ensure(settings, make_engine(settings), "http://g:1", "http://q:2")
    old = json.loads(credentials.path(settings).read_text())
    del old["extra_agency_keys"]
    credentials.path(settings).write_text(json.dumps(old))
    loaded = credentials.load(settings)
    assert loaded.extra_agency_keys == {} and not loaded.complete()
    again, issued = credentials.ensure(settings, make_engine(settings), "http://g:1", "http://q:2")
    assert issued == list(credentials.EXTRA_AGENCIES) and again.agency_keys == first.agency_keys
    assert again.complete() and set(again.keys_by_agency()) == set(credentials.agencies())
