"""The Celery application; tasks live in appeals/tasks.py."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("appeal_desk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
