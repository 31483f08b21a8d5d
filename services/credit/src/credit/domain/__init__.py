"""Credit domain. stdlib + eventsourcing.domain only; aggregates come with their issue."""
