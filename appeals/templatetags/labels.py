"""Display labels for raw choice values in rows built with values() (reports): the page shows
"严重", never "severe". {{ row.severity|severity_label }}, {{ row.state|state_label }}."""

from django import template

from appeals.core.models import AppealState, Severity

register = template.Library()


def _label(choices, value):
    try:
        return choices(value).label
    except ValueError:
        return value


@register.filter
def severity_label(value):
    return _label(Severity, value)


@register.filter
def state_label(value):
    return _label(AppealState, value)
