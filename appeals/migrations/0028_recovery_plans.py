"""Recovery plans: the managers' step templates per incident kind (seeded from DOMAIN.md's usual
remedies for each of the seven kinds, in both languages), each appeal's plan and its dated steps.
New tables only."""

import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# kind, order, anchor, offset days, period days, remind at end, title en, title zh, text en, text zh
SEED = [
    ("desktop_logout", 10, "ban", 0, 0, False,
     "Log in again on the desktop client", "在桌面端重新登录",
     "The logout usually follows complaints or a lost real-name status. Log in again with the administrator's account.",
     "掉线通常由投诉或实名状态失效引起。请使用管理员账号重新登录。"),
    ("desktop_logout", 20, "ban", 0, 0, False,
     "Complete the face re-verification", "完成人脸复核",
     "Re-verify the account's real name when the platform asks for it; an account without real-name verification is restricted again.",
     "按平台要求完成实名人脸复核；未完成实名认证的账号会再次受限。"),
    ("desktop_logout", 30, "decision", 0, 7, True,
     "Keep complaints down for a week", "一周内控制投诉",
     "For a week after the account is back, send no mass messages and answer customers promptly: complaints are what the platform weighs most.",
     "账号恢复后的一周内不要群发消息，及时回复客户：投诉率是平台最看重的指标。"),

    ("cannot_be_added", 10, "ban", 0, 0, False,
     "Stop using the account for adds", "停止使用该账号加好友",
     "Others cannot add the account because its daily limit of inbound adds was reached or its weight dropped after deletes, blocks or complaints.",
     "他人无法添加该账号，原因是当日被添加上限已满，或因被删除、拉黑、投诉导致权重下降。"),
    ("cannot_be_added", 20, "ban", 0, 0, False,
     "Keep the delete/block rate under 10% a day", "将每日删除/拉黑率控制在 10% 以下",
     "Stop the messages that make customers delete or block the account.",
     "停止发送导致客户删除或拉黑的消息。"),
    ("cannot_be_added", 30, "decision", 0, 14, True,
     "Rest the account for 1–2 weeks", "让账号休息 1–2 周",
     "After the account is restored, do not use it for adds for two weeks; you will be reminded when the rest ends.",
     "账号恢复后两周内不要用它加好友；休息期结束时会提醒您。"),
    ("cannot_be_added", 40, "decision", 14, 0, False,
     "Resume adds gradually", "逐步恢复加好友",
     "Start again with a few adds a day and watch the acceptance rate (below about 5% the platform silently drops requests).",
     "每天少量添加重新开始，并关注通过率（低于约 5% 时平台会静默丢弃好友申请）。"),

    ("adds_restricted", 10, "ban", 0, 0, False,
     "Stop outbound adds now", "立即停止主动加好友",
     "Adding was restricted because of too many or too frequent outbound adds; the whole entity's weight dropped.",
     "加好友受限是因为主动添加过多或过于频繁，整个主体的权重已下降。"),
    ("adds_restricted", 20, "decision", 0, 7, True,
     "Pause adds for a week", "暂停加好友一周",
     "Across every account of the enterprise: the restriction lowers the entity's weight, not only this account's.",
     "企业所有账号都应暂停：此次限制降低的是整个主体的权重，而不仅是该账号。"),
    ("adds_restricted", 30, "decision", 7, 0, False,
     "Resume at about 20 adds a day", "以每天约 20 次的频率恢复",
     "Ordinary accounts manage about 20 outbound adds a day; stay below it and never search phone numbers in bulk.",
     "普通账号每天约可主动添加 20 次；请保持在此以下，不要批量搜索手机号添加。"),

    ("requests_fail", 10, "ban", 0, 0, False,
     "Unban the bound personal account first", "先解封绑定的个人账号",
     "Friend requests also fail when the personal account bound to this account is itself restricted: appeal that one first.",
     "若该账号绑定的个人账号本身受限，好友申请同样无法发送：请先为个人账号申诉。"),
    ("requests_fail", 20, "ban", 0, 0, False,
     "Pause friend requests", "暂停发送好友申请",
     "The add rate was too high; every further request now makes it worse.",
     "添加频率过高；现在每多发一次申请都会加重限制。"),
    ("requests_fail", 30, "decision", 0, 7, True,
     "Pause adds for a week", "暂停加好友一周",
     "After the account is restored, keep adds paused for a week; you will be reminded when it ends.",
     "账号恢复后继续暂停加好友一周；结束时会提醒您。"),
    ("requests_fail", 40, "decision", 7, 0, False,
     "Lower the add rate", "降低添加频率",
     "At most about 20 outbound adds a day.", "每天主动添加不超过约 20 次。"),

    ("short_ban", 10, "ban", 0, 0, False,
     "Review scripts and campaigns", "检查话术和营销活动",
     "Remove harassing marketing and words such as “red packet” (红包) or “rebate” (返利) from add messages and scripts.",
     "删除骚扰式营销内容，以及加好友消息和话术中的“红包”“返利”等敏感词。"),
    ("short_ban", 20, "ban", 0, 0, False,
     "Pause mass messages and adds", "暂停群发消息和加好友",
     "Stop every campaign on the account while the appeal runs.", "申诉期间停止该账号的所有营销活动。"),
    ("short_ban", 30, "decision", 0, 7, True,
     "Keep mass messages and adds paused for a week", "继续暂停群发和加好友一周",
     "Repeat offenders are punished harder: a violation within six months counts against any later appeal.",
     "平台对重复违规从严处理：六个月内再次违规将对今后的申诉不利。"),

    ("permanent_ban", 10, "ban", 0, 14, False,
     "Appeal daily through support", "每天通过客服申诉",
     "With no real violation a permanent ban of one account is typically lifted within 1–2 weeks. The same phone may request an unban at most 5 times a month.",
     "若无实际违规，单个账号的永久封禁通常在 1–2 周内解除。同一手机号每月最多申请解封 5 次。"),
    ("permanent_ban", 20, "ban", 0, 0, False,
     "Do not use third-party unban services", "不要使用第三方解封服务",
     "Accounts unbanned through third parties are banned again.", "通过第三方解封的账号会被再次封禁。"),
    ("permanent_ban", 30, "decision", 0, 14, True,
     "Keep activity light for two weeks", "两周内保持低频使用",
     "The ban followed a high complaint volume: keep marketing off for two weeks after the account is back.",
     "此次封禁源于投诉量过高：账号恢复后两周内不要开展营销。"),

    ("entity_ban", 10, "ban", 0, 0, False,
     "Gather the company paperwork", "准备企业资料",
     "The business license, the legal representative's ID card, a photo of the legal representative holding it, and the sealed authorisation letter.",
     "营业执照、法定代表人身份证、法定代表人手持身份证照片，以及加盖公章的授权书。"),
    ("entity_ban", 20, "ban", 0, 0, False,
     "Appeal with the full company paperwork", "提交完整企业资料申诉",
     "The complaint rate went above the platform's red line; an incomplete file is refused.",
     "投诉率已超过平台红线；资料不全的申诉会被驳回。"),
    ("entity_ban", 30, "decision", 0, 14, True,
     "Bring the accounts back gradually over two weeks", "两周内逐步恢复各账号",
     "Restart the enterprise's accounts one by one and keep the complaint rate well under the red line.",
     "逐个恢复企业账号的使用，并使投诉率远低于红线。"),
]


