#!/usr/bin/env bash
# Serve the app; with REDIS_URL set, also run a Celery worker and beat beside it.
set -euo pipefail
host=${1:-127.0.0.1:8000}
bin=.venv/bin
pids=()
cleanup() { for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM
if [ -n "${REDIS_URL:-}" ]; then
  echo "REDIS_URL is set: starting a Celery worker and beat (logs: celery-worker.log, celery-beat.log)"
  "$bin/celery" -A config worker --loglevel=INFO >celery-worker.log 2>&1 & pids+=($!)
  "$bin/celery" -A config beat --loglevel=INFO --schedule=.celerybeat-schedule >celery-beat.log 2>&1 & pids+=($!)
else
  echo "No REDIS_URL: Celery tasks run in-process (embedded mode)."
fi
echo
echo "  The desk:          http://$host/   (logins above; password demo-pass-2026)"
if [ -z "${SMS_BACKEND:-}${EMAIL_BACKEND:-}" ] && [ "${DEV_INBOX:-true}" != "false" ]; then
  echo "  SMS and email:     http://$host/dev/inbox/   (local inbox: codes and links land here, nothing is sent)"
fi
echo "  API docs:          http://$host/api/docs/"
echo
"$bin/python" manage.py runserver --skip-checks "$host"
