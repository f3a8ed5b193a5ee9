"""Fixtures for recovery plans: the seeded step templates (re-seeded after a transactional test
flushed them, like the outcome codes), a case of a chosen kind, and decisions through the services."""

import importlib
from datetime import timedelta

import pytest
from django.apps import apps as django_apps
from django.utils import timezone

from appeals.core.services import appeals as svc
from tests import builders, factories
from tests.api.conftest import client_for

_SEED = importlib.import_module("appeals.migrations.0028_recovery_plans").seed


@pytest.fixture(autouse=True)
def recovery_templates(db):
    if not django_apps.get_model("appeals", "RecoveryStepTemplate").objects.exists():
        _SEED(django_apps, None)


@pytest.fixture
def api_as():
    return client_for


@pytest.fixture
def banned_at():
    return timezone.now() - timedelta(days=3)


@pytest.fixture
def restricted_incident(account, enterprise_admin, banned_at):
    """Adding friends temporarily restricted (kind 3): pause adds for a week after the decision."""
    return factories.IncidentFactory(account=account, created_by=enterprise_admin, kind="adds_restricted",
                                     banned_at=banned_at)


@pytest.fixture
def restricted_draft(restricted_incident, enterprise_admin):
    return svc.appeal_create(by=enterprise_admin, incident=restricted_incident,
                             statement="We paused every campaign.", contact_phone="13812345678")


@pytest.fixture
def restricted_submitted(restricted_draft, enterprise_admin):
    return builders.submitted_appeal(restricted_draft, enterprise_admin)


def approve(appeal, first_reviewer, second_reviewer, outcome_code="restored"):
    appeal = svc.appeal_claim(appeal=appeal, by=first_reviewer)
    appeal = svc.appeal_first_review(appeal=appeal, by=first_reviewer, decision="approve")
    appeal = svc.appeal_claim(appeal=appeal, by=second_reviewer)
    return svc.appeal_second_review(appeal=appeal, by=second_reviewer, decision="approve", outcome_code=outcome_code)


def reject(appeal, first_reviewer, second_reviewer):
    appeal = svc.appeal_claim(appeal=appeal, by=first_reviewer)
    appeal = svc.appeal_first_review(appeal=appeal, by=first_reviewer, decision="reject", comment="Spam confirmed.")
    appeal = svc.appeal_claim(appeal=appeal, by=second_reviewer)
    return svc.appeal_second_review(appeal=appeal, by=second_reviewer, decision="reject", comment="Spam confirmed.",
                                    outcome_code="refused_violation_confirmed")


@pytest.fixture
def restored_appeal(restricted_submitted, first_reviewer, second_reviewer):
    return approve(restricted_submitted, first_reviewer, second_reviewer)


def zh_catalogued(msgid: str) -> bool:
    """Whether the compiled zh-Hans catalogue has this branch's msgid yet: the fragment
    (po/recovery.po) is merged into appeals/locale and compiled at merge time."""
    from django.utils import translation

    with translation.override("zh-hans"):
        return translation.gettext(msgid) != msgid


MASS_ADD_MSGID = "%(count)d adds in one hour on %(day)s: explain it in your statement."
needs_zh_catalogue = pytest.mark.skipif(not zh_catalogued(MASS_ADD_MSGID),
                                        reason="zh-Hans of the new msgids arrives with the merged catalogue (po/recovery.po)")
