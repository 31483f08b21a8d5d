"""Adapters of the credit service."""
