"""ParkedStore.migrate_tracking on the real PostgreSQL: per-aggregate tracking rows kept
before each event had its own become one row per version, in the application's own tracking
table (eventsourcing names it `<application>_tracking`; the migration once looked for
`notification_tracking`, which no service has, and did nothing)."""

from __future__ import annotations

import pytest
from eventsourcing.persistence import Tracking
from psycopg_pool import ConnectionPool

from servicekit.eventstore import DeliveryRef, ServiceApplication
from servicekit.isolation import ParkedStore, tracking_table
from servicekit.postgres import eventsourcing_env

pytestmark = pytest.mark.infra


class Tally(ServiceApplication):
    name = "tally"


def test_legacy_rows_become_one_row_per_version_in_the_applications_table(
    fresh_database: str,
) -> None:
    app = Tally(env=eventsourcing_env(fresh_database))
    table = tracking_table(app.process_recorder)
    assert table == "tally_tracking"
    app.process_recorder.insert_tracking(Tracking("tally.notes|aggregate-1", 3))
    app.process_recorder.insert_tracking(Tracking("other.consumer|aggregate-1", 2))
    pool = ConnectionPool(fresh_database, min_size=1, max_size=2, open=True)
    try:
        store = ParkedStore(pool)
        store.ensure_tables()
        assert store.migrate_tracking(["tally.notes"], table) == 1
        for version in (1, 2, 3):
            assert app.already_applied(DeliveryRef("tally.notes", "aggregate-1", version))
        assert not app.already_applied(DeliveryRef("tally.notes", "aggregate-1", 4))
        # another consumer's rows are its own business; a second run changes nothing
        assert app.process_recorder.max_tracking_id("other.consumer|aggregate-1") == 2
        assert store.migrate_tracking(["tally.notes"], table) == 0
    finally:
        pool.close()


def test_a_table_name_that_is_not_plain_is_refused(fresh_database: str) -> None:
    pool = ConnectionPool(fresh_database, min_size=1, max_size=2, open=True)
    try:
        with pytest.raises(ValueError, match="not a plain table name"):
            ParkedStore(pool).migrate_tracking(["c"], 'x"; DROP TABLE y; --')
    finally:
        pool.close()
