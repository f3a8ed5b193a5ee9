"""An uploaded export of WeCom operation records: its type from its bytes, then its records.

Accepted: the API's JSON pages (as this desk stores them, a list of pages, or one page), and
the admin console's export as CSV (UTF-8 or GBK) or XLSX, with Chinese headers. An XLSX is a
zip: its declared inflated size is checked before openpyxl reads it (read-only, streaming).
"""

import csv
import io
import json
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from appeals.evidence.files import reject, sniff
from appeals.evidence.models import FileType
from appeals.platform.records import RecordsError, records_from_document, records_from_table

HEAD_BYTES = 64 * 1024


@dataclass
class ReadExport:
    file_type: str
    records: list


def _xlsx_records(file) -> list:
    import openpyxl

    try:
        with zipfile.ZipFile(file) as zf:
            names = set(zf.namelist())
            if "xl/workbook.xml" not in names:
                raise reject("not_xlsx", _("The zip file is not an Excel workbook (XLSX)."))
            inflated = sum(info.file_size for info in zf.infolist())
    except zipfile.BadZipFile:
        raise reject("corrupt_xlsx", _("The Excel file is damaged and cannot be read.")) from None
    limit = settings.WECOM["UPLOAD_MAX_INFLATED_BYTES"]
    if inflated > limit:
        raise reject("log_too_large", _("The Excel file inflates to more than %(mb)s MB; export a shorter period.")
                     % {"mb": limit // (1024 * 1024)})
    file.seek(0)
    try:
        workbook = openpyxl.load_workbook(file, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds on a damaged workbook
        raise reject("corrupt_xlsx", _("The Excel file is damaged and cannot be read.")) from None
    try:
        sheet = workbook.worksheets[0]
        return records_from_table(sheet.iter_rows(values_only=True))
    finally:
        workbook.close()


def _text(file) -> str:
    data = file.read()
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise reject("not_text", _("The file is neither UTF-8 nor GBK text."))


def read_export(file) -> ReadExport:
    """Check an uploaded export and read its records; a refusal is a field error on `file`."""
    if not file.size:
        raise reject("empty_file", _("The file is empty."))
    limit = settings.WECOM["UPLOAD_MAX_BYTES"]
    if file.size > limit:
        raise reject("too_large", _("The file is larger than %(mb)s MB.") % {"mb": limit // (1024 * 1024)})
    file.seek(0)
    head = file.read(HEAD_BYTES)
    file.seek(0)
    try:
        if head.startswith(b"PK\x03\x04"):
            return ReadExport(FileType.XLSX, _xlsx_records(file))
        sniff(head)  # executables, archives, images, markup: refused with their own reason
        stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        if stripped[:1] in (b"{", b"["):
            try:
                doc = json.loads(_text(file))
            except json.JSONDecodeError as exc:
                raise reject("invalid_json", _("The JSON file cannot be read: %(error)s") % {"error": exc.msg}) from None
            return ReadExport(FileType.JSON, records_from_document(doc))
        records = records_from_table(csv.reader(io.StringIO(_text(file))))
        return ReadExport(FileType.CSV, records)
    except RecordsError as exc:
        raise reject("not_operation_records",
                     _("The file does not hold WeCom operation records (%(reason)s).") % {"reason": exc}) from None
    except csv.Error as exc:
        raise reject("not_operation_records",
                     _("The file does not hold WeCom operation records (%(reason)s).") % {"reason": exc}) from None
    finally:
        file.seek(0)
