"""Template context every page needs: the hotline, and what each capability registered."""

from django.conf import settings

from appeals.shared import registry


def desk(request):
    return {"hotline": settings.APPEALS["HOTLINE"], **registry.page_context(request)}
