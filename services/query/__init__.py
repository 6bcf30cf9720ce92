"""The query service: welfare officers read the views and act on alerts (SPEC section 7).

`services.query.app.create_app(settings, engine=..., publisher=...)` builds the FastAPI app;
`passage query` serves it; `passage officer add` registers officers (`officers`). Jurisdiction
rules are in `scope`, their use in stats in `routes_stats`. Kept free of imports so the CLI
loads quickly.
"""
