"""Alibaba Cloud SMS (dysmsapi, API version 2017-05-25) over its RPC-style HTTP API.

Requests are signed with the RPC signature v1: the parameters (common and action
parameters, without Signature) sorted by name, each name and value percent-encoded
(RFC 3986: only A-Z a-z 0-9 - _ . ~ stay as they are), joined as k=v with &; then
StringToSign = METHOD & percentEncode("/") & percentEncode(that query string), and
Signature = Base64(HMAC-SHA1(AccessKeySecret + "&", StringToSign)).

SendSms sends one templated message (TemplateCode, TemplateParam as JSON, SignName,
PhoneNumbers) and carries our idempotency key as OutId; QuerySendDetails lists what
was sent to a number on a day, OutId included, which is how a send interrupted by a
dying worker is reconciled instead of repeated.
"""

import base64
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime, timedelta
from urllib import error, parse, request

from django.conf import settings
from django.utils import timezone

from appeals.notifications.errors import PermanentDeliveryError, TransientDeliveryError

from .. import credentials
from .base import BaseSmsBackend

API_VERSION = "2017-05-25"

# Codes worth retrying with back-off: the provider is throttling or had an internal error.
RETRYABLE_CODES = frozenset({
    "isp.SYSTEM_ERROR",
    "isv.BUSINESS_LIMIT_CONTROL",  # per-number minute/hour frequency control
    "Throttling",
    "Throttling.User",
    "Throttling.Api",
    "ServiceUnavailable",
    "InternalError",
    "SignatureNonceUsed",  # a fresh nonce is drawn on every attempt
})

# Refusals of the message itself (the number, its own limits): another provider would refuse
# it too, so they neither count against this provider nor move the message to another one.
MESSAGE_CODES = frozenset({
    "isv.MOBILE_NUMBER_ILLEGAL",
    "isv.BUSINESS_LIMIT_CONTROL",
    "isv.DAY_LIMIT_CONTROL",
    "isv.MOBILE_COUNT_OVER_LIMIT",
    "isv.BLACK_KEY_CONTROL_LIMIT",
    "isv.PARAM_LENGTH_LIMIT",
})

# Answers after which the provider may have taken the message (see appeals/notifications/errors.py).
AMBIGUOUS_CODES = frozenset({"isp.SYSTEM_ERROR", "InternalError"})


def percent_encode(value) -> str:
    return parse.quote(str(value), safe="~")


def canonical_query(params: dict) -> str:
    return "&".join(f"{percent_encode(k)}={percent_encode(params[k])}" for k in sorted(params))


def string_to_sign(method: str, params: dict) -> str:
    return f"{method.upper()}&{percent_encode('/')}&{percent_encode(canonical_query(params))}"


def sign(method: str, params: dict, secret: str) -> str:
    digest = hmac.new(f"{secret}&".encode(), string_to_sign(method, params).encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class SmsBackend(BaseSmsBackend):
    @staticmethod
    def _stored(kwargs) -> dict:
        """Keys a manager stored (appeals/notifications/sms/credentials.py) unless the caller passed some."""
        if {"access_key_id", "access_key_secret"} & set(kwargs):
            return {}
        return credentials.stored("alibaba")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        conf = {**settings.ALIBABA_SMS, **self._stored(kwargs), **{k.upper(): v for k, v in kwargs.items()}}
        self.endpoint = conf["ENDPOINT"]
        self.key_id = conf["ACCESS_KEY_ID"]
        self.secret = conf["ACCESS_KEY_SECRET"]
        self.sign_name = conf["SIGN_NAME"]
        self.region = conf["REGION_ID"]
        self.timeout = conf["TIMEOUT_SECONDS"]
        self.templates = conf["TEMPLATES"]

    def _call(self, action: str, params: dict) -> dict:
        full = {
            "AccessKeyId": self.key_id,
            "Action": action,
            "Format": "JSON",
            "RegionId": self.region,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": API_VERSION,
            **{k: str(v) for k, v in params.items()},
        }
        full["Signature"] = sign("POST", full, self.secret)
        body = canonical_query(full).encode()
        req = request.Request(self.endpoint, data=body, method="POST",
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
        try:
            with request.urlopen(req, timeout=self.timeout) as resp:
                payload = resp.read()
        except error.HTTPError as exc:
            payload = exc.read()
            if exc.code >= 500 or exc.code == 429:
                # A 5xx may come after the provider took the request; a 429 refuses it.
                raise TransientDeliveryError(f"HTTP {exc.code}", code=self._code(payload) or f"http_{exc.code}",
                                             ambiguous=exc.code >= 500) from exc
            return self._decode(payload, exc.code)
        except error.URLError as exc:
            # urllib wraps what fails before the request is written (refused, no route, connect
            # timeout): the provider never saw it.
            raise TransientDeliveryError(f"provider unreachable: {exc}", code="network") from exc
        except (TimeoutError, ConnectionError, OSError) as exc:
            # Sent, then no answer (read timeout, reset): it may have been accepted.
            raise TransientDeliveryError(f"no answer from the provider: {exc}", code="network", ambiguous=True) from exc
        return self._decode(payload, 200)

    @staticmethod
    def _code(payload: bytes) -> str:
        try:
            return json.loads(payload).get("Code", "")
        except (ValueError, AttributeError):
            return ""

    @staticmethod
    def _decode(payload: bytes, status: int) -> dict:
        try:
            data = json.loads(payload)
        except ValueError as exc:
            raise TransientDeliveryError(f"unreadable answer (HTTP {status})", code="bad_response") from exc
        code = data.get("Code", "")
        if code == "OK":
            return data
        message = data.get("Message", "")
        flags = {"ambiguous": code in AMBIGUOUS_CODES, "provider_fault": code not in MESSAGE_CODES}
        if code in RETRYABLE_CODES:
            raise TransientDeliveryError(message, code=code, **flags)
        raise PermanentDeliveryError(message, code=code or f"http_{status}", **flags)

    def send(self, message) -> str:
        template_code = self.templates.get(message.template)
        if not template_code:
            raise PermanentDeliveryError(f"no Alibaba TemplateCode configured for {message.template!r}", code="template_unmapped")
        data = self._call("SendSms", {
            "PhoneNumbers": message.phone,
            "SignName": self.sign_name,
            "TemplateCode": template_code,
            "TemplateParam": json.dumps(message.params, ensure_ascii=False, separators=(",", ":")),
            "OutId": message.out_id,
        })
        return data.get("BizId", "")

    def lookup(self, message) -> bool | None:
        today = timezone.localdate()
        for day in (today, today - timedelta(days=1)):
            page = 1
            while True:
                try:
                    data = self._call("QuerySendDetails", {
                        "PhoneNumber": message.phone, "SendDate": day.strftime("%Y%m%d"), "PageSize": 50, "CurrentPage": page,
                    })
                except TransientDeliveryError:
                    raise
                except PermanentDeliveryError:
                    return None
                details = (data.get("SmsSendDetailDTOs") or {}).get("SmsSendDetailDTO") or []
                if any(d.get("OutId") == message.out_id for d in details):
                    return True
                if page * 50 >= int(data.get("TotalCount") or 0):
                    break
                page += 1
        return False
