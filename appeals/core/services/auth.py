"""Signing in and API tokens: issue, list, revoke (entry points), and their audit trail.

Tokens are django-rest-knox's AuthToken: only a hash of the key is stored, each has an
expiry (REST_KNOX["TOKEN_TTL"]), and they are revoked on logout, on a password change and
one by one by their owner. Sign-ins (success and failure) are audit events too; the
receivers are connected by the core's plug-in.
"""

from django.db import transaction
from django.utils import timezone
from knox.models import AuthToken
from knox.settings import knox_settings

from appeals.audit.services import audit_record
from appeals.shared.db import entry_point
from appeals.shared.exceptions import NotFound

USER = "appeals.user"


def _token_snapshot(token: AuthToken) -> dict:
    return {"token_key": token.token_key, "created": token.created, "expiry": token.expiry}


def _audit_user(*, actor, action: str, user, after: dict | None = None, before: dict | None = None) -> None:
    audit_record(actor=actor, action=action, target_type=USER, target_id=user.pk,
                 enterprise_id=user.enterprise_id, before=before, after=after)


@entry_point
def token_issue(*, user) -> tuple[AuthToken, str]:
    """A new token for `user` (already authenticated): the instance, and the key, shown once."""
    limit = knox_settings.TOKEN_LIMIT_PER_USER
    AuthToken.objects.filter(user=user, expiry__lt=timezone.now()).delete()  # expired: gone, nothing to revoke
    live = AuthToken.objects.filter(user=user).order_by("created")
    if limit is not None:
        # At the limit, the oldest token makes room (revoked and audited) rather than refusing a login.
        surplus = list(live[: max(0, live.count() - limit + 1)])
        for old in surplus:
            _revoke(by=user, token=old, reason="limit")
    instance, key = AuthToken.objects.create(user=user)
    _audit_user(actor=user, action="auth.token_issue", user=user, after=_token_snapshot(instance))
    return instance, key


def _revoke(*, by, token: AuthToken, reason: str) -> None:
    snapshot = _token_snapshot(token)
    token.delete()
    _audit_user(actor=by, action="auth.token_revoke", user=token.user, before=snapshot, after={"reason": reason})


def tokens_of(user):
    """The user's own live tokens, newest first (expired ones are not listed)."""
    return AuthToken.objects.filter(user=user).exclude(expiry__lt=timezone.now()).order_by("-created")


@entry_point
def token_revoke(*, by, token_key: str, reason: str = "revoked") -> int:
    """Revoke `by`'s own token(s) with this key prefix; someone else's is not found (404)."""
    tokens = list(AuthToken.objects.select_for_update().filter(user=by, token_key=token_key))
    if not tokens:
        raise NotFound()
    for token in tokens:
        _revoke(by=by, token=token, reason=reason)
    return len(tokens)


@entry_point
def token_logout(*, token: AuthToken) -> None:
    """Logout through the API: the token the request came with stops working."""
    fresh = AuthToken.objects.select_for_update().filter(pk=token.pk).select_related("user").first()
    if fresh is not None:
        _revoke(by=fresh.user, token=fresh, reason="logout")


def tokens_revoke_all(*, user, reason: str) -> int:
    """Every token of `user`, in the caller's transaction (a password change)."""
    tokens = list(AuthToken.objects.select_for_update().filter(user=user))
    for token in tokens:
        _revoke(by=user, token=token, reason=reason)
    return len(tokens)


# --- receivers (connected by appeals.core.plugin) ------------------------------------------


def on_user_saved(sender, instance, created, **kwargs) -> None:
    """A new password (set_password then save) revokes every API token the old one issued."""
    # AbstractBaseUser.save keeps the new raw password in _password until after post_save.
    if not created and getattr(instance, "_password", None) is not None:
        with transaction.atomic():
            tokens_revoke_all(user=instance, reason="password_change")


def on_logged_in(sender, request, user, **kwargs) -> None:
    _audit_user(actor=user, action="auth.login", user=user, after={"via": _via(request)})


def on_login_failed(sender, credentials, request=None, **kwargs) -> None:
    username = str((credentials or {}).get("username") or "")[:150]
    locked = bool(getattr(request, "axes_locked_out", False))
    audit_record(actor=None, action="auth.login_failed", target_type="auth.username", target_id=username[:64],
                 after={"username": username, "via": _via(request), "locked_out": locked})


def on_logged_out(sender, request, user, **kwargs) -> None:
    if user is not None and user.pk:
        _audit_user(actor=user, action="auth.logout", user=user, after={"via": _via(request)})


def _via(request) -> str:
    path = getattr(request, "path", "") or ""
    return "api" if path.startswith("/api/") else "web"
