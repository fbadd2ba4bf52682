"""Measure what a first load of the page transfers, in headless Chromium with an empty cache.

Usage: .venv/bin/python scripts/transfer_size.py 'http://127.0.0.1:8050/?token=…' [--list]
(the link `make run` prints). Counts every response until the page is idle (network idle, every
section answered or 60 s): encoded bytes (the body as sent, after gzip/brotli; Chromium's
responseBodySize) and decoded bytes (the body unpacked), in total and for the JavaScript alone.
--list prints each response, largest first.
"""

from __future__ import annotations

import argparse

from playwright.sync_api import sync_playwright

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


def measure(url: str) -> list[dict]:
    rows: list[dict] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
        responses = []
        page.on("response", lambda r: responses.append(r))
        page.goto(url, wait_until="networkidle", timeout=120_000)
        try:
            page.wait_for_function(
                "() => ['section-kpis','section-trend','section-agents'].every("
                "id => document.getElementById(id)?.getAttribute('data-stamp'))",
                timeout=60_000,
            )
            page.wait_for_load_state("networkidle")
        except Exception:
            pass  # count what came
        for r in responses:
            try:
                body = r.body()
            except Exception:  # a redirect or a response without a body
                body = b""
            sizes = r.request.sizes()
            rows.append(
                {
                    "url": r.url.split("?")[0],
                    "type": r.headers.get("content-type", "").split(";")[0],
                    "encoded": sizes["responseBodySize"],
                    "decoded": len(body),
                    "encoding": r.headers.get("content-encoding", ""),
                }
            )
        browser.close()
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("url")
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args()
    rows = measure(args.url)
    js = [r for r in rows if "javascript" in r["type"]]
    mb = 1_000_000
    print(f"responses: {len(rows)} ({len(js)} JavaScript)")
    print(
        f"transferred (encoded): {sum(r['encoded'] for r in rows) / mb:.2f} MB, "
        f"JavaScript {sum(r['encoded'] for r in js) / mb:.2f} MB"
    )
    print(
        f"unpacked (decoded):    {sum(r['decoded'] for r in rows) / mb:.2f} MB, "
        f"JavaScript {sum(r['decoded'] for r in js) / mb:.2f} MB"
    )
    if args.list:
        for r in sorted(rows, key=lambda r: -r["decoded"]):
            print(f"{r['encoded']:>10,} {r['decoded']:>10,} {r['encoding'] or '-':<5} {r['url']}")


if __name__ == "__main__":
    main()
