"""Reasoned decisions: the outcome code catalogue (seeded with six codes) and the code and
rendered reason stored on each decided appeal (empty by default: no backfill needed)."""

from django.db import migrations, models


SEED = [
    # code, outcome, label en, label zh, reason en, reason zh, next steps en, next steps zh
    ("restored", "approve", "Restored", "已恢复",
     "Your appeal {reference} is approved: the evidence shows no violation that justifies the ban ({kind}). The account is restored.",
     "您的申诉 {reference} 已通过：证据未显示足以支持封禁（{kind}）的违规行为，账号已恢复。",
     "Log in again and complete any face re-verification the platform asks for. Keep adding friends at a moderate rate.",
     "请重新登录，并按平台要求完成人脸复核。添加好友请保持适度频率。"),
    ("restored_with_warning", "approve", "Restored with warning", "已恢复（附警告）",
     "Your appeal {reference} is approved with a warning: the account is restored, but its activity ({reason}) came close to the platform's limits.",
     "您的申诉 {reference} 已通过，但附有警告：账号已恢复，但其行为（{reason}）已接近平台限制。",
     "Review your scripts and campaigns, pause mass messages and friend adds for a week, and keep the delete/block rate under 10% a day. A new violation within six months counts against any future appeal.",
     "请检查话术和营销活动，暂停群发消息和添加好友一周，并将每日删除/拉黑率控制在 10% 以下。六个月内再次违规将对今后的申诉不利。"),
    ("refused_evidence_insufficient", "reject", "Refused: evidence insufficient", "未通过：证据不足",
     "Your appeal {reference} is refused: the evidence provided is not sufficient to show that the ban ({kind}) was unjustified.",
     "您的申诉 {reference} 未通过：所提供的证据不足以证明封禁（{kind}）不当。",
     "You may appeal again with complete paperwork: the sealed business license, the administrator's ID card (front and back), the sealed authorisation letter, the ban notice screenshot and the last 7 days of operation logs.",
     "您可以补齐材料后再次申诉：加盖公章的营业执照、管理员身份证正反面、加盖公章的授权书、封禁通知截图以及最近 7 天的操作日志。"),
    ("refused_violation_confirmed", "reject", "Refused: violation confirmed", "未通过：违规属实",
     "Your appeal {reference} is refused: the review confirmed the violation behind the ban ({reason}).",
     "您的申诉 {reference} 未通过：经审核，导致封禁的违规行为（{reason}）属实。",
     "Stop the activity that caused the ban and review your scripts and campaigns. If you have new evidence that the violation did not happen, you may appeal again.",
     "请停止导致封禁的行为，并检查话术和营销活动。如有新的证据证明违规并未发生，您可以再次申诉。"),
    ("refused_repeat_offence", "reject", "Refused: repeat offence within six months", "未通过：六个月内重复违规",
     "Your appeal {reference} is refused: the account {account} already had a violation within the last six months, and the platform punishes repeat offences more severely.",
     "您的申诉 {reference} 未通过：账号 {account} 在最近六个月内已有违规记录，平台对重复违规从严处理。",
     "Rest the account and keep its activity within the platform's limits. You may appeal again once six months have passed since the earlier violation, or earlier with new evidence.",
     "请让账号休息，并将其活动控制在平台限制之内。自上次违规起满六个月后可再次申诉；如有新的证据，也可提前申诉。"),
    ("refused_permanent_ban", "reject", "Refused: permanent ban", "未通过：永久封禁",
     "Your appeal {reference} is refused: the violation is severe and the ban is permanent; it cannot be lifted.",
     "您的申诉 {reference} 未通过：违规情节严重，封禁为永久封禁，无法解除。",
     "The account cannot be restored. Do not use third-party unban services: accounts unbanned that way are banned again. Call the hotline if you believe the decision is wrong.",
     "该账号无法恢复。请勿使用第三方解封服务：以此方式解封的账号会被再次封禁。如您认为决定有误，请拨打热线电话。"),
]


def seed(apps, schema_editor):
    OutcomeCode = apps.get_model("appeals", "OutcomeCode")
    for position, row in enumerate(SEED):
        code, outcome, label_en, label_zh, reason_en, reason_zh, next_en, next_zh = row
        OutcomeCode.objects.update_or_create(code=code, defaults={
            "outcome": outcome, "label_en": label_en, "label_zh": label_zh, "reason_en": reason_en,
            "reason_zh": reason_zh, "next_steps_en": next_en, "next_steps_zh": next_zh, "position": position})


def unseed(apps, schema_editor):
    apps.get_model("appeals", "OutcomeCode").objects.filter(code__in=[row[0] for row in SEED]).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("appeals", "0022_appeal_list_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name='OutcomeCode',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('code', models.SlugField(max_length=40, unique=True, verbose_name='code')),
                ('outcome', models.CharField(choices=[('approve', 'Restore the account'), ('reject', 'Refuse')], max_length=10, verbose_name='outcome')),
                ('label_en', models.CharField(max_length=120, verbose_name='label (English)')),
                ('label_zh', models.CharField(max_length=120, verbose_name='label (Simplified Chinese)')),
                ('reason_en', models.TextField(verbose_name='reason template (English)')),
                ('reason_zh', models.TextField(verbose_name='reason template (Simplified Chinese)')),
                ('next_steps_en', models.TextField(blank=True, verbose_name='next steps (English)')),
                ('next_steps_zh', models.TextField(blank=True, verbose_name='next steps (Simplified Chinese)')),
                ('active', models.BooleanField(default=True, verbose_name='active')),
                ('position', models.PositiveSmallIntegerField(default=0, verbose_name='position')),
            ],
            options={
                'verbose_name': 'outcome code',
                'verbose_name_plural': 'outcome codes',
                'ordering': ['position', 'code'],
            },
        ),
        migrations.AddField(
            model_name='appeal',
            name='decision_reason_en',
            field=models.TextField(blank=True, db_default='', default='', verbose_name='decision reason (English)'),
        ),
        migrations.AddField(
            model_name='appeal',
            name='decision_reason_zh',
            field=models.TextField(blank=True, db_default='', default='', verbose_name='decision reason (Simplified Chinese)'),
        ),
        migrations.AddField(
            model_name='appeal',
            name='outcome_code',
            field=models.CharField(blank=True, db_default='', default='', max_length=40, verbose_name='outcome code'),
        ),
        migrations.RunPython(seed, unseed),
    ]
