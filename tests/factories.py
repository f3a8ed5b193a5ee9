"""factory_boy factories for the domain. Valid by default; override what a test is about."""

from datetime import timedelta

import factory
from django.utils import timezone

from appeals import models
from appeals.shared.validators import credit_code_check_char

_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def make_credit_code(n: int) -> str:
    """A valid unified social credit code (GB 32100-2015) numbered n."""
    body = f"91310000{n:09d}"
    return body + credit_code_check_char(body)


class EnterpriseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Enterprise

    name = factory.Sequence(lambda n: f"Enterprise {n} Ltd")
    credit_code = factory.Sequence(make_credit_code)
    legal_rep_name = "张伟"
    legal_rep_mobile = factory.Sequence(lambda n: f"138{n:08d}")
    admin_name = "李娜"
    admin_email = factory.Sequence(lambda n: f"admin{n}@example.com")
    admin_phone = factory.Sequence(lambda n: f"139{n:08d}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("demo-pass-2026")


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.MessagingAccount

    enterprise = factory.SubFactory(EnterpriseFactory)
    platform = models.Platform.WECOM
    account_id = factory.Sequence(lambda n: f"wx-{n:06d}")
    display_name = factory.Sequence(lambda n: f"Sales {n}")
    account_type = models.AccountType.OPERATIONS


class IncidentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.BanIncident

    account = factory.SubFactory(AccountFactory)
    enterprise = factory.SelfAttribute("account.enterprise")
    banned_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=2))
    kind = models.IncidentKind.SHORT_BAN
    reason = models.ReasonCategory.USER_REPORTS
    notice_text = "您的账号因被多次投诉已被限制使用。"
    severity = models.Severity.MEDIUM
    created_by = factory.SubFactory(UserFactory)


class AppealFactory(factory.django.DjangoModelFactory):
    """A draft appeal. Move it through the workflow with services, not by setting state."""

    class Meta:
        model = models.Appeal

    incident = factory.SubFactory(IncidentFactory)
    enterprise = factory.SelfAttribute("incident.enterprise")
    reference = factory.Sequence(lambda n: f"AP-2026-{n + 900000:06d}")
    statement = "我们没有违规营销，请求解封。"
    contact_phone = factory.Sequence(lambda n: f"137{n:08d}")
    filed_by = factory.SubFactory(UserFactory)
