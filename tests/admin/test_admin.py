"""Django admin: every model is browsable; domain models are read-only; user changes are audited."""

import pytest
from django.urls import reverse

from appeals.models import AuditEvent

pytestmark = pytest.mark.django_db

MODELS = ["user", "enterprise", "messagingaccount", "banincident", "appeal", "appealevent", "auditevent", "referencesequence"]


@pytest.mark.parametrize("model", MODELS)
def test_every_model_has_an_admin_changelist(client, superuser, submitted_appeal, model):
    client.force_login(superuser)
    assert client.get(reverse(f"admin:appeals_{model}_changelist")).status_code == 200


def test_domain_objects_cannot_be_edited_in_admin(client, superuser, submitted_appeal):
    client.force_login(superuser)
    url = reverse("admin:appeals_appeal_change", args=[submitted_appeal.pk])
    response = client.post(url, {"state": "approved"})
    submitted_appeal.refresh_from_db()
    assert submitted_appeal.state == "first_review"
    assert response.status_code in (302, 403)


def test_role_change_in_admin_is_audited(client, superuser, first_reviewer):
    client.force_login(superuser)
    url = reverse("admin:appeals_user_change", args=[first_reviewer.pk])
    data = {
        "username": first_reviewer.username, "email": first_reviewer.email, "is_active": "on", "is_staff": "on",
        "is_first_reviewer": "on", "is_manager": "on", "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00",
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content[:2000]
    event = AuditEvent.objects.get(action="user.update", target_id=str(first_reviewer.pk))
    assert event.actor == superuser
    assert event.before["is_manager"] is False and event.after["is_manager"] is True
    assert event.before["is_second_reviewer"] is True and event.after["is_second_reviewer"] is False
