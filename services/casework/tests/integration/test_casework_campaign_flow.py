"""The campaign calendar on the real stack (issue 13 part B): disclosure's and inspection's
events consumed from Kafka into the progress of a unit's stages, the calendar's sweep warning
of a unit behind a stage, an agency's finding citing that warning linked to it (escalated,
in PostgreSQL's read model and pushed to 智慧监督, schema-checked by the receiver), the
warning closed by the platform when the unit catches up, and the monthly report and the
circular over gRPC."""

from __future__ import annotations

import asyncio
import io
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
import openpyxl
import pytest

from casework.application.app import CaseworkApplication
from casework.application.sweeps import sweep_campaign
from casework.bootstrap import build
from casework.domain.warnings.campaign_rules import UNIT_BEHIND_STAGE
from casework.domain.warnings.supervision_warning import SupervisionWarning
from pubrev.casework.v1 import casework_pb2 as pb
from pubrev.casework.v1 import casework_pb2_grpc as pb_grpc
from pubrev_contracts.topics import DISCLOSURE_EVENTS, INSPECTION_EVENTS
from servicekit.kafka_admin import ensure_topics
from servicekit.testing import (
    FakeClock,
    eventually,
    identity_metadata,
    publish_event,
    running_service,
)
from services.casework.tests.support.scenario import zhihui_feed
from tools.feed_receiver import FeedReceiver, dev_keys

pytestmark = pytest.mark.infra

ROOT = Path(__file__).resolve().parents[4]
SAMPLES = ROOT / "contracts" / "samples"
UNIT = "meizhoudao"
BUREAU = identity_metadata("property-bureau", "officer", UNIT)
CITY = identity_metadata("property-bureau", "head", "putian")
JULY_21 = datetime(2026, 7, 21, 2, 0, tzinfo=UTC)  # 10:00 Shanghai, the day after 20 July


