"""Search (appeals/core/search.py): Chinese inside words, references, names and comments,
scoped by tenant, on the API and on the list pages, on PostgreSQL's GIN index."""

import pytest
from django.db import connection
from django.urls import reverse

from appeals.core import search
from appeals.core.models import AppealSearch
from appeals.core.services import appeals as svc
from appeals.core.services import enterprises as ent_svc
from tests import factories
from tests.api.conftest import client_for


def test_lexemes_cut_han_into_characters_and_pairs_and_keep_other_words_whole():
    assert search.lexemes("发送红包 to VIP-客户 AP-2026-000123") == {
        "发", "送", "红", "包", "发送", "送红", "红包", "to", "vip", "客", "户", "客户", "ap-2026-000123", "000123",
    }
    # A reference is one lexeme (and its serial), not "ap" and "2026" in every document.
    assert "ap" not in search.lexemes("AP-2026-000123 2027") and "2027" in search.lexemes("AP-2026-000123 2027")
    # Full-width forms normalise like their ASCII twins.
    assert search.lexemes("ＷＸ１２３") == {"wx123"}


def test_query_terms_need_every_pair_and_prefix_other_words():
    assert search.query_terms("发送红包") == [("发送", False), ("送红", False), ("红包", False)]
    assert search.query_terms("红") == [("红", False)]
    assert search.query_terms("AP-2026") == [("ap-2026", True)]
    assert search.query_terms("ap-2026-0001 红包") == [("ap-2026-0001", True), ("红包", False)]
    assert search.query_terms("' & | ! :* ()") == []


def _appeal(enterprise_admin, incident, statement):
    return svc.appeal_create(by=enterprise_admin, incident=incident, statement=statement, contact_phone="13812345678")


def _refs(response):
    assert response.status_code == 200, response.content
    return {row["reference"] for row in response.json()["results"]}


@pytest.fixture
def cases(enterprise_admin, account, other_admin, other_enterprise):
    mine = _appeal(enterprise_admin, factories.IncidentFactory(account=account, created_by=enterprise_admin),
                   "我们的客服只是给老客户发送红包作为节日问候，没有违规营销。")
    plain = _appeal(enterprise_admin, factories.IncidentFactory(account=account, created_by=enterprise_admin),
                    "Account was used for normal customer service only.")
    other_account = factories.AccountFactory(enterprise=other_enterprise, account_id="wx-bluewave-77", display_name="Bluewave 客服")
    theirs = _appeal(other_admin, factories.IncidentFactory(account=other_account, created_by=other_admin),
                     "同样发送了红包，请求解封。")
    return mine, plain, theirs


@pytest.mark.django_db
def test_chinese_two_characters_find_the_word_inside_a_sentence_on_the_index(cases, enterprise_admin):
    mine, plain, theirs = cases
    client = client_for(enterprise_admin)
    assert _refs(client.get("/api/v1/appeals/", {"search": "红包"})) == {mine.reference}
    assert _refs(client.get("/api/v1/appeals/", {"search": "发送红包"})) == {mine.reference}
    # Both words must be present; a pair that is not adjacent in the text does not match.
    assert _refs(client.get("/api/v1/appeals/", {"search": "红包 customer"})) == set()
    assert _refs(client.get("/api/v1/appeals/", {"search": "包发"})) == set()
    assert _refs(client.get("/api/v1/appeals/", {"search": "CUSTOMER service"})) == {plain.reference}
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET enable_seqscan = off")
            cursor.execute(
                "EXPLAIN SELECT appeal_id FROM appeals_appealsearch WHERE vector @@ %s::tsquery", ["'红包'"]
            )
            plan = "\n".join(row[0] for row in cursor.fetchall())
            cursor.execute("RESET enable_seqscan")
        assert "appealsearch_vector" in plan


