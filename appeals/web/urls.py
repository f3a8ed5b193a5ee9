"""The site's pages, mounted at the root. Capabilities append their own includes below."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from appeals.web import views
from appeals.web.auth import ThrottledLoginView

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", ThrottledLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("appeals/", views.appeal_list, name="appeal_list"),
    path("appeals/new/", views.appeal_new, name="appeal_new"),
    path("appeals/<str:reference>/", views.appeal_detail, name="appeal_detail"),
    path("queues/first/", views.queue_first, name="queue_first"),
    path("queues/second/", views.queue_second, name="queue_second"),
    path("manager/", views.manager, name="manager"),
    path("", include("appeals.web.verification")),  # verification (issue #4)
    path("", include("appeals.web.reports")),  # SLA reports (issue 6)
    path("", include("appeals.web.surge")),  # surge history (issue 5)
]
