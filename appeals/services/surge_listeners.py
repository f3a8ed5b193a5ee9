"""Plugs surge counting into the workflow: every submission is counted and checked."""

from appeals.services.surge import on_submission
from appeals.workflow import register_listener

register_listener(on_submission)
