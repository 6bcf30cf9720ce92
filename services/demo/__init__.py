"""The demo: realistic synthetic journeys (`journeys.generate`, pure) and `passage demo`, which
publishes them through the gateway and prints what the views then say."""
