"""The city's own spot checks on the real stack (gRPC, PostgreSQL, Kafka):
- a finding belongs to the community's unit (DOMAIN.md §2) and names who checked it (plan
  四（三）、四（四）): the county sees it, closes its rectification, and the wire says the same;
- the rectification deadline follows the holiday calendar (民法典 Art. 201, 203), and a
  deadline in 2027 (no notice entered) is FAILED_PRECONDITION with nothing written;
- progress is vocabulary.pace's (checks due by 30 September from 15 July: plan 五（一）, 附件1
  #11, #13), with the city's own 15% row (plan 四（三）) for city users."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import grpc
import pytest

from inspection.bootstrap import build
from pubrev.inspection.v1 import inspection_pb2 as pb
from pubrev.inspection.v1 import inspection_pb2_grpc as pb_grpc
from pubrev_contracts.topics import DISCLOSURE_EVENTS, INSPECTION_EVENTS
from pubrev_contracts.vocabulary.pace import DEFAULT_PACE
from pubrev_contracts.vocabulary.sources import WORK_PLAN, plan
from servicekit.kafka_admin import ensure_topics
from servicekit.testing import (
    FakeClock,
    eventually,
    identity_metadata,
    publish_event,
    read_topic,
    running_service,
)

pytestmark = pytest.mark.infra

SAMPLES = Path(__file__).resolve().parents[4] / "contracts" / "samples"
CITY = identity_metadata("property-bureau", "officer", "putian")
CHENGXIANG = identity_metadata("property-bureau", "officer", "chengxiang")
LICHENG = identity_metadata("property-bureau", "officer", "licheng")
CITY_DISCIPLINE = identity_metadata("discipline", "supervisor", "putian", "supervisor")
CX_DISCIPLINE = identity_metadata("discipline", "supervisor", "chengxiang", "supervisor")
USCC = "91350200776049653A"
ITEMS = ["signboard_present", "signboard_at_main_entrance", "posting_30_days"]
CODES = [f"CX-{n:02d}" for n in range(20)]  # chengxiang: quota 10; the city's: ceil(3.0) = 3


def registered(code: str) -> dict[str, object]:
    data: dict[str, object] = json.loads(
        (SAMPLES / "pubrev.disclosure.CommunityRegistered.v1.json").read_text()
    )
    return data | {
        "aggregate_id": str(uuid.uuid4()),
        "community_code": code,
        "unit": "chengxiang",
        "division_code": "350302",
        "company_uscc": USCC,
    }


def checklist(failed: dict[str, str]) -> list[pb.ChecklistItem]:
    return [
        pb.ChecklistItem(
            item=i,
            passed=i not in failed,
            severity=failed.get(i, ""),
            evidence_refs=[f"{i}.jpg"] if i in failed else [],
        )
        for i in ITEMS
    ]


async def test_city_check_is_the_countys_record_with_the_city_as_checking_body_and_the_pace(
    service_settings,
    infra,
) -> None:
    # Topics of its own: the quota counts every community inspection has learnt, and other
    # tests register communities on the session's shared topics.
    prefix = f"{infra['prefix']}citycheck."
    await ensure_topics(infra["kafka"], [prefix + DISCLOSURE_EVENTS])
    clock = FakeClock(datetime(2026, 9, 1, 4, 0, tzinfo=UTC))
    async with running_service(
        lambda s: build(s, clock=clock), service_settings("inspection", topic_prefix=prefix)
    ) as (_, run):
        assert run.grpc
        for code in CODES:
            await publish_event(
                infra["kafka"],
                prefix + DISCLOSURE_EVENTS,
                "pubrev.disclosure.CommunityRegistered.v1",
                registered(code),
            )
        async with grpc.aio.insecure_channel(f"127.0.0.1:{run.grpc.port}") as channel:
            stub = pb_grpc.InspectionServiceStub(channel)

            async def learnt() -> bool:
                reply = await stub.GetPlanProgress(
                    pb.GetPlanProgressRequest(year=2026, unit="chengxiang"), metadata=CHENGXIANG
                )
                return reply.units[0].communities == len(CODES)

            await eventually(learnt, what="inspection to learn the communities")
            for n, (unit, who) in enumerate(
                [("putian", CITY)] * 2 + [("chengxiang", CHENGXIANG)] * 2
            ):
                await stub.RegisterInspector(
                    pb.RegisterInspectorRequest(
                        request_id=f"i{n}", inspector_code=f"CI-{n}", name="检查员", unit=unit
                    ),
                    metadata=who,
                )
            planned = await stub.PlanSpotChecks(
                pb.PlanSpotChecksRequest(
                    request_id="pc", year=2026, unit="putian", handed_down=["CX-00"]
                ),
                metadata=CITY,
            )
            assert planned.quota == 3  # plan 四（三）: ≥ 15% of all 20, rounded up
            assert planned.quota_source.startswith(plan("四（三）"))
            city_plan = await stub.ContributeDrawEntropy(
                pb.ContributeDrawEntropyRequest(
                    request_id="ec",
                    plan_id=planned.plan_id,
                    contribution="city supervisor 51ab 2026",
                ),
                metadata=CITY_DISCIPLINE,
            )
            first, second = city_plan.targets[0], city_plan.targets[1]
            assert (first.community_code, first.reason) == ("CX-00", "handed_down")

            # A city check of a chengxiang community, 1 September: 30 days end on
            # 1 October, National Day; the period ends on 8 October (民法典 Art. 203).
            recorded = await stub.RecordSpotCheck(
                pb.RecordSpotCheckRequest(
                    request_id="rc",
                    plan_id=city_plan.plan_id,
                    community_code="CX-00",
                    inspected_at="2026-09-01T10:00:00+08:00",
                    inspector_codes=first.inspector_codes,
                    checklist=checklist({"signboard_present": "general"}),
                ),
                metadata=CITY,
            )
            [finding] = recorded.findings
            assert (finding.unit, finding.checking_unit, finding.checking_kind) == (
                "chengxiang",
                "putian",
                "city",
            )
            assert finding.rectification_deadline == "2026-10-08T15:59:59.999999+00:00"
            assert "《民法典》第二百零三条" in finding.rectification_deadline_basis
            assert finding.legal_basis.startswith(plan("二（一）"))

            # 15 December + 60 days ends in 2027, whose holidays are not entered: refused,
            # nothing written, never a guessed deadline. (Recorded on the day: an inspection
            # is never dated after the service's clock.)
            before, clock.now = clock.now, datetime(2026, 12, 15, 3, 0, tzinfo=UTC)
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stub.RecordSpotCheck(
                    pb.RecordSpotCheckRequest(
                        request_id="r2027",
                        plan_id=city_plan.plan_id,
                        community_code=second.community_code,
                        inspected_at="2026-12-15T10:00:00+08:00",
                        inspector_codes=second.inspector_codes,
                        checklist=checklist({"posting_30_days": "serious"}),
                    ),
                    metadata=CITY,
                )
            assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
            assert "2027" in (caught.value.details() or "")
            clock.now = before

            # The county sees the city's finding and the check, and closes the rectification.
            listed = await stub.ListFindings(
                pb.ListFindingsRequest(company_uscc=USCC), metadata=CHENGXIANG
            )
            [seen] = listed.findings
            assert (seen.finding_id, seen.unit, seen.checking_unit, seen.checking_kind) == (
                finding.finding_id,
                "chengxiang",
                "putian",
                "city",
            )
            assert not (
                await stub.ListFindings(pb.ListFindingsRequest(company_uscc=USCC), metadata=LICHENG)
            ).findings
            checks = await stub.ListSpotChecks(
                pb.ListSpotChecksRequest(year=2026), metadata=CHENGXIANG
            )
            assert [
                (c.community_code, c.unit, c.checking_unit, c.checking_kind)
                for c in checks.spot_checks
            ] == [("CX-00", "chengxiang", "putian", "city")]
            before, clock.now = clock.now, datetime(2026, 10, 8, 10, 30, tzinfo=UTC)
            closed = await stub.VerifyRectification(
                pb.VerifyRectificationRequest(
                    request_id="v",
                    finding_id=finding.finding_id,
                    verified_at="2026-10-08T18:00:00+08:00",
                    evidence_refs=["after.jpg"],
                ),
                metadata=CHENGXIANG,
            )
            assert closed.finding.status == "verified"
            clock.now = before

            # The county's own plan: 9 of its quota of 10 checked (45% of its communities).
            own_plan = await stub.PlanSpotChecks(
                pb.PlanSpotChecksRequest(request_id="px", year=2026, unit="chengxiang"),
                metadata=CHENGXIANG,
            )
            assert own_plan.quota == 10
            own = await stub.ContributeDrawEntropy(
                pb.ContributeDrawEntropyRequest(
                    request_id="ex",
                    plan_id=own_plan.plan_id,
                    contribution="chengxiang supervisor 77e0",
                ),
                metadata=CX_DISCIPLINE,
            )
            for n, target in enumerate(own.targets[:9]):
                await stub.RecordSpotCheck(
                    pb.RecordSpotCheckRequest(
                        request_id=f"rx{n}",
                        plan_id=own.plan_id,
                        community_code=target.community_code,
                        inspected_at="2026-08-20T10:00:00+08:00",
                        inspector_codes=target.inspector_codes,
                        checklist=checklist({}),
                    ),
                    metadata=CHENGXIANG,
                )
            county_checked = len({t.community_code for t in own.targets[:9]})

            async def progress(
                who: tuple[tuple[str, str], ...],
                unit: str = "",
            ) -> dict[str, pb.UnitProgress]:
                reply = await stub.GetPlanProgress(
                    pb.GetPlanProgressRequest(year=2026, unit=unit), metadata=who
                )
                return {u.unit: u for u in reply.units}

            # 1 September 12:00: 48.5 of the window's 78 days → 7 of 10 expected; 9 is on pace.
            mid = (await progress(CHENGXIANG))["chengxiang"]
            assert (mid.quota, mid.checked, mid.expected_by_now, mid.behind) == (
                10,
                county_checked,
                7,
                False,
            )
            assert (mid.checks_start, mid.checks_due) == ("2026-07-15", "2026-09-30")
            assert mid.pace_rules_version == DEFAULT_PACE.version
            assert mid.tolerance_percent == DEFAULT_PACE.tolerance_percent
            assert mid.quota_source.startswith(plan("四（三）"))
            assert mid.pace_source == DEFAULT_PACE.year(2026).source

            # The year's end: the quota is a floor without tolerance; 45% is behind.
            clock.now = datetime(2026, 12, 31, 4, 0, tzinfo=UTC)
            rows = await progress(CITY)
            assert set(rows) == {
                "putian",
                "chengxiang",
                "hanjiang",
                "licheng",
                "xiuyu",
                "xianyou",
                "meizhoudao",
                "beian",
            }
            county = rows["chengxiang"]
            assert (
                county.checked,
                county.expected_by_now,
                county.tolerance_percent,
                county.behind,
            ) == (county_checked, 10, 0, True)
            # The city's own row: 1 community checked by its own plan, of a quota of 3.
            city = rows["putian"]
            assert (city.communities, city.quota, city.checked, city.behind) == (20, 3, 1, True)
            assert city.quota_source.startswith(plan("四（三）"))
            assert set(await progress(CHENGXIANG)) == {"chengxiang"}
            with pytest.raises(grpc.aio.AioRpcError) as denied:
                await progress(CHENGXIANG, "putian")
            assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED

            # On the wire: ViolationFound and RectificationOrdered are chengxiang's, found by
            # the city.
            records = await read_topic(
                infra["kafka"],
                prefix + INSPECTION_EVENTS,
                subject=finding.finding_id,
                min_count=3,
            )
            bodies = {dict(r.headers)["ce_type"].decode(): json.loads(r.value) for r in records}
            for ce_type in (
                "pubrev.inspection.ViolationFound.v1",
                "pubrev.inspection.RectificationOrdered.v1",
            ):
                body = bodies[ce_type]
                assert (body["unit"], body["checking_unit"], body["checking_kind"]) == (
                    "chengxiang",
                    "putian",
                    "city",
                ), ce_type
            ordered = bodies["pubrev.inspection.RectificationOrdered.v1"]
            assert ordered["deadline"] == "2026-10-08T15:59:59.999999Z"
            found = bodies["pubrev.inspection.ViolationFound.v1"]
            assert found["legal_basis"].startswith(WORK_PLAN)
