"""The recovery plan's periodic task: the reminders of rest periods that have ended."""

from celery import shared_task

from appeals.recovery import services


@shared_task(name="appeals.tasks.recovery_reminders")
def recovery_reminders() -> int:
    """Every BEAT_INTERVALS["recovery-reminders"] seconds: queue each due reminder once."""
    return services.recovery_reminders_queue()
