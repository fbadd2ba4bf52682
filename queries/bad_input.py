"""Bad input: the error a client-supplied parameter raises, and how a message quotes its value."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class BadParameter(ValueError):
    """A client-supplied parameter is invalid: the API answers 400 with these fields."""

    def __init__(self, parameter: str, message: str, code: str = "invalid_parameter"):
        super().__init__(message)
        self.parameter = parameter
        self.message = message
        self.code = code


def quoted(value: object, chars: int = 40) -> str:
    """A client's value as an error message quotes it: repr, cut at `chars` characters (a
    50 KB timezone is not echoed back whole, to the API's client or the page's banner)."""
    text = value if isinstance(value, str) else str(value)
    return repr(text[:chars] + "…") if len(text) > chars else repr(text)


def single(params: Mapping[str, Any], name: str) -> Any:
    """The value of a parameter given once (None when absent). Given more than once with
    different values (?timezone=UTC&timezone=Asia/Kathmandu: which one was meant?), a 400
    naming it — the first one no longer wins silently. The same value repeated is that value."""
    getlist = getattr(params, "getlist", None)
    if getlist is None:
        return params.get(name)
    values = getlist(name)
    if len(set(values)) > 1:
        raise BadParameter(
            name, f"{name!r} is given {len(values)} times with different values; give it once.", "repeated_parameter"
        )
    return values[0] if values else None


def limit_param(params: Mapping[str, Any], default: int, maximum: int, name: str = "limit") -> int:
    """A count parameter (by-user's and alerts' `limit`): absent or empty = default; else ASCII
    digits (at most 12; spaces around them allowed) naming 1 to maximum; anything else a 400 naming it with
    the value quoted. One rule and one message for every route that takes one."""
    value = single(params, name)
    if value is None or value == "":
        return default
    text = value.strip() if isinstance(value, str) else ""
    if not (text.isascii() and text.isdigit() and len(text) <= 12) or not 1 <= int(text) <= maximum:
        raise BadParameter(
            name,
            f"{name!r} must be a whole number from 1 to {maximum} (default {default}); got {quoted(value)}.",
            f"invalid_{name}",
        )
    return int(text)
