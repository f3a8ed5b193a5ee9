"""The outbox's webhook channel: sign a body the Standard Webhooks way and POST it, once per attempt.

The request carries `webhook-id` (the event's id: the same on every retry and every manual
redelivery, so a receiver deduplicates by it), `webhook-timestamp` (this attempt's, in Unix
seconds) and `webhook-signature`: `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">` under
the endpoint's secret (`whsec_<base64 key>`), one per secret in force, space-separated, while a
rotated secret is still honoured. Receivers refuse a timestamp outside the replay window
(WEBHOOKS["REPLAY_WINDOW_SECONDS"], docs/webhooks.md).

What to send (the endpoint's URL and secrets, the body) is the webhooks package's to say: it
registers a `prepare` function (this package may not import it), and a `record` function that
keeps the delivery log, one row per attempt. Whether a 2xx reached us is all the outbox can know:
a webhook has no provider to ask after a worker died mid-send, so that attempt is sent again
under the same webhook-id (delivery is at least once; receivers are idempotent on the id).
"""

import base64
import hashlib
import hmac
import ipaddress
import logging
import secrets as _random
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.utils import timezone

from appeals.notifications.errors import PermanentDeliveryError, TransientDeliveryError

logger = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"
USER_AGENT = "appeal-desk-webhooks/1"


def _conf(key):
    return settings.WEBHOOKS[key]


# --- secrets and signatures (pure) ---------------------------------------------------------------


def generate_secret() -> str:
    """A new endpoint secret: `whsec_` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(_random.token_bytes(32)).decode()


def _key(secret: str) -> bytes:
    raw = secret[len(SECRET_PREFIX):] if secret.startswith(SECRET_PREFIX) else secret
    return base64.b64decode(raw)


def sign(*, secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """One `v1,<signature>` for the content `{id}.{timestamp}.{body}`."""
    content = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(_key(secret), content, hashlib.sha256).digest()).decode()


def verify(*, secret: str, headers, body: bytes, tolerance: int | None = None, now: float | None = None) -> bool:
    """What a receiver does (docs/webhooks.md): the timestamp is within the replay window and
    one of the `v1` signatures matches, compared in constant time."""
    tolerance = _conf("REPLAY_WINDOW_SECONDS") if tolerance is None else tolerance
    msg_id, stamp, signatures = headers.get("webhook-id"), headers.get("webhook-timestamp"), headers.get("webhook-signature")
    if not (msg_id and stamp and signatures):
        return False
    try:
        timestamp = int(stamp)
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = sign(secret=secret, msg_id=msg_id, timestamp=timestamp, body=body).encode()
    return any(hmac.compare_digest(expected, candidate.encode()) for candidate in signatures.split(" ") if candidate.startswith("v1,"))


# --- where a webhook may go --------------------------------------------------------------------


def refused_address(address: str) -> bool:
    """Link-local (cloud metadata at 169.254.169.254), multicast, unspecified and reserved
    addresses are never a webhook's target; loopback and private ones only where allowed."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip.is_link_local or ip.is_multicast or ip.is_unspecified or ip.is_reserved:
        return True
    if ip.is_loopback:
        return not _conf("ALLOW_LOOPBACK_HTTP")
    return ip.is_private or not ip.is_global


def url_problem(url: str, *, resolve: bool = True) -> str:
    """Why a URL cannot receive webhooks ("" when it can): https only (plain http to loopback
    where ALLOW_LOOPBACK_HTTP), no credentials in it, and no refused address, by literal or by
    what the name resolves to now. The message is English; callers translate their own."""
    return checked_target(url, resolve=resolve)[0]


def checked_target(url: str, *, resolve: bool = True) -> tuple[str, list[str]]:
    """url_problem's answer and the addresses it checked, in the resolver's order of preference
    (empty when `resolve` is off and the host is a name)."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        return "invalid", []
    if parts.scheme not in ("https", "http") or not host:
        return "scheme", []
    if parts.username or parts.password:
        return "credentials", []
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [str(literal)]
    elif not resolve:
        addresses = []
    else:
        try:
            infos = socket.getaddrinfo(host, port or 443, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError, ValueError):
            return "unresolvable", []
        addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if host.lower() in ("localhost", "localhost.localdomain") and not addresses:
        addresses = ["127.0.0.1"]
    if any(refused_address(a.split("%")[0]) for a in addresses):
        return "address", addresses
    all_loopback = bool(addresses) and all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses)
    if parts.scheme == "http" and not (all_loopback and _conf("ALLOW_LOOPBACK_HTTP")):
        return "scheme", addresses
    return "", addresses


def pinned(url: str, address: str) -> tuple[str, dict, dict]:
    """The request to send to `url` at the checked `address`: the URL with that address as its
    host, the Host header and (https) the TLS server name of the original, so the receiver sees
    its own name and its certificate is verified for it. Connecting to the address that was
    checked, not to whatever the name resolves to a moment later, closes the DNS-rebinding gap
    (a name that answers a public address for the check, then 127.0.0.1 or 10.x for the POST)."""
    parts = urlsplit(url)
    if parts.hostname is None or parts.hostname.strip("[]") == address:
        return url, {}, {}
    host = f"[{address}]" if ":" in address else address
    netloc = f"{host}:{parts.port}" if parts.port else host
    extensions = {"sni_hostname": parts.hostname} if parts.scheme == "https" else {}
    return parts._replace(netloc=netloc).geturl(), {"host": parts.netloc}, extensions


# --- the request and its delivery ----------------------------------------------------------------


@dataclass
class WebhookRequest:
    url: str
    msg_id: str
    body: bytes
    secrets: list[str] = field(repr=False, default_factory=list)
    gone: str = ""  # why there is nothing to send to (the endpoint was removed or disabled)


class EndpointGone(Exception):
    """The endpoint was removed or disabled after the message was queued."""


_prepare: Callable | None = None
_record: Callable | None = None


def register(*, prepare: Callable, record: Callable) -> None:
    """prepare(message) -> WebhookRequest (EndpointGone if there is nothing to send to);
    record(message, *, status_code, latency_ms, outcome, error) keeps the attempt's log row."""
    global _prepare, _record
    _prepare, _record = prepare, record


