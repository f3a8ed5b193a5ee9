"""Tencent Cloud SMS (API 3.0, service `sms`, version 2021-01-11) over its JSON HTTP API.

Every call is a POST of a JSON body to the endpoint (sms.tencentcloudapi.com), naming the
action in X-TC-Action and signed with TC3-HMAC-SHA256:

    CanonicalRequest = "POST\\n/\\n\\n" + "content-type:application/json; charset=utf-8\\nhost:<host>\\n\\n"
                       + "content-type;host\\n" + hex(sha256(body))
    StringToSign     = "TC3-HMAC-SHA256\\n" + <unix timestamp> + "\\n" + "<UTC date>/sms/tc3_request\\n"
                       + hex(sha256(CanonicalRequest))
    key              = HMAC(HMAC(HMAC("TC3" + SecretKey, <UTC date>), "sms"), "tc3_request")
    Authorization    = "TC3-HMAC-SHA256 Credential=<SecretId>/<date>/sms/tc3_request, "
                       "SignedHeaders=content-type;host, Signature=" + hex(HMAC(key, StringToSign))

SendSms sends one templated message (TemplateId, TemplateParamSet: the template's
parameters in order) and carries our idempotency key as SessionContext. The answer is
either a request-level `Response.Error` (signature, credentials, throttling: nothing was
sent) or one `Response.SendStatusSet` entry per number, Code "Ok" or an error code.

Status lookup (`lookup`): PullSmsSendStatusByPhoneNumber lists the delivery receipts of a
number, SessionContext included. A receipt proves the provider took the message (True).
Its absence proves nothing: receipts arrive after the carrier delivers, minutes later or
never, so "no receipt" answers None ("cannot tell"), never False. A message whose send to
Tencent was left unsure is therefore resent through Tencent only, never moved to another
provider (appeals/notifications/sms/backends/failover.py).

The keys come from settings.TENCENT_SMS (the environment); they are never logged.
"""

import hashlib
import hmac
import http.client
import json
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings

from appeals.notifications.errors import PermanentDeliveryError, TransientDeliveryError

from .. import credentials
from .base import BaseSmsBackend

SERVICE = "sms"
API_VERSION = "2021-01-11"
ALGORITHM = "TC3-HMAC-SHA256"
CONTENT_TYPE = "application/json; charset=utf-8"
SIGNED_HEADERS = "content-type;host"

# Request-level errors (Response.Error) and per-number codes (SendStatusSet[].Code).
# Worth retrying later: throttling and the provider's passing trouble.
RETRYABLE_CODES = frozenset({
    "RequestLimitExceeded",
    "RequestLimitExceeded.GlobalRegionUinLimit",
    "RequestLimitExceeded.IPLimit",
    "RequestLimitExceeded.UinLimit",
    "LimitExceeded.PhoneNumberThirtySecondLimit",
    "LimitExceeded.PhoneNumberOneHourLimit",
    "InternalError",
    "InternalError.Timeout",
    "InternalError.SendAndRecvFail",
    "InternalError.UnknownError",
    "InternalError.OtherError",
    "InternalError.RequestTimeException",
    "InternalError.SigVerificationFail",
    "ResourceUnavailable",
    "ServiceUnavailable",
})
# After these the provider may have sent the message (it timed out internally, or cannot say).
AMBIGUOUS_CODES = frozenset({
    "InternalError",
    "InternalError.Timeout",
    "InternalError.SendAndRecvFail",
    "InternalError.UnknownError",
    "InternalError.OtherError",
})
# Refusals of the message itself: the number, or that number's own limits.
MESSAGE_CODES = frozenset({
    "InvalidParameterValue.IncorrectPhoneNumber",
    "InvalidParameterValue.ProhibitedUseUrlInTemplateParameter",
    "InvalidParameterValue.TemplateParameterLengthLimit",
    "InvalidParameterValue.TemplateParameterFormatError",
    "FailedOperation.PhoneNumberInBlacklist",
    "FailedOperation.ContainSensitiveWord",
    "LimitExceeded.PhoneNumberDailyLimit",
    "LimitExceeded.PhoneNumberSameContentDailyLimit",
    "LimitExceeded.PhoneNumberThirtySecondLimit",
    "LimitExceeded.PhoneNumberOneHourLimit",
    "UnsupportedOperation.ContainDomesticAndInternationalPhoneNumber",
})


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def canonical_request(host: str, body: bytes) -> str:
    return "\n".join([
        "POST", "/", "",
        f"content-type:{CONTENT_TYPE}\nhost:{host.lower()}\n",
        SIGNED_HEADERS,
        hashlib.sha256(body).hexdigest(),
    ])


def string_to_sign(timestamp: int, host: str, body: bytes) -> str:
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    return "\n".join([ALGORITHM, str(timestamp), f"{date}/{SERVICE}/tc3_request",
                      hashlib.sha256(canonical_request(host, body).encode()).hexdigest()])


def signature(secret_key: str, timestamp: int, host: str, body: bytes) -> str:
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    key = _hmac(_hmac(_hmac(("TC3" + secret_key).encode(), date), SERVICE), "tc3_request")
    return hmac.new(key, string_to_sign(timestamp, host, body).encode(), hashlib.sha256).hexdigest()


