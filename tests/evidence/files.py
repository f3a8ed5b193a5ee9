"""Files the evidence tests upload, generated here (good ones and the bad-file corpus)."""

import gzip
import io
import struct
import zipfile

from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from PIL import Image


def image_bytes(fmt: str = "JPEG", size=(64, 48), color=(200, 30, 30), mode="RGB", exif=None) -> bytes:
    img = Image.new(mode, size, color if mode != "1" else 0)
    out = io.BytesIO()
    kwargs = {"exif": exif} if exif is not None else {}
    img.save(out, format=fmt, **kwargs)
    return out.getvalue()


def jpeg_with_orientation(size=(80, 40), orientation=6) -> bytes:
    """A landscape JPEG whose EXIF says 'rotate 90°', plus a camera model tag."""
    exif = Image.Exif()
    exif[0x0112] = orientation  # Orientation
    exif[0x0110] = "Secret Camera 3000"  # Model
    return image_bytes("JPEG", size=size, exif=exif.tobytes())


def pdf_bytes() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )


def _pikepdf(mutate=None, *, object_streams: bool = True) -> bytes:
    """A one-page PDF written by qpdf; `mutate(pdf)` adds what the case needs. With object
    streams (the default) every dictionary lands inside a compressed object stream, out of
    reach of a byte scan."""
    import pikepdf

    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(200, 200))
    if mutate:
        mutate(pdf)
    out = io.BytesIO()
    mode = pikepdf.ObjectStreamMode.generate if object_streams else pikepdf.ObjectStreamMode.disable
    pdf.save(out, object_stream_mode=mode, compress_streams=True)
    return out.getvalue()


def _action(pdf, **entries):
    import pikepdf

    return pdf.make_indirect(pikepdf.Dictionary({f"/{k}": v for k, v in entries.items()}))


def _open_action(**entries):
    import pikepdf

    def mutate(pdf):
        pdf.Root.OpenAction = _action(pdf, **{k: pikepdf.Name(v) if k == "S" else v for k, v in entries.items()})
    return mutate


def _link_annotation(action_entries: dict):
    import pikepdf

    def mutate(pdf):
        action = pikepdf.Dictionary({f"/{k}": v for k, v in action_entries.items()})  # inline (direct) action
        annot = pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, Rect=[10, 10, 100, 30], A=action)
        pdf.pages[0].Annots = pdf.make_indirect(pikepdf.Array([pdf.make_indirect(annot)]))
    return mutate


def clean_pdf(*, object_streams: bool = True) -> bytes:
    return _pikepdf(object_streams=object_streams)


def pdf_with_uri_links(*targets: str) -> bytes:
    import pikepdf

    def mutate(pdf):
        annots = []
        for i, target in enumerate(targets):
            action = pikepdf.Dictionary(S=pikepdf.Name.URI, URI=pikepdf.String(target))
            annots.append(pdf.make_indirect(pikepdf.Dictionary(
                Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, Rect=[10, 10 + 30 * i, 100, 30 + 30 * i], A=action)))
        pdf.pages[0].Annots = pdf.make_indirect(pikepdf.Array(annots))
    return _pikepdf(mutate)


def _name_escaped_javascript() -> bytes:
    """/S /J#61vaScript written by hand (qpdf would normalise the name on save)."""
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R/OpenAction 4 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
        b"4 0 obj<</S/J#61vaScript/#4AS(app.alert(1))>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )


def _document_javascript(pdf):
    import pikepdf

    script = _action(pdf, S=pikepdf.Name.JavaScript, JS=pikepdf.String("this.exportDataObject()"))
    pdf.Root.Names = pikepdf.Dictionary(JavaScript=pikepdf.Dictionary(Names=pikepdf.Array([pikepdf.String("a"), script])))


def _embedded_file(pdf):
    pdf.attachments["payload.exe"] = pdf_attachment_spec(pdf)


def pdf_attachment_spec(pdf):
    import pikepdf

    return pikepdf.AttachedFileSpec(pdf, b"MZ\x90\x00 not really", filename="payload.exe")


