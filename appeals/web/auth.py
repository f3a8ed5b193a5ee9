"""Login with brute-force protection: failed attempts are counted per client IP and per username."""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.utils.translation import gettext as _


def _keys(request) -> list[str]:
    username = (request.POST.get("username") or "").strip().lower()[:150]
    ip = request.META.get("REMOTE_ADDR") or "unknown"
    return [f"login-fail:ip:{ip}", f"login-fail:user:{username}"]


def _failures(keys) -> int:
    return max((cache.get(k) or 0) for k in keys)


def _count_failure(keys) -> None:
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    for key in keys:
        if cache.add(key, 1, timeout=window) is False:
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.add(key, 1, timeout=window)


class ThrottledLoginView(auth_views.LoginView):
    template_name = "appeals/login.html"
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        keys = _keys(request)
        if _failures(keys) >= settings.LOGIN_MAX_FAILURES:
            form = self.get_form()
            form.errors.clear()
            form.add_error(None, _("Too many failed sign-in attempts. Try again in %(minutes)s minutes.")
                           % {"minutes": settings.LOGIN_FAILURE_WINDOW_SECONDS // 60})
            return self.render_to_response(self.get_context_data(form=form), status=429)
        response = super().post(request, *args, **kwargs)
        if request.user.is_authenticated:
            cache.delete(keys[1])
        else:
            _count_failure(keys)
        return response
