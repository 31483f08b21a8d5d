"""Default deny, proven against the contract: every RPC of every service's proto (read from
the generated stubs' descriptors, `pubrev.<service>.v1`, and the operators' service
`pubrev.common.v1.AdminService`, which every service serves) has exactly one row in the
service's declared policy (`<service>.application.access.POLICY`), every row names a real
RPC, the policy keeps to the published vocabulary of agencies and roles, the application
enforces that very policy, and docs/authorization.md is what the policies render.

An RPC added to a .proto without a row fails here before anyone can call it.
"""

from __future__ import annotations

import importlib
import inspect
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest

from pubrev.common.v1 import admin_pb2, evidence_pb2
from pubrev_contracts.vocabulary.agencies import AGENCIES, SUBJECT_PATTERNS
from pubrev_contracts.vocabulary.units import CITY, UNITS
from servicekit.errors import PermissionDenied
from servicekit.eventstore import HISTORY_RPC, ServiceApplication
from servicekit.identity import Identity, IdentityRules
from servicekit.policy import Grant, Policy, Rule
from tools import gen_authz_doc

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("disclosure", "inspection", "credit", "casework")
EVIDENCE_SERVERS = ("inspection", "casework", "credit")
"""The services that serve pubrev.common.v1.EvidenceService beside their own (their
bootstraps register servicekit.evidence's servicer)."""
RULES = IdentityRules(AGENCIES, UNITS, SUBJECT_PATTERNS, CITY)


def proto_rpcs(service: str) -> list[str]:
    """Every method of every gRPC service in the service's generated contract, and of the
    operators' service every service serves beside its own (servicekit.runtime)."""
    stubs = importlib.import_module(f"pubrev.{service}.v1.{service}_pb2")
    file = stubs.DESCRIPTOR
    assert file.package == f"pubrev.{service}.v1"
    assert file.services_by_name, f"{file.name} declares no gRPC service"
    admin = admin_pb2.DESCRIPTOR.services_by_name["AdminService"]
    evidence = evidence_pb2.DESCRIPTOR.services_by_name["EvidenceService"]
    common = (admin, evidence) if service in EVIDENCE_SERVERS else (admin,)
    return [
        method.name
        for grpc_service in (*file.services_by_name.values(), *common)
        for method in grpc_service.methods
    ]


def declared(service: str) -> Policy:
    module = importlib.import_module(f"{service}.application.access")
    policy = getattr(module, "POLICY", None)
    assert isinstance(policy, Policy), (
        f"{service}.application.access declares no POLICY: every RPC is undeclared"
    )
    return policy


def applications(service: str) -> list[type[ServiceApplication]]:
    module: ModuleType = importlib.import_module(f"{service}.application.app")
    return [
        cls
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, ServiceApplication) and cls.__module__ == module.__name__
    ]


def against_contract(rpcs: list[str], policy: Policy) -> tuple[list[str], list[str]]:
    """The contract's RPCs without a row, and the rows naming no RPC of the contract."""
    rows = Counter(rule.rpc for rule in policy.rules)
    assert [rpc for rpc, n in rows.items() if n > 1] == []
    return sorted(set(rpcs) - set(rows)), sorted(set(rows) - set(rpcs))


@pytest.mark.parametrize("service", SERVICES)
def test_every_rpc_of_the_contract_has_exactly_one_row(service: str) -> None:
    rpcs = proto_rpcs(service)
    assert len(rpcs) == len(set(rpcs))
    missing, unknown = against_contract(rpcs, declared(service))
    assert missing == [], f"{service}: RPCs without a policy row (default deny): {missing}"
    assert unknown == [], f"{service}: policy rows for RPCs the contract lacks: {unknown}"


def test_an_rpc_without_a_row_is_caught() -> None:
    """The check above can fail: a policy that forgets one RPC, or names one the contract
    does not have, is found out (and the forgotten RPC is denied to everyone meanwhile)."""
    rpcs = proto_rpcs("casework")
    rules = [Rule(rpc, (Grant("auditor"),), "test") for rpc in rpcs]
    forgetful = Policy("casework", [*rules[1:], Rule("Invented", (), "test")], city=CITY)
    assert against_contract(rpcs, forgetful) == ([rpcs[0]], ["Invented"])
    with pytest.raises(PermissionDenied, match="no policy row"):
        forgetful.admit(rpcs[0], Identity("auditor", "auditor", "putian"))


@pytest.mark.parametrize("service", SERVICES)
def test_the_policy_keeps_to_the_vocabulary(service: str) -> None:
    policy = declared(service)
    assert policy.service == service
    assert policy.problems(RULES) == []


@pytest.mark.parametrize("service", SERVICES)
def test_the_whole_log_is_the_auditor_s_only(service: str) -> None:
    rule = declared(service).by_rpc.get(HISTORY_RPC)
    assert rule is not None, f"{service}: no GetHistory row"
    assert rule.grants, f"{service}: GetHistory granted to nobody, not even the auditor"
    assert {grant.agency for grant in rule.grants} == {"auditor"}


@pytest.mark.parametrize("service", SERVICES)
def test_the_application_enforces_the_declared_policy(service: str) -> None:
    """The application class carries the same POLICY (GetHistory judges by it), and each
    record type's history follows a read RPC that has a row."""
    policy = declared(service)
    apps = applications(service)
    assert apps, f"{service}.application.app defines no ServiceApplication"
    for app in apps:
        assert getattr(app, "policy", None) is policy, f"{app.__name__}.policy is not POLICY"
        for kind, (rpc, _) in app.history_reads.items():
            assert rpc in policy.by_rpc, f"{kind.__name__}'s history follows {rpc}, no row"
            assert rpc != HISTORY_RPC


def test_every_service_of_the_platform_is_covered() -> None:
    services = sorted(
        p.name
        for p in (ROOT / "contracts" / "src" / "pubrev").iterdir()
        if (p / "v1").is_dir() and p.name != "common"
    )
    assert services == sorted(SERVICES)
    assert gen_authz_doc.SERVICES == SERVICES


@pytest.mark.parametrize("service", SERVICES)
def test_the_operators_service_is_the_operators_alone(service: str) -> None:
    """Parked events, lag, rebuilds and re-pushes: every row of the operators' service
    grants the operator role of the operators' agency and nobody else."""
    policy = declared(service)
    for method in admin_pb2.DESCRIPTOR.services_by_name["AdminService"].methods:
        rule = policy.by_rpc[method.name]
        assert [(g.agency, g.roles) for g in rule.grants] == [("operator", ("operator",))]


def test_the_published_document_is_what_the_policies_render() -> None:
    document = ROOT / "docs" / "authorization.md"
    assert document.exists(), "docs/authorization.md is missing: run `make authz-doc`"
    assert document.read_text(encoding="utf-8") == gen_authz_doc.render(), (
        "docs/authorization.md differs from the declared policies: run `make authz-doc`"
    )
