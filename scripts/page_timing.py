"""Measure, in headless Chromium, the time from a filter change to every section updated.

Usage: .venv/bin/python scripts/page_timing.py 'http://127.0.0.1:8050/?token=…' [--runs 5] [--all]
(the link `make run` prints; a view in the link, e.g. `&compare=previous`, is kept). Each
section's container carries `data-stamp`, set by its callback to the filter key it answered;
the clock runs from the click — the `mousedown` event's own timestamp, when the press reached
the page — to the last stamp and to the next painted frame. Prints the median and max per
change, and how long Playwright's `click()` took to press after it was called (its checks
that the button is visible, stable for two frames and not covered: not the page's time, but
counted by this script's figures until 5 December 2026: 23–68 ms per change, 130–190 ms
under scripts/page_profile.py's profiler). By default the clock waits for the first five
sections (KPIs, trend, actions, models, agents: the figures measured since November); `--all` waits for
every section with a `data-stamp` (users, anomalies, budget, «Mayores cambios»…) but the
advanced one, which is collapsed by default and computed only when opened.
"""

from __future__ import annotations

import argparse
import statistics

from playwright.sync_api import sync_playwright

SECTIONS = ["section-kpis", "section-trend", "section-actions", "section-models", "section-agents"]
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CHANGES = [
    ("filter-preset", "7d"),
    ("filter-preset", "90d"),
    ("filter-preset", "YTD"),
    ("filter-source", "BYOK"),
    ("filter-source", "Todos"),
    ("filter-preset", "30d"),
]


# Every section with a data-stamp but the advanced one (collapsed by default, computed when opened).
EVERY = "[...document.querySelectorAll('[data-stamp]')].filter(e => e.id !== 'section-advanced')"


def every_section(page) -> list[str]:
    """Wait until every such section has answered once; their ids."""
    page.wait_for_function(f"() => {EVERY}.length && {EVERY}.every(e => e.getAttribute('data-stamp'))", timeout=60_000)
    return page.evaluate(f"() => {EVERY}.map(e => e.id)")


# Before each change: watch the stamps, note when Playwright's click() was called and when the
# press reached the page (a capture listener, installed once: the event's timeStamp is when
# the input arrived, on performance.now()'s clock).
ARM = """() => { window.__t = 0; window.__obs?.disconnect();
    window.__obs = new MutationObserver(() => { window.__t = performance.now(); });
    window.__obs.observe(document.body, {attributes: true, attributeFilter: ['data-stamp'], subtree: true});
    window.__press = 0; window.__call = performance.now();
    if (!window.__pressWatch) { window.__pressWatch = true;
      document.addEventListener('mousedown', e => { window.__press = window.__press || e.timeStamp; }, true); } }"""
# [updated, painted, call→press] in ms: the last stamp and the next painted frame, from the press.
REPORT = """() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => {
    const press = window.__press || window.__call;
    done([window.__t - press, performance.now() - press, press - window.__call]); })))"""


def wait_all(page, before: dict) -> None:
    page.wait_for_function(
        """([ids, before]) => ids.every(id => {
               const s = document.getElementById(id)?.getAttribute('data-stamp');
               return s && s !== before[id];
           }) && !document.querySelector('[data-dash-is-loading="true"]')""",
        arg=[SECTIONS, before],
        timeout=60_000,
    )


def stamps(page) -> dict:
    return page.evaluate(
        "ids => Object.fromEntries(ids.map(id => [id, document.getElementById(id)?.getAttribute('data-stamp')]))",
        SECTIONS,
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--timezone", default="Europe/Madrid")
    ap.add_argument("--all", action="store_true", help="wait for every section with a data-stamp")
    a = ap.parse_args()
    results: dict[str, list[tuple[float, float]]] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900}, timezone_id=a.timezone)
        page.goto(a.url)
        page.wait_for_function(
            "ids => ids.every(id => document.getElementById(id)?.getAttribute('data-stamp'))",
            arg=SECTIONS,
            timeout=60_000,
        )
        if a.all:
            SECTIONS[:] = every_section(page)
            print("sections:", ", ".join(SECTIONS))
        for _ in range(a.runs):
            for group, label in CHANGES:
                before = stamps(page)
                page.evaluate(ARM)
                page.locator(f"#{group} label", has_text=label).first.click()
                wait_all(page, before)
                t = page.evaluate(REPORT)
                results.setdefault(f"{group.split('-')[1]} → {label}", []).append((t[0], t[1], t[2]))
        browser.close()
    print(
        f"{'change':<20}{'updated median':>16}{'max':>8}{'painted median':>16}{'max':>8}"
        f"{'call→press':>12}  (ms from the press, {a.runs} runs)"
    )
    for k, v in results.items():
        up, pa, pre = [x[0] for x in v], [x[1] for x in v], [x[2] for x in v]
        print(
            f"{k:<20}{statistics.median(up):>16.0f}{max(up):>8.0f}{statistics.median(pa):>16.0f}{max(pa):>8.0f}"
            f"{statistics.median(pre):>12.0f}"
        )


if __name__ == "__main__":
    main()
