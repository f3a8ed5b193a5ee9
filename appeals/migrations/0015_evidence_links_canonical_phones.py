import re

from django.db import migrations, models

_CANONICAL = r"^1[3-9][0-9]{9}$"


def canonical_phones(apps, schema_editor):
    """Phones are stored as their 11 national digits (appeals.shared.validators.normalise_mobile).
    Appeal and enterprise phones were already validated to that form; a user's phone was free
    text: bring the readable ones to the canonical form, leave the rest as they are."""
    import phonenumbers

    def canonical(value):
        try:
            number = phonenumbers.parse(value, "CN")
        except phonenumbers.NumberParseException:
            return None
        national = str(number.national_number)
        if number.country_code == 86 and not number.extension and phonenumbers.is_valid_number(number) and re.match(_CANONICAL, national):
            return national
        return None

    for model, fields in (("User", ["phone"]), ("Appeal", ["contact_phone"]), ("Enterprise", ["legal_rep_mobile", "admin_phone"])):
        Model = apps.get_model("appeals", model)
        for field in fields:
            rows = Model.objects.exclude(**{f"{field}__regex": _CANONICAL}).exclude(**{field: ""})
            for pk, value in rows.values_list("pk", field).iterator():
                new = canonical(value)
                if new and new != value:
                    Model.objects.filter(pk=pk).update(**{field: new})


class Migration(migrations.Migration):
    dependencies = [
        ("appeals", "0012_evidence_sweep_requeues"),
    ]

    operations = [
        migrations.AddField(
            model_name="evidenceitem",
            name="link_targets",
            field=models.JSONField(blank=True, db_default=models.Value([], output_field=models.JSONField()), default=list),
        ),
        migrations.RunPython(canonical_phones, migrations.RunPython.noop, elidable=True),
    ]
