"""Credit application."""
