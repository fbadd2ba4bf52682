"""The write side: CSV import, demo data (both through ingest.bulk), and the rollup refresh (with its catch-up thread).

Imports storage only (refresh.install still reads queries to pick the facts path)."""
