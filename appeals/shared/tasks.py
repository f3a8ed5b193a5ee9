"""Queue Celery tasks by their stable names, after the transaction that causes them commits.

Services name a task instead of importing its module, so tasks (thin entry points that call
services) and services never import each other. A broker outage at publish time is logged,
never raised into the request that already committed: each capability's sweeper finds the
work it stranded (`outbox_sweep`, the evidence sweep) and queues it again.
"""

import logging

from celery import current_app
from django.db import transaction

logger = logging.getLogger(__name__)


def publish(task_name: str, *args, **options):
    """Publish now (in-process when tasks run eagerly). The task's module must be registered
    (each capability's plug-in imports its tasks module)."""
    return current_app.signature(task_name, args=args).apply_async(**options)


def publish_on_commit(task_name: str, *args, **options) -> None:
    """Publish once the outermost transaction commits; a failure to publish is logged."""

    def _publish_after_commit():
        try:
            publish(task_name, *args, **options)
        except Exception as exc:  # broker unreachable: the sweeper of the capability re-publishes
            logger.warning("could not publish %s%r (%s: %s); its sweeper will queue it again", task_name, args, type(exc).__name__, exc)

    # A plain function (not functools.partial): Django 5.2's robust on_commit path reads
    # __qualname__ when logging, which a partial lacks (Django ticket #36487).
    transaction.on_commit(_publish_after_commit, robust=True)
