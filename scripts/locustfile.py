"""Locust users for `make loadtest` (run through scripts/loadtest.py, which sets the environment).

Scenarios (LOADTEST_SCENARIO):
- `refresh`: every iteration is one full refresh — the 8 API answers of a 365-day window,
  one after another — of a distinct question: the window ends 0–59 days ago, in one of
  six timezones. Recorded as one event "REFRESH full 365d" beside the 8 requests.
- `same`: the same full refresh (window ending today, UTC) for every admin: what the
  answer cache serves.
- `mix`: an admin with think time: page loads (the page and the Dash layout and
  dependencies), filter changes (every data callback of the page POSTed to
  /_dash-update-component, as the renderer does), single API calls, full refreshes.
"""

from __future__ import annotations

import json
import os
import random
import time
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode

from locust import FastHttpUser, between, constant, events, task

from ai_usage.loadmix import CALLS, FIXED_INPUTS, ZONES, data_callbacks, filter_change_body

TOKENS: dict[str, str] = json.loads(os.environ.get("LOADTEST_TOKENS", "{}"))
SCENARIO = os.environ.get("LOADTEST_SCENARIO", "refresh")
DAYS = int(os.environ.get("LOADTEST_DAYS", "365"))
API = "/ai/org-usage/"
PRESETS = ["7d", "30d", "90d", "ytd"]
SOURCES = ["all", "system", "byok"]


def _today(tz: str) -> date:
    from zoneinfo import ZoneInfo

    return datetime.now(UTC).astimezone(ZoneInfo(tz)).date()


class Admin(FastHttpUser):
    wait_time = between(0.5, 2.0) if SCENARIO == "mix" else constant(0)

    def on_start(self) -> None:
        self.org = random.choice(sorted(TOKENS))
        self.token = TOKENS[self.org]
        self.headers = {"Authorization": f"Bearer {self.token}"}
        self.callbacks: list[dict] = []
        if SCENARIO == "mix":
            self.load_page()

    # -------------------------------------------------------------- pieces

    def full_refresh(self, end: date, tz: str) -> None:
        window = {"from": (end - timedelta(days=DAYS - 1)).isoformat(), "to": end.isoformat(), "timezone": tz}
        t0, error = time.perf_counter(), None
        for route, extra in CALLS:
            name = f"API {route}" + (" groupBy" if extra else "")
            url = f"{API}{route}?{urlencode({**window, **extra})}"
            with self.client.get(url, headers=self.headers, name=name, catch_response=True) as r:
                if r.status_code != 200:
                    r.failure(f"HTTP {r.status_code}")
                    error = error or RuntimeError(f"{route}: HTTP {r.status_code}")
        events.request.fire(
            request_type="REFRESH",
            name=f"full {DAYS}d",
            response_time=(time.perf_counter() - t0) * 1000,
            response_length=0,
            exception=error,
            context={},
        )

    def load_page(self) -> None:
        self.client.get(f"/?{urlencode({'token': self.token})}", name="PAGE /")
        self.client.get("/_dash-layout", name="PAGE _dash-layout")
        deps = self.client.get("/_dash-dependencies", name="PAGE _dash-dependencies").json()
        self.callbacks = data_callbacks(deps)
        if not self.callbacks:  # a filter change would send nothing: say so, do not measure that
            raise RuntimeError("no data callback of the page can be filled from FIXED_INPUTS (ai_usage/loadmix.py)")

    def filter_change(self) -> None:
        values = {
            "filter-applied-preset.data": random.choice(PRESETS),
            "filter-source.value": random.choice(SOURCES),
            "session-timezone.data": random.choice(ZONES),
            "session-token.data": self.token,
        }
        for dep in self.callbacks:
            body = filter_change_body(dep, {**FIXED_INPUTS, **values})
            with self.client.post(
                "/_dash-update-component", json=body, name="DASH filter change", catch_response=True
            ) as r:
                if r.status_code not in (200, 204):
                    r.failure(f"HTTP {r.status_code}")

    # -------------------------------------------------------------- tasks

    @task
    def work(self) -> None:
        if SCENARIO == "same":
            self.full_refresh(_today("UTC"), "UTC")
        elif SCENARIO == "refresh":
            tz = random.choice(ZONES)
            self.full_refresh(_today(tz) - timedelta(days=random.randrange(60)), tz)
        else:
            roll = random.random()
            if roll < 0.1:
                self.load_page()
            elif roll < 0.5:
                self.filter_change()
            elif roll < 0.9:
                route, extra = random.choice(CALLS)
                tz = random.choice(ZONES)
                days = random.choice([7, 30, 90, 365])
                end = _today(tz)
                params = {"from": (end - timedelta(days=days - 1)).isoformat(), "to": end.isoformat(), "timezone": tz}
                url = f"{API}{route}?{urlencode({**params, **extra})}"
                self.client.get(url, headers=self.headers, name=f"API {route}")
            else:
                self.full_refresh(_today("UTC"), random.choice(ZONES))
