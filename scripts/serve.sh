#!/usr/bin/env bash
# The production start (README "Production", docs/operations.md "Production start").
#   scripts/serve.sh [web]   check --deploy, migrate, collectstatic, then gunicorn (gunicorn.conf.py)
#   scripts/serve.sh worker  check --deploy, then a Celery worker
#   scripts/serve.sh beat    check --deploy, then Celery beat
# All three run under DJANGO_SETTINGS_MODULE (default config.settings.production, here and only
# here), so the web process, the workers and beat always share one settings module. Extra
# arguments go to gunicorn / celery. Set RUN_MIGRATIONS=false on all but one web node.
set -euo pipefail
cd "$(dirname "$0")/.."
export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-config.settings.production}
bin=${VENV:-.venv}/bin
role=${1:-web}
[ $# -gt 0 ] && shift

"$bin/python" manage.py check --deploy --fail-level WARNING
case "$role" in
  web)
    if [ "${RUN_MIGRATIONS:-true}" = "true" ]; then
      "$bin/python" manage.py migrate --noinput
    fi
    "$bin/python" manage.py collectstatic --noinput -v0
    exec "$bin/gunicorn" -c gunicorn.conf.py config.wsgi "$@"
    ;;
  worker)
    exec "$bin/celery" -A config worker --loglevel="${LOG_LEVEL:-INFO}" "$@"
    ;;
  beat)
    exec "$bin/celery" -A config beat --loglevel="${LOG_LEVEL:-INFO}" --schedule="${BEAT_SCHEDULE_FILE:-/tmp/appeal-desk-beat-schedule}" "$@"
    ;;
  *)
    echo "usage: scripts/serve.sh [web|worker|beat] [extra arguments]" >&2
    exit 2
    ;;
esac
