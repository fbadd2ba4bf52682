"""Budgets' alerts: evaluation, the durable outbox and signed webhook delivery (contract §3.4)."""