def seed(apps, schema_editor):
    Template = apps.get_model("appeals", "RecoveryStepTemplate")
    for kind, order, anchor, offset, days, remind, title_en, title_zh, text_en, text_zh in SEED:
        Template.objects.update_or_create(kind=kind, order=order, defaults={
            "anchor": anchor, "offset_days": offset, "duration_days": days, "remind_at_end": remind,
            "title_en": title_en, "title_zh": title_zh, "text_en": text_en, "text_zh": text_zh, "active": True})


def unseed(apps, schema_editor):
    apps.get_model("appeals", "RecoveryStepTemplate").objects.all().delete()


class Migration(migrations.Migration):

    dependencies = [
        ('appeals', '0027_batch_review'),
    ]

    operations = [
        migrations.CreateModel(
            name='RecoveryPlan',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('desktop_logout', 'Desktop client logged out'), ('cannot_be_added', 'Others cannot add the account'), ('adds_restricted', 'Adding friends temporarily restricted'), ('requests_fail', 'Friend requests fail to send'), ('short_ban', 'Short ban after complaints'), ('permanent_ban', 'Permanent ban of the account'), ('entity_ban', 'Whole enterprise entity banned')], max_length=30, verbose_name='incident kind')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created')),
                ('refreshed_at', models.DateTimeField(blank=True, null=True, verbose_name='dates computed')),
                ('appeal', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='recovery_plan', to='appeals.appeal')),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('enterprise', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='appeals.enterprise')),
            ],
            options={
                'verbose_name': 'recovery plan',
                'verbose_name_plural': 'recovery plans',
            },
        ),
        migrations.CreateModel(
            name='RecoveryStepTemplate',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('desktop_logout', 'Desktop client logged out'), ('cannot_be_added', 'Others cannot add the account'), ('adds_restricted', 'Adding friends temporarily restricted'), ('requests_fail', 'Friend requests fail to send'), ('short_ban', 'Short ban after complaints'), ('permanent_ban', 'Permanent ban of the account'), ('entity_ban', 'Whole enterprise entity banned')], max_length=30, verbose_name='incident kind')),
                ('order', models.PositiveSmallIntegerField(default=0, verbose_name='order')),
                ('anchor', models.CharField(choices=[('ban', 'The ban'), ('decision', 'The decision restoring the account')], default='ban', max_length=10, verbose_name='counted from')),
                ('title_en', models.CharField(max_length=160, verbose_name='title (English)')),
                ('title_zh', models.CharField(max_length=160, verbose_name='title (Simplified Chinese)')),
                ('text_en', models.TextField(blank=True, verbose_name='text (English)')),
                ('text_zh', models.TextField(blank=True, verbose_name='text (Simplified Chinese)')),
                ('offset_days', models.PositiveSmallIntegerField(default=0, validators=[django.core.validators.MaxValueValidator(365)], verbose_name='days after the reference point')),
                ('duration_days', models.PositiveSmallIntegerField(default=0, validators=[django.core.validators.MaxValueValidator(365)], verbose_name='period in days (rest or pause)')),
                ('remind_at_end', models.BooleanField(default=False, verbose_name='remind when the period ends')),
                ('active', models.BooleanField(default=True, verbose_name='active')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated')),
            ],
            options={
                'verbose_name': 'recovery step template',
                'verbose_name_plural': 'recovery step templates',
                'ordering': ['kind', 'order', 'id'],
                'constraints': [models.CheckConstraint(condition=models.Q(('duration_days__lte', 365), ('offset_days__lte', 365)), name='recovery_template_days_bounded'), models.CheckConstraint(condition=models.Q(('remind_at_end', False), ('duration_days__gt', 0), _connector='OR'), name='recovery_template_remind_needs_period', violation_error_message='A reminder needs a period: set the period in days.')],
            },
        ),
        migrations.CreateModel(
            name='RecoveryStep',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('order', models.PositiveSmallIntegerField(verbose_name='order')),
                ('anchor', models.CharField(choices=[('ban', 'The ban'), ('decision', 'The decision restoring the account')], max_length=10, verbose_name='counted from')),
                ('title_en', models.CharField(max_length=160, verbose_name='title (English)')),
                ('title_zh', models.CharField(max_length=160, verbose_name='title (Simplified Chinese)')),
                ('text_en', models.TextField(blank=True, verbose_name='text (English)')),
                ('text_zh', models.TextField(blank=True, verbose_name='text (Simplified Chinese)')),
                ('offset_days', models.PositiveSmallIntegerField(default=0, verbose_name='days after the reference point')),
                ('duration_days', models.PositiveSmallIntegerField(default=0, verbose_name='period in days (rest or pause)')),
                ('remind_at_end', models.BooleanField(default=False, verbose_name='remind when the period ends')),
                ('starts_on', models.DateField(blank=True, null=True, verbose_name='from')),
                ('ends_on', models.DateField(blank=True, null=True, verbose_name='until')),
                ('done', models.BooleanField(default=False, verbose_name='done')),
                ('done_at', models.DateTimeField(blank=True, null=True, verbose_name='ticked')),
                ('reminded_at', models.DateTimeField(blank=True, null=True, verbose_name='reminder queued')),
                ('done_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('plan', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='steps', to='appeals.recoveryplan')),
                ('template', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='appeals.recoverysteptemplate')),
            ],
            options={
                'verbose_name': 'recovery step',
                'verbose_name_plural': 'recovery steps',
                'ordering': ['plan', 'order', 'id'],
                'indexes': [models.Index(condition=models.Q(('ends_on__isnull', False), ('remind_at_end', True), ('reminded_at__isnull', True)), fields=['ends_on'], name='recovery_step_reminder_due')],
            },
        ),
        migrations.RunPython(seed, unseed),
    ]
