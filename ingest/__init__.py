"""The write side: CSV import, demo data, and the rollup refresh (with its catch-up thread)."""
