"""Entry points of the casework service."""
