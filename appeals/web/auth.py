"""The sign-in page. Password guessing is bounded by django-axes (appeals.shared.login_guard):
AxesMiddleware turns a refused attempt into this page again, answered 429 (AXES_LOCKOUT_CALLABLE)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.forms.utils import ErrorDict
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from appeals.core.services import auth as auth_services
from appeals.shared.exceptions import NotFound


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


@login_required
@require_http_methods(["GET", "POST"])
def api_tokens(request):
    """The signed-in user's API tokens (never their keys): when each was issued and expires; revoke any."""
    if request.method == "POST":
        key = (request.POST.get("token_key") or "")[:25]
        try:
            auth_services.token_revoke(by=request.user, token_key=key)
            messages.success(request, _("Token %(key)s… revoked.") % {"key": key})
        except NotFound:
            messages.error(request, _("No such token of yours."))
        return redirect("api_tokens")
    return render(request, "appeals/api_tokens.html", {"tokens": auth_services.tokens_of(request.user)})
