"""The worker tests' scratch topics and database, for the operations tests."""

from tests.integration.worker.conftest import views_engine, worker_settings  # noqa: F401
