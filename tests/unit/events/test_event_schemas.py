"""schemas/ agrees with the pydantic models, and is what the code generates.

Agreement is checked on one corpus (hand-written valid and invalid events, generated events, and
generated mutations of them) validated both ways. Excluded by construction, because a schema
cannot state them: the 5-minute-future rule (validate runs with a far-future `now`), the
exact UTC instant of the 1950 floor (the schema checks the written year), and calendar checks
of date-times such as 30 February (the jsonschema library checks `format: date-time` only with
an optional package; it does check `format: date`). Also left out: strings ending in a newline,
which Python's `re.search` (used by the jsonschema library) lets through a `$` anchor.
"""

import copy
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from event_samples import all_specs, envelopes, job_offer, registration
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from events import CATALOGUE, InvalidEvent, encode, validate
from events.asyncapi import asyncapi_document
from events.jsonschema import DEFAULT_OUT, check, generate, main, render, schema_file

NO_CLOCK = datetime(9000, 1, 1, tzinfo=UTC)  # switches off the 5-minute rule (not schema-stateable)
FILES = render()
VALIDATORS = {
    spec.event_type: Draft202012Validator(
        json.loads(FILES[schema_file(spec.event_type, 1)]), format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    for spec in all_specs()
}
WRONG_VALUES = [
    None,
    0,
    5.0,
    -1,
    True,
    "",
    "x",
    "SA",
    "sar",
    "2026-13",
    "1500.00",
    "-1",
    [],
    {},
    ["QA"],
    {"amount": "1", "currency": "USD"},
    "2026-03-01T09:30:00",
    "1949-06-01T00:00:00Z",
    "2026-03-01T09:30:00+05:30",
    "3b0c6f1e-8a52-4c1e-9a49-2f4d2b0e7a10",
    "a" * 201,
]


def pydantic_accepts(sample) -> bool:
    try:
        validate(sample, now=NO_CLOCK)
        return True
    except InvalidEvent:
        return False


def schema_accepts(sample) -> bool:
    event_type = sample.get("event_type") if isinstance(sample, dict) else None
    validator = VALIDATORS.get(event_type) if isinstance(event_type, str) else None
    return validator is not None and validator.is_valid(sample)


def assert_agree(sample) -> None:
    assert pydantic_accepts(sample) == schema_accepts(sample), json.dumps(sample)[:2000]


def leaves(node, prefix=()):
    """Every (path, value) of a JSON document, containers included."""
    yield prefix, node
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for key, child in children:
        yield from leaves(child, (*prefix, key))


def replaced(doc, path, value):
    doc = copy.deepcopy(doc)
    node = doc
    for key in path[:-1]:
        node = node[key]
    if value is ...:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return doc


HAND_WRITTEN = (
    [job_offer(), registration()]
    + [
        replaced(job_offer(), path, value)
        for path, value in [
            (("payload", "monthly_wage", "amount"), "-5"),
            (("payload", "monthly_wage", "amount"), 1500),
            (("payload", "monthly_wage", "amount"), "01500"),
            (("payload", "monthly_wage", "currency"), "XYZ"),
            (("payload", "destination_country"), "UK"),
            (("payload", "occupation_code"), "71123"),
            (("payload", "contract_months"), 121),
            (("payload", "contract_months"), 1.5),
            (("payload", "surprise"), 1),
            (("surprise",), 1),
            (("recorded_at",), "2026-03-01T09:30:00Z"),
            (("case_id",), "ab"),
            (("case_id",), "a" * 65),
            (("occurred_at",), "2026-03-01T09:30:00"),
            (("occurred_at",), "1949-12-31T23:00:00Z"),
            (("occurred_at",), "1950-01-01T12:00:00Z"),
            (("schema_version",), 2),
            (("schema_version",), True),
            (("schema_version",), 1.0),
            (("event_type",), "recruitment.job_offer"),
            (("payload",), ...),
            (("correlation_id",), "c-1"),
            (("payload", "monthly_wage"), {"amount": "1500.00"}),
        ]
    ]
    + [
        replaced(registration(), ("payload", "date_of_birth"), "1998-02-30"),
        replaced(registration(), ("payload", "aspirations"), None),
        replaced(registration(), ("payload", "aspirations", "countries"), ["QA", "XX"]),
        replaced(registration(), ("payload", "consent", "data_sharing"), 1),
    ]
)


@pytest.mark.parametrize("sample", HAND_WRITTEN, ids=range(len(HAND_WRITTEN)))
def test_schemas_and_models_agree_on_hand_written_events(sample):
    assert_agree(sample)


def test_the_hand_written_corpus_has_both_verdicts():
    verdicts = [pydantic_accepts(s) for s in HAND_WRITTEN]
    assert verdicts.count(True) >= 5 and verdicts.count(False) >= 20


@pytest.mark.parametrize("spec", all_specs(), ids=lambda s: s.event_type)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_schemas_and_models_agree_on_generated_events_and_mutations(spec, data):
    sample = json.loads(encode(data.draw(envelopes(spec, stamped=False))))
    assert schema_accepts(sample) and pydantic_accepts(sample)
    paths = [path for path, _ in leaves(sample) if path]
    path = data.draw(st.sampled_from(paths))
    mutation = data.draw(st.sampled_from(["remove", "replace", "add"]))
    if mutation == "remove":
        mutant = replaced(sample, path, ...)
    elif mutation == "replace":
        mutant = replaced(sample, path, data.draw(st.sampled_from(WRONG_VALUES)))
    else:
        target = data.draw(st.sampled_from([()] + [p for p, v in leaves(sample) if isinstance(v, dict) and p]))
        mutant = replaced(sample, (*target, "unexpected"), 1)
    assert_agree(mutant)


def test_checked_in_schemas_match_the_catalogue():
    assert check(DEFAULT_OUT) == [], "run `passage schemas generate` and commit schemas/"


def test_drift_is_detected(tmp_path: Path):
    generate(tmp_path)
    assert check(tmp_path) == []
    (tmp_path / "deployment.wage_paid.v1.json").write_text("{}")
    (tmp_path / "deployment.arrived.v1.json").unlink()
    (tmp_path / "deployment.teleported.v1.json").write_text("{}")
    assert sorted(check(tmp_path)) == [
        "deployment.arrived.v1.json: missing",
        "deployment.teleported.v1.json: not in the catalogue",
        "deployment.wage_paid.v1.json: differs from the catalogue",
    ]
    assert main(["--check", "--out", str(tmp_path)]) == 1
    assert main(["--out", str(tmp_path)]) == 0
    (tmp_path / "deployment.teleported.v1.json").unlink()
    assert main(["--check", "--out", str(tmp_path)]) == 0


def test_every_type_has_a_strict_2020_12_schema():
    files = FILES
    assert len(files) == len(CATALOGUE) + 1
    for spec in all_specs():
        schema = json.loads(files[schema_file(spec.event_type, 1)])
        Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["properties"]["event_type"] == {"const": spec.event_type}
        objects = [n for _, n in leaves(schema) if isinstance(n, dict) and n.get("type") == "object"]
        assert objects and all(n.get("additionalProperties") is False for n in objects)


def test_asyncapi_yaml_describes_the_three_topics():
    yaml = pytest.importorskip("yaml")
    document = yaml.safe_load(FILES["asyncapi.yaml"])
    assert document == json.loads(json.dumps(asyncapi_document(CATALOGUE, schema_file)))
    assert document["asyncapi"] == "3.0.0"
    addresses = {c["address"] for c in document["channels"].values()}
    assert addresses == {"passage.journey.v1", "passage.alerts.v1", "passage.journey.dlq"}
    assert len(document["channels"]["journey"]["messages"]) == len(CATALOGUE)