def _xfa(pdf):
    import pikepdf

    xfa = pdf.make_stream(b"<xdp:xdp xmlns:xdp='http://ns.adobe.com/xdp/'/>")
    pdf.Root.AcroForm = pdf.make_indirect(pikepdf.Dictionary(Fields=pikepdf.Array(), XFA=xfa))


def _file_attachment_annotation(pdf):
    import pikepdf

    annot = pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.FileAttachment, Rect=[0, 0, 20, 20],
                               Contents=pikepdf.String("see attachment"))
    pdf.pages[0].Annots = pdf.make_indirect(pikepdf.Array([pdf.make_indirect(annot)]))


def pdf_corpus() -> list[tuple[str, bytes, str]]:
    """(name, bytes, refusal code): active PDFs, most hidden in compressed object streams."""
    import pikepdf

    return [
        ("openaction-js-objstm.pdf", _pikepdf(_open_action(S="/JavaScript", JS=pikepdf.String("app.alert(1)"))), "pdf_javascript"),
        ("openaction-js-plain.pdf", _pikepdf(_open_action(S="/JavaScript", JS=pikepdf.String("app.alert(1)")), object_streams=False),
         "pdf_javascript"),
        ("name-escaped-js.pdf", _name_escaped_javascript(), "pdf_javascript"),
        ("document-js-names.pdf", _pikepdf(_document_javascript), "pdf_javascript"),
        ("link-js-inline.pdf", _pikepdf(_link_annotation({"S": pikepdf.Name.JavaScript, "JS": pikepdf.String("x()")})),
         "pdf_javascript"),
        ("launch-objstm.pdf", _pikepdf(_open_action(S="/Launch", F=pikepdf.String("cmd.exe"))), "pdf_launch"),
        ("submitform-link.pdf", _pikepdf(_link_annotation({"S": pikepdf.Name.SubmitForm, "F": pikepdf.String("https://x.example/c")})),
         "pdf_submitform"),
        ("importdata-objstm.pdf", _pikepdf(_open_action(S="/ImportData", F=pikepdf.String("data.fdf"))), "pdf_importdata"),
        ("embedded-file.pdf", _pikepdf(_embedded_file), "pdf_embedded_file"),
        ("file-attachment-annot.pdf", _pikepdf(_file_attachment_annotation), "pdf_embedded_file"),
        ("xfa-form.pdf", _pikepdf(_xfa), "pdf_xfa"),
        ("encrypted.pdf", _encrypted_pdf(), "pdf_encrypted"),
        ("garbage-body.pdf", b"%PDF-1.7\n" + bytes(range(256)) * 4 + b"\n%%EOF\n", "pdf_unreadable"),
    ]


def _encrypted_pdf() -> bytes:
    import pikepdf

    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(200, 200))
    out = io.BytesIO()
    pdf.save(out, encryption=pikepdf.Encryption(user="secret", owner="owner"))
    return out.getvalue()


