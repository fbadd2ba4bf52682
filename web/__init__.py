"""Shared by the API and the callbacks: the app context (settings, engine, clock) and the tokens."""