@pytest.mark.django_db
def test_reference_company_account_and_display_name(cases, enterprise_admin, other_admin, first_reviewer):
    mine, plain, theirs = cases
    assert _refs(client_for(enterprise_admin).get("/api/v1/appeals/", {"search": mine.reference})) == {mine.reference}
    # A reference's tail alone, and a prefix of a word.
    tail = mine.reference.rsplit("-", 1)[1]
    assert mine.reference in _refs(client_for(enterprise_admin).get("/api/v1/appeals/", {"search": tail}))
    assert _refs(client_for(enterprise_admin).get("/api/v1/appeals/", {"search": "晨光贸易"})) == {mine.reference, plain.reference}
    assert _refs(client_for(other_admin).get("/api/v1/appeals/", {"search": "wx-bluewave"})) == {theirs.reference}
    assert _refs(client_for(other_admin).get("/api/v1/appeals/", {"search": "bluewave 客服"})) == {theirs.reference}


@pytest.mark.django_db
def test_search_is_scoped_by_tenant(cases, enterprise_admin, other_admin):
    mine, plain, theirs = cases
    assert _refs(client_for(other_admin).get("/api/v1/appeals/", {"search": "红包"})) == {theirs.reference}
    assert _refs(client_for(other_admin).get("/api/v1/appeals/", {"search": mine.reference})) == set()
    assert client_for(None).get("/api/v1/appeals/", {"search": "红包"}).status_code in (401, 403)


@pytest.mark.django_db
def test_reviewer_comments_and_renames_become_searchable(submitted_appeal, first_reviewer, enterprise_admin, enterprise):
    svc.appeal_claim(appeal=submitted_appeal, by=first_reviewer)
    svc.appeal_first_review(appeal=submitted_appeal, by=first_reviewer, decision="request_info",
                            comment="请补充加盖公章的授权书原件扫描件")
    reviewer = client_for(first_reviewer)
    assert _refs(reviewer.get("/api/v1/appeals/", {"search": "授权书"})) == {submitted_appeal.reference}
    ent_svc.enterprise_update(enterprise=enterprise, by=enterprise_admin, name="南京紫金山电子商务有限公司")
    assert _refs(reviewer.get("/api/v1/appeals/", {"search": "紫金山"})) == {submitted_appeal.reference}
    assert _refs(reviewer.get("/api/v1/appeals/", {"search": "晨光"})) == set()
    account = submitted_appeal.incident.account
    ent_svc.account_update(account=account, by=enterprise_admin, display_name="售后小助手")
    assert _refs(reviewer.get("/api/v1/appeals/", {"search": "小助手"})) == {submitted_appeal.reference}
    assert AppealSearch.objects.count() == 1


@pytest.mark.django_db
def test_hostile_and_overlong_queries_are_answered_not_500(cases, enterprise_admin):
    client = client_for(enterprise_admin)
    for query in ["'", "\\", "a & | !", "红包:*", "(", "%", "_"]:
        response = client.get("/api/v1/appeals/", {"search": query})
        assert response.status_code == 200, (query, response.content)
    assert _refs(client.get("/api/v1/appeals/", {"search": "!!!"})) == set()
    response = client.get("/api/v1/appeals/", {"search": "红" * 101})
    assert response.status_code == 400
    assert "search" in response.json()["fields"]


@pytest.mark.django_db
def test_list_pages_have_a_search_box(cases, enterprise_admin, client):
    mine, plain, theirs = cases
    client.force_login(enterprise_admin)
    page = client.get(reverse("appeal_list"), {"search": "红包"})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'type="search"' in html and mine.reference in html and plain.reference not in html


@pytest.mark.django_db
def test_queue_search(submitted_appeal, first_reviewer, client):
    client.force_login(first_reviewer)
    found = client.get(reverse("queue_first"), {"search": submitted_appeal.reference}).content.decode()
    missing = client.get(reverse("queue_first"), {"search": "不存在的词语"}).content.decode()
    assert submitted_appeal.reference in found and 'type="search"' in found
    assert submitted_appeal.reference not in missing


@pytest.mark.django_db
def test_common_and_rare_words_take_their_own_paths_to_the_same_answer(cases, enterprise_admin, monkeypatch):
    mine, plain, theirs = cases
    client = client_for(enterprise_admin)
    rare = _refs(client.get("/api/v1/appeals/", {"search": "晨光"}))  # a few ids from the index
    monkeypatch.setattr(search, "ID_LIST_LIMIT", 1)  # now "common": a semi-join the planner runs
    assert _refs(client.get("/api/v1/appeals/", {"search": "晨光"})) == rare == {mine.reference, plain.reference}
