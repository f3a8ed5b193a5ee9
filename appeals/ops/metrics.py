"""GET /metrics in the Prometheus text format: requests and latencies by view, database queries
by view, and the domain's gauges (appeals/ops/gauges.py).

Request figures live in prometheus_client's default registry of each process. Under several
worker processes (gunicorn), set PROMETHEUS_MULTIPROC_DIR to an empty directory shared by them
(prometheus_client's multiprocess mode) so one scrape sums every process.

Access: open unless settings.METRICS_REQUIRE_AUTH (on in production); then the request needs
"Authorization: Bearer <METRICS_TOKEN>" or a client address inside METRICS_ALLOWED_NETWORKS. The
client address is appeals.shared.client.client_ip (TRUSTED_PROXY_COUNT decides how far X-Forwarded-For is believed).
"""

import hmac
import ipaddress
import os
import time
from contextlib import ExitStack
from functools import lru_cache

from django.conf import settings
from django.db import connections
from django.http import HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector

from appeals.ops.gauges import DomainCollector
from appeals.shared.client import client_ip as shared_client_ip

METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
UNRESOLVED = "<unresolved>"

REQUESTS = Counter("django_http_requests", "HTTP requests by view, method and status", ["view", "method", "status"])
LATENCY = Histogram("django_http_request_duration_seconds", "Time from the request to the response, by view",
                    ["view", "method"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
QUERIES = Counter("django_db_queries", "Database queries run while serving a request, by view and database",
                  ["view", "database"])
QUERIES_PER_REQUEST = Histogram("django_db_queries_per_request", "Database queries per request, by view", ["view"],
                                buckets=(0, 1, 2, 5, 10, 20, 50, 100, 200, 500))

_domain = CollectorRegistry(auto_describe=False)
_domain.register(DomainCollector())


class _QueryCounter:
    def __init__(self):
        self.counts: dict[str, int] = {}

    def wrapper(self, alias: str):
        def count(execute, sql, params, many, context):
            self.counts[alias] = self.counts.get(alias, 0) + 1
            return execute(sql, params, many, context)

        return count


def view_label(request) -> str:
    match = getattr(request, "resolver_match", None)
    return (match.view_name or match._func_path) if match else UNRESOLVED


class MetricsMiddleware:
    """Times each request and counts its database queries, labelled by the view that served it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        counter = _QueryCounter()
        started = time.perf_counter()
        with ExitStack() as stack:
            for alias in connections:
                stack.enter_context(connections[alias].execute_wrapper(counter.wrapper(alias)))
            response = self.get_response(request)
        elapsed = time.perf_counter() - started
        view = view_label(request)
        method = request.method if request.method in METHODS else "other"
        REQUESTS.labels(view, method, str(response.status_code)).inc()
        LATENCY.labels(view, method).observe(elapsed)
        for alias, n in counter.counts.items():
            QUERIES.labels(view, alias).inc(n)
        QUERIES_PER_REQUEST.labels(view).observe(sum(counter.counts.values()))
        return response


@lru_cache(maxsize=8)
def _networks(spec: tuple[str, ...]):
    return tuple(ipaddress.ip_network(n.strip(), strict=False) for n in spec if n.strip())


def allowed(request) -> bool:
    if not settings.METRICS_REQUIRE_AUTH:
        return True
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header[:7].lower() == "bearer " and hmac.compare_digest(header[7:].strip().encode(), token.encode()):
        return True
    try:
        address = ipaddress.ip_address(shared_client_ip(request) or "")
    except ValueError:
        return False
    return any(address in network for network in _networks(tuple(settings.METRICS_ALLOWED_NETWORKS)))


def exposition() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return generate_latest(registry) + generate_latest(_domain)


@never_cache
@require_safe
def metrics_view(request):
    if not allowed(request):
        response = HttpResponse("Forbidden: a metrics token or an allowed network is required.\n", status=403,
                                content_type="text/plain; charset=utf-8")
        if settings.METRICS_TOKEN:
            response.status_code = 401
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
