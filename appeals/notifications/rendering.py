"""Message texts per language: templates/notifications/<channel>/<language>/<name>...

Each language has its own template file (the zh-Hans text is written in Chinese, not
looked up in a .po catalogue), so a message reads naturally in either language and the
wording of an email can change without a translation round.
"""

from django.conf import settings
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.utils import translation

FALLBACK_LANGUAGE = "en"


def normalise_language(language: str | None) -> str:
    code = (language or settings.LANGUAGE_CODE or FALLBACK_LANGUAGE).lower()
    if code.startswith("zh"):
        return "zh-hans"
    return "en" if code.startswith("en") else FALLBACK_LANGUAGE


def render(kind: str, name: str, suffix: str, context: dict, language: str | None) -> str:
    language = normalise_language(language)
    names = [f"notifications/{kind}/{language}/{name}{suffix}", f"notifications/{kind}/{FALLBACK_LANGUAGE}/{name}{suffix}"]
    with translation.override(language):
        return render_to_string(names, context).strip()


def render_sms_text(name: str, params: dict, language: str | None) -> str:
    try:
        return render("sms", name, ".txt", params, language)
    except TemplateDoesNotExist:
        # A template known only to the provider: show its name and parameters.
        return f"[{name}] " + ", ".join(f"{k}={v}" for k, v in sorted(params.items()))


def render_email(name: str, params: dict, language: str | None) -> tuple[str, str]:
    subject = " ".join(render("email", name, ".subject.txt", params, language).split())
    body = render("email", name, ".txt", params, language)
    return subject, body
