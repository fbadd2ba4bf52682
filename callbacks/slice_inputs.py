"""The slice callbacks' inputs as the page sends them: anything forged reads as nothing."""

from __future__ import annotations


def texts(value) -> list[str]:
    """A dropdown's value as the page sends it (a list of texts); anything forged: nothing."""
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def listed_values(opts) -> set[str]:
    """The values an options list offers (forged entries skipped)."""
    if not isinstance(opts, list):
        return set()
    return {o["value"] for o in opts if isinstance(o, dict) and isinstance(o.get("value"), str)}


def names_table(names) -> dict[str, dict[str, str]]:
    """The agents' names store as the options callback writes it (forged shapes dropped)."""
    if not isinstance(names, dict):
        return {}
    out = {}
    for api, table in names.items():
        if isinstance(api, str) and isinstance(table, dict):
            out[api] = {k: v for k, v in table.items() if isinstance(k, str) and isinstance(v, str)}
    return out
