#!/usr/bin/env bash
# Install (Debian's postgresql, when absent), start, and prepare PostgreSQL for Passage on this machine.
# Idempotent. Leaves a server on 127.0.0.1:5432 where user postgres has password "postgres"
# (loopback only; for development and CI) and a database named "passage".
set -euo pipefail

if ! command -v pg_lsclusters >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  echo "postgres.sh: installing PostgreSQL with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
fi

version=$(ls -d /usr/lib/postgresql/*/bin/postgres | awk -F/ '{print $5}' | sort -n | tail -1)
if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -q "^$version main$"; then
  pg_createcluster "$version" main >/dev/null
fi
conf="/etc/postgresql/$version/main/postgresql.conf"
# Enough connections for several workers and test sessions; fsync left on (durability is the point).
grep -q "^max_connections = 300" "$conf" || echo "max_connections = 300" >> "$conf"
grep -q "^listen_addresses = '127.0.0.1'" "$conf" || echo "listen_addresses = '127.0.0.1'" >> "$conf"

if ! pg_lsclusters -h | awk -v v="$version" '$1==v && $2=="main" {print $4}' | grep -q online; then
  pg_ctlcluster "$version" main start
fi

for _ in $(seq 1 60); do
  su postgres -c "psql -qAtc 'select 1'" >/dev/null 2>&1 && break
  sleep 0.5
done
su postgres -c "psql -qAtc \"ALTER USER postgres PASSWORD 'postgres'\"" >/dev/null
su postgres -c "psql -qAtc \"SELECT 1 FROM pg_database WHERE datname='passage'\"" | grep -q 1 \
  || su postgres -c "createdb passage"
echo "postgres.sh: PostgreSQL $version ready on 127.0.0.1:5432" >&2
