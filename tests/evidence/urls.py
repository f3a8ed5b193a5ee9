"""A bare case page for the browser test (the real one belongs to the web capability)."""

from django.http import HttpResponse
from django.template import RequestContext, Template
from django.urls import include, path

from appeals.core.panels import render_panels
from appeals.core.selectors import appeal_get

_PAGE = Template('{% extends "base.html" %}{% block content %}<h1>{{ appeal.reference }}</h1>'
                 '{% for html in panels %}{{ html|safe }}{% endfor %}{% endblock %}')


def case_page(request, reference):
    appeal = appeal_get(user=request.user, reference=reference)
    return HttpResponse(_PAGE.render(RequestContext(request, {"appeal": appeal, "panels": render_panels(request, appeal)})))


urlpatterns = [
    path("test-case/<str:reference>/", case_page),
    path("", include("config.urls")),
]
