"""An upload handler that hashes each chunk as Django's multipart parser receives it.

Large uploads are spooled to a temporary file by Django; this handler also feeds every
chunk to SHA-256 on the way, so the digest of a 200 MB upload costs no second read.
Small uploads (kept in memory by MemoryFileUploadHandler) are hashed by the service.
"""

import hashlib

from django.core.files.uploadhandler import MemoryFileUploadHandler, TemporaryFileUploadHandler

# Django reads multipart bodies in 64 KiB chunks by default; larger chunks mean fewer
# Python-level steps per megabyte (the parser uses the smallest chunk size of its handlers).
CHUNK_SIZE = 1024 * 1024


class LargeChunkMemoryFileUploadHandler(MemoryFileUploadHandler):
    chunk_size = CHUNK_SIZE


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
