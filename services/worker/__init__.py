"""The worker: projects the journey topic into the welfare and protection views (SPEC 5 and 6),
runs the time-rule sweep, and publishes alert changes. `passage worker` runs it (`runner.serve`)."""
