"""A local stand-in for sms.tencentcloudapi.com (API 3.0, version 2021-01-11).

Binds 127.0.0.1 (port 0 unless told), recomputes every request's TC3-HMAC-SHA256 signature
(written here independently of the adapter) and answers SendSms and
PullSmsSendStatusByPhoneNumber the way Tencent documents them:
- a request-level failure as {"Response": {"Error": {"Code", "Message"}, "RequestId"}}
  (AuthFailure.SignatureFailure, AuthFailure.SignatureExpire, AuthFailure.SecretIdNotFound,
  RequestLimitExceeded, ...);
- a send as {"Response": {"SendStatusSet": [{"SerialNo", "PhoneNumber", "Fee", "SessionContext",
  "Code": "Ok" | <error code>, "Message", "IsoCode"}], "RequestId"}}.

Scripting: `script` lists codes for the next SendSms calls (then Ok); `hang_seconds` holds
every SendSms answer that long (after recording the message when `record_then_hang`, i.e.
the provider took it and the answer is lost; before, i.e. it never took it, otherwise);
`receipts` False hides delivery receipts (they lag in reality).
"""

import hashlib
import hmac
import json
import re
import threading
import time
import uuid
from datetime import UTC, datetime

from tests.loopback import LoopbackJSONServer

SECRET_ID = "AKIDtest-stand-in"
SECRET_KEY = "tencent-test-secret-never-used-elsewhere"
SDK_APP_ID = "1400000001"

REQUEST_LEVEL = {
    "AuthFailure.SignatureFailure", "AuthFailure.SignatureExpire", "AuthFailure.SecretIdNotFound",
    "AuthFailure.UnauthorizedOperation", "RequestLimitExceeded", "InternalError", "InternalError.RequestTimeException",
    "InvalidParameter", "MissingParameter", "UnsupportedOperation",
}
MESSAGES = {
    "LimitExceeded.PhoneNumberDailyLimit": "单个手机号日下发短信条数超过设定的上限",
    "FailedOperation.InsufficientBalanceInSmsPackage": "套餐包余量不足",
    "InvalidParameterValue.IncorrectPhoneNumber": "手机号格式错误",
    "InternalError.Timeout": "请求下发短信超时",
    "InternalError.RequestTimeException": "请求发起时间不正常",
    "RequestLimitExceeded": "请求的次数超过了频率限制",
}