def sample(ce_type: str, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((SAMPLES / f"{ce_type}.json").read_text())
    return body | {"aggregate_id": str(uuid.uuid4()), "unit": UNIT} | fields


async def test_a_units_stage_from_the_bus_to_zhihui_and_back(service_settings, infra) -> None:
    # Topics of its own: progress counts every community of the unit casework learnt, and
    # other tests register communities on the session's shared topics.
    prefix = f"{infra['prefix']}campaign."
    disclosure = prefix + DISCLOSURE_EVENTS
    inspection = prefix + INSPECTION_EVENTS
    await ensure_topics(infra["kafka"], [disclosure, inspection])
    tag = uuid.uuid4().hex[:6].upper()
    codes = [f"MZ-{tag}-{n}" for n in (1, 2)]
    schema = json.loads((ROOT / "contracts" / "feeds" / "zhihui.schema.json").read_text())
    clock = FakeClock(JULY_21)
    with FeedReceiver(schemas={"zhihui": schema}, keys=dev_keys(["zhihui"])) as receiver:
        feed = zhihui_feed(receiver.feed_url("zhihui"))
        async with running_service(
            lambda s: build(s, clock=clock, feed=feed),
            service_settings("casework", topic_prefix=prefix),
        ) as (parts, run):
            assert run.grpc and run.consumer
            app = parts.app
            assert isinstance(app, CaseworkApplication)
            for code in codes:
                await publish_event(
                    infra["kafka"],
                    disclosure,
                    "pubrev.disclosure.CommunityRegistered.v1",
                    sample(
                        "pubrev.disclosure.CommunityRegistered.v1",
                        community_code=code,
                        occurred_at="2026-07-01T02:00:00Z",
                    ),
                )
            await publish_event(
                infra["kafka"],
                disclosure,
                "pubrev.disclosure.SelfInspectionFiled.v1",
                sample("pubrev.disclosure.SelfInspectionFiled.v1", community_code=codes[0]),
            )
            await publish_event(
                infra["kafka"],
                inspection,
                "pubrev.inspection.TownshipInspectionRecorded.v1",
                sample(
                    "pubrev.inspection.TownshipInspectionRecorded.v1",
                    community_code=codes[1],
                    inspected_on="2026-07-19",
                ),
            )
            async with grpc.aio.insecure_channel(f"127.0.0.1:{run.grpc.port}") as channel:
                stub = pb_grpc.CaseworkServiceStub(channel)

                async def stages() -> dict[str, pb.StageProgress]:
                    reply = await stub.GetCampaignProgress(
                        pb.GetCampaignProgressRequest(year=2026), metadata=BUREAU
                    )
                    return {s.stage: s for s in reply.stages}

                async def counted() -> dict[str, pb.StageProgress] | None:
                    # The three facts travel on partitions of their own: wait for each.
                    now = await stages()
                    done = (
                        now["self_inspection"].expected,
                        now["self_inspection"].done,
                        now["township_inspections"].done,
                    )
                    return now if done == (2, 1, 1) else None

                progress = await eventually(counted, what="the stages counted from the bus")
                self_inspection = progress["self_inspection"]
                assert (self_inspection.done, self_inspection.behind) == (1, True)
                assert self_inspection.due_on == "2026-07-20"

                await asyncio.to_thread(sweep_campaign, app)
                warning_id = str(
                    SupervisionWarning.create_id(UNIT_BEHIND_STAGE, UNIT, "2026:self_inspection")
                )
                assert (await stages())["self_inspection"].warning_id == warning_id

                finding = str(uuid.uuid4())
                await publish_event(
                    infra["kafka"],
                    inspection,
                    "pubrev.inspection.ViolationFound.v1",
                    sample(
                        "pubrev.inspection.ViolationFound.v1",
                        aggregate_id=finding,
                        community_code=codes[1],
                        company_uscc="",
                        kind="E2",
                        party="agency",
                        agency_unit=UNIT,
                        warning_id=warning_id,
                    ),
                )

                async def escalated() -> list[str]:
                    reply = await stub.ListWarnings(
                        pb.ListWarningsRequest(unit=UNIT, rule=UNIT_BEHIND_STAGE), metadata=BUREAU
                    )
                    return [f for w in reply.warnings for f in w.escalated_finding_ids]

                assert await eventually(escalated, what="the escalation") == [finding]

                await publish_event(
                    infra["kafka"],
                    disclosure,
                    "pubrev.disclosure.SelfInspectionFiled.v1",
                    sample("pubrev.disclosure.SelfInspectionFiled.v1", community_code=codes[1]),
                )

                async def caught_up() -> bool:
                    return (await stages())["self_inspection"].done == 2

                await eventually(caught_up, what="the second self-inspection")
                assert await asyncio.to_thread(sweep_campaign, app) >= 1
                assert (await stages())["self_inspection"].warning_status == "closed"

                async def pushed() -> bool:
                    kinds = {
                        r["record_type"]
                        for (f, _), r in receiver.records.items()
                        if f == "zhihui" and r["warning_id"] == warning_id
                    }
                    return kinds == {"warning_raised", "warning_escalated", "warning_closed"}

                await eventually(pushed, what="raise, escalation and closure at 智慧监督")

                submitted = await stub.SubmitMonthlyReport(
                    pb.SubmitMonthlyReportRequest(
                        request_id="m7", unit=UNIT, year=2026, month=7, briefing="七月简报"
                    ),
                    metadata=BUREAU,
                )
                assert (submitted.due_on, submitted.late) == ("2026-07-27", False)
                got = await stub.GetMonthlyReport(
                    pb.GetMonthlyReportRequest(unit=UNIT, year=2026, month=7), metadata=CITY
                )
                figures = {f.key: f.value for f in got.figures}
                assert figures["self_inspections"] == 2 and figures["township_inspections"] == 1
                book = await stub.ExportMonthlyCircular(
                    pb.ExportMonthlyCircularRequest(year=2026, month=7, format="xlsx"),
                    metadata=CITY,
                )
                with pytest.raises(grpc.aio.AioRpcError) as caught:
                    await stub.GetMonthlyCircular(
                        pb.GetMonthlyCircularRequest(year=2026, month=7), metadata=BUREAU
                    )
                assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    sheet = openpyxl.load_workbook(io.BytesIO(book.files[0].data))["月度通报"]
    statuses = {row[1]: row[-1] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert statuses["湄洲岛国家旅游度假区管委会"] == "按时报送"
