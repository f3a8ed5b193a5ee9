"""Demo data: two enterprises, their accounts and incidents, and appeals in every state.

Idempotent: users are brought back to their demo roles and password; enterprises,
accounts and appeals are created only once. One durable transaction: the services join it
through their `.nested` form (appeals.shared.db), so a failed seed leaves nothing half-made.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from appeals.core.services import appeals as appeal_svc
from appeals.core.services import enterprises as ent_svc
from appeals.core.services.users import user_upsert
from appeals.models import Appeal, Enterprise, IncidentKind, MessagingAccount, ReasonCategory, User
from appeals.shared.validators import credit_code_check_char

PASSWORD = "demo-pass-2026"  # demo data only

ENTERPRISES = {
    "admin-a": dict(
        name="上海晨光贸易有限公司", credit_code="91310000MA1FL8XQ30", legal_rep_name="张伟",
        legal_rep_mobile="13812345678", admin_name="李娜", admin_email="admin-a@example.com", admin_phone="13912345678",
    ),
    "admin-b": dict(
        name="Hangzhou Bluewave Technology Co., Ltd.", credit_code="91330100MA2H3K4L5X", legal_rep_name="王芳",
        legal_rep_mobile="13700001111", admin_name="Chen Jie", admin_email="admin-b@example.com", admin_phone="13600002222",
    ),
}


def _valid_code(code: str) -> str:
    return code[:17] + credit_code_check_char(code[:17])


DEMO_USERNAMES = ("manager", "reviewer-1", "reviewer-2", *ENTERPRISES)


class Command(BaseCommand):
    help = "Load demo enterprises, users and appeals in every state (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--allow-other-users", action="store_true",
                            help="Seed even though the database already has users other than the demo ones.")

    def handle(self, *args, **options):
        # The demo's own messages (delivered in-process when its transaction commits) would bury
        # the logins in the console.
        quiet = logging.root.manager.disable
        logging.disable(logging.WARNING)  # kombu's "no hostname" notice of the in-memory broker too
        try:
            self._handle(*args, **options)
        finally:
            logging.disable(quiet)

    @transaction.atomic(durable=True)
    def _handle(self, *args, **options):
        # The demo users' password is published in the README: never into a real database.
        if not settings.DEMO_DATA_ALLOWED:
            raise CommandError("seed_demo refuses to run under these settings (DEMO_DATA_ALLOWED is off, as in "
                               "config.settings.production): its users have a published password.")
        others = User.objects.exclude(username__in=DEMO_USERNAMES)
        if others.exists() and not options["allow_other_users"]:
            raise CommandError(f"seed_demo refuses to run: this database already has {others.count()} user(s) other than "
                               "the demo ones, so it is not a demo database (--allow-other-users to seed anyway).")
        # Demo history only: cases past intake are recorded as if their paperwork and the two
        # verification proofs had been handled. New appeals filed in the app meet every guard.
        with override_settings(
            VERIFICATION={**settings.VERIFICATION, "REQUIRED": False},
            EVIDENCE={**settings.EVIDENCE, "ENFORCE_COMPLETENESS_ON_SUBMIT": False},
            # Every demo submission queues a code to its enterprise's one legal representative.
            NOTIFICATIONS={**settings.NOTIFICATIONS, "SMS_DAILY_CAP_PER_PHONE": 1_000_000},
        ):
            self._seed()

    def _seed(self):
        manager = user_upsert.nested(by=None, username="manager", password=PASSWORD, is_manager=True, email="manager@example.com")
        r1 = user_upsert.nested(by=None, username="reviewer-1", password=PASSWORD, is_first_reviewer=True, is_second_reviewer=True,
                         email="reviewer-1@example.com")
        r2 = user_upsert.nested(by=None, username="reviewer-2", password=PASSWORD, is_first_reviewer=True, is_second_reviewer=True,
                         email="reviewer-2@example.com")
        admins = {}
        for username, profile in ENTERPRISES.items():
            code = _valid_code(profile["credit_code"])
            enterprise = Enterprise.objects.filter(credit_code=code).first() or ent_svc.enterprise_create.nested(
                by=manager, **{**profile, "credit_code": code}
            )
            admins[username] = user_upsert.nested(by=None, username=username, password=PASSWORD, enterprise=enterprise,
                                           email=profile["admin_email"], phone=profile["admin_phone"])
        for admin in admins.values():
            if not Appeal.objects.filter(enterprise=admin.enterprise).exists():
                self._cases(admin, r1, r2, manager)

        self.stdout.write(self.style.SUCCESS("Demo data ready. Log in with:"))
        for name, role in [
            ("admin-a", "enterprise admin, " + admins["admin-a"].enterprise.name),
            ("admin-b", "enterprise admin, " + admins["admin-b"].enterprise.name),
            ("reviewer-1", "first and second reviewer"),
            ("reviewer-2", "first and second reviewer"),
            ("manager", "manager"),
        ]:
            self.stdout.write(f"  {name:<11} / {PASSWORD}   ({role})")

    def _cases(self, admin, r1, r2, manager):
        enterprise = admin.enterprise
        now = timezone.now()
        accounts = []
        for i, (kind_type, name) in enumerate([("master", "主账号"), ("operations", "运营-小王"), ("customer_service", "客服-小李")]):
            account_id = f"{enterprise.credit_code[-6:]}-{i}"
            accounts.append(
                MessagingAccount.objects.filter(platform="wecom", account_id=account_id).first()
                or ent_svc.account_create.nested(by=admin, enterprise=enterprise, platform="wecom", account_id=account_id,
                                          display_name=name, account_type=kind_type)
            )
        kinds = list(IncidentKind)
        # One contact number per case: the platform allows 5 unban requests per number a month.
        def phone(i):
            return f"{enterprise.admin_phone[:7]}{i:04d}"

        def filed(i, statement):
            incident = ent_svc.incident_create.nested(
                by=admin, account=accounts[i % len(accounts)], banned_at=now - timedelta(hours=6 + i * 5),
                kind=kinds[i % len(kinds)], reason=list(ReasonCategory)[i % 8],
                notice_text="您的企业微信账号因违反《企业微信使用规范》被限制使用。",
            )
            return appeal_svc.appeal_create.nested(by=admin, incident=incident, statement=statement, contact_phone=phone(i))

        def submitted(i, statement):
            return appeal_svc.appeal_submit.nested(appeal=filed(i, statement), by=admin)

        def claimed(i, statement):
            return appeal_svc.appeal_claim.nested(appeal=submitted(i, statement), by=r1)

        def in_second(i, statement):
            return appeal_svc.appeal_first_review.nested(appeal=claimed(i, statement), by=r1, decision="approve",
                                                  comment="证件齐全，建议通过。")

        filed(0, "草稿：账号被误封，正在整理材料。")
        submitted(1, "我们的客服账号无法被客户添加，请核查。")
        claimed(2, "添加好友被临时限制，我们已暂停批量添加。")
        in_second(3, "Friend requests fail to send; we lowered the add rate.")
        appeal_svc.appeal_first_review.nested(appeal=claimed(4, "短期封禁，已整改营销话术。"), by=r1, decision="request_info",
                                       comment="请补充营业执照扫描件。")
        appeal_svc.appeal_first_review.nested(appeal=claimed(5, "账号被永久封禁，无违规行为。"), by=r1, decision="escalate",
                                       comment="复杂案件，转人工热线。")
        approved = appeal_svc.appeal_claim.nested(appeal=in_second(6, "主体被封，提交完整公司资料。"), by=r2)
        appeal_svc.appeal_second_review.nested(appeal=approved, by=r2, decision="approve", outcome_code="restored")
        rejected = appeal_svc.appeal_claim.nested(appeal=in_second(7, "Appeal against a spam ban."), by=r2)
        appeal_svc.appeal_second_review.nested(appeal=rejected, by=r2, decision="reject", comment="投诉记录属实，维持封禁。",
                                               outcome_code="refused_violation_confirmed")
        appeal_svc.appeal_withdraw.nested(appeal=filed(8, "已自行解封，撤回申诉。"), by=admin)
