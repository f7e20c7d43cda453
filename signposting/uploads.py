"""The gate in front of Django's upload handlers: a file is accepted (kept in memory or
written to a temporary file) only for a user signed in with two factors, on a page that
takes a file, and only up to that page's limit.

RequestSizeLimitMiddleware already refuses a body whose Content-Length is too large. This
handler is the second wall, on the bytes actually parsed: it stops a file that grows past
its page's limit, and it refuses every file part sent by anyone else (an anonymous POST, a
password-only session, a token call, or a file part sent to a page that takes none), so
that nothing is written to disk for them.
"""

from typing import Any

from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest

from signposting.middleware import MULTIPART_ALLOWANCE_BYTES, upload_file_limit_for


class SignedInUploadGate(FileUploadHandler):
    """First in FILE_UPLOAD_HANDLERS: passes each chunk on to Django's own handlers
    (memory, then temporary file) or stops the upload."""

    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        self.file_limit: int | None = None
        self.received = 0

    def handle_raw_input(self, *args: Any, **kwargs: Any) -> None:
        # Decided once per request, before any file part arrives.
        limit = upload_file_limit_for(self.request) if self.request is not None else None
        # A file a little over its limit (within the envelope's allowance) is let through so
        # that the page's form can say "must be smaller than" next to the field; beyond
        # that nothing more is written.
        self.file_limit = None if limit is None else limit + MULTIPART_ALLOWANCE_BYTES
        return None

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        if self.file_limit is None:
            # connection_reset: read no more of the body; the view sees no file.
            raise StopUpload(connection_reset=True)
        self.received = 0
        super().new_file(*args, **kwargs)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        if self.file_limit is None or self.received > self.file_limit:
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler (memory or temporary file) builds the file
