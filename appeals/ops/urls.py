"""/healthz, /readyz and /metrics, at the site root (no trailing slash: probes use these exact paths)."""

from django.urls import path

from appeals.ops import health, metrics

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics_view, name="metrics"),
]
