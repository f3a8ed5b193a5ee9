"""Operations: liveness and readiness probes (/healthz, /readyz), Prometheus metrics (/metrics),
the Celery worker heartbeat and task-failure counts. Part of the shell: it reads the tables of
several capabilities (appeals, outbox, SLA clocks, surge alerts) and no capability imports it."""
