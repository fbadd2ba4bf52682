"""The ai-usage command line: init-db, demo-data, import, token, serve, refresh, rates, bench, alerts, settings."""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta

from storage.settings import Settings, markdown_table, parse_duration

MAX_TTL = timedelta(days=3650)


def _ttl(value: str) -> timedelta:
    try:
        seconds = parse_duration(value).total_seconds()
    except ValueError:
        raise argparse.ArgumentTypeError("use a number and a unit: 90s, 15m, 1h, 7d") from None
    # 0 would print a token born expired; past MAX_TTL the expiry leaves the calendar.
    if not 0 < seconds <= MAX_TTL.total_seconds():
        raise argparse.ArgumentTypeError(f"the lifetime must be above 0 and at most {MAX_TTL.days}d")
    return timedelta(seconds=seconds)


def _org(value: str) -> str:
    if not value.strip():
        raise argparse.ArgumentTypeError("give the organization id (the API refuses a token without one)")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ai-usage", description="AI Usage Dashboard")
    sub = p.add_subparsers(dest="command", required=True)

    sub.add_parser("init-db", help="create or upgrade every table the dashboard needs (migrations)")

    d = sub.add_parser("demo-data", help="fill the database with realistic demo data")
    d.add_argument("--orgs", type=int, default=3, help="number of organizations (default 3)")
    d.add_argument("--days", type=int, default=365, help="days of history ending today (default 365)")
    d.add_argument("--rows", type=int, default=200_000, help="log rows in all (default 200000)")
    d.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    d.add_argument("--org-prefix", default="demo", help="org ids are PREFIX, PREFIX-2, … (default demo)")
    d.add_argument("--if-empty", action="store_true", help="do nothing when logs already exist")
    d.add_argument("--no-progress", action="store_true", help="no progress bar")

    i = sub.add_parser("import", help="append log rows (and agents) from CSV; all or nothing")
    i.add_argument("file", help="CSV of token_usage_logs rows (header = column names, id optional)")
    i.add_argument("--agents", help="CSV of agents (id, org_id, name, avatar_url)")
    i.add_argument(
        "--round-cost",
        action="store_true",
        help="round costs with more than 8 decimals half-even to 8 (and say how many) instead of refusing",
    )

    t = sub.add_parser("token", help="print a signed token for an org")
    t.add_argument("--org", required=True, type=_org)
    t.add_argument("--ttl", type=_ttl, default=timedelta(hours=1), help="lifetime, e.g. 15m, 1h, 7d (default 1h)")
    t.add_argument(
        "--locale",
        choices=["es", "en"],
        default=None,
        help="the page's language for this token (claim `locale`; ?lang= on the page URL wins; default: none, es)",
    )
    t.add_argument("--write", action="store_true", help="also grant ai.agent:write (may change the org's budget)")
    t.add_argument("--sub", default=None, help="the token's subject (claim `sub`): who, in the budget's change log")

    s = sub.add_parser("serve", help="serve the dashboard and the API")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8050)
    s.add_argument(
        "--demo",
        action="store_true",
        help="allow a missing AI_USAGE_SECRET (a random one is made) and print a token link",
    )
    s.add_argument("--workers", type=int, help="worker processes (default: one per core; 1 serves in one process)")
    s.add_argument("--threads", type=int, default=8, help="threads per worker process (default 8)")

    r = sub.add_parser("refresh", help="bring the rollup tables up to date")
    r.add_argument("--full", action="store_true", help="rebuild the rollups from the raw table")

    b = sub.add_parser("bench", help="time full refreshes on rollups against the raw table")
    b.add_argument("--rows", type=int, help="log rows for the benchmark org (default 10M on PostgreSQL, 1M on SQLite)")
    b.add_argument("--runs", type=int, default=7)
    b.add_argument("--out", default="bench-results/bench.json")
    b.add_argument("--skip-raw", action="store_true", help="do not time the raw-table computation")
    b.add_argument(
        "--slices-only",
        action="store_true",
        help="time only the filtered pages with compare=previous (and the rollup sizes), not the unfiltered windows",
    )

    rates = sub.add_parser("rates", help="display currency rates: set, import, list")
    rsub = rates.add_subparsers(dest="rates_command", required=True)
    rs = rsub.add_parser("set", help="store how many units of a currency one USD buys, from a date on")
    rs.add_argument("currency", help="ISO 4217 code, e.g. EUR")
    rs.add_argument("rate", help="units of the currency per USD, e.g. 0.92")
    rs.add_argument("--as-of", help="the first day the rate applies, YYYY-MM-DD (default: today, UTC)")
    ri = rsub.add_parser("import", help="store every rate of a CSV (currency,units_per_usd,as_of); all or nothing")
    ri.add_argument("file")
    rsub.add_parser("list", help="print the stored rates and which one is in force today")

    al = sub.add_parser("alerts", help="budget alerts: send-test")
    alsub = al.add_subparsers(dest="alerts_command", required=True)
    st = alsub.add_parser("send-test", help="create a test alert event for an org and deliver it to its webhook now")
    st.add_argument("--org", required=True, type=_org)

    sub.add_parser("settings", help="print the settings (variables, defaults, meaning) as a Markdown table")
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "settings":  # the registry itself: needs no valid environment
        print(markdown_table(), end="")
        return 0
    try:
        settings = Settings.from_env()
    except ValueError as exc:  # a malformed setting: say which, no traceback
        print(f"Invalid setting: {exc}", file=sys.stderr)
        return 2
    try:
        return _dispatch(args, settings) or 0
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        reason = unreachable(exc)
        if reason is None:
            raise
        from .server import cannot_use_database

        return cannot_use_database(settings.database_url, reason)


