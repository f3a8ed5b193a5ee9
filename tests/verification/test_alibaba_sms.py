"""The Alibaba Cloud SMS adapter against a local server that checks signatures and answers like dysmsapi."""

import json
import socket

import pytest

from appeals.notifications.errors import PermanentDeliveryError, TransientDeliveryError
from appeals.notifications.sms import SmsMessage, get_connection
from appeals.notifications.sms.backends import alibaba as adapter

from .servers import FakeAlibabaSms, expected_signature


def _backend(server, **overrides):
    options = {"endpoint": server.endpoint, "access_key_id": server.KEY_ID, "access_key_secret": server.SECRET, **overrides}
    return get_connection("appeals.notifications.sms.backends.alibaba.SmsBackend", **options)


def _message(**kw):
    return SmsMessage(**{"phone": "13812345678", "template": "verification_code", "params": {"code": "042917", "minutes": 10},
                         "out_id": "verification:7", **kw})


def test_percent_encoding_follows_rfc3986():
    assert adapter.percent_encode("a b*c~d/é") == "a%20b%2Ac~d%2F%C3%A9"
    assert adapter.canonical_query({"b": "2", "a": "1 +"}) == "a=1%20%2B&b=2"


def test_signature_matches_an_independent_computation():
    params = {"AccessKeyId": "id", "Action": "SendSms", "SignName": "申诉服务台", "TemplateParam": '{"code":"1"}',
              "Timestamp": "2026-11-20T16:00:00Z", "SignatureNonce": "n-1"}
    assert adapter.sign("POST", params, "secret") == expected_signature("POST", params, "secret")
    assert adapter.sign("POST", params, "secret") != adapter.sign("GET", params, "secret")
    assert adapter.sign("POST", params, "secret") != adapter.sign("POST", {**params, "SignatureNonce": "n-2"}, "secret")


def test_send_sms_signed_request_with_template_and_params(alibaba):
    biz_id = _backend(alibaba).send(_message())
    [sent] = alibaba.sent
    assert biz_id == sent["BizId"]
    assert sent["Action"] == "SendSms" and sent["Version"] == "2017-05-25" and sent["Format"] == "JSON"
    assert sent["PhoneNumbers"] == "13812345678"
    assert sent["TemplateCode"] == "SMS_000000001"
    assert json.loads(sent["TemplateParam"]) == {"code": "042917", "minutes": 10}
    assert sent["SignName"] == "申诉服务台"
    assert sent["OutId"] == "verification:7"


def test_wrong_secret_is_refused_by_the_signature_check(alibaba):
    with pytest.raises(PermanentDeliveryError) as exc:
        _backend(alibaba, access_key_secret="not-the-secret").send(_message())
    assert exc.value.code == "SignatureDoesNotMatch" and not alibaba.sent


def test_unknown_access_key(alibaba):
    with pytest.raises(PermanentDeliveryError) as exc:
        _backend(alibaba, access_key_id="nobody").send(_message())
    assert exc.value.code == "InvalidAccessKeyId.NotFound"


@pytest.mark.parametrize("code", ["isv.BUSINESS_LIMIT_CONTROL", "Throttling.User", "isp.SYSTEM_ERROR", "http_500"])
def test_throttling_and_provider_errors_are_retryable(alibaba, code):
    alibaba.script = [code]
    with pytest.raises(TransientDeliveryError):
        _backend(alibaba).send(_message())
    assert _backend(alibaba).send(_message())  # the next attempt goes through
    assert len(alibaba.sent) == 1


@pytest.mark.parametrize("code", ["isv.MOBILE_NUMBER_ILLEGAL", "isv.SMS_TEMPLATE_ILLEGAL", "isv.AMOUNT_NOT_ENOUGH",
                                  "isv.DAY_LIMIT_CONTROL", "isv.SMS_SIGNATURE_ILLEGAL"])
def test_refusals_of_the_message_itself_are_permanent(alibaba, code):
    alibaba.script = [code]
    with pytest.raises(PermanentDeliveryError) as exc:
        _backend(alibaba).send(_message())
    assert exc.value.code == code


def test_provider_validates_the_number(alibaba):
    with pytest.raises(PermanentDeliveryError) as exc:
        _backend(alibaba).send(_message(phone="1381234"))
    assert exc.value.code == "isv.MOBILE_NUMBER_ILLEGAL"


def test_template_without_a_template_code_is_permanent(alibaba):
    with pytest.raises(PermanentDeliveryError) as exc:
        _backend(alibaba).send(_message(template="no_such_template"))
    assert exc.value.code == "template_unmapped" and not alibaba.requests


def test_unreachable_provider_is_retryable():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again below: nothing listens there
    server = FakeAlibabaSms()
    backend = get_connection("appeals.notifications.sms.backends.alibaba.SmsBackend", endpoint=f"http://127.0.0.1:{port}/",
                             access_key_id=server.KEY_ID, access_key_secret=server.SECRET)
    server.server.server_close()
    with pytest.raises(TransientDeliveryError) as exc:
        backend.send(_message())
    assert exc.value.code == "network"


def test_slow_provider_times_out_as_retryable(alibaba):
    alibaba.delay_seconds = 2
    with pytest.raises(TransientDeliveryError):
        _backend(alibaba, timeout_seconds=0.5).send(_message())


def test_lookup_finds_a_send_by_out_id_through_query_send_details(alibaba):
    backend = _backend(alibaba)
    assert backend.lookup(_message()) is False
    backend.send(_message())
    backend.send(_message(out_id="verification:8"))
    assert backend.lookup(_message()) is True
    assert backend.lookup(_message(out_id="verification:9")) is False
    assert alibaba.requests[-1]["Action"] == "QuerySendDetails"
