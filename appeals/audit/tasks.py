import logging

from celery import shared_task

from appeals.audit.services import audit_verify_chain

logger = logging.getLogger(__name__)


@shared_task(name="appeals.tasks.verify_audit_chain")
def verify_audit_chain() -> str:
    """Hourly: walk the audit hash chain and log loudly if a link is broken."""
    report = audit_verify_chain()
    (logger.info if report.intact else logger.error)("audit chain %s", report)
    return str(report)
