"""Generate `schemas/`: one JSON Schema per event type and version, plus `asyncapi.yaml`.

The schemas describe the publisher's form (what an agency POSTs to /v1/events): no
recorded_at/source, `additionalProperties: false` everywhere. They accept what `events.validate`
accepts, except the one rule that depends on the clock: occurred_at at most 5 minutes in the
future. (Also beyond a schema: the 1950 floor is stated on the written year, so a time early
on 1950-01-01 with a positive offset, which is still 1949 in UTC, passes the schema alone.)

CLI: `python -m events.jsonschema [--check] [--out DIR]`, wired as `passage schemas generate`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from events.asyncapi import asyncapi_document, to_yaml
from events.catalogue import CATALOGUE, EventSpec
from events.types import DATETIME_PATTERN, AwareDatetime, CaseId, CountryCode, CurrencyCode, EventId, Id

DIALECT = "https://json-schema.org/draft/2020-12/schema"
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "schemas"
ASYNCAPI_FILE = "asyncapi.yaml"
_SHARED = {"CountryCode": CountryCode, "CurrencyCode": CurrencyCode}
_FROM_1950 = DATETIME_PATTERN.replace("^[0-9]{4}", "^(19[5-9][0-9]|[2-9][0-9]{3})", 1)


def schema_file(event_type: str, version: int) -> str:
    return f"{event_type}.v{version}.json"


def event_schema(spec: EventSpec, version: int) -> dict[str, Any]:
    """The publisher's envelope carrying `spec`'s payload at `version`, as a standalone schema."""
    model = spec.models[version]
    payload = model.model_json_schema(ref_template="#/$defs/{model}")
    defs = payload.pop("$defs", {})
    defs[model.__name__] = payload
    occurred_at = {
        **_schema(AwareDatetime),
        "pattern": _FROM_1950,
        "description": "RFC 3339 with offset, from 1950, at most 5 minutes in the future "
        "(the one rule this schema cannot state).",
    }
    document: dict[str, Any] = {
        "$schema": DIALECT,
        "title": f"{spec.event_type} v{version}",
        "description": f"{model.__doc__.strip() + ' ' if model.__doc__ else ''}"
        f"Stage: {spec.stage.value if spec.stage else 'none'}."
        + f" Published by: {', '.join(sorted(kind.value for kind in spec.publishers))}.",
        "type": "object",
        "properties": {
            "event_id": {**_schema(EventId), "description": "Chosen by the publisher; the idempotency key."},
            "event_type": {"const": spec.event_type},
            "schema_version": {"const": version},
            "case_id": _schema(CaseId),
            "occurred_at": occurred_at,
            "correlation_id": {"anyOf": [_schema(Id), {"type": "null"}]},
            "payload": {"$ref": f"#/$defs/{model.__name__}"},
        },
        "required": ["event_id", "event_type", "schema_version", "case_id", "occurred_at", "payload"],
        "additionalProperties": False,
        "$defs": defs,
    }
    # Code lists are long: state each once, under $defs, and point at it.
    shared: dict[str, Any] = {}
    document = _share(document, {name: _schema(annotation) for name, annotation in _SHARED.items()}, shared)
    document["$defs"] = dict(sorted({**document["$defs"], **shared}.items()))
    return document


def render(catalogue: Mapping[str, EventSpec] = CATALOGUE) -> dict[str, str]:
    """Every file of `schemas/` by name, with its exact text."""
    files = {
        schema_file(spec.event_type, version): _json(event_schema(spec, version))
        for spec in catalogue.values()
        for version in sorted(spec.models)
    }
    files[ASYNCAPI_FILE] = to_yaml(asyncapi_document(catalogue, schema_file))
    return files


def generate(out_dir: Path | str = DEFAULT_OUT) -> list[Path]:
    """Write every schema file into `out_dir`; returns the paths written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render().items():
        path = out / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def check(out_dir: Path | str = DEFAULT_OUT) -> list[str]:
    """What differs between `out_dir` and the code: one line per file; empty means no drift."""
    out = Path(out_dir)
    expected = render()
    drift = []
    for name, text in expected.items():
        path = out / name
        if not path.exists():
            drift.append(f"{name}: missing")
        elif path.read_text(encoding="utf-8") != text:
            drift.append(f"{name}: differs from the catalogue")
    present = {path.name for path in out.glob("*.json")} | (
        {ASYNCAPI_FILE} if (out / ASYNCAPI_FILE).exists() else set()
    )
    drift += [f"{name}: not in the catalogue" for name in sorted(present - set(expected))]
    return drift


def main(argv: Sequence[str] | None = None) -> int:
    """`[--check] [--out DIR]`: write schemas/, or with --check exit 1 when it has drifted."""
    parser = argparse.ArgumentParser(prog="passage schemas generate", description=main.__doc__)
    parser.add_argument("--check", action="store_true", help="do not write; fail if the files differ")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"directory (default {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    if args.check:
        drift = check(args.out)
        for line in drift:
            sys.stderr.write(f"{line}\n")
        if drift:
            sys.stderr.write("schemas/ has drifted from events/; run `passage schemas generate` and commit\n")
            return 1
        sys.stdout.write(f"{args.out}: up to date\n")
        return 0
    paths = generate(args.out)
    sys.stdout.write(f"wrote {len(paths)} files to {args.out}\n")
    return 0


def _schema(annotation: Any) -> dict[str, Any]:
    return TypeAdapter(annotation).json_schema()


def _share(node: Any, shared: dict[str, dict[str, Any]], used: dict[str, Any]) -> Any:
    """`node` with every inline copy of a `shared` schema replaced by a $ref (noted in `used`)."""
    if isinstance(node, dict):
        bare = {key: value for key, value in node.items() if key not in ("title", "description")}
        for name, schema in shared.items():
            if bare == schema:
                used[name] = schema
                return {"$ref": f"#/$defs/{name}"}
        return {key: _share(value, shared, used) for key, value in node.items()}
    if isinstance(node, list):
        return [_share(item, shared, used) for item in node]
    return node


def _json(value: Any, indent: int = 0) -> str:
    """Indented JSON, except that lists of scalars (code lists, `required`) stay on one line."""
    pad, inner = " " * indent, " " * (indent + 2)
    if isinstance(value, dict) and value:
        items = [f"{inner}{json.dumps(key)}: {_json(item, indent + 2)}" for key, item in value.items()]
        text = "{\n" + ",\n".join(items) + f"\n{pad}}}"
    elif isinstance(value, list) and any(isinstance(item, (dict, list)) for item in value):
        text = "[\n" + ",\n".join(f"{inner}{_json(item, indent + 2)}" for item in value) + f"\n{pad}]"
    else:
        text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    return text if indent else text + "\n"


if __name__ == "__main__":
    sys.exit(main())
