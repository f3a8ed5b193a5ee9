"""The API's URLs: /api/v1/ resources and verbs, /api/schema/ (OpenAPI 3), /api/docs/ (Swagger UI).

The core's resources are routed here; each capability's endpoints come from the URL
includes its plug-in registered (appeals.shared.registry.register_urls).
"""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from appeals.core.api import views
from appeals.shared import registry

router = DefaultRouter()
router.register("accounts", views.AccountViewSet, basename="account")
router.register("incidents", views.IncidentViewSet, basename="incident")
router.register("appeals", views.AppealViewSet, basename="appeal")
router.register("outcome-codes", views.OutcomeCodeList, basename="outcome-code")

v1 = [
    path("auth/token/", views.TokenView.as_view(), name="api-token"),
    *router.urls,
]

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("v1/", include(v1)),
    *(path("v1/" + inc.prefix, include(inc.module)) for inc in registry.api_url_includes()),
]
