"""Request lines as long as the contract admits under waitress (one process, `make run`), and
the JSON form of gunicorn's own refusals. The same under gunicorn, for real:
tests/test_workers.py::test_gunicorn_reads_every_request_the_contract_admits_and_refuses_in_json."""

from __future__ import annotations

import json
import threading
import urllib.request
from urllib.parse import urlencode

import waitress
from waitress import wasyncore

from ai_usage.http_limits import MAX_REQUEST_LINE, error_response
from ai_usage.server import waitress_options
from api.observe import PATH_CHARS, clip


def _echo(environ, start_response):
    body = json.dumps({"query": len(environ["QUERY_STRING"])}).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def test_waitress_reads_the_longest_request_the_contract_admits():
    # 4 filters × 50 values × 200 four-byte characters (12 bytes each once percent-encoded)
    query = urlencode([(k, "🙂" * 200) for k in ("agentId", "userId", "provider", "model") for _ in range(50)])
    assert len(query) > 480_000  # twice waitress's default limit of 256 KiB (request line and headers)
    server = waitress.create_server(_echo, host="127.0.0.1", port=0, **waitress_options(2))
    stop = threading.Event()

    def serve() -> None:  # waitress's own loop, a pass at a time, so that it ends before the sockets close
        while not stop.is_set():
            wasyncore.loop(timeout=0.05, map=server._map, count=1)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.effective_port}/x?{query}", timeout=60) as r:
            assert r.status == 200 and json.loads(r.read()) == {"query": len(query)}
    finally:
        stop.set()
        thread.join(10)
        server.close()
        server.task_dispatcher.shutdown()


def test_gunicorn_refusals_take_the_api_error_shape():
    raw = error_response(414, "URI Too Long", "Request Line is too large (2000000 > 1048576)")
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0] == "HTTP/1.1 414 URI Too Long"
    headers = dict(line.split(": ", 1) for line in lines[1:])
    assert headers["Content-Type"] == "application/json" and int(headers["Content-Length"]) == len(body)
    assert headers["Connection"] == "close" and headers["X-Content-Type-Options"] == "nosniff"
    assert json.loads(body) == {
        "error": {
            "code": "request_line_too_long",
            "message": f"The request line (method, path and query) is longer than {MAX_REQUEST_LINE:,} bytes.",
            "parameter": None,
        }
    }
    # gunicorn's text may quote what it refused: cut, and JSON-escaped, never markup.
    raw = error_response(400, "Bad Request", "Invalid Request Line '<script>" + "x" * 5000 + "'")
    error = json.loads(raw.partition(b"\r\n\r\n")[2])["error"]
    assert error["code"] == "bad_request" and error["message"].startswith("Bad Request: Invalid Request Line '<script>")
    assert len(error["message"]) < 400
    assert (
        json.loads(error_response(431, "Request Header Fields Too Large", "")[-200:].split(b"\r\n\r\n")[-1])["error"][
            "code"
        ]
        == "headers_too_large"
    )


def test_a_long_path_is_logged_cut_with_its_length():
    assert clip("/ai/org-usage/summary") == "/ai/org-usage/summary"
    cut = clip("/" + "é" * 5000)
    assert cut == "/" + "é" * (PATH_CHARS - 1) + "…[5,001 characters]"
