"""`ai-usage alerts send-test --org ORG`: a test alert event, delivered now, and what came of it."""

from __future__ import annotations

import sys

import sqlalchemy as sa

from alerts.jobs import SendTestError, send_test
from queries.base import facts_path


def alerts_cli(engine: sa.Engine, settings, args, out=None, err=None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    if args.alerts_command != "send-test":
        raise AssertionError(args.alerts_command)
    engine = facts_path(engine, "rollup" if settings.use_rollups else "raw")
    try:
        result = send_test(engine, settings, args.org)
    except SendTestError as e:
        print(str(e), file=err)
        return 2
    print(result.message, file=out)
    return 0 if result.event.status == "delivered" else 1