def gzip_bomb(inflated_bytes: int) -> bytes:
    """A valid-looking CSV log (the header, then one row again and again) that compresses
    about 1000:1: `inflated_bytes` of it, gzip-compressed."""
    out = io.BytesIO()
    row = b"2026-11-20 10:00:00,wx-1,operations,login,,hi,10.0.0.1,d1\n"
    block = row * (1024 * 1024 // len(row))
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9) as gz:
        gz.write(HEADER.encode())
        for _ in range(inflated_bytes // len(block)):
            gz.write(block)
    return out.getvalue()


HEADER = "time,operator,account_type,action,target,message,ip,device_id\n"


def log_csv(rows: list[str], header: bool = True) -> str:
    return (HEADER if header else "") + "".join(r if r.endswith("\n") else r + "\n" for r in rows)


def upload(name: str, data: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def temp_upload(name: str, data: bytes) -> TemporaryUploadedFile:
    """Like a big upload: spooled to a temporary file on disk."""
    f = TemporaryUploadedFile(name, "application/octet-stream", len(data), None)
    f.write(data)
    f.seek(0)
    return f


def bomb_png(pixels_side: int) -> bytes:
    """A 1-bit PNG that is tiny on disk but huge once decoded."""
    return image_bytes("PNG", size=(pixels_side, pixels_side), mode="1")


def zip_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("a.txt", "hello")
    return out.getvalue()


def elf_bytes() -> bytes:
    return b"\x7fELF\x02\x01\x01" + b"\x00" * 9 + struct.pack("<HHI", 2, 62, 1) + b"\x00" * 200


# (name, kind, bytes, expected error code): every one must be refused with that code.
def bad_corpus() -> list[tuple[str, str, bytes, str]]:
    jpeg = image_bytes("JPEG", size=(300, 200))
    png = image_bytes("PNG", size=(300, 200))
    return [
        ("empty.jpg", "ban_notice", b"", "empty_file"),
        ("photo.jpg", "admin_id_front", b"MZ\x90\x00\x03" + b"\x00" * 500, "executable"),
        ("notice.png", "ban_notice", elf_bytes(), "executable"),
        ("log.csv", "operation_log", b"#!/bin/sh\nrm -rf /\n", "executable"),
        ("notice.png", "ban_notice", b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>", "html"),
        ("id.png", "admin_id_front", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "svg"),
        ("id.svg", "admin_id_back", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "svg"),
        ("log.csv", "operation_log", b"<html><script>fetch('/x')</script></html>", "html"),
        ("truncated.jpg", "ban_notice", jpeg[: len(jpeg) // 2], "corrupt_image"),
        ("truncated.png", "ban_notice", png[: len(png) // 2], "corrupt_image"),
        ("corrupt.png", "admin_id_front", b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"garbage" * 20, "corrupt_image"),
        ("corrupt.webp", "ban_notice", b"RIFF\x20\x00\x00\x00WEBPVP8 " + b"\x00" * 24, "corrupt_image"),
        # 7000 x 7000 = 49 Mpx: under Pillow's own limit, over ours -> a warning, treated as an error.
        ("bomb.png", "ban_notice", bomb_png(7000), "image_bomb"),
        # 13000 x 13000 = 169 Mpx: over twice our limit -> Pillow's DecompressionBombError.
        ("bigbomb.png", "ban_notice", bomb_png(13000), "image_bomb"),
        ("id.pdf", "admin_id_front", pdf_bytes(), "type_not_allowed"),
        ("license.pdf", "business_license", b"%PDF-1.4\n1 0 obj<<>>endobj\n", "corrupt_pdf"),
        ("letter.pdf", "authorization_letter", pdf_bytes().replace(b"/Type/Catalog", b"/Type/Catalog/OpenAction<</S/JavaScript/JS(app.alert(1))>>"), "pdf_javascript"),
        *(("letter.pdf", "authorization_letter", data, code) for _name, data, code in pdf_corpus()),
        ("log.csv.gz", "operation_log", gzip_bomb(50 * 1024 * 1024), "log_ratio"),
        ("log.pdf", "operation_log", image_bytes("PNG"), "disguised_type"),
        ("letter.pdf", "authorization_letter", log_csv(["2026-11-20 10:00:00,a,master,login,,hi,1.1.1.1,d"]).encode(), "disguised_type"),
        ("anim.gif", "ban_notice", image_bytes("GIF"), "unsupported_type"),
        ("bitmap.bmp", "ban_notice", image_bytes("BMP"), "unsupported_type"),
        ("bundle.zip", "business_license", zip_bytes(), "archive"),
        ("noise.bin", "other", bytes(range(256)) * 8, "unsupported_type"),
        ("log.csv.gz", "operation_log", gzip.compress(b"MZ\x90\x00" + b"\x00\x01\x02" * 300), "not_text"),
        ("log.csv.gz", "operation_log", b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + b"\xff" * 64, "corrupt_gzip"),
        ("log.csv", "operation_log", "这是一段没有逗号的文字\n第二行\n".encode(), "not_csv"),
    ]
