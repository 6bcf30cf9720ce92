"""`passage agency add` and `passage publish`'s file handling (the HTTP path is in tests/integration)."""

from __future__ import annotations

import json

import pytest
from sqlmodel import Session, select

from services import cli as passage_cli
from services.gateway import cli
from services.gateway.agencies import authenticate
from services.gateway.upload import publish_file
from services.storage.db import make_engine
from services.storage.tables import Agency
from tests.commands import parser_for, run_command
from tests.factories import bearer, new_event


def test_the_commands_are_part_of_passage():
    assert "services.gateway.cli" in passage_cli.COMMAND_MODULES


def test_agency_add_prints_the_key_alone_on_the_last_line_and_stores_only_its_hash(unit_settings, capsys):
    assert run_command(cli, ["agency", "add", "--id", "ngo-kerala-1", "--kind", "helpline"], unit_settings) == 0
    key = capsys.readouterr().out.splitlines()[-1]
    engine = make_engine(unit_settings)
    try:
        assert authenticate(engine, unit_settings.secret_key, key).agency_id == "ngo-kerala-1"
        with Session(engine) as session:
            stored = [tuple(row) for row in session.exec(select(Agency.id, Agency.kind, Agency.key_hash))]
        assert len(stored) == 1 and stored[0][:2] == ("ngo-kerala-1", "helpline") and key not in stored[0][2]
    finally:
        engine.dispose()


def test_agency_add_again_rotates_the_key(unit_settings, capsys):
    run_command(cli, ["agency", "add", "--id", "ngo-1", "--kind", "helpline"], unit_settings)
    old = capsys.readouterr().out.splitlines()[-1]
    run_command(cli, ["agency", "add", "--id", "ngo-1", "--kind", "mission"], unit_settings)
    out = capsys.readouterr().out
    new = out.splitlines()[-1]
    assert "rotated" in out and "helpline" in out and new != old
    engine = make_engine(unit_settings)
    try:
        assert authenticate(engine, unit_settings.secret_key, old) is None
        assert authenticate(engine, unit_settings.secret_key, new).agency_kind.value == "mission"
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "argv",
    [
        ["agency", "add", "--id", "ngo-1", "--kind", "bank"],
        ["agency", "add", "--id", "ngo-1", "--kind", "passage"],  # Passage's own services are not agencies
        ["agency", "add", "--id", "no spaces", "--kind", "helpline"],
        ["agency", "add", "--kind", "helpline"],
        ["publish", "f.jsonl", "--key", "k", "--batch-size", "501"],
        ["publish", "f.jsonl", "--key", "k", "--batch-size", "0"],
        ["publish", "f.jsonl"],
    ],
)
def test_bad_usage_exits_2(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        parser_for(cli).parse_args(argv)
    assert exit_.value.code == 2


class AppBatches:
    """Posts batches to the in-process app, as PassageClient.publish_batch does over HTTP."""

    def __init__(self, client, headers) -> None:
        self.client, self.headers, self.sizes = client, headers, []

    def publish_batch(self, events) -> dict:
        events = list(events)
        self.sizes.append(len(events))
        response = self.client.post("/v1/events/batch", json={"events": events}, headers=self.headers)
        assert response.status_code == 200, response.text
        return response.json()


class Progress:
    def __init__(self) -> None:
        self.n = 0

    def update(self, count: int) -> None:
        self.n += count


def test_publish_file_accounts_for_every_line(client, keys, publisher, tmp_path):
    good = [new_event() for _ in range(3)]
    forbidden = new_event("skilling.assessed")
    lines = [
        json.dumps(good[0]),
        "",
        "{not json",
        json.dumps(forbidden),
        json.dumps(good[1]),
        "[1, 2]",
        json.dumps(good[2]),
    ]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n")
    batches, progress = AppBatches(client, bearer(keys["helpline"])), Progress()

    summary = publish_file(path, batches, batch_size=2, progress=progress)

    assert summary.accepted == 3 and summary.total == 6 and progress.n == 6
    assert [(r.line, r.event_id) for r in summary.rejected] == [(3, None), (4, forbidden["event_id"]), (6, None)]
    assert "not valid JSON" in str(summary.rejected[0])
    assert "event_type" in str(summary.rejected[1]) and "line 4" in str(summary.rejected[1])
    assert "JSON object" in str(summary.rejected[2])
    assert [str(json.loads(r.value)["event_id"]) for r in publisher.records] == [e["event_id"] for e in good]
    assert batches.sizes == [1, 2, 1]  # unreadable lines are never sent