def build(message) -> WebhookRequest:
    try:
        if _prepare is None:
            raise EndpointGone("no webhooks package registered")
        return _prepare(message)
    except EndpointGone as exc:
        return WebhookRequest(url="", msg_id="", body=b"", gone=str(exc))


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, (parsedate_to_datetime(value) - timezone.now()).total_seconds())
    except (TypeError, ValueError):
        return None


def _log_attempt(message, **fields) -> None:
    if _record is None:
        return
    try:
        _record(message, **fields)
    except Exception:  # the log must never turn a delivered webhook into a retried one
        logger.exception("webhook message %s: could not record the attempt", message.pk)


def post(message, request: WebhookRequest) -> str:
    """One attempt: POST the signed body. 2xx: returns "http <status>". 408, 429, 5xx,
    a timeout or a connection error: TransientDeliveryError (429's Retry-After on the error);
    anything else: PermanentDeliveryError. Redirects are not followed (the target was checked)."""
    if request.gone:
        raise PermanentDeliveryError(f"not sent: {request.gone}", code="webhook_endpoint_gone")
    problem, addresses = checked_target(request.url)
    if problem:
        _log_attempt(message, status_code=None, latency_ms=0, outcome="refused", error=f"refused url: {problem}")
        raise PermanentDeliveryError(f"the endpoint's address is refused ({problem})", code="webhook_url")
    timestamp = int(time.time())
    signature = " ".join(sign(secret=s, msg_id=request.msg_id, timestamp=timestamp, body=request.body) for s in request.secrets)
    url, host_header, extensions = pinned(request.url, addresses[0])
    headers = {**host_header, "content-type": "application/json", "user-agent": USER_AGENT, "webhook-id": request.msg_id,
               "webhook-timestamp": str(timestamp), "webhook-signature": signature}
    timeout = httpx.Timeout(_conf("READ_TIMEOUT_SECONDS"), connect=_conf("CONNECT_TIMEOUT_SECONDS"))
    started = time.monotonic()
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
            # Streamed and not read: the status is the answer; a receiver's body is never needed.
            with client.stream("POST", url, content=request.body, headers=headers, extensions=extensions) as response:
                status = response.status_code
                retry_after = _retry_after(response)
    except httpx.TimeoutException as exc:
        latency = int((time.monotonic() - started) * 1000)
        _log_attempt(message, status_code=None, latency_ms=latency, outcome="transient", error=f"timeout: {type(exc).__name__}")
        raise TransientDeliveryError(f"no answer within the timeout ({type(exc).__name__})", code="webhook_timeout") from exc
    except httpx.HTTPError as exc:
        latency = int((time.monotonic() - started) * 1000)
        _log_attempt(message, status_code=None, latency_ms=latency, outcome="transient", error=f"connection: {type(exc).__name__}")
        raise TransientDeliveryError(f"could not connect ({type(exc).__name__})", code="webhook_connection") from exc
    latency = int((time.monotonic() - started) * 1000)
    if 200 <= status < 300:
        _log_attempt(message, status_code=status, latency_ms=latency, outcome="delivered", error="")
        return f"http {status}"
    if status in (408, 429) or status >= 500:
        _log_attempt(message, status_code=status, latency_ms=latency, outcome="transient", error=f"HTTP {status}")
        error = TransientDeliveryError(f"the receiver answered {status}", code=f"webhook_{status}")
        error.retry_after = retry_after if status == 429 else None
        raise error
    _log_attempt(message, status_code=status, latency_ms=latency, outcome="refused", error=f"HTTP {status}")
    raise PermanentDeliveryError(f"the receiver refused the webhook with {status}", code=f"webhook_{status}")
