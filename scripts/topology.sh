#!/usr/bin/env bash
# Two web nodes, two workers and one beat on one machine, sharing PostgreSQL, Redis and S3,
# behind nginx (Debian's package) on loopback with TLS. Every process is started through
# scripts/serve.sh (production settings), as a real deployment would start it.
#
#   scripts/topology.sh start    # start everything, print the URL; waits until nginx answers
#   scripts/topology.sh stop     # stop everything it started (by the pid files in $TOPOLOGY_DIR)
#   scripts/topology.sh status
#
# Ports (loopback only): nginx $PORT_BASE (https), web nodes $PORT_BASE+1 and +2, the local S3
# server (moto, when EVIDENCE_S3_ENDPOINT_URL is not given) $PORT_BASE+3.
# Environment: TOPOLOGY_DIR (.topology), TOPOLOGY_PORT_BASE (18610), TOPOLOGY_BEATS (1; 2 shows
# the beat lock: the second idles), DATABASE_URL (postgres://postgres@127.0.0.1:5432/appeals_topology,
# created if missing), REDIS_URL (redis://127.0.0.1:6379/0; every key under TOPOLOGY_PREFIX,
# default "topology:", so it can share a Redis), EVIDENCE_S3_* (a real bucket instead of moto),
# TOPOLOGY_NGINX_NODES (2; 1 puts only web node 1 behind nginx: the one-node load test figures).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
dir=${TOPOLOGY_DIR:-$root/.topology}
base=${TOPOLOGY_PORT_BASE:-18610}
bin=$root/.venv/bin
cmd=${1:-start}

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

running() { [ -f "$dir/$1.pid" ] && kill -0 "$(cat "$dir/$1.pid")" 2>/dev/null; }

stop_all() {
  for name in nginx beat2 beat1 worker2 worker1 web2 web1 s3; do
    if running "$name"; then
      pid=$(cat "$dir/$name.pid")
      kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      kill -KILL -- "-$pid" 2>/dev/null || true
    fi
    rm -f "$dir/$name.pid"
  done
}

case "$cmd" in
  stop) stop_all; echo "topology stopped"; exit 0 ;;
  status)
    for name in s3 web1 web2 worker1 worker2 beat1 beat2 nginx; do
      if running "$name"; then echo "$name: running (pid $(cat "$dir/$name.pid"))"; else echo "$name: stopped"; fi
    done
    exit 0 ;;
  start) ;;
  *) echo "usage: scripts/topology.sh start|stop|status" >&2; exit 2 ;;
esac

command -v nginx >/dev/null || { echo "nginx is not installed (apt-get install nginx)" >&2; exit 1; }
command -v openssl >/dev/null || { echo "openssl is not installed (apt-get install openssl)" >&2; exit 1; }
stop_all  # a previous run's leftovers

prefix=${TOPOLOGY_PREFIX:-topology:}
export DJANGO_SETTINGS_MODULE=config.settings.production
export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/appeals_topology}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/0}
export CACHE_KEY_PREFIX=${CACHE_KEY_PREFIX:-${prefix}cache}
export CELERY_BROKER_KEYPREFIX=${CELERY_BROKER_KEYPREFIX:-${prefix}broker:}
export SURGE_REDIS_PREFIX=${SURGE_REDIS_PREFIX:-${prefix}surge}
export BEAT_LOCK_KEY=${BEAT_LOCK_KEY:-${prefix}beat-lock}
export ALLOWED_HOSTS=${ALLOWED_HOSTS:-127.0.0.1,localhost}
export SITE_URL=${SITE_URL:-https://127.0.0.1:$base}
export STATIC_ROOT=$dir/static
export MEDIA_ROOT=$dir/media
export WEB_CONCURRENCY=${WEB_CONCURRENCY:-2}
[ -f "$dir/secret-key" ] || head -c 48 /dev/urandom | base64 >"$dir/secret-key"
SECRET_KEY=$(cat "$dir/secret-key"); export SECRET_KEY
[ -f "$dir/field-key" ] || "$bin/python" -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())' >"$dir/field-key"
FIELD_ENCRYPTION_KEYS=$(cat "$dir/field-key"); export FIELD_ENCRYPTION_KEYS

# Start a command in its own session (so stop can end its whole process group), logging to a file.
launch() {
  local name=$1; shift
  setsid "$@" >"$dir/$name.log" 2>&1 < /dev/null &
  echo $! >"$dir/$name.pid"
}
wait_http() {  # url, name: until it answers (any status), or fail with the log
  for _ in $(seq 1 240); do
    curl -ks -o /dev/null "$1" && return 0
    running "$2" || { echo "$2 exited; its log:" >&2; tail -40 "$dir/$2.log" >&2; exit 1; }
    sleep 0.5
  done
  echo "$2 did not answer at $1" >&2; exit 1
}

