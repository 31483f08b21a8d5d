"""Adapters: translation between domain events and the published contract events."""
