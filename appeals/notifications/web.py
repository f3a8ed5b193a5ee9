"""The local inbox page (local mode only; a 404 wherever DEV_INBOX is off)."""

from datetime import UTC, datetime

from django.http import Http404
from django.shortcuts import render
from django.urls import path

from appeals.notifications import dev_inbox


def inbox(request):
    if not dev_inbox.enabled():
        raise Http404
    # Not "messages": base.html lists django.contrib.messages under that name.
    inbox_items = dev_inbox.items()
    for item in inbox_items:
        item["sent_at"] = datetime.fromtimestamp(item.pop("sent_ns") / 1e9, tz=UTC)
    return render(request, "notifications/dev_inbox.html", {"inbox_items": inbox_items})


urlpatterns = [path("dev/inbox/", inbox, name="dev_inbox")]