# The database (created when missing).
db_name=${DATABASE_URL##*/}
db_server=${DATABASE_URL%/*}
if ! psql "$db_server/postgres" -Atqc "select 1 from pg_database where datname = '$db_name'" | grep -q 1; then
  psql "$db_server/postgres" -qc "create database \"$db_name\"" >/dev/null
fi

# S3: the local server unless a real endpoint is configured; the bucket is created at start-up.
if [ -z "${EVIDENCE_S3_ENDPOINT_URL:-}" ]; then
  launch s3 "$bin/moto_server" -H 127.0.0.1 -p "$((base + 3))"
  wait_http "http://127.0.0.1:$((base + 3))/" s3
  export EVIDENCE_S3_ENDPOINT_URL=http://127.0.0.1:$((base + 3))
  export EVIDENCE_S3_ACCESS_KEY_ID=${EVIDENCE_S3_ACCESS_KEY_ID:-topology-key}
  export EVIDENCE_S3_SECRET_ACCESS_KEY=${EVIDENCE_S3_SECRET_ACCESS_KEY:-topology-secret}
fi
export EVIDENCE_S3_BUCKET=${EVIDENCE_S3_BUCKET:-appeal-evidence}
export AWS_AUTO_CREATE_BUCKET=${AWS_AUTO_CREATE_BUCKET:-true}

# Web node 1 migrates; node 2 starts once the schema is there.
GUNICORN_BIND=127.0.0.1:$((base + 1)) launch web1 scripts/serve.sh web
wait_http "http://127.0.0.1:$((base + 1))/login/" web1
GUNICORN_BIND=127.0.0.1:$((base + 2)) RUN_MIGRATIONS=false launch web2 scripts/serve.sh web
launch worker1 scripts/serve.sh worker -n "worker1@%h" --concurrency=1
launch worker2 scripts/serve.sh worker -n "worker2@%h" --concurrency=1
BEAT_SCHEDULE_FILE=$dir/beat1-schedule launch beat1 scripts/serve.sh beat
if [ "${TOPOLOGY_BEATS:-1}" -ge 2 ]; then
  BEAT_SCHEDULE_FILE=$dir/beat2-schedule launch beat2 scripts/serve.sh beat
fi
wait_http "http://127.0.0.1:$((base + 2))/login/" web2

# nginx in front, TLS on loopback with a certificate made here.
[ -f "$dir/tls.crt" ] || openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=127.0.0.1" \
  -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" -keyout "$dir/tls.key" -out "$dir/tls.crt" 2>/dev/null
mkdir -p "$dir/nginx-tmp"
user_line=""
[ "$(id -u)" -eq 0 ] && user_line="user root;"
second_upstream="server 127.0.0.1:$((base + 2)) max_fails=1 fail_timeout=5s;"
[ "${TOPOLOGY_NGINX_NODES:-2}" = "1" ] && second_upstream="# web node 2 left out (TOPOLOGY_NGINX_NODES=1)"
cat >"$dir/nginx.conf" <<EOF
$user_line
worker_processes 1;
pid $dir/nginx.master.pid;
error_log $dir/nginx-error.log warn;
events { worker_connections 256; }
http {
  client_body_temp_path $dir/nginx-tmp/body;
  proxy_temp_path $dir/nginx-tmp/proxy;
  fastcgi_temp_path $dir/nginx-tmp/fastcgi;
  uwsgi_temp_path $dir/nginx-tmp/uwsgi;
  scgi_temp_path $dir/nginx-tmp/scgi;
  log_format main '\$remote_addr [\$time_iso8601] "\$request" \$status \$request_id upstream=\$upstream_addr';
  access_log $dir/nginx-access.log main;
  upstream appeal_desk {
    server 127.0.0.1:$((base + 1)) max_fails=1 fail_timeout=5s;
    $second_upstream
  }
  server {
    listen 127.0.0.1:$base ssl;
    server_name 127.0.0.1 localhost;
    ssl_certificate $dir/tls.crt;
    ssl_certificate_key $dir/tls.key;
    client_max_body_size 300m;
    location / {
      proxy_pass http://appeal_desk;
      proxy_set_header Host \$http_host;  # with the port: CSRF compares it with Origin/Referer
      proxy_set_header X-Forwarded-Proto \$scheme;
      proxy_set_header X-Request-ID \$request_id;
      proxy_next_upstream error timeout;
    }
  }
}
EOF
launch nginx nginx -p "$dir" -c "$dir/nginx.conf" -g "daemon off;"
wait_http "https://127.0.0.1:$base/login/" nginx
echo "topology up: https://127.0.0.1:$base/ (nginx) -> web1 :$((base + 1)), web2 :$((base + 2)); 2 workers, ${TOPOLOGY_BEATS:-1} beat(s)"
echo "logs and pid files in $dir; stop with: scripts/topology.sh stop"
