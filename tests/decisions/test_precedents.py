"""Precedents: ranking (kind, reason, risk flags, account history), the panel, the API and its scope."""

import itertools
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from appeals.core.models import AppealState
from appeals.core.precedents import precedents_for
from appeals.evidence.models import EvidenceItem, RiskFlag
from appeals.shared.exceptions import PermissionDenied
from tests import factories
from tests.api.conftest import client_for

pytestmark = pytest.mark.django_db
_n = itertools.count()


def _flag(appeal, *rules):
    n = next(_n)
    item = EvidenceItem.objects.create(
        appeal=appeal, enterprise=appeal.enterprise, group="operation_logs", kind="operation_log", file_type="csv",
        size=1, sha256="0" * 64, storage_name=f"test/precedent-{n}.csv", uploaded_by=appeal.filed_by)
    for rule in rules:
        RiskFlag.objects.create(appeal=appeal, evidence=item, rule=rule, operator="wx-1", count=60)


def _decided(*, account, kind, reason, state=AppealState.APPROVED, code="restored", days_ago=10):
    incident = factories.IncidentFactory(account=account, kind=kind, reason=reason,
                                         banned_at=timezone.now() - timedelta(days=days_ago + 1))
    return factories.AppealFactory(incident=incident, state=state, decided_at=timezone.now() - timedelta(days=days_ago),
                                   outcome_code=code, decision_reason_en=f"Reason for {code}.",
                                   decision_reason_zh=f"{code} 的理由。")


@pytest.fixture
def history(claimed_appeal, account, other_enterprise):
    """The case under review: short_ban / user_reports, flagged mass_add + sensitive_words (from its evidence)."""
    _flag(claimed_appeal, "mass_add", "sensitive_words")
    other = factories.AccountFactory(enterprise=other_enterprise)
    cases = {
        # kind + reason + same flags: 3 + 2 + 2 = 7 (another enterprise: reviewers see every enterprise)
        "twin": _decided(account=other, kind="short_ban", reason="user_reports", code="refused_violation_confirmed",
                         state=AppealState.REJECTED),
        # kind + reason, half the flags (1 of 2... Jaccard 1/3 with {mass_add, location_anomaly}): 5.667
        "half": _decided(account=other, kind="short_ban", reason="user_reports"),
        # kind + reason, no flags: 5
        "plain": _decided(account=other, kind="short_ban", reason="user_reports", days_ago=3),
        # same account's earlier case, other kind and reason: 1
        "mine": _decided(account=account, kind="desktop_logout", reason="real_name", days_ago=100),
        # only the reason: 2
        "reason": _decided(account=other, kind="entity_ban", reason="user_reports"),
        # kind only: 3
        "kind": _decided(account=other, kind="short_ban", reason="spam"),
        # nothing in common: never a candidate
        "stranger": _decided(account=other, kind="entity_ban", reason="spam"),
    }
    _flag(cases["twin"], "mass_add", "sensitive_words")
    _flag(cases["half"], "mass_add", "location_anomaly")
    _flag(cases["stranger"], "mass_add", "sensitive_words")
    # Still open: never a precedent.
    factories.AppealFactory(incident=factories.IncidentFactory(account=other, kind="short_ban", reason="user_reports"))
    return cases


def test_ranking(history, claimed_appeal, first_reviewer):
    rows = precedents_for(user=first_reviewer, appeal=claimed_appeal)
    refs = {a.reference: name for name, a in history.items()}
    assert [refs[r["reference"]] for r in rows] == ["twin", "half", "plain", "kind", "reason"]
    assert [r["score"] for r in rows] == [7.0, 5.667, 5.0, 3.0, 2.0]
    assert rows[0]["matched"] == ["kind", "reason", "signals"] and rows[0]["shared_signals"] == ["risk:mass_add", "risk:sensitive_words"]
    assert rows[0]["outcome_code"] == "refused_violation_confirmed" and rows[0]["outcome_label_en"] == "Refused: violation confirmed"
    everything = precedents_for(user=first_reviewer, appeal=claimed_appeal, limit=20)
    assert [refs[r["reference"]] for r in everything][-1] == "mine"
    assert "stranger" not in [refs[r["reference"]] for r in everything]


def test_api_for_reviewers_and_403_for_enterprise_admins(history, claimed_appeal, first_reviewer, manager, enterprise_admin,
                                                         other_admin):
    url = f"/api/v1/appeals/{claimed_appeal.reference}/precedents/"
    r = client_for(first_reviewer).get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert r.status_code == 200
    body = r.json()
    assert len(body) == 5 and body[0]["reference"] == history["twin"].reference
    assert body[0]["outcome_label"] == "未通过：违规属实" and body[0]["decision_reason"] == "refused_violation_confirmed 的理由。"
    assert client_for(manager).get(url).status_code == 200
    for admin in (enterprise_admin, other_admin):
        r = client_for(admin).get(url)
        assert r.status_code == 403 and r.json()["code"] == "permission_denied"
    assert client_for(None).get(url).status_code == 401
    with pytest.raises(PermissionDenied):
        precedents_for(user=enterprise_admin, appeal=claimed_appeal)


def test_panel_on_the_case_page_while_in_review_only(history, claimed_appeal, first_reviewer, enterprise_admin):
    client = Client()
    client.force_login(first_reviewer)
    page = client.get(f"/appeals/{claimed_appeal.reference}/").content.decode()
    assert 'id="precedents"' in page
    twin = history["twin"].reference
    assert f'href="/appeals/{twin}/"' in page and "Refused: violation confirmed" in page
    admin = Client()
    admin.force_login(enterprise_admin)
    assert 'id="precedents"' not in admin.get(f"/appeals/{claimed_appeal.reference}/").content.decode()
    # A decided case shows no panel.
    assert 'id="precedents"' not in client.get(f"/appeals/{twin}/").content.decode()
