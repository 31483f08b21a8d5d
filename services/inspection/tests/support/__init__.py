"""Inspection's own test helpers: the scenario of every event (golden samples) and a small
world on in-memory persistence (the authorization matrix, the leak regressions)."""