def _h(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def tc3_signature(secret_key: str, *, host: str, content_type: str, body: bytes, timestamp: int, date: str) -> str:
    hashed_request = hashlib.sha256(
        ("POST\n/\n\n" + f"content-type:{content_type.strip().lower()}\nhost:{host.strip().lower()}\n\n"
         + "content-type;host\n" + hashlib.sha256(body).hexdigest()).encode()
    ).hexdigest()
    to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{date}/sms/tc3_request\n{hashed_request}"
    signing_key = _h(_h(_h(("TC3" + secret_key).encode(), date), "sms"), "tc3_request")
    return hmac.new(signing_key, to_sign.encode(), hashlib.sha256).hexdigest()


_AUTH = re.compile(r"^TC3-HMAC-SHA256 Credential=(?P<id>[^/]+)/(?P<date>\d{4}-\d{2}-\d{2})/sms/tc3_request, "
                   r"SignedHeaders=(?P<signed>[a-z;-]+), Signature=(?P<sig>[0-9a-f]{64})$")
_MOBILE = re.compile(r"^\+861[3-9]\d{9}$")


class FakeTencentSms(LoopbackJSONServer):
    def __init__(self, port: int = 0):
        self.sent: list[dict] = []  # every SendSms taken, in order
        self.requests: list[dict] = []  # every request (action, headers, body)
        self.refused: list[dict] = []  # every SendSms refused, with its code
        self.script: list[str] = []
        self.hang_seconds = 0.0
        self.record_then_hang = False
        self.receipts = True
        self.lock = threading.Lock()
        super().__init__(port)

    def answer(self, headers: dict, body: bytes):
        answer = self.handle(headers, body)
        return None if answer is None else (200, {"Response": answer})

    def session_contexts(self) -> set[str]:
        return {m["SessionContext"] for m in self.sent}

    @staticmethod
    def _error(code: str, message: str = "") -> dict:
        return {"Error": {"Code": code, "Message": message or MESSAGES.get(code, code)}, "RequestId": str(uuid.uuid4())}

    def handle(self, headers: dict, body: bytes) -> dict | None:
        h = {k.lower(): v for k, v in headers.items()}
        action = h.get("x-tc-action", "")
        try:
            params = json.loads(body or b"{}")
        except ValueError:
            params = {}
        with self.lock:
            self.requests.append({"action": action, "headers": h, "params": params})
        match = _AUTH.match(h.get("authorization", ""))
        if not match:
            return self._error("AuthFailure.SignatureFailure", "The provided credentials could not be validated.")
        if match["id"] != SECRET_ID:
            return self._error("AuthFailure.SecretIdNotFound", "The SecretId is not found.")
        try:
            timestamp = int(h.get("x-tc-timestamp", ""))
        except ValueError:
            return self._error("MissingParameter", "X-TC-Timestamp")
        if abs(time.time() - timestamp) > 300:
            return self._error("AuthFailure.SignatureExpire", "Signature expired.")
        if match["signed"] != "content-type;host" or match["date"] != datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d"):
            return self._error("AuthFailure.SignatureFailure", "Credential scope or signed headers do not match.")
        expected = tc3_signature(SECRET_KEY, host=h.get("host", ""), content_type=h.get("content-type", ""), body=body,
                                 timestamp=timestamp, date=match["date"])
        if not hmac.compare_digest(expected, match["sig"]):
            return self._error("AuthFailure.SignatureFailure", "The provided credentials could not be validated.")
        if h.get("x-tc-version") != "2021-01-11":
            return self._error("InvalidParameter", "X-TC-Version")
        if action == "SendSms":
            return self._send(params)
        if action == "PullSmsSendStatusByPhoneNumber":
            return self._pull(params)
        return self._error("InvalidAction", action)

    def _send(self, params: dict) -> dict | None:
        for required in ("PhoneNumberSet", "SmsSdkAppId", "TemplateId"):
            if not params.get(required):
                return self._error("MissingParameter", required)
        if params["SmsSdkAppId"] != SDK_APP_ID:
            return self._error("InvalidParameterValue.SdkAppIdNotExist", "SdkAppId")
        phone = params["PhoneNumberSet"][0]
        with self.lock:
            code = self.script.pop(0) if self.script else "Ok"
        if code in REQUEST_LEVEL:
            with self.lock:
                self.refused.append({**params, "Code": code})
            return self._error(code)
        if code == "Ok" and not _MOBILE.match(phone):
            code = "InvalidParameterValue.IncorrectPhoneNumber"
        status = {"SerialNo": f"2433:{uuid.uuid4().int % 10**20}", "PhoneNumber": phone, "Fee": 1,
                  "SessionContext": params.get("SessionContext", ""), "Code": code,
                  "Message": "send success" if code == "Ok" else MESSAGES.get(code, code), "IsoCode": "CN"}
        if self.hang_seconds and not self.record_then_hang:
            time.sleep(self.hang_seconds)
            return None
        with self.lock:
            (self.sent if code == "Ok" else self.refused).append({**params, "SerialNo": status["SerialNo"], "Code": code,
                                                                  "at": int(time.time())})
        if self.hang_seconds:
            time.sleep(self.hang_seconds)
            return None
        return {"SendStatusSet": [status], "RequestId": str(uuid.uuid4())}

    def _pull(self, params: dict) -> dict:
        phone, offset, limit = params.get("PhoneNumber", ""), int(params.get("Offset", 0)), int(params.get("Limit", 100))
        with self.lock:
            rows = [m for m in self.sent if m["PhoneNumberSet"][0] == phone] if self.receipts else []
        receipts = [{"UserReceiveTime": m["at"], "CountryCode": "86", "SubscriberNumber": phone[3:], "PhoneNumber": phone,
                     "SerialNo": m["SerialNo"], "ReportStatus": "SUCCESS", "Description": "DELIVRD",
                     "SessionContext": m.get("SessionContext", "")} for m in rows]
        return {"PullSmsSendStatusSet": receipts[offset:offset + limit], "RequestId": str(uuid.uuid4())}
