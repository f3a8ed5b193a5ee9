"""People: enterprise admins belong to one enterprise; desk staff carry review roles."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    APPLICANT = "enterprise_admin", _("Enterprise admin")
    FIRST_REVIEWER = "first_reviewer", _("First reviewer")
    SECOND_REVIEWER = "second_reviewer", _("Second reviewer")
    MANAGER = "manager", _("Manager")
    SYSTEM = "system", _("System")


class User(AbstractUser):
    enterprise = models.ForeignKey(
        "appeals.Enterprise",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="admins",
        verbose_name=_("enterprise"),
        help_text=_("Set for enterprise admins only; they see this enterprise and nothing else."),
    )
    is_first_reviewer = models.BooleanField(_("first reviewer"), default=False)
    is_second_reviewer = models.BooleanField(_("second reviewer"), default=False)
    is_manager = models.BooleanField(_("manager"), default=False)
    phone = models.CharField(_("mobile phone"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            # Someone who speaks for an enterprise never sits on the review desk.
            models.CheckConstraint(
                condition=Q(enterprise__isnull=True)
                | Q(is_first_reviewer=False, is_second_reviewer=False, is_manager=False, is_superuser=False),
                name="enterprise_admin_is_not_desk_staff",
            )
        ]

    @property
    def is_enterprise_admin(self) -> bool:
        return self.enterprise_id is not None

    @property
    def is_desk(self) -> bool:
        return self.is_superuser or self.is_first_reviewer or self.is_second_reviewer or self.is_manager

    def has_role(self, role: str) -> bool:
        if role == Role.APPLICANT:
            return self.is_enterprise_admin
        if role == Role.SYSTEM:
            return False
        if self.is_superuser:
            return True
        return {
            Role.FIRST_REVIEWER: self.is_first_reviewer,
            Role.SECOND_REVIEWER: self.is_second_reviewer,
            Role.MANAGER: self.is_manager,
        }.get(role, False)

    @property
    def roles(self) -> list[str]:
        return [r for r in (Role.APPLICANT, Role.FIRST_REVIEWER, Role.SECOND_REVIEWER, Role.MANAGER) if self.has_role(r)]
