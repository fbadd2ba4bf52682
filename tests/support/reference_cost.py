"""Independent cost figures (issue 11): cache economics and unpriced calls, row by row in pandas.

Prices straight from the override table (plain SELECT) and genai-prices' calc_price at
the row's instant; no `queries` code. Each row is priced at the price in force at the
start of its UTC quarter-hour (created_at floored to 15 minutes; the documented rule),
in Decimal; sums are taken over rows, not over groups.
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import sqlalchemy as sa

from .reference import Window, bucketed, in_window

M = Decimal(10**6)


def load_price_rows(conn) -> dict:
    """{(provider, model): [(valid_from UTC Timestamp or None, input, cache read, cache write, output)]}."""
    rows = conn.execute(
        sa.text(
            "SELECT provider, model, valid_from, input_usd_per_mtok, cache_read_usd_per_mtok,"
            " cache_write_usd_per_mtok, output_usd_per_mtok FROM price_overrides"
        )
    )
    out: dict = {}
    for p, m, vf, i, c, w, o in rows:
        at = None
        if vf is not None:
            at = pd.Timestamp(vf)
            at = at.tz_localize("UTC") if at.tzinfo is None else at.tz_convert("UTC")
        dec = [None if v is None else Decimal(str(v)) for v in (i, c, w, o)]
        out.setdefault((p, m), []).append((at, *dec))
    return out


_CAT: dict = {}


def _base(v):
    v = getattr(v, "base", v)
    return None if v is None else Decimal(str(v))


def catalogue_at(provider: str, model: str, ts: pd.Timestamp):
    """(input, cache read, cache write, output) per MTok from genai-prices at ts, or None."""
    key = (provider, model, ts)
    if key in _CAT:
        return _CAT[key]
    from genai_prices import Usage, calc_price

    when = ts.to_pydatetime()
    try:
        mp = calc_price(
            Usage(input_tokens=1, output_tokens=1), model_ref=model, provider_id=provider, genai_request_timestamp=when
        ).model_price
    except Exception:
        try:
            mp = calc_price(
                Usage(input_tokens=1, output_tokens=1), model_ref=model, genai_request_timestamp=when
            ).model_price
        except Exception:
            mp = None
    got = None
    if mp is not None and _base(mp.input_mtok) is not None:
        inp = _base(mp.input_mtok)
        cr = _base(mp.cache_read_mtok)
        got = (inp, cr if cr is not None else inp, _base(mp.cache_write_mtok), _base(mp.output_mtok))
    _CAT[key] = got
    return got


def price_at(prices: dict, provider: str, model: str, ts: pd.Timestamp):
    live = [r for r in prices.get((provider, model), []) if r[0] is None or r[0] <= ts]
    if not live:
        return catalogue_at(provider, model, ts)
    live.sort(key=lambda r: pd.Timestamp.min.tz_localize("UTC") if r[0] is None else r[0])
    _, i, c, w, o = live[-1]
    if o is None:
        cat = catalogue_at(provider, model, ts)
        o = cat[3] if cat is not None else None
    return i, c, w, o


def priced_rows(d: pd.DataFrame, prices: dict) -> pd.DataFrame:
    """d with savings, premium, estimate (Decimal) and flags no_price, no_write_price per row."""
    d = d.copy()
    q = d["ts"].dt.floor("15min")
    cols: dict = {k: [] for k in ("savings", "premium", "estimate", "no_price", "no_write_price")}
    for prov, model, at, cr, cw, inp, out, null in zip(
        d["provider"],
        d["model"],
        q,
        d["cache_read_tokens"],
        d["cache_write_tokens"],
        d["input_tokens"],
        d["output_tokens"],
        d["cost_is_null"],
    ):
        p = price_at(prices, prov, model, at)
        if p is None:
            for k, v in (("savings", 0), ("premium", 0), ("estimate", 0)):
                cols[k].append(Decimal(v))
            cols["no_price"].append(True)
            cols["no_write_price"].append(int(cw) > 0)
            continue
        i, c, w, o = p
        extra = (w - i) if w is not None else Decimal(0)
        cols["savings"].append(int(cr) * (i - c) / M)
        cols["premium"].append(int(cw) * extra / M)
        cols["no_price"].append(False)
        cols["no_write_price"].append(int(cw) > 0 and w is None)
        est = int(inp) * i + int(cw) * extra + int(cr) * c + int(out) * (o if o is not None else Decimal(0))
        cols["estimate"].append(est / M if null else Decimal(0))
    for k, v in cols.items():
        d[k] = v
    return d


def _skipped(d: pd.DataFrame) -> int:
    bad = d[d["no_price"] | d["no_write_price"]]
    return len(set(zip(bad["provider"], bad["model"])))


def cache_economics(rows, w: Window, prices: dict) -> dict:
    d = priced_rows(in_window(rows, w), prices)
    cache = int(d["cache_read_tokens"].sum())
    total_input = cache + int(d["input_tokens"].sum())
    sav, prem = sum(d["savings"], Decimal(0)), sum(d["premium"], Decimal(0))
    b, buckets = bucketed(rows, w)
    b = priced_rows(b, prices)
    points = []
    for x in buckets:
        g = b[b["bucket"] == x]
        cr, ti = int(g["cache_read_tokens"].sum()), int((g["cache_read_tokens"] + g["input_tokens"]).sum())
        s, p = sum(g["savings"], Decimal(0)), sum(g["premium"], Decimal(0))
        points.append(
            {
                "bucket": x,
                "cache_read_tokens": cr,
                "total_input_tokens": ti,
                "hit_rate": cr / ti if ti else None,
                "estimated_savings_usd": s,
                "net_savings_usd": s - p,
            }
        )
    return {
        "total_cache_read_tokens": cache,
        "total_input_tokens": total_input,
        "hit_rate": cache / total_input if total_input else None,
        "estimated_savings_usd": sav,
        "skipped_models_count": _skipped(d),
        "cache_write_tokens": int(d["cache_write_tokens"].sum()),
        "write_premium_usd": prem,
        "net_savings_usd": sav - prem,
        "points": points,
    }


def unpriced(rows, w: Window, prices: dict) -> dict:
    d = priced_rows(in_window(rows, w), prices)
    return {
        "unpriced_executions": int(d["cost_is_null"].sum()),
        "estimated_unpriced_cost_usd": sum(d["estimate"], Decimal(0)),
    }
