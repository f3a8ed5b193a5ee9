from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", include("appeals.api.urls")),
    path("", include("appeals.web.urls")),
]

# Errors raised outside DRF views: JSON for /api/ paths, the HTML pages elsewhere.
handler400 = "appeals.api.errors.bad_request"
handler403 = "appeals.api.errors.permission_denied"
handler404 = "appeals.api.errors.page_not_found"
handler500 = "appeals.api.errors.server_error"
