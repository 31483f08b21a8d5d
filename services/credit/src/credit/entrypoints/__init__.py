"""Entry points of the credit service."""
