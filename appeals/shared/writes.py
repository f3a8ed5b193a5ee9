"""Helpers the services share: model validation into domain errors, snapshots for the audit."""

from django.core.exceptions import ValidationError
from django.forms.models import model_to_dict

from appeals.shared.exceptions import PermissionDenied, ValidationFailed


def validate_model(instance, *, exclude=None) -> None:
    """Run Django's model validation and re-raise it as a field-level domain error."""
    try:
        instance.full_clean(exclude=exclude, validate_constraints=False)
    except ValidationError as exc:
        raise ValidationFailed(fields={k: [str(m) for m in v] for k, v in exc.message_dict.items()}) from exc


def snapshot(instance, fields) -> dict:
    return model_to_dict(instance, fields=fields)


def require(condition: bool, message=None) -> None:
    if not condition:
        raise PermissionDenied(message)
