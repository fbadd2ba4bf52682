"""The Usuario select at many users, in Chromium: the page lists the costliest users only
(callbacks.slice.USER_OPTIONS, set to 3 here), and typing searches every user of the window
on the server (callbacks/slice_search.py): a user far down the ranking is found, chosen,
named by a chip, narrows every section, and stays listed once the search is cleared."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from support import dashboard_data
from support.db import insert_logs
from test_browser import SECRET, TZ, chromium, page_factory, serving, stamp, wait_sections  # noqa: F401
from test_browser_filters import SECTIONS, chips, wait_chips

import callbacks.slice
import callbacks.slice_search
from storage.engine import make_engine, migrate
from storage.settings import Settings
from web.auth import mint_token

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ORG = "org-user-search"
PEOPLE = [f"cliente-{i:03d}@example.com" for i in range(12)]  # cliente-000 the costliest


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    from app import create_app

    url = f"sqlite:///{tmp_path_factory.mktemp('user-search') / 'dashboard.sqlite3'}"
    engine = make_engine(url)
    migrate(engine)
    dashboard_data.seed(engine, ORG)
    now = datetime.now(UTC)
    insert_logs(
        engine,
        [
            {
                "org_id": ORG,
                "created_at": now - timedelta(days=1 + k, hours=i),
                "action_type": "user_interaction",
                "source": "system",
                "provider": "openai",
                "model": "gpt-4o-mini",
                "user_id": person,
                "input_tokens": 100,
                "cost_usd": Decimal(len(PEOPLE) - i) / 10,
            }
            for i, person in enumerate(PEOPLE)
            for k in range(3)
        ],
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(callbacks.slice, "USER_OPTIONS", 3)
        mp.setattr(callbacks.slice_search, "USER_OPTIONS", 3)
        app = create_app(Settings(database_url=url, secret=SECRET), engine=engine)
        with serving(app) as base:
            yield base, mint_token(SECRET, ORG)
    engine.dispose()


def listed(page) -> list[str]:
    """The options the open select shows (their values' text, before « · US$ …»)."""
    return [t.split(" · ")[0] for t in page.locator(".dash-dropdown-option").all_inner_texts()]


def test_typing_finds_a_user_the_list_leaves_out_and_filters_by_it(page_factory, app_url):
    base, token = app_url
    page = page_factory(width=1280, height=1000)
    page.goto(f"{base}?token={token}")
    wait_sections(page, stamp(), SECTIONS)
    page.click("#slice-user")
    page.wait_for_function("() => document.querySelectorAll('.dash-dropdown-option').length === 3")
    first = listed(page)
    assert "cliente-011@example.com" not in first and len(first) == 3
    search = page.locator(".dash-dropdown-search input, input.dash-dropdown-search").first
    search.fill("CLIENTE-011")  # case-insensitive, anywhere in the id
    page.wait_for_function(
        "() => [...document.querySelectorAll('.dash-dropdown-option')].map(e => e.innerText)"
        ".some(t => t.startsWith('cliente-011@example.com'))"
    )
    assert listed(page) == ["cliente-011@example.com"]
    page.locator(".dash-dropdown-option").first.click()
    page.keyboard.press("Escape")
    wait_chips(page, ["Usuario: cliente-011@example.com"])
    wait_sections(page, f"{stamp()}|userId=cliente-011@example.com", SECTIONS)
    assert chips(page) == ["Usuario: cliente-011@example.com"]
    # The search cleared: the first users again, and the chosen one still listed.
    page.click("#slice-user")
    page.wait_for_function("() => document.querySelectorAll('.dash-dropdown-option').length === 4")
    assert sorted(listed(page)) == sorted(first + ["cliente-011@example.com"])
