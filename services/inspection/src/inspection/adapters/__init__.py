"""Adapters: contract events in, domain inputs out."""
