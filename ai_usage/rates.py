"""`ai-usage rates set|import|list`: the operator's display currency rates (see ingest/rates.py)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa

from ingest.rates import BadRate, parse_currency, parse_day, parse_rate, read_file, write_rates
from queries.rates import Rate, all_rates, rate_in_force


def _show(rate: Decimal) -> str:
    return format(rate, "f")


def rates_cli(engine: sa.Engine, args, out=None, err=None) -> int:
    """`ai-usage rates set CODE RATE [--as-of DAY]`, `rates import FILE.csv`, `rates list`."""
    out, err = out or sys.stdout, err or sys.stderr
    today = datetime.now(UTC).date()
    if args.rates_command == "set":
        try:
            rate = Rate(
                parse_currency(args.currency),
                parse_rate(args.rate),
                parse_day(args.as_of) if args.as_of else today,
            )
        except BadRate as exc:
            print(f"Rate refused: {exc}.", file=err)
            return 2
        with engine.begin() as conn:
            write_rates(conn, [rate])
        print(f"{rate.currency}: {_show(rate.units_per_usd)} per USD from {rate.as_of.isoformat()}.", file=out)
        return 0
    if args.rates_command == "import":
        rates = read_file(args.file, err)
        if rates is None:
            return 2
        with engine.begin() as conn:
            write_rates(conn, rates)
        codes = sorted({r.currency for r in rates})
        print(f"Imported {len(rates)} rate{'s' if len(rates) != 1 else ''} ({', '.join(codes)}).", file=out)
        return 0
    with engine.connect() as conn:
        rates = all_rates(conn)
        in_force = {r.currency: rate_in_force(conn, r.currency, today) for r in rates}
    if not rates:
        print("No rates yet: `ai-usage rates set EUR 0.92 --as-of 2026-12-01` adds one.", file=out)
        return 0
    print(f"{'currency':<9}{'as_of':<12}{'units_per_usd':>22}  in force today ({today.isoformat()}, UTC)", file=out)
    for r in rates:
        mark = "yes" if (cur := in_force[r.currency]) is not None and cur.as_of == r.as_of else ""
        print(f"{r.currency:<9}{r.as_of.isoformat():<12}{_show(r.units_per_usd):>22}  {mark}", file=out)
    return 0
