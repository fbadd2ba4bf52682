"""The bottom layer: schema, engine (time limit, dialect helpers, migrations) and settings. Imports no other project package."""