def unreachable(exc: BaseException) -> str | None:
    """The driver's first line when exc says the database cannot be used at all (refused or
    unknown host, no such database, no permission, an SQLite file that is not one); None for
    anything else, which stays a traceback: a bug is not to be hidden as a one-liner."""
    import sqlite3

    import sqlalchemy as sa

    from storage.engine import DatabaseUnusable

    if isinstance(exc, DatabaseUnusable):
        return str(exc)
    orig = getattr(exc, "orig", None)
    if isinstance(exc, sa.exc.OperationalError) or (
        isinstance(exc, sa.exc.DatabaseError) and type(orig) is sqlite3.DatabaseError
    ):
        lines = str(orig if orig is not None else exc).strip().splitlines()
        return lines[0] if lines else type(exc).__name__
    return None


def _dispatch(args, settings: Settings) -> int:
    from storage.engine import make_engine, migrate

    if args.command == "token":
        from web.auth import MIN_SECRET_BYTES, REQUIRED_POLICY, WRITE_POLICY, mint_token

        if len(settings.secret.encode()) < MIN_SECRET_BYTES:
            print(f"AI_USAGE_SECRET must be set to at least {MIN_SECRET_BYTES} bytes.", file=sys.stderr)
            return 2
        if settings.max_token_ttl is not None and args.ttl > settings.max_token_ttl:
            print(
                f"--ttl is longer than AI_USAGE_MAX_TOKEN_TTL ({settings.max_token_ttl}): the API would refuse "
                "the token.",
                file=sys.stderr,
            )
            return 2
        policies = (REQUIRED_POLICY, WRITE_POLICY) if args.write else (REQUIRED_POLICY,)
        print(mint_token(settings.secret, args.org, ttl=args.ttl, locale=args.locale, policies=policies, sub=args.sub))
        return 0
    if args.command == "serve":
        from .server import serve

        return serve(
            settings, host=args.host, port=args.port, demo=args.demo, threads=args.threads, workers=args.workers
        )

    engine = make_engine(settings.database_url, statement_timeout_ms=0)
    if args.command == "init-db":
        migrate(engine)
        print(f"Database ready: {engine.url.render_as_string(hide_password=True)}")
        return 0
    migrate(engine)
    if args.command == "demo-data":
        from ingest.demo import generate

        return generate(
            engine,
            orgs=args.orgs,
            days=args.days,
            rows=args.rows,
            seed=args.seed,
            org_prefix=args.org_prefix,
            if_empty=args.if_empty,
            progress=not args.no_progress,
        )
    if args.command == "import":
        from ingest.importer import import_cli

        return import_cli(engine, args.file, args.agents, round_cost=args.round_cost)
    if args.command == "refresh":
        from ingest.refresh import refresh_cli

        return refresh_cli(engine, full=args.full)
    if args.command == "rates":
        from .rates import rates_cli

        return rates_cli(engine, args)
    if args.command == "alerts":
        from .alerts import alerts_cli

        return alerts_cli(engine, settings, args)
    if args.command == "bench":
        from .bench import bench_cli

        return bench_cli(
            engine,
            settings,
            rows=args.rows,
            runs=args.runs,
            out=args.out,
            skip_raw=args.skip_raw,
            slices_only=args.slices_only,
        )
    raise AssertionError(args.command)


if __name__ == "__main__":
    sys.exit(main())
