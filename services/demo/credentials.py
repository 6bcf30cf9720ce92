"""The demo's credentials: one agency per kind (`demo-<kind>`), the further recruiting agencies the
demo's offers name (`demo-recruiting_agent-2`, ..., services/demo/bad_actors.py) and a supervisor
(`demo-supervisor`, scope `*`), kept in `<var>/demo-credentials.json` (mode 0600) with the URLs
`passage up` serves on.

`passage up` calls `ensure` on every start: credentials still valid in the current database are
kept; missing or stale ones (another database, another PASSAGE_SECRET_KEY, a deleted file, a file
from an older demo without the further recruiting agencies) are issued again through the handlers
of the documented commands, `passage agency add` and `passage officer add`, whose last stdout line
is the new secret. `passage demo` `load`s the file (and calls `ensure` only if it is missing or
incomplete).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from events import AgencyKind
from services.config import Settings
from services.demo.bad_actors import agent_ids
from services.secrets import hash_secret
from services.storage.tables import Agency, Officer

FILE_NAME = "demo-credentials.json"
SUPERVISOR_ID = "demo-supervisor"
KINDS = tuple(kind.value for kind in AgencyKind if kind is not AgencyKind.passage)
# The recruiting agencies beyond demo-recruiting_agent (kind recruiting_agent), by id.
EXTRA_AGENCIES = {agency: AgencyKind.recruiting_agent.value for agency in agent_ids()[1:]}


class CredentialsError(RuntimeError):
    """Credentials could not be issued or read; the message says what to do."""


@dataclass
class Credentials:
    agency_keys: dict[str, str] = field(default_factory=dict)  # kind -> key of agency demo-<kind>
    extra_agency_keys: dict[str, str] = field(default_factory=dict)  # id of an EXTRA_AGENCIES agency -> key
    supervisor_token: str = ""
    gateway_url: str = "http://127.0.0.1:8080"
    query_url: str = "http://127.0.0.1:8081"

    def keys_by_agency(self) -> dict[str, str]:
        """Agency id -> key, for every demo agency (a `DemoEvent.agency_id` finds its key here)."""
        return {**{agency_id(kind): key for kind, key in self.agency_keys.items()}, **self.extra_agency_keys}

    def complete(self) -> bool:
        """Whether it holds a key for every demo agency (a file from an older demo may not)."""
        return set(agencies()) <= set(self.keys_by_agency())


def agency_id(kind: str) -> str:
    return f"demo-{kind}"


def agencies() -> dict[str, str]:
    """Every demo agency: id -> kind."""
    return {**{agency_id(kind): kind for kind in KINDS}, **EXTRA_AGENCIES}


def path(settings: Settings) -> Path:
    return settings.var_dir / FILE_NAME


def load(settings: Settings) -> Credentials | None:
    try:
        data = json.loads(path(settings).read_text())
        return Credentials(**data)
    except FileNotFoundError:
        return None
    except (ValueError, TypeError) as error:
        raise CredentialsError(
            f"{path(settings)} is unreadable ({error}); delete it and run `passage up` again"
        ) from None


def ensure(settings: Settings, engine: Engine, gateway_url: str, query_url: str) -> tuple[Credentials, list[str]]:
    """Valid credentials for the current database, saved; and the names of those issued just now."""
    known = load(settings) or Credentials()
    issued: list[str] = []
    with Session(engine) as session:
        for agency, kind in agencies().items():
            keys = known.agency_keys if agency == agency_id(kind) else known.extra_agency_keys
            name = kind if keys is known.agency_keys else agency
            key = keys.get(name)
            row = session.get(Agency, agency)
            if not (key and row and row.kind == kind and not row.disabled and _matches(settings, key, row.key_hash)):
                keys[name] = _last_line(settings, ["agency", "add", "--id", agency, "--kind", kind])
                issued.append(agency)
        supervisor = session.get(Officer, SUPERVISOR_ID)
        token = known.supervisor_token
        if not (
            token
            and supervisor
            and supervisor.role == "supervisor"
            and supervisor.scopes == ["*"]
            and not supervisor.disabled
            and _matches(settings, token, supervisor.token_hash)
        ):
            known.supervisor_token = _last_line(
                settings, ["officer", "add", "--id", SUPERVISOR_ID, "--role", "supervisor", "--scope", "*"]
            )
            issued.append(SUPERVISOR_ID)
    known.gateway_url, known.query_url = gateway_url, query_url
    save(settings, known)
    return known, issued


def save(settings: Settings, credentials: Credentials) -> None:
    """Written to a temporary file created with mode 0600, then renamed: never readable by others."""
    target = path(settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_suffix(".tmp")
    temporary.unlink(missing_ok=True)
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as out:
        json.dump(asdict(credentials), out, indent=2)
    os.replace(temporary, target)


def _matches(settings: Settings, secret: str, stored_hash: str) -> bool:
    return hash_secret(settings.secret_key, secret) == stored_hash


def _last_line(settings: Settings, argv: list[str]) -> str:
    """Run a `passage` command's handler in this process, with `settings`; the secret it issues is
    alone on the last line of its stdout (SPEC section 8)."""
    from services.cli import build_parser
    from services.errors import CommandError

    args = build_parser().parse_args(argv)
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            code = args.func(args, settings)
    except CommandError as error:
        raise CredentialsError(f"`passage {' '.join(argv)}` failed: {error}") from None
    lines = out.getvalue().strip().splitlines()
    if code or not lines:
        raise CredentialsError(f"`passage {' '.join(argv)}` failed (exit code {code}): {out.getvalue().strip()}")
    return lines[-1].strip()
