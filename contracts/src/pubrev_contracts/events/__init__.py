"""Event contracts, one module per producing service."""
