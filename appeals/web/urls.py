
from django.urls import include, path

urlpatterns: list = []
urlpatterns += [path("", include("appeals.web.reports"))]  # SLA reports (issue 6)
