"""What an uploaded file really is: type sniffed from its bytes, then decoded to prove it.

Nothing here trusts the file name or the client's content type. The allow-list is small
(JPEG, PNG, WebP, PDF, CSV and gzip-compressed CSV), so the magic bytes are checked here
directly rather than through libmagic: no system library to install, nothing parsed
beyond the few bytes each check needs, and every refusal carries its own reason.
"""

import codecs
import re
import struct
import warnings
import zlib
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from appeals.evidence.models import FILE_TYPE_EXTENSION, IMAGE_TYPES, KIND_RULES, FileType
from appeals.evidence.pdf import inspect_pdf
from appeals.shared.exceptions import ValidationFailed

HEAD_BYTES = 64 * 1024
PILLOW_FORMAT = {FileType.JPEG: "JPEG", FileType.PNG: "PNG", FileType.WEBP: "WEBP"}
_TYPE_LABEL = {
    "jpeg": "JPEG",
    "png": "PNG",
    "webp": "WebP",
    "pdf": "PDF",
    "csv": "CSV",
    "csv_gzip": "CSV (gzip)",
}
# Extensions a user might give, mapped to the type that name claims.
_EXTENSION_CLAIMS = {
    "jpg": "jpeg", "jpeg": "jpeg", "png": "png", "webp": "webp", "pdf": "pdf", "csv": "csv", "gz": "csv_gzip",
}
_EXECUTABLE_MAGIC = (
    b"MZ",  # Windows PE
    b"\x7fELF",
    b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe",  # Mach-O
    b"\xca\xfe\xba\xbe",  # Mach-O fat binary / Java class
    b"#!",  # script with an interpreter line
)
_HTML_MARKERS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<script", b"<iframe", b"<meta", b"<a ", b"<div")


def reject(code: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, code=code, fields={"file": [message]})


@dataclass(frozen=True)
class Inspected:
    file_type: str
    width: int | None = None
    height: int | None = None
    # PDF only: where its /URI links lead (shown to the reviewer as a warning)
    links: tuple[str, ...] = ()


def _read_head(file, n: int = HEAD_BYTES) -> bytes:
    file.seek(0)
    head = file.read(n)
    file.seek(0)
    return head


_SVG_ROOT = re.compile(
    rb"^(?:<\?xml[^>]*>\s*)?(?:(?:<!--.*?-->|<!doctype[^>]*>|<\?[^>]*>)\s*)*<svg[\s>/]", re.DOTALL
)


def _looks_like_markup(text_head: bytes) -> str | None:
    """Markup only when the text *starts* as markup: a CSV whose cells mention `<svg` is a CSV."""
    lowered = text_head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()[:4096]
    if not lowered.startswith(b"<"):
        return None
    if _SVG_ROOT.match(lowered) or (lowered.startswith(b"<?xml") and b"<svg" in lowered):
        return "svg"
    if lowered.startswith(b"<") and any(marker in lowered for marker in _HTML_MARKERS):
        return "html"
    if lowered.startswith(b"<?xml"):
        return "xml"
    return None


def sniff(head: bytes) -> str:
    """The file type from its first bytes, or a ValidationFailed naming what it is instead."""
    if head.startswith(b"\xff\xd8\xff"):
        return FileType.JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return FileType.PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return FileType.WEBP
    if head.startswith(b"%PDF-"):
        return FileType.PDF
    if head.startswith(b"\x1f\x8b\x08"):
        return FileType.CSV_GZIP
    if head.startswith(_EXECUTABLE_MAGIC):
        raise reject("executable", _("Executable files and scripts are not accepted."))
    if head.startswith((b"PK\x03\x04", b"Rar!", b"7z\xbc\xaf\x27\x1c")):
        raise reject("archive", _("Archives (zip, rar, 7z, office documents) are not accepted; upload the files themselves."))
    if head.startswith((b"GIF87a", b"GIF89a", b"BM", b"II*\x00", b"MM\x00*")):
        raise reject("unsupported_type", _("This image format is not accepted; use JPEG, PNG or WebP."))
    markup = _looks_like_markup(head)
    if markup == "svg":
        raise reject("svg", _("SVG images are not accepted (they can carry scripts); use JPEG, PNG or WebP."))
    if markup in ("html", "xml"):
        raise reject("html", _("HTML and XML documents are not accepted."))
    if _text_encoding(head) is not None:
        return FileType.CSV
    raise reject("unsupported_type", _("The file type could not be recognised; accepted are JPEG, PNG, WebP, PDF and CSV."))


def _text_encoding(sample: bytes) -> str | None:
    """'utf-8' or 'gb18030' if the sample is text in one of them (a cut last character is fine)."""
    if not sample or b"\x00" in sample:
        return None
    for encoding in ("utf-8", "gb18030"):
        try:
            codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
        except UnicodeDecodeError:
            continue
        return encoding
    return None


def _check_csv_text(sample: bytes) -> None:
    if _looks_like_markup(sample):
        raise reject("html", _("HTML and XML documents are not accepted."))
    if _text_encoding(sample) is None:
        raise reject("not_text", _("The operation log must be a CSV text file in UTF-8 or GBK."))
    first_line = sample.lstrip(b"\xef\xbb\xbf \t\r\n").split(b"\n", 1)[0]
    if b"," not in first_line:
        raise reject("not_csv", _("The operation log is not comma-separated; see the documented CSV layout."))


