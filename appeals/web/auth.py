"""The sign-in page. Password guessing is bounded by django-axes (appeals.shared.login_guard):
AxesMiddleware turns a refused attempt into this page again, answered 429 (AXES_LOCKOUT_CALLABLE)."""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.forms.utils import ErrorDict
from django.shortcuts import render
from django.utils.translation import gettext as _


class LoginView(auth_views.LoginView):
    template_name = "appeals/login.html"
    redirect_authenticated_user = True


def lockout_response(request, original_response=None, credentials=None):
    """The sign-in page with a non-field error, status 429: no hint whether the password was right."""
    form = AuthenticationForm(request, data={"username": request.POST.get("username", "")})
    form._errors, form.cleaned_data = ErrorDict(), {}  # never run authenticate() again for the error page
    minutes = max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))
    form.add_error(None, _("Too many failed sign-in attempts from here. Try again in %(minutes)s minutes.") % {"minutes": minutes})
    return render(request, "appeals/login.html", {"form": form, "next": request.POST.get("next", "")}, status=429)
