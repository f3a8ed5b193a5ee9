"""The SMS providers' panel on the manager page: breaker state, success rate and failover
counts per provider, in English and in Chinese, for managers only."""

import pytest
from django.test import Client

from appeals.notifications.models import Channel, Message
from appeals.notifications.outbox import message_deliver, message_queue

pytestmark = pytest.mark.django_db


def _client(user, language):
    client = Client()
    client.force_login(user)
    client.post("/i18n/setlang/", {"language": language, "next": "/manager/"})
    return client


def _send(i):
    message = message_queue(channel=Channel.SMS, recipient=f"136{i:08d}", template="verification_code",
                            params={"code": "1", "minutes": 10}, idempotency_key=f"panel:{i}")
    message_deliver(message_id=message.pk)
    return Message.objects.get(pk=message.pk)


@pytest.fixture
def one_outage(providers_settings, tencent):
    """Tencent took one message, then stopped answering: two attempts failed, its breaker
    opened (resting a minute), and three messages went to Alibaba by failover."""
    providers_settings.SMS_FAILOVER = {**providers_settings.SMS_FAILOVER, "COOL_DOWN_SECONDS": 60.0}
    _send(1)
    tencent.stop()
    assert [_send(i).sms_provider for i in range(2, 5)] == ["alibaba"] * 3


def test_the_manager_page_shows_each_providers_recent_figures(one_outage, manager):
    body = _client(manager, "en").get("/manager/").content.decode()
    assert "SMS providers" in body and "Tencent Cloud SMS" in body and "Alibaba Cloud SMS" in body
    tencent = body.split('data-provider="tencent"')[1].split("</tr>")[0]
    alibaba = body.split('data-provider="alibaba"')[1].split("</tr>")[0]
    assert 'data-breaker="open"' in tencent and "Resting after failures" in tencent
    assert "33.3%" in tencent  # 1 sent, 2 failed attempts
    assert "100.0%" in alibaba and "<td data-label=\"Taken over by failover\" data-failover>3</td>" in alibaba
    assert body.index('data-provider="tencent"') < body.index('data-provider="alibaba"')  # order of preference


def _catalogue_has_the_panel() -> bool:
    from django.utils import translation

    with translation.override("zh-hans"):
        return translation.gettext("SMS providers") != "SMS providers"


@pytest.mark.skipif(not _catalogue_has_the_panel(), reason="the zh-Hans catalogue gets the panel's strings at merge")
def test_the_panel_in_chinese(one_outage, manager):
    body = _client(manager, "zh-hans").get("/manager/").content.decode()
    assert "短信服务商" in body and "故障切换接收" in body and "成功率" in body and "腾讯云短信" in body


def test_one_backend_without_failover_says_so(manager, settings):
    settings.SMS_BACKEND = "appeals.notifications.sms.backends.locmem.SmsBackend"
    body = _client(manager, "en").get("/manager/").content.decode()
    assert 'data-backend="locmem">One SMS backend, no failover.' in body


def test_enterprise_admins_do_not_see_the_manager_page(providers_settings, enterprise_admin):
    response = _client(enterprise_admin, "en").get("/manager/")
    assert response.status_code in (302, 403, 404) and b"SMS providers" not in response.content
