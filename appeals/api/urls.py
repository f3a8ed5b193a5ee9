"""The API's URLs: /api/v1/ resources and verbs, /api/schema/ (OpenAPI 3), /api/docs/ (Swagger UI).

The core's resources are routed here; each capability's endpoints come from the URL
includes its plug-in registered (appeals.shared.registry.register_urls).
"""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from appeals.api.docs import DocsView, SchemaView
from appeals.core.api import views
from appeals.shared import registry

# No ".json" suffix routes: the viewsets' actions take no `format` argument (it was a 500);
# clients choose the format with the Accept header.
router = DefaultRouter()
router.include_format_suffixes = False
router.register("accounts", views.AccountViewSet, basename="account")
router.register("incidents", views.IncidentViewSet, basename="incident")
router.register("appeals", views.AppealViewSet, basename="appeal")
router.register("auth/tokens", views.TokenViewSet, basename="auth-token")
router.register("outcome-codes", views.OutcomeCodeList, basename="outcome-code")

v1 = [
    path("auth/token/", views.TokenView.as_view(), name="api-token"),
    path("auth/logout/", views.LogoutView.as_view(), name="api-logout"),
    *router.urls,
]

urlpatterns = [
    path("schema/", SchemaView.as_view(), name="api-schema"),
    path("docs/", DocsView.as_view(url_name="api-schema"), name="api-docs"),
    path("v1/", include(v1)),
    *(path("v1/" + inc.prefix, include(inc.module)) for inc in registry.api_url_includes()),
]
