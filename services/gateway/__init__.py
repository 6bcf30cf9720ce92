"""The agency gateway: `create_app(settings)` in `services.gateway.app`; `passage gateway`,
`passage agency add` and `passage publish` in `services.gateway.cli`.

Layout: `admission` (pure: mandate, validation, stamp, record), `intake` (the two use cases:
admit and publish), `agencies` (the key registry), `bootstrap` (the intake on the shared clients of
`services.bootstrap`), `app` (HTTP: refusal reasons to status codes),
`upload` (`passage publish`). Decisions where SPEC is silent are listed in the README.
Nothing is imported here, so the CLI loads without FastAPI until a gateway command runs.
"""
