"""The Tencent Cloud SMS adapter against a local server that checks TC3 signatures and answers
Tencent's documented error codes."""

import json
import socket

import pytest

from appeals.notifications.errors import PermanentDeliveryError, TransientDeliveryError
from appeals.notifications.sms import SmsMessage, get_connection
from appeals.notifications.sms.backends import tencent as adapter

from . import tencent_server
from .conftest import tencent_options

BACKEND = "appeals.notifications.sms.backends.tencent.SmsBackend"


def _backend(server, **overrides):
    return get_connection(BACKEND, **{**tencent_options(server), **overrides})


def _message(**kw):
    return SmsMessage(**{"phone": "13812345678", "template": "verification_code", "params": {"code": "042917", "minutes": 10},
                         "out_id": "verification:7", **kw})


def test_signature_matches_an_independent_computation():
    body = json.dumps({"PhoneNumberSet": ["+8613812345678"], "SignName": "申诉服务台"}, ensure_ascii=False).encode()
    ours = adapter.signature("secret", 1764979200, "sms.tencentcloudapi.com", body)
    theirs = tencent_server.tc3_signature("secret", host="sms.tencentcloudapi.com", content_type=adapter.CONTENT_TYPE,
                                          body=body, timestamp=1764979200, date="2025-12-06")
    assert ours == theirs
    assert ours != adapter.signature("secret", 1764979201, "sms.tencentcloudapi.com", body)
    assert ours != adapter.signature("secret", 1764979200, "sms.tencentcloudapi.com", body + b" ")
    header = adapter.authorization("AKID", "secret", 1764979200, "sms.tencentcloudapi.com", body)
    assert header == f"TC3-HMAC-SHA256 Credential=AKID/2025-12-06/sms/tc3_request, SignedHeaders=content-type;host, Signature={ours}"


def test_send_sms_is_a_signed_sendsms_with_template_params_in_order(tencent):
    serial = _backend(tencent).send(_message())
    [sent] = tencent.sent
    request = tencent.requests[-1]
    assert request["action"] == "SendSms"
    assert request["headers"]["x-tc-version"] == "2021-01-11" and request["headers"]["x-tc-region"] == "ap-guangzhou"
    assert serial == sent["SerialNo"]
    assert sent["PhoneNumberSet"] == ["+8613812345678"]
    assert sent["SmsSdkAppId"] == tencent_server.SDK_APP_ID and sent["SignName"] == "申诉服务台"
    assert sent["TemplateId"] == "1000001" and sent["TemplateParamSet"] == ["042917", "10"]
    assert sent["SessionContext"] == "verification:7"


def test_wrong_secret_key_is_refused_by_the_signature_check(tencent):
    with pytest.raises(PermanentDeliveryError) as exc:
        _backend(tencent, secret_key="not-the-key").send(_message())
    assert exc.value.code == "AuthFailure.SignatureFailure" and not tencent.sent
    assert exc.value.provider_fault and not exc.value.ambiguous


def test_unknown_secret_id(tencent):
    with pytest.raises(PermanentDeliveryError) as exc:
        _backend(tencent, secret_id="AKIDnobody").send(_message())
    assert exc.value.code == "AuthFailure.SecretIdNotFound"


@pytest.mark.parametrize(("code", "kind", "ambiguous", "provider_fault"), [
    ("LimitExceeded.PhoneNumberDailyLimit", PermanentDeliveryError, False, False),
    ("InvalidParameterValue.IncorrectPhoneNumber", PermanentDeliveryError, False, False),
    ("FailedOperation.InsufficientBalanceInSmsPackage", PermanentDeliveryError, False, True),
    ("AuthFailure.SignatureExpire", PermanentDeliveryError, False, True),
    ("RequestLimitExceeded", TransientDeliveryError, False, True),
    ("InternalError.RequestTimeException", TransientDeliveryError, False, True),
    ("InternalError.Timeout", TransientDeliveryError, True, True),
])
def test_documented_error_codes_map_to_delivery_errors(tencent, code, kind, ambiguous, provider_fault):
    tencent.script = [code]
    with pytest.raises(kind) as exc:
        _backend(tencent).send(_message())
    assert exc.value.code == code
    assert (exc.value.ambiguous, exc.value.provider_fault) == (ambiguous, provider_fault)
    assert _backend(tencent).send(_message())  # scripted once: the next one goes through
    assert len(tencent.sent) == 1


def test_provider_checks_the_number(tencent):
    with pytest.raises(PermanentDeliveryError) as exc:
        _backend(tencent).send(_message(phone="1381234"))
    assert exc.value.code == "InvalidParameterValue.IncorrectPhoneNumber" and not exc.value.provider_fault


def test_template_without_a_template_id_is_refused_before_any_request(tencent):
    with pytest.raises(PermanentDeliveryError) as exc:
        _backend(tencent).send(_message(template="no_such_template"))
    assert exc.value.code == "template_unmapped" and not tencent.requests


def test_unreachable_provider_is_a_clear_retryable_failure():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    backend = get_connection(BACKEND, endpoint=f"http://127.0.0.1:{port}/", secret_id="x", secret_key="y", sdk_app_id="1")
    with pytest.raises(TransientDeliveryError) as exc:
        backend.send(_message())
    assert exc.value.code == "network" and not exc.value.ambiguous


def test_a_hanging_provider_times_out_as_ambiguous(tencent):
    tencent.hang_seconds, tencent.record_then_hang = 2.0, True
    with pytest.raises(TransientDeliveryError) as exc:
        _backend(tencent, timeout_seconds=0.5).send(_message())
    assert exc.value.ambiguous and exc.value.code == "timeout"


def test_lookup_finds_a_receipt_by_session_context_and_otherwise_cannot_tell(tencent):
    backend = _backend(tencent)
    assert backend.lookup(_message()) is None  # no receipt proves nothing
    backend.send(_message())
    assert backend.lookup(_message()) is True
    assert backend.lookup(_message(out_id="verification:8")) is None
    assert tencent.requests[-1]["action"] == "PullSmsSendStatusByPhoneNumber"
    assert tencent.requests[-1]["params"]["PhoneNumber"] == "+8613812345678"


def test_keys_never_appear_in_the_backends_repr(tencent):
    assert tencent_server.SECRET_KEY not in repr(_backend(tencent))
