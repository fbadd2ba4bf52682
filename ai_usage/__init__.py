"""AI Usage Dashboard: core (settings, database, auth, API, CLI)."""
