"""The one family of domain errors; appeals/api/errors.py maps them to HTTP."""

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """Base of every refusal the domain layer makes. `code` is stable for clients."""

    status = 400
    code = "domain_error"
    default_message = _("The request could not be carried out.")

    def __init__(self, message=None, *, code: str | None = None, fields: dict | None = None, **extra):
        self.message = str(message or self.default_message)
        if code:
            self.code = code
        self.fields = fields or {}
        self.extra = extra
        super().__init__(self.message)


class ValidationFailed(DomainError):
    """Bad input, with field-level messages."""

    status = 400
    code = "invalid"


class NotFound(DomainError):
    """Also what a user gets for another tenant's object: it simply does not exist for them."""

    status = 404
    code = "not_found"
    default_message = _("Not found.")


class PermissionDenied(DomainError):
    status = 403
    code = "permission_denied"
    default_message = _("You may not do this.")


class InvalidTransition(DomainError):
    """A move the workflow table does not allow from the current state."""

    status = 409
    code = "invalid_transition"


class GuardFailed(DomainError):
    """The move exists, but a rule (a guard) refuses it now."""

    status = 409
    code = "guard_failed"


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"
