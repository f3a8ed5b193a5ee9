"""Upload handlers for evidence: big chunks, SHA-256 while streaming, oversize refused early.

Large uploads are spooled to a temporary file by Django; the hashing handler also feeds
every chunk to SHA-256 on the way, so the digest of a 200 MB upload costs no second read.
Small uploads (kept in memory) are hashed by the service. A request body larger than any
evidence kind may be is not parsed at all: nothing is written to disk for it.
"""

import hashlib

from django.conf import settings
from django.core.files.uploadhandler import MemoryFileUploadHandler, TemporaryFileUploadHandler
from django.http import QueryDict
from django.utils.datastructures import MultiValueDict

# Django reads multipart bodies in 64 KiB chunks by default; larger chunks mean fewer
# Python-level steps per megabyte (the parser uses the smallest chunk size of its handlers).
CHUNK_SIZE = 1024 * 1024
# Room for the other form fields and the multipart framing around the file.
_FORM_OVERHEAD = 64 * 1024


def largest_upload() -> int:
    return max(settings.EVIDENCE["MAX_BYTES_PER_KIND"].values()) + _FORM_OVERHEAD


class LargeChunkMemoryFileUploadHandler(MemoryFileUploadHandler):
    chunk_size = CHUNK_SIZE

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length and content_length > largest_upload():
            # Short-circuit the parser: no file is read. The view reports `too_large`.
            self.request.upload_refused_size = content_length
            return QueryDict(encoding=encoding), MultiValueDict()
        return super().handle_raw_input(input_data, META, content_length, boundary, encoding)


class HashingTemporaryFileUploadHandler(TemporaryFileUploadHandler):
    chunk_size = CHUNK_SIZE

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self._sha256 = hashlib.sha256()

    def receive_data_chunk(self, raw_data, start):
        self._sha256.update(raw_data)
        return super().receive_data_chunk(raw_data, start)

    def file_complete(self, file_size):
        uploaded = super().file_complete(file_size)
        uploaded.sha256_streamed = self._sha256.hexdigest()
        uploaded.size_streamed = file_size
        return uploaded
