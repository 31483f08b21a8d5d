"""The owners' side and the interview ledger on the real stack (issue 13 part A): a file
uploaded to casework's evidence store (PostgreSQL) through the EvidenceService, a complaint
lodged by the public with it and a tracking number, its status asked with the phone (the
comparison recorded in pd_reads), an interview recorded with the file; on the Kafka topic
the complaint travels on the public channel without the complainant, and the interview with
its file's reference."""

from __future__ import annotations

import json
import uuid
from datetime import datetime

import grpc
import pytest

from casework.application.app import CaseworkApplication
from casework.bootstrap import build
from casework.domain.interview import InterviewLedger
from pubrev.casework.v1 import casework_pb2 as pb
from pubrev.casework.v1 import casework_pb2_grpc as pb_grpc
from pubrev.common.v1 import evidence_pb2, evidence_pb2_grpc
from pubrev_contracts.topics import CASEWORK_EVENTS
from pubrev_contracts.vocabulary.calendar import SHANGHAI
from servicekit.testing import eventually, identity_metadata, read_topic, running_service
from services.casework.tests.support.lodging import register_community

pytestmark = pytest.mark.infra

HEAD = identity_metadata("property-bureau", "head", "licheng")
CITY_HEAD = identity_metadata("property-bureau", "head", "putian")
PUBLIC = identity_metadata("public", "anonymous", "putian")
NAME, PHONE = "林某某", "13905941234"
PNG = b"\x89PNG\r\n\x1a\n" + uuid.uuid4().bytes * 4


async def test_a_complaint_lodged_by_the_public_and_an_interview_on_the_real_stack(
    service_settings, infra
) -> None:
    community = f"LC-{uuid.uuid4().hex[:8].upper()}"
    async with running_service(build, service_settings("casework")) as (parts, run):
        assert run.grpc
        app = parts.app
        assert isinstance(app, CaseworkApplication)
        register_community(app, community)  # as disclosure's CommunityRegistered does
        async with grpc.aio.insecure_channel(f"127.0.0.1:{run.grpc.port}") as channel:
            evidence = evidence_pb2_grpc.EvidenceServiceStub(channel)
            uploaded = await evidence.UploadAttachment(
                evidence_pb2.UploadAttachmentRequest(
                    request_id=str(uuid.uuid4()),
                    content=PNG,
                    media_type="image/png",
                    filename="停车场.png",
                    unit="licheng",
                ),
                metadata=HEAD,
            )
            ref = uploaded.attachment
            stub = pb_grpc.CaseworkServiceStub(channel)
            lodged = await stub.LodgeComplaint(
                pb.LodgeComplaintRequest(
                    request_id=str(uuid.uuid4()),
                    community_code=community,
                    category="revenue_embezzled",
                    description="停车收入去向不明",
                    complainant_name=NAME,
                    complainant_phone=PHONE,
                    attachments=[ref],
                ),
                metadata=PUBLIC,
            )
            assert lodged.unit == "licheng"
            status = await stub.GetComplaintStatus(
                pb.GetComplaintStatusRequest(tracking_number=lodged.tracking_number, phone=PHONE),
                metadata=PUBLIC,
            )
            assert (status.status, status.community_code) == ("received", community)
            with pytest.raises(grpc.aio.AioRpcError) as wrong:
                await stub.GetComplaintStatus(
                    pb.GetComplaintStatusRequest(
                        tracking_number=lodged.tracking_number, phone="13905940000"
                    ),
                    metadata=PUBLIC,
                )
            assert wrong.value.code() == grpc.StatusCode.NOT_FOUND
            listed = await stub.ListCommunityComplaints(
                pb.ListCommunityComplaintsRequest(community_code=community),
                metadata=identity_metadata("owners-committee", "chair", "licheng", community),
            )
            assert [(c.channel, c.status) for c in listed.complaints] == [("public", "received")]
            case = await stub.GetCase(pb.GetCaseRequest(case_id=lodged.case_id), metadata=HEAD)
            assert [e.sha256 for e in case.case.evidence] == [ref.sha256]
            reads = await stub.ListPersonalDataReads(
                pb.ListPersonalDataReadsRequest(case_id=lodged.case_id), metadata=CITY_HEAD
            )
            assert [(r.purpose, r.note) for r in reads.reads] == [
                ("status_check", "matched"),
                ("status_check", "not matched"),
            ]
            today = datetime.now(SHANGHAI).date().isoformat()
            recorded = await stub.RecordInterview(
                pb.RecordInterviewRequest(
                    request_id=str(uuid.uuid4()),
                    subject_kind="company",
                    subject="91350200776049653A",
                    unit="licheng",
                    reason="拒不公示公共收益收支情况",
                    held_on=today,
                    outcome="承诺十日内补正公示",
                    attachments=[ref],
                ),
                metadata=HEAD,
            )
        topic = infra["prefix"] + CASEWORK_EVENTS
        [received] = await read_topic(infra["kafka"], topic, subject=lodged.case_id)
        assert json.loads(received.value)["channel"] == "public"
        on_the_wire = received.value + b"".join(v for _, v in received.headers)
        assert NAME.encode() not in on_the_wire and PHONE.encode() not in on_the_wire
        assert lodged.tracking_number.encode() not in on_the_wire
        ledger_id = str(InterviewLedger.create_id("licheng", int(today[:4])))

        async def interview_sent() -> dict[str, object] | None:
            records = await read_topic(infra["kafka"], topic, subject=ledger_id)
            sent = [json.loads(r.value) for r in records]
            return next(
                (e for e in sent if e["interview_id"] == recorded.interview.interview_id), None
            )

        sent = await eventually(interview_sent, what="InterviewRecorded on the topic")
        assert sent["subject_kind"] == "company" and sent["interviewer_unit"] == "licheng"
        assert sent["attachments"] == [
            {
                "sha256": ref.sha256,
                "size": ref.size,
                "media_type": "image/png",
                "filename": "停车场.png",
            }
        ]
