"""Adapters of the casework service."""
