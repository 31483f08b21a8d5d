"""The operators' service (pubrev.common.v1.AdminService) over real gRPC, in each of the
four services: one role of every agency (both of the operator's) in every relation to a
record calls every admin RPC through servicekit's server (the development header parsed
strictly, the contract's bounds, errors to status codes); the answer is what the service's
declared policy says and nothing the must-deny oracle lists gets through. The desk works on
an in-memory fake store (tests/support/admin_authz.py); the real one is tested on the real
stack in libs/servicekit/tests/test_servicekit_isolation.py."""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest

from pubrev_contracts.vocabulary.agencies import AGENCIES, SUBJECT_PATTERNS
from pubrev_contracts.vocabulary.units import CITY, UNITS
from servicekit.admin import SERVICE_NAME
from servicekit.eventstore import ServiceApplication
from servicekit.grpc_kit import IDENTITY_HEADER, GrpcServer
from servicekit.identity import IdentityRules
from servicekit.policy import Policy, Resource
from servicekit.settings import ServiceSettings
from tests.support.admin_authz import ADMIN_RPCS, admin_grpc_calls, register_admin
from tests.support.authz import cells, expected
from tests.support.must_deny import must_deny

SERVICES = ("disclosure", "inspection", "credit", "casework")
RULES = IdentityRules(AGENCIES, UNITS, SUBJECT_PATTERNS, CITY)
RECORD = Resource(unit="chengxiang", company="91350200776049653A", community="CX-0001")
ROLES = {
    ("property-bureau", "officer"),
    ("township", "officer"),
    ("discipline", "supervisor"),
    ("credit-office", "officer"),
    ("market-regulation", "officer"),
    ("police", "investigator"),
    ("property-company", "filer"),
    ("owners-committee", "chair"),
    ("owners", "representative"),
    ("auditor", "auditor"),
    ("operator", "operator"),
    ("operator", "scheduler"),
    ("provincial-system", "frontend"),
    ("console", "frontend"),
    ("public", "anonymous"),
}
DENIED = {grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.NOT_FOUND}


def application(service: str) -> ServiceApplication:
    """An in-memory application carrying the service's declared policy."""
    policy = importlib.import_module(f"{service}.application.access").POLICY
    assert isinstance(policy, Policy)
    kind = type(f"{service.title()}Operations", (ServiceApplication,), {"policy": policy})
    app: ServiceApplication = kind(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    return app


@contextlib.asynccontextmanager
async def admin_server(app: ServiceApplication, service: str) -> AsyncIterator[Any]:
    settings = ServiceSettings(
        service=service, environment="test", grpc_port=0, dev_identity_header=True
    )
    server = GrpcServer(settings, [SERVICE_NAME], RULES)
    register_admin(app, service)(server.server)
    port = await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield channel
    finally:
        await server.stop(0)


@pytest.mark.parametrize("service", SERVICES)
async def test_the_operators_service_over_real_grpc(service: str) -> None:
    app = application(service)
    grpc_cells = [c for c in cells(RECORD) if (c.identity.agency, c.identity.role) in ROLES]
    problems: list[str] = []
    answered: set[str] = set()
    count = 0
    async with admin_server(app, service) as channel:
        calls = admin_grpc_calls(channel)
        assert set(calls) == ADMIN_RPCS
        for rpc, call in sorted(calls.items()):
            for cell in grpc_cells:
                count += 1
                try:
                    await call(((IDENTITY_HEADER, cell.identity.render()),))
                    got = "allowed"
                    answered.add(rpc)
                except grpc.aio.AioRpcError as error:
                    got = "denied" if error.code() in DENIED else f"allowed ({error.code()})"
                    if error.code() is grpc.StatusCode.UNAUTHENTICATED:
                        problems.append(f"{cell.identity.render()} not recognised")
                allowed = got.startswith("allowed")
                if allowed != expected(app.policy, rpc, cell.identity, RECORD, ""):
                    problems.append(f"{rpc} by {cell.identity.render()}: {got}, not as declared")
                reason = must_deny(service, rpc, cell.identity, cell.relation, RECORD)
                if allowed and reason:
                    problems.append(f"{rpc} by {cell.identity.render()}: {got}: {reason}")
    assert not problems, "\n".join(problems)
    assert count == len(grpc_cells) * len(ADMIN_RPCS)
    # The operator got real answers (not only refusals of its arguments): the fake store's
    # entry listed, re-driven, skipped, and the lag read.
    assert {"ListParked", "RedriveParked", "SkipParked", "GetLag"} <= answered
