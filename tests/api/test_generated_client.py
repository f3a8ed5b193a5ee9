"""A Python client generated from the schema (openapi-python-client, pinned in requirements-dev)
runs the whole lifecycle against a live server, unpatched: token, file, upload, submit, both
verification proofs, both reviews, the bundle and the CSV report.

The generator's only configuration maps the schema's binary media types (application/zip,
text/csv, images, PDF, gzip) to bytes in the client; the schema itself is served as is.
"""

import importlib
import io
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from appeals.evidence import services as evidence_services
from appeals.models import Appeal
from tests import builders

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

PACKAGE = "appeal_desk_client"
BINARY_TYPES = ["application/zip", "application/gzip", "application/pdf", "image/jpeg", "image/png", "image/webp",
                "text/csv"]


def _schema_yaml() -> str:
    from django.test import Client

    response = Client(HTTP_ACCEPT_LANGUAGE="zh-hans").get("/api/schema/")  # the language must not matter
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def generated(tmp_path):
    """Generate the client package from /api/schema/ and make it importable."""
    if not shutil.which("openapi-python-client", path=str(Path(sys.executable).parent)):
        pytest.fail("openapi-python-client is not installed (requirements-dev.txt)")
    (tmp_path / "schema.yaml").write_text(_schema_yaml(), encoding="utf-8")
    (tmp_path / "config.yaml").write_text(yaml.safe_dump({
        "project_name_override": PACKAGE, "package_name_override": PACKAGE,
        "content_type_overrides": dict.fromkeys(BINARY_TYPES, "application/octet-stream"),
    }))
    bindir = str(Path(sys.executable).parent)
    result = subprocess.run(
        [str(Path(bindir) / "openapi-python-client"), "generate", "--path", "schema.yaml", "--meta", "none",
         "--output-path", str(tmp_path / PACKAGE), "--config", "config.yaml"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PATH": bindir + os.pathsep + os.environ.get("PATH", "")},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # Every operation made it into the client: nothing skipped for an unsupported body or response.
    assert "WARNING" not in result.stdout + result.stderr, result.stdout + result.stderr
    sys.path.insert(0, str(tmp_path))
    try:
        yield tmp_path / PACKAGE
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def test_every_generated_module_imports(generated):
    modules = sorted(p for p in (generated / "api").rglob("*.py") if p.name != "__init__.py")
    assert len(modules) >= 48
    for path in modules:
        importlib.import_module(".".join((PACKAGE, *path.relative_to(generated).with_suffix("").parts)))


def test_lifecycle_through_the_generated_client(generated, live_server, enterprise_admin, incident, first_reviewer,
                                                  second_reviewer, manager):
    client_mod = importlib.import_module(f"{PACKAGE}.client")
    models = importlib.import_module(f"{PACKAGE}.models")
    types = importlib.import_module(f"{PACKAGE}.types")

    def api(name):
        group, _, op = name.partition(".")
        return importlib.import_module(f"{PACKAGE}.api.{group}.{op}")

    anonymous = client_mod.Client(base_url=live_server.url, raise_on_unexpected_status=True)

    def login(username):
        token = api("auth.v1_auth_token_create").sync(
            client=anonymous, body=models.TokenLoginInputRequest(username=username, password="demo-pass-2026"))
        assert isinstance(token, models.TokenOutput), token
        # The generated client's default: "Authorization: Bearer <token>".
        return client_mod.AuthenticatedClient(base_url=live_server.url, token=token.token,
                                              raise_on_unexpected_status=True)

    admin = login("admin-a")
    filed = api("appeals.v1_appeals_create").sync(client=admin, body=models.AppealCreateInputRequest(
        incident=incident.pk, statement="We did not spam; please lift the ban.", contact_phone="13812345678"))
    assert isinstance(filed, models.AppealDetailOutput), filed
    reference = filed.reference
    appeal = Appeal.objects.get(reference=reference)

    for entry in evidence_services.evidence_missing(appeal):
        name, content = builders.evidence_content(entry.kind)
        uploaded = api("evidence.appeal_evidence_upload").sync(reference, client=admin, body=models.EvidenceUploadInputRequest(
            kind=models.EvidenceKindEnum(entry.kind), file=types.File(payload=io.BytesIO(content), file_name=name)))
        assert isinstance(uploaded, models.EvidenceOutput), uploaded
    checklist = api("evidence.appeal_evidence_checklist").sync(reference, client=admin)
    assert checklist.complete

    submitted = api("appeals.v1_appeals_submit_create").sync(reference, client=admin)
    assert submitted.state == models.AppealStateEnum.SUBMITTED  # held until both proofs are given

    # The SMS code and the email link, read where they were delivered.
    if not builders.worker_delivers():
        builders.deliver_queued(appeal)
    builders.wait_until_delivered(appeal)
    code, link_token = builders.sms_code_for(appeal), builders.email_token_for(appeal)
    status = api("verification.appeal_verification_verify_code").sync(
        reference, client=admin, body=models.CodeInputRequest(code=code))
    assert isinstance(status, models.VerificationOutput), status
    confirmed = api("verification.verification_confirm_email").sync(client=anonymous, body=models.TokenInputRequest(token=link_token))
    assert confirmed.status.value == "verified"
    assert confirmed.appeal_state == "first_review"

    first, second = login("reviewer-1"), login("reviewer-2")
    assert api("appeals.v1_appeals_claim_create").sync(reference, client=first).state == models.AppealStateEnum.FIRST_REVIEW
    reviewed = api("appeals.v1_appeals_first_review_create").sync(reference, client=first, body=models.FirstReviewInputRequest(
        decision=models.FirstReviewInputDecisionEnum("approve")))
    assert reviewed.state == models.AppealStateEnum.SECOND_REVIEW, reviewed
    api("appeals.v1_appeals_claim_create").sync(reference, client=second)
    decided = api("appeals.v1_appeals_second_review_create").sync(reference, client=second, body=models.SecondReviewInputRequest(
        decision=models.SecondReviewInputDecisionEnum("approve"), outcome_code="restored"))
    assert decided.state == models.AppealStateEnum.APPROVED, decided

    bundle = api("evidence.appeal_bundle").sync_detailed(reference, client=admin)
    assert bundle.status_code == 200 and bundle.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(bundle.parsed.payload) as archive:
        assert archive.testzip() is None and len(archive.namelist()) >= 4

    boss = login("manager")
    csv = api("reports.reports_sla_csv").sync_detailed(models.ReportsSlaCsvTable("compliance"), client=boss, live=True)
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    text = csv.parsed.payload.read().decode("utf-8-sig")
    assert text.splitlines()[0].count(",") >= 3
