"""The API's URLs: /api/v1/ resources and verbs, /api/schema/ (OpenAPI 3), /api/docs/ (Swagger UI).

Capabilities add their own endpoints as one self-contained `path("v1/", include(...))` line.
"""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from appeals.api import views

router = DefaultRouter()
router.register("accounts", views.AccountViewSet, basename="account")
router.register("incidents", views.IncidentViewSet, basename="incident")
router.register("appeals", views.AppealViewSet, basename="appeal")

v1 = [
    path("auth/token/", views.TokenView.as_view(), name="api-token"),
    *router.urls,
]

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("v1/", include(v1)),
    path("v1/", include("appeals.api.verification")),  # verification (issue #4)
    path("v1/", include("appeals.api.evidence")),  # evidence library (issue 3)
    path("v1/", include("appeals.api.reports")),  # SLA reports (issue 6)
    path("v1/", include("appeals.api.surge")),  # surge alerts (issue 5)
]
