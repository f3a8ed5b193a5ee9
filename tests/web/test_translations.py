"""The zh-Hans catalogue: complete, well-formed, and the committed .mo matches the .po."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.utils import translation

from appeals.core.workflow import Action
from appeals.models import AppealState

LC = Path(__file__).resolve().parents[2] / "appeals" / "locale" / "zh_Hans" / "LC_MESSAGES"


def _entries(po: str):
    for block in po.split("\n\n"):
        msgid = re.search(r'(?ms)^msgid ((?:".*?"\n?)+)', block)
        if not msgid:
            continue
        strs = re.findall(r'(?ms)^msgstr(?:\[\d\])? ((?:".*?"\n?)+)', block)
        yield "".join(re.findall(r'"(.*?)"', msgid.group(1))), ["".join(re.findall(r'"(.*?)"', s)) for s in strs], block


def test_every_entry_is_translated_and_none_is_fuzzy():
    po = (LC / "django.po").read_text(encoding="utf-8")
    untranslated = [msgid for msgid, strs, block in _entries(po) if msgid and (not all(strs) or "#, fuzzy" in block)]
    assert untranslated == []


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="gettext's msgfmt is not installed")
def test_committed_mo_is_compiled_from_the_po(tmp_path):
    out = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check-format", "-o", str(out), str(LC / "django.po")], check=True)
    assert out.read_bytes() == (LC / "django.mo").read_bytes(), "run `make messages` and commit the .mo"


def test_domain_labels_are_translated():
    with translation.override("zh-hans"):
        assert str(AppealState.APPROVED.label) == "已批准"
        assert str(Action.RECOMMEND_APPROVE.label) == "建议批准"
    with translation.override("en"):
        assert str(AppealState.APPROVED.label) == "Approved"
