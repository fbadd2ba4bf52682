"""The ai-usage command line: init-db, demo-data, import, token, serve, refresh, bench."""
from __future__ import annotations

import argparse
import sys


def main(argv=None) -> int:
    print("not yet", file=sys.stderr)
    return 1
