"""Inspection domain. stdlib + eventsourcing.domain only."""
