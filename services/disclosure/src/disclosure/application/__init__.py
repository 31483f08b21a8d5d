"""Disclosure application: commands, queries and the rules of who may do what."""
