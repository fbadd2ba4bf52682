"""Helpers shared by the test modules (plain imports; fixtures and hooks stay in conftest.py).

- `support.db`: PostgreSQL/CI rules (`require`), private PostgreSQL databases, row inserts.
- `support.api`: the app under test, tokens, a small API data set, OpenAPI response checks.
- `support.dashboard_data`: the rich data set of the browser and callback tests.
- `support.query_data`: the explicit data set of the query-layer tests.
- `support.reference`: the independent pandas reference every query figure is compared with.

`tests/` is on sys.path (pytest's rootdir conftest), so test modules write
`from support.db import insert_logs`.
"""
