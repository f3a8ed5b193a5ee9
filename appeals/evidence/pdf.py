"""A PDF read by a real parser (pikepdf, on qpdf): active content refused, link targets shown.

A byte scan misses a name inside a compressed object stream or spelled with escapes
(`/J#61vaScript`); qpdf decompresses object streams and decodes names, so every object is
seen as the viewer would see it. Every object is visited (`pdf.objects` includes those kept
inside object streams), and inside each one every direct dictionary and array (actions are
often inline: `/OpenAction << /S /JavaScript ... >>`). Stream *data* (page content, images)
is never decoded: actions, scripts and attachments live in dictionaries.

Refused, each with its own code (the upload error's `code`):
  pdf_javascript     a JavaScript action, a /JS entry, or a document-level /JavaScript name tree
  pdf_launch         a Launch action (runs a program or opens a file)
  pdf_submitform     a SubmitForm action (sends form data to a server)
  pdf_importdata     an ImportData action (pulls data from a file)
  pdf_embedded_file  an embedded file (/EmbeddedFiles, a file specification with /EF,
                     an /EmbeddedFile stream, a file-attachment annotation)
  pdf_xfa            an XFA form (/XFA in the AcroForm: scriptable XML forms)
  pdf_encrypted      a password is needed to read it (it cannot be inspected)
  pdf_unreadable     the parser cannot read it at all, or it holds more objects than
                     EVIDENCE["PDF_MAX_OBJECTS"] (a scanned letter has a few dozen)
Kept, as a warning on the item: the targets of /URI link actions (the reviewer sees where
a link in the document would lead before opening it).
"""

from dataclasses import dataclass, field

import pikepdf
from django.conf import settings
from django.utils.translation import gettext as _

from appeals.shared.exceptions import ValidationFailed

MAX_DEPTH = 64  # nesting of direct objects; deeper is a crafted file
MAX_URIS = 50
MAX_URI_LENGTH = 500


@dataclass
class PdfReport:
    uris: list[str] = field(default_factory=list)
    objects: int = 0


def _reject(code: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, code=code, fields={"file": [message]})


def _refusals():
    return {
        "pdf_javascript": _("PDFs containing JavaScript are not accepted."),
        "pdf_launch": _("PDFs with a Launch action (which can start a program) are not accepted."),
        "pdf_submitform": _("PDFs with a form that submits data to a server are not accepted."),
        "pdf_importdata": _("PDFs with an ImportData action are not accepted."),
        "pdf_embedded_file": _("PDFs with embedded or attached files are not accepted; upload each file on its own."),
        "pdf_xfa": _("PDFs with XFA forms are not accepted; print the form to a plain PDF first."),
    }


_ACTION_CODES = {
    "/JavaScript": "pdf_javascript",
    "/Launch": "pdf_launch",
    "/SubmitForm": "pdf_submitform",
    "/ImportData": "pdf_importdata",
}


class _Found(Exception):
    def __init__(self, code: str):
        self.code = code


def _name(value) -> str | None:
    return str(value) if isinstance(value, pikepdf.Name) else None


def _text(value) -> str:
    if isinstance(value, pikepdf.String):
        try:
            return str(value)
        except UnicodeDecodeError:
            return bytes(value).decode("latin-1")
    return str(value)


def _check_dictionary(d, report: PdfReport) -> None:
    keys = set(d.keys())
    action = _name(d.get("/S")) if "/S" in keys else None
    if action in _ACTION_CODES:
        raise _Found(_ACTION_CODES[action])
    if "/JS" in keys:
        raise _Found("pdf_javascript")
    if "/JavaScript" in keys:  # the document-level script name tree (in /Names)
        raise _Found("pdf_javascript")
    if "/EmbeddedFiles" in keys or "/EF" in keys:
        raise _Found("pdf_embedded_file")
    type_ = _name(d.get("/Type")) if "/Type" in keys else None
    subtype = _name(d.get("/Subtype")) if "/Subtype" in keys else None
    if type_ == "/EmbeddedFile" or subtype == "/FileAttachment":
        raise _Found("pdf_embedded_file")
    if "/XFA" in keys:
        raise _Found("pdf_xfa")
    if action == "/URI" and "/URI" in keys and len(report.uris) < MAX_URIS:
        target = _text(d.get("/URI"))[:MAX_URI_LENGTH]
        if target not in report.uris:
            report.uris.append(target)


def _walk(obj, report: PdfReport, depth: int = 0) -> None:
    """This object and its direct children (indirect ones are visited on their own)."""
    if depth > MAX_DEPTH:
        raise _Found("pdf_unreadable")
    if isinstance(obj, pikepdf.Stream):
        obj = obj.stream_dict
    if isinstance(obj, pikepdf.Dictionary):
        _check_dictionary(obj, report)
        children = obj.values()
    elif isinstance(obj, pikepdf.Array):
        children = obj
    else:
        return
    for child in children:
        if isinstance(child, pikepdf.Dictionary | pikepdf.Array | pikepdf.Stream) and not child.is_indirect:
            _walk(child, report, depth + 1)


def inspect_pdf(file) -> PdfReport:
    """Open the PDF with qpdf and walk every object; raise ValidationFailed on active content."""
    file.seek(0)
    stream = getattr(file, "file", file)
    report = PdfReport()
    try:
        with pikepdf.open(stream) as pdf:
            objects = pdf.objects
            if len(objects) > settings.EVIDENCE["PDF_MAX_OBJECTS"]:  # about 60 µs each to walk
                raise _reject("pdf_unreadable", _("The PDF has too many internal objects (more than %(n)s) to be checked.")
                              % {"n": settings.EVIDENCE["PDF_MAX_OBJECTS"]})
            _walk(pdf.trailer, report)
            for obj in objects:
                report.objects += 1
                _walk(obj, report)
    except _Found as found:
        if found.code == "pdf_unreadable":
            raise _reject("pdf_unreadable", _("The PDF cannot be read (its structure is damaged or too deeply nested).")) from None
        raise _reject(found.code, _refusals()[found.code]) from None
    except pikepdf.PasswordError:
        raise _reject("pdf_encrypted", _("The PDF is password-protected; upload a copy without a password.")) from None
    except (pikepdf.PdfError, ValueError, RuntimeError, RecursionError):
        raise _reject("pdf_unreadable", _("The PDF cannot be read (its structure is damaged).")) from None
    finally:
        file.seek(0)
    return report
