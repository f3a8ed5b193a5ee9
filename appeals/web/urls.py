from django.urls import include, path

urlpatterns: list = [
    path("", include("appeals.web.surge")),
]
