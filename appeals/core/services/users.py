"""Writes for people: creating desk staff and enterprise admins (an entry point, appeals.shared.db)."""

from django.core.exceptions import ValidationError as DjangoValidationError

from appeals.audit.services import audit_object
from appeals.core.models import User
from appeals.shared.db import entry_point
from appeals.shared.exceptions import ValidationFailed
from appeals.shared.validators import normalise_mobile
from appeals.shared.writes import require, validate_model

ROLE_FIELDS = ("is_first_reviewer", "is_second_reviewer", "is_manager")


@entry_point
def user_upsert(
    *,
    by,
    username: str,
    password: str,
    enterprise=None,
    email: str = "",
    first_name: str = "",
    phone: str = "",
    is_first_reviewer: bool = False,
    is_second_reviewer: bool = False,
    is_manager: bool = False,
) -> User:
    """Create a user or bring an existing one to the given roles and password.

    `by=None` is the system itself (management commands such as seed_demo).
    """
    require(by is None or by.is_superuser or by.is_manager)
    user = User.objects.select_for_update().filter(username=username).first() or User(username=username)
    created = user.pk is None
    before = {} if created else {f: getattr(user, f) for f in (*ROLE_FIELDS, "enterprise_id")}
    user.enterprise = enterprise
    user.email = email or user.email
    user.first_name = first_name or user.first_name
    if phone:
        try:
            phone = normalise_mobile(phone)  # surge alerts text it: one canonical form
        except DjangoValidationError as exc:
            raise ValidationFailed(fields={"phone": exc.messages}) from None
    user.phone = phone or user.phone
    user.is_first_reviewer, user.is_second_reviewer, user.is_manager = is_first_reviewer, is_second_reviewer, is_manager
    user.is_staff = is_manager or is_first_reviewer or is_second_reviewer
    user.set_password(password)
    validate_model(user, exclude=["password", "enterprise"])
    user.save()
    after = {f: getattr(user, f) for f in (*ROLE_FIELDS, "enterprise_id")}
    audit_object(actor=by, action="user.create" if created else "user.update", obj=user, before=before, after=after)
    return user
