"""The agency gateway: `create_app(settings)` in `services.gateway.app`; `passage gateway`,
`passage agency add` and `passage publish` in `services.gateway.cli`.

Kept empty of imports so the CLI can load without FastAPI until a gateway command runs."""
