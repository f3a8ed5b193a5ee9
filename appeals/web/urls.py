"""The site's pages, mounted at the root: the core's, then each capability's registered includes."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from appeals.core.web import views
from appeals.shared import registry
from appeals.web.auth import LoginView, api_tokens

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/tokens/", api_tokens, name="api_tokens"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("appeals/", views.appeal_list, name="appeal_list"),
    path("appeals/new/", views.appeal_new, name="appeal_new"),
    path("appeals/<str:reference>/", views.appeal_detail, name="appeal_detail"),
    path("queues/first/", views.queue_first, name="queue_first"),
    path("queues/second/", views.queue_second, name="queue_second"),
    path("manager/", views.manager, name="manager"),
    *(path(inc.prefix, include(inc.module)) for inc in registry.web_url_includes()),
]
