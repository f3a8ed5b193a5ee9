"""Template context every page needs: the user's desk roles and the hotline."""

from django.conf import settings


def desk(request):
    return {"hotline": settings.APPEALS["HOTLINE"]}
