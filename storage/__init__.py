"""The bottom layer: schema, engine (time limit, dialect helpers, migrations), settings, and what both sides share
(measures and source SQL, the rollup families and state row). Imports no other project package."""
