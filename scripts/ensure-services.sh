#!/usr/bin/env bash
# Make sure the services the test suite talks to are up: PostgreSQL, Redis, Chromium.
# Starts local ones that are installed but stopped; otherwise fails naming what is missing.
set -uo pipefail
fail() { echo "make test: $*" >&2; exit 1; }

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
if ! pg_up; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    echo "Starting the local PostgreSQL cluster..."
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start || true
    for _ in $(seq 1 30); do pg_up && break; sleep 1; done
  fi
  pg_up || fail "PostgreSQL is not reachable on 127.0.0.1:5432 and no local cluster could be started (install postgresql, or set DATABASE_URL)."
fi
# The suite connects as postgres over TCP without a password (config/settings/test.py). A fresh
# Debian cluster asks for one: as root, on the local cluster, let postgres in on loopback only.
pg_login() { psql -h 127.0.0.1 -U postgres -d postgres -Atqc "select 1" >/dev/null 2>&1; }
if [ -z "${DATABASE_URL:-}" ] && ! pg_login && [ "$(id -u)" -eq 0 ] && [ -d /etc/postgresql ]; then
  hba="/etc/postgresql/$(ls /etc/postgresql | sort -V | tail -1)/main/pg_hba.conf"
  if [ -f "$hba" ] && ! grep -q "appeal-desk make test" "$hba"; then
    echo "Letting the postgres user in on loopback without a password ($hba)..."
    { echo "# appeal-desk make test: the suite connects as postgres on loopback"
      echo "host all postgres 127.0.0.1/32 trust"
      echo "host all postgres ::1/128 trust"
      cat "$hba"; } >"$hba.new" && cat "$hba.new" >"$hba" && rm -f "$hba.new"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main reload || true
    sleep 1
  fi
fi

redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }
if ! redis_up; then
  if command -v redis-server >/dev/null; then
    echo "Starting the local Redis..."
    mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
    for _ in $(seq 1 20); do redis_up && break; sleep 0.5; done
  fi
  redis_up || fail "Redis is not reachable on 127.0.0.1:6379 and redis-server is not installed (apt-get install redis-server)."
fi

command -v chromium >/dev/null || fail "Chromium is missing for the browser tests (apt-get install chromium chromium-driver)."
echo "Services: PostgreSQL up, Redis up, Chromium at $(command -v chromium)."
