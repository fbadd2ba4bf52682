"""How long a request the servers read, and gunicorn's own refusals in the API's error shape.

The longest request the contract admits is long: up to five filters of 50 values of 200
characters each (§3.1), every character percent-encoded in up to 12 bytes (a 4-byte UTF-8
character): about 603 KB, plus the window, the comparison and, on the page, the token and
the view. gunicorn reads at most 4,094 bytes of request line by default and clamps any
setting but 0 (no limit at all) to 8,190: 50 user ids and 50 agent ids, as UUIDs, got
gunicorn's HTML "414 URI Too Long" for a request the API accepts. Waitress reads 256 KiB
of request line and headers together.

MAX_REQUEST_LINE (1 MiB) holds every request the API or the page accepts; a longer line
is no valid request and gets 414. gunicorn answers that, and every request it cannot
parse, itself, before the app sees it: `install_gunicorn` raises its clamp and makes those
answers the API's `{"error": {"code", "message", "parameter"}}` JSON instead of HTML.
Waitress (one process, `make run`) reads MAX_REQUEST_LINE plus 64 KiB of headers; its own
refusals of what is longer stay its plain text.
"""

from __future__ import annotations

import json

MAX_REQUEST_LINE = 1 << 20  # bytes: method, target (path and query) and version
WAITRESS_HEADER_BYTES = MAX_REQUEST_LINE + 64 * 1024  # waitress counts the request line with the headers
MESSAGE_CHARS = 300  # of gunicorn's text, which may quote the request line it refused

CODES = {
    400: "bad_request",
    403: "forbidden",
    414: "request_line_too_long",
    417: "expectation_failed",
    431: "headers_too_large",
    500: "internal_error",
    501: "not_implemented",
}
REASONS = {414: "The request line (method, path and query) is longer than {limit:,} bytes."}


def error_response(status: int, reason: str, detail: str) -> bytes:
    """A whole HTTP/1.1 response (the connection closes after it) with the API's error body."""
    message = REASONS.get(status, "").format(limit=MAX_REQUEST_LINE) or reason
    if detail and status != 414:
        message = f"{message}: {detail[:MESSAGE_CHARS]}"
    code = CODES.get(status, "bad_request" if 400 <= status < 500 else "internal_error")
    body = json.dumps({"error": {"code": code, "message": message, "parameter": None}}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        "Cache-Control: no-store\r\n"
        "X-Content-Type-Options: nosniff\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


def _write_error(sock, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn.util.write_error's signature; the JSON error instead of its HTML page."""
    from gunicorn import util

    util.write_nonblock(sock, error_response(int(status_int), str(reason), str(mesg)))


def install_gunicorn() -> None:
    """Before gunicorn starts (the workers it forks inherit it): its request-line clamp raised to
    MAX_REQUEST_LINE and its own error answers in JSON. Checked by tests/test_workers.py against a
    real `ai-usage serve --workers 2`, so a gunicorn that renames these fails a test, not a user."""
    from gunicorn import util
    from gunicorn.http import message

    message.MAX_REQUEST_LINE = max(message.MAX_REQUEST_LINE, MAX_REQUEST_LINE)
    util.write_error = _write_error
