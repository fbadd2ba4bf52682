"""The API's one error shape, `{"error": {"code", "message", "parameter"}}`, and its JSON responses."""

from __future__ import annotations

import flask
import orjson

from .answers import Answer, Error, ErrorDetail

JSON = "application/json"


class ApiError(Exception):
    """An answer other than 200: the status, a stable code, a clear message, the parameter at fault."""

    def __init__(self, status: int, code: str, message: str, parameter: str | None = None, headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.parameter = status, code, message, parameter
        self.headers = headers or {}

    def response(self) -> flask.Response:
        resp = json_response(error_body(self.code, self.message, self.parameter), self.status)
        for name, value in self.headers.items():
            resp.headers[name] = value
        return resp


def error_body(code: str, message: str, parameter: str | None = None) -> Error:
    return Error.model_construct(error=ErrorDetail.model_construct(code=code, message=message, parameter=parameter))


def answer_json(body: Answer | dict) -> dict:
    """The plain JSON value of an answer (a model through its camelCase dump)."""
    return body.dump() if isinstance(body, Answer) else body


def json_response(body: Answer | dict | bytes, status: int = 200) -> flask.Response:
    """Serialize with orjson (bytes: already serialized); API answers are per-user data,
    so no HTTP cache may keep them."""
    data = body if isinstance(body, bytes) else orjson.dumps(answer_json(body))
    resp = flask.Response(data, status=status, mimetype=JSON)
    resp.headers["Cache-Control"] = "no-store"
    return resp
