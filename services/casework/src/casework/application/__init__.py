"""Casework application."""
