"""Each SMS provider's health: a circuit breaker and recent per-minute counts, kept in the cache.

The cache is Redis in every deployment with workers, so all workers share one breaker per
provider; if Redis is unreachable the fail-open cache (appeals/shared/cache.py) answers
from each process's memory and the breakers keep working per process.

Breaker (numbers in settings.SMS_FAILOVER):
- closed: the provider gets messages. FAILURE_THRESHOLD provider faults (refusals for the
  provider's own reasons, timeouts, unreachable) within WINDOW_SECONDS open it;
- open: no message is offered to it for COOL_DOWN_SECONDS;
- half-open: after the cool-down ONE message (whoever wins an atomic cache.add) probes it;
  success closes the breaker, failure opens it for another cool-down.
Opening and closing are audited (sms_provider.tripped / sms_provider.recovered).

Counts per provider per minute, kept STATS_MINUTES: ok, fail (provider faults), failover
(messages it took because a provider before it was open or refused them).
"""

import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext_lazy as _

from appeals.audit.services import audit_record

logger = logging.getLogger(__name__)

KINDS = ("ok", "fail", "failover")
LABELS = {"tencent": _("Tencent Cloud SMS"), "alibaba": _("Alibaba Cloud SMS")}
CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


def _conf(key):
    return settings.SMS_FAILOVER[key]


def _key(name: str, *parts) -> str:
    return ":".join(("sms-provider", name, *map(str, parts)))


def _count(name: str, kind: str) -> None:
    minute = int(time.time() // 60)
    key = _key(name, kind, minute)
    ttl = (_conf("STATS_MINUTES") + 2) * 60
    cache.add(key, 0, ttl)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, ttl)


def state(name: str) -> str:
    open_until = cache.get(_key(name, "open"))
    if open_until is None:
        return CLOSED
    return OPEN if time.time() < open_until else HALF_OPEN


def allow(name: str) -> bool:
    """May a message be offered to this provider now? (Takes the probe slot when half-open.)"""
    current = state(name)
    if current == CLOSED:
        return True
    if current == OPEN:
        return False
    return cache.add(_key(name, "probe"), 1, _conf("PROBE_SECONDS"))


def _audit(action: str, name: str, after: dict) -> None:
    try:
        audit_record(actor=None, action=action, target_type="sms_provider", target_id=name, after=after)
    except Exception:  # the audit chain is the database's: a send outcome must not be lost to it
        logger.exception("could not audit %s for SMS provider %s", action, name)


def record_success(name: str) -> None:
    _count(name, "ok")
    if cache.get(_key(name, "open")) is not None:
        cache.delete_many([_key(name, "open"), _key(name, "probe"), _key(name, "fails")])
        logger.warning("SMS provider %s answered again: breaker closed", name)
        _audit("sms_provider.recovered", name, {"state": CLOSED})


def record_failure(name: str, *, code: str = "") -> None:
    _count(name, "fail")
    cool_down = _conf("COOL_DOWN_SECONDS")
    if state(name) != CLOSED:  # a failed probe: open for another cool-down
        cache.set(_key(name, "open"), time.time() + cool_down, 86400)
        cache.delete(_key(name, "probe"))
        return
    fails_key = _key(name, "fails")
    cache.add(fails_key, 0, _conf("WINDOW_SECONDS"))
    try:
        fails = cache.incr(fails_key)
    except ValueError:
        fails = 1
        cache.set(fails_key, 1, _conf("WINDOW_SECONDS"))
    if fails >= _conf("FAILURE_THRESHOLD") and cache.add(_key(name, "open"), time.time() + cool_down, 86400):
        logger.warning("SMS provider %s: %s failures within %s s (last %s); breaker open for %s s",
                       name, fails, _conf("WINDOW_SECONDS"), code or "-", cool_down)
        _audit("sms_provider.tripped", name, {"state": OPEN, "failures": fails, "last_code": code,
                                              "cool_down_seconds": cool_down})


def record_failover(name: str, *, out_id: str, skipped: list[str]) -> None:
    """A message went to `name` because the providers before it were open or refused it."""
    _count(name, "failover")
    # One audit event per message moved after a refusal; routing around an open breaker is
    # counted only (the breaker's opening was audited once).
    refused = [s for s in skipped if s.endswith(":refused")]
    if refused:
        _audit("sms_provider.failover", name, {"message": out_id, "from": refused})


def recent(names: list[str]) -> list[dict]:
    """Per provider: state, ok / fail / failover counts and success rate over STATS_MINUTES."""
    now = int(time.time() // 60)
    minutes = range(now - _conf("STATS_MINUTES") + 1, now + 1)
    keys = {(n, k, m): _key(n, k, m) for n in names for k in KINDS for m in minutes}
    values = cache.get_many(list(keys.values()))
    rows = []
    for name in names:
        totals = {k: sum(int(values.get(keys[(name, k, m)]) or 0) for m in minutes) for k in KINDS}
        attempts = totals["ok"] + totals["fail"]
        rows.append({"name": name, "label": LABELS.get(name, name), "state": state(name), **totals, "attempts": attempts,
                     "success_rate": round(100.0 * totals["ok"] / attempts, 1) if attempts else None})
    return rows


def reset(name: str) -> None:
    """Forget a provider's breaker (tests; an operator after fixing the credentials)."""
    cache.delete_many([_key(name, "open"), _key(name, "probe"), _key(name, "fails")])


def overview() -> dict:
    """The manager page's SMS panel: the configured providers with their recent figures."""
    failover = settings.SMS_BACKEND.endswith(".failover.SmsBackend")
    names = [n for n in settings.SMS_PROVIDERS if n] if failover else []
    return {"failover": failover, "backend": settings.SMS_BACKEND.rsplit(".", 2)[-2], "providers": recent(names),
            "minutes": _conf("STATS_MINUTES")}
