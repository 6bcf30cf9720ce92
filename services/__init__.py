"""Passage services: adapters (Kafka, SQL, HTTP) around the pure domain in `services.domain`."""
