#!/usr/bin/env bash
# Install what Passage needs on a fresh Debian machine: Java and Maven (for the Kafka broker),
# PostgreSQL (started, see postgres.sh), and a virtualenv in .venv with Passage and its dev tools.
# Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
# The officer console's browser tests (tests/e2e/console) drive Debian's own Chromium; nothing
# downloads a browser at run time.
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
if [ ${#missing[@]} -gt 0 ]; then
  echo "install.sh: installing ${missing[*]} with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

bash deploy/postgres.sh

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
if ! .venv/bin/python -c "import services, events, faust, hypothesis, jinja2, selenium" >/dev/null 2>&1 \
   || [ pyproject.toml -nt .venv/.installed ]; then
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e '.[dev]'
  touch .venv/.installed
fi
echo "install.sh: ready (.venv, PostgreSQL; Kafka jars are fetched by 'passage kafka start')" >&2
