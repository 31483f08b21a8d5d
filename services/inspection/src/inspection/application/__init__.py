"""Inspection application."""
