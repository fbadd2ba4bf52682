"""Where a filter change's time goes in the browser: requests, the main thread, Dash's store.

Usage: .venv/bin/python scripts/page_profile.py 'http://127.0.0.1:8050/?token=…' [--changes 4]
       [--timezone Europe/Madrid]
(the link `make run` or `ai-usage token` gives). In headless Chromium (/usr/bin/chromium), after the
page has drawn every section, it alternates the 90d and 30d presets `--changes` times and prints:
- the page's Dash components (in the store's layout) and what one store update costs (a no-op
  action dispatched 100 times: Dash's renderer runs every component's selector on each);
- per change: when each callback request left and its answer came back (ms after the press,
  page_timing's clock), the main thread's long tasks, when every section was updated and painted,
  the store updates by type, and the components its answers created anew (per output);
- over all changes: the main thread's CPU per change by script (the DevTools protocol's sampling
  profiler; "(program)" is the browser's own work: style, layout, paint).
scripts/page_timing.py gives the figures the README's tables report; this tells where they go.
"""

from __future__ import annotations

import argparse
import collections

from page_timing import ARGS, ARM, SECTIONS, every_section, stamps, wait_all
from playwright.sync_api import Error as PlaywrightError, sync_playwright

COUNT_COMPONENTS = """() => { let n = 0; const walk = y => { if (Array.isArray(y)) y.forEach(walk);
    else if (y && typeof y === 'object') { if (y.type && y.namespace) { n++; Object.values(y.props || {}).forEach(walk); }
    else Object.values(y).forEach(walk); } }; walk(window.store.getState().layout); return n; }"""
DISPATCH_COST = """() => { const t0 = performance.now();
    for (let i = 0; i < 100; i++) window.store.dispatch({type: 'IsLoading.Set', payload: i % 2 === 0});
    return (performance.now() - t0) / 100; }"""
# Besides page_timing's ARM (the stamps, the call and the press): the store's updates and the
# long tasks from here on, and no earlier resource timings.
ARM_PROFILE = """() => { window.__acts = []; window.__lt = []; performance.clearResourceTimings();
    if (!window.__wrapped) { const d = window.store.dispatch;
      window.store.dispatch = a => { if (a && a.type) window.__acts.push(a.type); return d(a); }; window.__wrapped = true;
      new PerformanceObserver(l => { for (const e of l.getEntries()) window.__lt.push([e.startTime, e.duration]); })
        .observe({type: 'longtask'}); } }"""
REPORT = """() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => {
    const c = window.__press || window.__call;  // the press, as page_timing's clock
    done({painted: performance.now() - c, updated: window.__t - c, pre: c - window.__call,
      requests: performance.getEntriesByType('resource').filter(e => e.name.includes('_dash-update'))
        .map(e => [e.startTime - c, e.responseEnd - c]),
      longtasks: window.__lt.filter(([s]) => s >= window.__call).map(([s, d]) => [s - c, d]),
      actions: window.__acts}); })))"""


def components(value) -> int:
    """Dash components in a callback's output value (each one is created anew in the page)."""
    if isinstance(value, dict):
        return int("namespace" in value and "type" in value) + sum(components(v) for v in value.values())
    if isinstance(value, list):
        return sum(components(v) for v in value)
    return 0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--changes", type=int, default=4)
    ap.add_argument("--timezone", default="Europe/Madrid")
    a = ap.parse_args()
    by_script: collections.Counter[str] = collections.Counter()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900}, timezone_id=a.timezone)
        page.goto(a.url)
        SECTIONS[:] = every_section(page)  # page_timing's --all: every section but the advanced one
        page.wait_for_timeout(2000)
        cost = min(page.evaluate(DISPATCH_COST) for _ in range(3))
        print(f"components in the page: {page.evaluate(COUNT_COMPONENTS)}; one store update: {cost:.2f} ms")
        created: list[tuple[int, str]] = []

        def on_response(r) -> None:
            if "_dash-update" not in r.url:
                return
            try:
                body = r.json()
            except (ValueError, PlaywrightError):  # not JSON, or gone with the page
                return
            for cid, props in body.get("response", {}).items():
                created.extend((components(v), f"{cid}.{prop}") for prop, v in props.items() if components(v))

        page.on("response", on_response)
        cdp = page.context.new_cdp_session(page)
        cdp.send("Profiler.enable")
        cdp.send("Profiler.setSamplingInterval", {"interval": 200})
        for i in range(a.changes):
            label = "90d" if i % 2 == 0 else "30d"
            created.clear()
            before = stamps(page)
            page.evaluate(ARM_PROFILE)
            page.evaluate(ARM)  # last: the call's time is taken just before the click
            cdp.send("Profiler.start")
            page.locator("#filter-preset label", has_text=label).first.click()
            wait_all(page, before)
            got = page.evaluate(REPORT)
            page.wait_for_timeout(500)
            profile = cdp.send("Profiler.stop")["profile"]
            nodes = {n["id"]: n["callFrame"] for n in profile["nodes"]}
            for sample, delta in zip(profile["samples"], profile["timeDeltas"]):
                cf = nodes[sample]
                name = cf["url"].rsplit("/", 1)[-1].split("?")[0] or cf["functionName"]
                by_script[name] += delta
            req = ", ".join(f"{s:.0f}→{e:.0f}" for s, e in sorted(got["requests"]))
            tasks = ", ".join(f"{s:.0f}+{d:.0f}" for s, d in got["longtasks"])
            acts = collections.Counter(got["actions"])
            print(
                f"\n→ {label}: updated {got['updated']:.0f} ms, painted {got['painted']:.0f} ms after the press"
                f" (pressed {got['pre']:.0f} ms after click() was called)"
            )
            print(f"  requests (left→answered, ms): {req}")
            print(f"  long tasks (start+duration, ms): {tasks}")
            print(f"  store updates: {sum(acts.values())} ({', '.join(f'{k} {v}' for k, v in acts.most_common())})")
            print(
                f"  components created: {sum(n for n, _ in created)} ({', '.join(f'{k} {n}' for n, k in sorted(created, reverse=True))})"
            )
        page.remove_listener("response", on_response)
        browser.close()
    print(f"\nmain thread per change, by script (ms; {a.changes} changes):")
    for name, us in by_script.most_common(12):
        if name != "(idle)":
            print(f"  {us / 1000 / a.changes:8.1f}  {name}")


if __name__ == "__main__":
    main()
