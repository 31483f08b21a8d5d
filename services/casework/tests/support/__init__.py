"""Test helpers of the casework service: its scenario, in-memory wiring and fakes."""
