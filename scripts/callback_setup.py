"""What scripts/callback_timing.py and scripts/page_cpu.py share: the view's arguments, and the app
built as `ai-usage serve` builds it (Settings.from_env()) with the page's own callback payloads
(tests/test_callback_inputs.py's VALID, with the view set from the arguments and no slice)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any


def parser(compare: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser()
    p.add_argument("--org", default="bench")
    p.add_argument("--preset", default="30d")
    p.add_argument("--compare", default=compare)
    p.add_argument("--timezone", default="Europe/Madrid")
    return p


def app_and_payloads(a: argparse.Namespace, theme: str | None = None) -> tuple[Any, Any, str, ModuleType]:
    """(app, its Flask test client, a token for a.org, tests/test_callback_inputs as `requests`:
    payload(key, cb, token), post(client, body), server_callbacks(app))."""
    root = Path(__file__).resolve().parent.parent
    sys.path[:0] = [str(root), str(root / "tests")]
    import test_callback_inputs as requests  # the page's payloads, kept in step with its callbacks

    from app import create_app
    from storage.settings import Settings
    from web.auth import mint_token

    view = {
        ("filter-applied-preset", "data"): a.preset,
        ("filter-compare", "value"): a.compare,
        ("session-timezone", "data"): a.timezone,
        ("filter-slice", "data"): {"compare": a.compare} if a.compare != "none" else {},
        ("slice-model", "value"): [],
        ("display-currency", "data"): "USD",
        ("changes-keys", "data"): [],
    }
    if theme is not None:
        view[("session-theme", "data")] = theme
    requests.VALID.update(view)
    app = create_app(Settings.from_env())
    return app, app.server.test_client(), mint_token(os.environ["AI_USAGE_SECRET"], a.org), requests
