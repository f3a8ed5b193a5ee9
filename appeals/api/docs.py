"""The views serving the schema and Swagger UI; a signed-in user is needed where
settings.API_DOCS_REQUIRE_LOGIN says so (production)."""

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import BasePermission

from appeals.api.schema import EnglishSchemaGenerator


class DocsPermission(BasePermission):
    """Anyone may read the schema, unless settings.API_DOCS_REQUIRE_LOGIN (production)."""

    def has_permission(self, request, view):
        return not settings.API_DOCS_REQUIRE_LOGIN or bool(request.user and request.user.is_authenticated)


class SchemaView(SpectacularAPIView):
    permission_classes = [DocsPermission]
    generator_class = EnglishSchemaGenerator


class DocsView(SpectacularSwaggerSplitView):
    """Swagger UI with its start-up script served from a URL (no inline script under the CSP)."""

    permission_classes = [DocsPermission]
    template_name = "appeals/api/swagger_ui.html"

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        if settings.API_DOCS_REQUIRE_LOGIN and not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return super().get(request, *args, **kwargs)

    def permission_denied(self, request, message=None, code=None):
        if settings.API_DOCS_REQUIRE_LOGIN and not request.user.is_authenticated:
            return  # get() sends the browser to the sign-in page
        super().permission_denied(request, message, code)
