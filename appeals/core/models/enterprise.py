"""The tenant (an enterprise) and its messaging accounts."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from appeals.shared.validators import validate_credit_code, validate_mobile


class Enterprise(models.Model):
    name = models.CharField(_("company name"), max_length=200)
    credit_code = models.CharField(
        _("unified social credit code"), max_length=18, unique=True, validators=[validate_credit_code]
    )
    legal_rep_name = models.CharField(_("legal representative"), max_length=100)
    legal_rep_mobile = models.CharField(_("legal representative's mobile"), max_length=11, validators=[validate_mobile])
    admin_name = models.CharField(_("administrator name"), max_length=100)
    admin_email = models.EmailField(_("administrator email"))
    admin_phone = models.CharField(_("administrator phone"), max_length=11, validators=[validate_mobile])
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("enterprise")
        verbose_name_plural = _("enterprises")

    def __str__(self) -> str:
        return self.name


class Platform(models.TextChoices):
    WECOM = "wecom", _("WeCom")
    DINGTALK = "dingtalk", _("DingTalk")
    FEISHU = "feishu", _("Feishu")


class AccountType(models.TextChoices):
    """Sub-account types of DOMAIN.md's account isolation model."""

    MASTER = "master", _("Master")
    OPERATIONS = "operations", _("Operations")
    CUSTOMER_SERVICE = "customer_service", _("Customer service")
    DEVELOPER = "developer", _("Developer")


class MessagingAccount(models.Model):
    enterprise = models.ForeignKey(Enterprise, on_delete=models.PROTECT, related_name="accounts")
    platform = models.CharField(_("platform"), max_length=20, choices=Platform.choices, default=Platform.WECOM)
    account_id = models.CharField(_("account id"), max_length=64)
    display_name = models.CharField(_("display name"), max_length=100)
    account_type = models.CharField(_("account type"), max_length=20, choices=AccountType.choices)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["display_name"]
        verbose_name = _("messaging account")
        verbose_name_plural = _("messaging accounts")
        constraints = [
            models.UniqueConstraint(fields=["platform", "account_id"], name="unique_account_per_platform"),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.get_platform_display()} {self.account_id})"
