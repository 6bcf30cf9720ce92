#!/usr/bin/env bash
# The test command: install what is missing, start PostgreSQL and the local Kafka broker,
# then run every test tier (unit, integration, e2e, faults). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

bash deploy/install.sh
export PASSAGE_TEST_DATABASE_URL=${PASSAGE_TEST_DATABASE_URL:-postgresql+psycopg://postgres:postgres@127.0.0.1:5432/postgres}
# A loopback bootstrap (the default 127.0.0.1:9092) means the local broker: start it (idempotent).
# A broker another checkout started there is used as it is (`passage kafka start` says so);
# a port held by something that is not a Kafka broker stops the run with a one-line reason.
case "${PASSAGE_KAFKA_BOOTSTRAP:-127.0.0.1:9092}" in
  127.0.0.1:*|localhost:*) .venv/bin/passage kafka start ;;
esac

# Lint and format first (configured in pyproject.toml): a failure names the file and the rule.
.venv/bin/ruff check .
.venv/bin/ruff format --check .

set +e
.venv/bin/python -m pytest "$@"
code=$?
set -e
if [ "$code" -eq 5 ]; then
  echo "test.sh: pytest collected no tests; that is a failure" >&2
  exit 1
fi
exit "$code"
