from django.urls import include, path

urlpatterns: list = [
    path("", include("appeals.web.verification")),  # verification (issue #4)
]