def _check_gzip_inflation(file) -> None:
    """Inflate the whole gzip stream (bounded memory) and refuse it as soon as it grows past
    EVIDENCE["LOG_MAX_INFLATED_BYTES"], or past EVIDENCE["LOG_MAX_INFLATE_RATIO"] times the
    bytes read so far (once it has inflated more than LOG_RATIO_GRACE_BYTES): a decompression
    bomb costs milliseconds here, never minutes of the analysis worker."""
    max_bytes = settings.EVIDENCE["LOG_MAX_INFLATED_BYTES"]
    max_ratio = settings.EVIDENCE["LOG_MAX_INFLATE_RATIO"]
    grace = settings.EVIDENCE["LOG_RATIO_GRACE_BYTES"]
    too_large = reject("log_too_large", _("The compressed log inflates to more than %(mb)s MB; split it or upload it uncompressed.")
                       % {"mb": max_bytes // (1024 * 1024)})
    bomb = reject("log_ratio", _("The compressed log inflates more than %(n)s times its size; it looks like a decompression bomb.")
                  % {"n": max_ratio})
    step = 256 * 1024
    file.seek(0)
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    read = inflated = 0
    pending = b""
    try:
        while True:
            if inflater.unconsumed_tail:
                data = inflater.unconsumed_tail
            elif pending:
                data, pending = pending, b""
            else:
                data = file.read(step)
                read += len(data)
                if not data:
                    break
            inflated += len(inflater.decompress(data, 4 * step))
            if inflated > max_bytes:
                raise too_large
            if inflated > grace and inflated > max_ratio * read:
                raise bomb
            if inflater.eof:  # end of one gzip member: another may follow
                pending = inflater.unused_data
                if not pending:
                    pending = file.read(step)
                    read += len(pending)
                if not pending.startswith(b"\x1f\x8b"):
                    break  # end of file (or trailing bytes, which gzip readers ignore)
                inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    except zlib.error:
        raise reject("corrupt_gzip", _("The gzip file is damaged and cannot be decompressed.")) from None
    finally:
        file.seek(0)


def _gunzip_head(file) -> bytes:
    file.seek(0)
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    out = b""
    try:
        while len(out) < HEAD_BYTES:
            chunk = file.read(HEAD_BYTES)
            if not chunk:
                break
            out += inflater.decompress(chunk, HEAD_BYTES - len(out))
            if inflater.eof:
                break
    except zlib.error:
        raise reject("corrupt_gzip", _("The gzip file is damaged and cannot be decompressed.")) from None
    finally:
        file.seek(0)
    if not out:
        raise reject("corrupt_gzip", _("The gzip file is damaged and cannot be decompressed."))
    return out


class _Unclosable:
    """Pillow closes the file it decoded from; the upload's file must stay open for storage."""

    def __init__(self, fp):
        self._fp = fp

    def read(self, *args):
        return self._fp.read(*args)

    def seek(self, *args):
        return self._fp.seek(*args)

    def tell(self):
        return self._fp.tell()

    def close(self):
        pass


def open_image_safely(fp, file_type: str) -> Image.Image:
    """Open and fully decode an image, restricted to its sniffed format, bombs refused.

    The caller closes the returned image. Pixel limit from settings (lower than Pillow's).
    """
    Image.MAX_IMAGE_PIXELS = settings.EVIDENCE["MAX_IMAGE_PIXELS"]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(_Unclosable(fp), formats=[PILLOW_FORMAT[file_type]])
            try:
                img.load()
            except BaseException:
                img.close()
                raise
            return img
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise reject(
            "image_bomb",
            _("The image is too large (more than %(n)s pixels); it may be a decompression bomb.")
            % {"n": f"{settings.EVIDENCE['MAX_IMAGE_PIXELS']:,}"},
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error, zlib.error):
        raise reject("corrupt_image", _("The image is truncated or damaged and cannot be opened.")) from None


def inspect_upload(file, *, kind: str, name: str = "") -> Inspected:
    """Sniff, check against the kind's allow-list, and decode. Raises ValidationFailed on refusal."""
    if not file.size:
        raise reject("empty_file", _("The file is empty."))
    head = _read_head(file)
    detected = sniff(head)
    allowed = KIND_RULES[kind][1]
    if detected not in allowed:
        claimed = _EXTENSION_CLAIMS.get(name.rsplit(".", 1)[-1].lower()) if "." in name else None
        labels = ", ".join(_TYPE_LABEL[t] for t in allowed)
        if claimed and claimed != detected:
            raise reject(
                "disguised_type",
                _("The file is named like %(claimed)s but its content is %(actual)s; accepted here: %(allowed)s.")
                % {"claimed": _TYPE_LABEL[claimed], "actual": _TYPE_LABEL[detected], "allowed": labels},
            )
        raise reject(
            "type_not_allowed",
            _("%(actual)s is not accepted for this kind of evidence; accepted here: %(allowed)s.")
            % {"actual": _TYPE_LABEL[detected], "allowed": labels},
        )
    if detected in IMAGE_TYPES:
        file.seek(0)
        img = open_image_safely(file, detected)
        width, height = img.size
        img.close()
        file.seek(0)
        return Inspected(detected, width, height)
    if detected == FileType.PDF:
        file.seek(max(0, file.size - 2048))
        tail = file.read()
        file.seek(0)
        if b"%%EOF" not in tail:
            raise reject("corrupt_pdf", _("The PDF is truncated (no end-of-file marker)."))
        report = inspect_pdf(file)
        return Inspected(detected, links=tuple(report.uris))
    sample = _gunzip_head(file) if detected == FileType.CSV_GZIP else head
    _check_csv_text(sample)
    if detected == FileType.CSV_GZIP:
        _check_gzip_inflation(file)
    return Inspected(detected)


def extension_for(file_type: str) -> str:
    return FILE_TYPE_EXTENSION[file_type]
