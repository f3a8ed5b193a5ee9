
from django.urls import include, path

urlpatterns: list = []
urlpatterns += [path("v1/", include("appeals.api.reports"))]  # SLA reports (issue 6)
