"""The local inbox page (local mode only; a 404 wherever DEV_INBOX is off)."""

from datetime import UTC, datetime

from django.http import Http404
from django.shortcuts import render
from django.urls import path

from appeals.notifications import dev_inbox


def inbox(request):
    if not dev_inbox.enabled():
        raise Http404
    messages = dev_inbox.items()
    for item in messages:
        item["sent_at"] = datetime.fromtimestamp(item.pop("sent_ns") / 1e9, tz=UTC)
    return render(request, "notifications/dev_inbox.html", {"messages": messages})


urlpatterns = [path("dev/inbox/", inbox, name="dev_inbox")]
