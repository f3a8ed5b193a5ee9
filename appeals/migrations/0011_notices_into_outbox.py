# One outbox for every outbound message: the SLA and surge notices become Message rows.
#
# 1. Copy every SLA notice (one Message per recipient) and every surge notification into the
#    outbox with its delivery state (a send caught mid-flight stays `sending` with its claim
#    time, so the outbox's dead-worker recovery decides it, never a blind resend).
#    The surge SMS that already had an outbox row are linked to their alert, not copied.
# 2. SlaNotification stays as the scan's "decided to notify" record; its delivery columns
#    leave the model but not yet the table (they get database defaults so this version can
#    insert rows while the previous one still reads them). SurgeNotification leaves the
#    model; its table stays for the previous version (without its foreign-key constraint, so
#    it never blocks a TRUNCATE or the deletion of an alert). A later migration drops both.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone

SLA_TOPIC, SURGE_TOPIC = 'sla_notice', 'surge_alert'
SLA_TEMPLATES = {'warning': 'sla_warning', 'breach': 'sla_breach'}
SURGE_STATES = {'sending': 'sending', 'sent': 'sent', 'failed': 'failed', 'skipped': 'failed'}


def _language():
    return 'zh-hans' if (settings.LANGUAGE_CODE or '').lower().startswith('zh') else 'en'


def _local(moment):
    return timezone.localtime(moment).strftime('%Y-%m-%d %H:%M') if moment else '-'


def _copy(Message, *, key, state, created_at, sent_at, reason, attempts, **fields):
    if Message.objects.filter(idempotency_key=key).exists():
        return
    message = Message.objects.create(
        idempotency_key=key, state=state, reason=reason, attempts=attempts, sent_at=sent_at,
        claimed_at=created_at if state == 'sending' else None, language=_language(), **fields,
    )
    # auto_now_add / auto_now stamped the copy with today: keep the notice's own time.
    Message.objects.filter(pk=message.pk).update(created_at=created_at, updated_at=sent_at or created_at)


def copy_sla_notices(apps, schema_editor):
    Message = apps.get_model('appeals', 'Message')
    SlaNotification = apps.get_model('appeals', 'SlaNotification')
    AppealSla = apps.get_model('appeals', 'AppealSla')
    Appeal = apps.get_model('appeals', 'Appeal')
    warn_percent = round(settings.APPEALS_SLA['WARN_AT_FRACTION'] * 100)
    for notice in SlaNotification.objects.order_by('pk').iterator():
        reference = Appeal.objects.filter(pk=notice.appeal_id).values_list('reference', flat=True).first()
        sla = AppealSla.objects.filter(appeal_id=notice.appeal_id).first()
        params = {'reference': reference, 'due': _local(sla.due_at if sla else None), 'stage': notice.stage,
                  'severity': sla.severity if sla else '', 'warn_percent': warn_percent}
        for recipient in notice.recipients or []:
            _copy(Message, key=f'sla:{notice.appeal_id}:{notice.stage}:{notice.kind}:{recipient}', state=notice.state,
                  created_at=notice.created_at, sent_at=notice.sent_at, reason=notice.error,
                  attempts=0 if notice.state == 'queued' else 1, channel='email', recipient=recipient,
                  template=SLA_TEMPLATES[notice.kind], params=params, topic=SLA_TOPIC, topic_id=notice.pk)


def copy_surge_notifications(apps, schema_editor):
    Message = apps.get_model('appeals', 'Message')
    SurgeNotification = apps.get_model('appeals', 'SurgeNotification')
    User = apps.get_model('appeals', 'User')
    SurgeSettings = apps.get_model('appeals', 'SurgeSettings')
    hotline = SurgeSettings.objects.filter(pk=1).values_list('hotline', flat=True).first() or settings.SURGE['HOTLINE']
    for row in SurgeNotification.objects.select_related('alert').order_by('pk').iterator():
        alert = row.alert
        address = {'email': 'email', 'sms': 'phone'}[row.channel]
        manager_id = User.objects.filter(is_manager=True, **{address: row.recipient}).order_by('pk').values_list('pk', flat=True).first()
        key = f'surge:{alert.pk}:{row.channel}:{manager_id or row.recipient}'
        if row.channel == 'sms':
            # The previous version queued these through the outbox already: link them.
            existing = Message.objects.filter(idempotency_key__startswith=f'surge-{alert.pk}-sms-', recipient=row.recipient)
            if existing.exists():
                existing.update(topic=SURGE_TOPIC, topic_id=alert.pk)
                # New key format, so a replayed notification finds them. Only a row no provider call
                # can still be pending on (sent, failed, or never tried) is re-keyed: the provider
                # knows an attempted send by its old key, and the look-up asks for it by that key.
                settled = (existing.filter(state__in=('sent', 'failed')) | existing.filter(state='queued', attempts=0)).order_by('pk').first()
                if settled is not None and not Message.objects.filter(idempotency_key=key).exists():
                    Message.objects.filter(pk=settled.pk).update(idempotency_key=key)
                continue
        params = {'slice': f'{alert.dimension}: {alert.value}' if alert.value else alert.dimension, 'count': alert.count,
                  'window': alert.window_minutes, 'since': _local(alert.window_start), 'usual': f'{alert.usual:g}',
                  'ratio': f'{alert.ratio:g}' if alert.ratio else '', 'opened': _local(alert.opened_at),
                  'hotline': hotline,
                  'url': f"{settings.SURGE['SITE_URL'].rstrip('/')}/surge/{alert.pk}/"}
        if row.channel == 'sms':
            params = {k: str(params[k]) for k in ('slice', 'count', 'window', 'usual')}
        state = SURGE_STATES.get(row.status, 'failed')
        _copy(Message, key=key, state=state, created_at=row.created_at, sent_at=row.sent_at,
              reason=row.error or ('skipped' if row.status == 'skipped' else ''), attempts=row.attempts, channel=row.channel,
              recipient=row.recipient, template='surge_alert', params=params, topic=SURGE_TOPIC, topic_id=alert.pk)


class Migration(migrations.Migration):

    dependencies = [
        ('appeals', '0010_message_topic_index'),
    ]

    operations = [
        migrations.RunPython(copy_sla_notices, migrations.RunPython.noop),
        migrations.RunPython(copy_surge_notifications, migrations.RunPython.noop),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                # The legacy table no longer blocks TRUNCATE / deletes of alerts.
                migrations.AlterField(
                    model_name='surgenotification',
                    name='alert',
                    field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.PROTECT,
                                            related_name='notifications', to='appeals.surgealert'),
                ),
                migrations.AlterField(
                    model_name='slanotification',
                    name='state',
                    field=models.CharField(choices=[('queued', 'queued'), ('sending', 'sending'), ('sent', 'sent'), ('failed', 'failed')],
                                           default='queued', db_default='queued', max_length=10),
                ),
                migrations.AlterField(
                    model_name='slanotification',
                    name='error',
                    field=models.TextField(blank=True, db_default=''),
                ),
            ],
            state_operations=[
                migrations.RemoveField(model_name='slanotification', name='error'),
                migrations.RemoveField(model_name='slanotification', name='sent_at'),
                migrations.RemoveField(model_name='slanotification', name='state'),
                migrations.DeleteModel(name='SurgeNotification'),
            ],
        ),
    ]