def authorization(secret_id: str, secret_key: str, timestamp: int, host: str, body: bytes) -> str:
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    return (f"{ALGORITHM} Credential={secret_id}/{date}/{SERVICE}/tc3_request, SignedHeaders={SIGNED_HEADERS}, "
            f"Signature={signature(secret_key, timestamp, host, body)}")


def e164(phone: str) -> str:
    """Our canonical mainland number (11 digits) as Tencent wants it: +86..."""
    return phone if phone.startswith("+") else f"+86{phone}"


def _error(code: str, message: str, *, transient: bool | None = None):
    flags = {"ambiguous": code in AMBIGUOUS_CODES, "provider_fault": code not in MESSAGE_CODES}
    if transient if transient is not None else code in RETRYABLE_CODES:
        return TransientDeliveryError(message, code=code, **flags)
    return PermanentDeliveryError(message, code=code, **flags)


class SmsBackend(BaseSmsBackend):
    @staticmethod
    def _stored(kwargs) -> dict:
        """Keys a manager stored (appeals/notifications/sms/credentials.py) unless the caller passed some."""
        if {"secret_id", "secret_key"} & set(kwargs):
            return {}
        return credentials.stored("tencent")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        conf = {**settings.TENCENT_SMS, **self._stored(kwargs), **{k.upper(): v for k, v in kwargs.items()}}
        self.endpoint = conf["ENDPOINT"]
        self.secret_id = conf["SECRET_ID"]
        self.secret_key = conf["SECRET_KEY"]
        self.app_id = conf["SDK_APP_ID"]
        self.sign_name = conf["SIGN_NAME"]
        self.region = conf["REGION"]
        self.timeout = float(conf["TIMEOUT_SECONDS"])
        self.templates = conf["TEMPLATES"]

    def __repr__(self) -> str:  # never the keys
        return f"<Tencent SMS {self.endpoint}>"

    def _call(self, action: str, params: dict) -> dict:
        url = urlsplit(self.endpoint)
        host = url.netloc
        body = json.dumps(params, ensure_ascii=False, separators=(",", ":")).encode()
        timestamp = int(time.time())
        headers = {
            "Host": host,
            "Content-Type": CONTENT_TYPE,
            "X-TC-Action": action,
            "X-TC-Version": API_VERSION,
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Region": self.region,
            "Authorization": authorization(self.secret_id, self.secret_key, timestamp, host, body),
        }
        cls = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
        conn = cls(url.hostname, url.port, timeout=self.timeout)
        try:
            try:
                conn.connect()
            except OSError as exc:  # refused, no route, connect timeout: the request never left
                raise TransientDeliveryError(f"provider unreachable: {exc}", code="network") from exc
            try:
                conn.request("POST", url.path or "/", body=body, headers=headers)
                resp = conn.getresponse()
                payload, status = resp.read(), resp.status
            except (OSError, http.client.HTTPException) as exc:
                # Written, then no (whole) answer: the provider may have taken it.
                raise TransientDeliveryError(f"no answer from the provider: {type(exc).__name__}", code="timeout",
                                             ambiguous=True) from exc
        finally:
            conn.close()
        if status >= 500:
            raise TransientDeliveryError(f"HTTP {status}", code=f"http_{status}", ambiguous=True)
        try:
            data = json.loads(payload)["Response"]
        except (ValueError, KeyError, TypeError) as exc:
            raise TransientDeliveryError(f"unreadable answer (HTTP {status})", code="bad_response", ambiguous=True) from exc
        if data.get("Error"):
            err = data["Error"]
            raise _error(err.get("Code", "") or "UnknownError", err.get("Message", ""))
        return data

    def send(self, message) -> str:
        template = self.templates.get(message.template)
        if not template:
            raise PermanentDeliveryError(f"no Tencent TemplateId configured for {message.template!r}", code="template_unmapped")
        data = self._call("SendSms", {
            "PhoneNumberSet": [e164(message.phone)],
            "SmsSdkAppId": self.app_id,
            "SignName": self.sign_name,
            "TemplateId": template["id"],
            "TemplateParamSet": [str(message.params.get(name, "")) for name in template.get("params", [])],
            "SessionContext": message.out_id,
        })
        statuses = data.get("SendStatusSet") or []
        if not statuses:
            raise TransientDeliveryError("no SendStatusSet in the answer", code="bad_response", ambiguous=True)
        status = statuses[0]
        if status.get("Code") != "Ok":
            raise _error(status.get("Code", "") or "UnknownError", status.get("Message", ""))
        return status.get("SerialNo", "")

    def lookup(self, message) -> bool | None:
        now = int(time.time())
        offset = 0
        while True:
            try:
                data = self._call("PullSmsSendStatusByPhoneNumber", {
                    "BeginTime": int((datetime.now(UTC) - timedelta(days=1)).timestamp()), "EndTime": now,
                    "Offset": offset, "Limit": 100, "PhoneNumber": e164(message.phone), "SmsSdkAppId": self.app_id,
                })
            except PermanentDeliveryError:
                return None
            receipts = data.get("PullSmsSendStatusSet") or []
            if any(r.get("SessionContext") == message.out_id for r in receipts):
                return True
            if len(receipts) < 100:
                return None  # no receipt: not proof that it was not taken (see the module docstring)
            offset += 100
