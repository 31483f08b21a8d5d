"""Personal data under envelope encryption (issue 10 item 7), on in-memory persistence: the
key-encryption key's providers (the local key file; Vault transit against a fake transit
server), rotation, the production refusals, every read of a complainant's data recorded
and listed for the city, and the retention job with an injected clock."""

from __future__ import annotations

import os
import stat
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest

from casework.adapters.kek import KubernetesLogin, LocalKek, TokenFile, VaultTransit
from casework.adapters.personal_data import (
    EnvelopeVault,
    InMemoryKeyring,
    InMemoryReadLog,
    KekProvider,
    PersonalDataSettings,
)
from casework.adapters.read_model_memory import InMemoryCaseReadModel
from casework.application import queries
from casework.application.app import CaseworkApplication
from casework.application.commands import (
    CloseCase,
    GiveFeedback,
    ReadComplainant,
    ResolveCase,
    ShredPersonalData,
    StartInvestigation,
)
from casework.application.handlers.cases import on_rectification_ordered
from casework.application.ports import KeyProviderError, PersonalDataRead, WrappedKey
from casework.application.sweeps import ORPHAN_KEY_GRACE, shred_expired_personal_data
from casework.bootstrap import build
from casework.domain.case import Case, PersonalDataRetention
from casework.entrypoints.grpc_api import SERVICE_NAME, register
from pubrev.casework.v1 import casework_pb2 as pb
from pubrev.casework.v1 import casework_pb2_grpc as pb_grpc
from servicekit.errors import Conflict, InvalidArgument, PermissionDenied, RuleViolated
from servicekit.eventstore import DeliveryRef
from servicekit.grpc_kit import IDENTITY_HEADER, GrpcServer
from servicekit.identity import Identity
from servicekit.settings import Environment, ServiceSettings
from servicekit.testing import FakeClock
from services.casework.tests.support.fake_vault import FakeVaultTransit
from services.casework.tests.support.scenario import (
    NAME,
    OFFICER,
    PHONE,
    WHEN,
    complaint,
)
from tests.support.authz import RULES

CASE = uuid.uuid4()
KEY = bytes(range(32))
CITY_HEAD = RULES.check(Identity("property-bureau", "head", "putian"))
DISCIPLINE = RULES.check(Identity("discipline", "supervisor", "putian"))
AUDITOR = RULES.check(Identity("auditor", "auditor", "putian"))
COUNTY_HEAD = RULES.check(Identity("property-bureau", "head", "licheng"))


# -- the local key file ----------------------------------------------------------------------


def test_local_kek_wraps_and_unwraps_bound_to_the_case(tmp_path: Path) -> None:
    kek = LocalKek.create_file(tmp_path / "kek.json")
    wrapped = kek.wrap(KEY, CASE.bytes)
    assert (wrapped.kek_id, wrapped.kek_version) == (kek.kek_id, 1)
    assert KEY not in wrapped.ciphertext and len(wrapped.ciphertext) == 12 + 32 + 16
    assert kek.unwrap(wrapped, CASE.bytes) == KEY
    with pytest.raises(KeyProviderError, match="does not unwrap for this case"):
        kek.unwrap(wrapped, uuid.uuid4().bytes)  # copied to another case
    with pytest.raises(KeyProviderError, match="no version 2"):
        kek.unwrap(replace(wrapped, kek_version=2), CASE.bytes)
    with pytest.raises(KeyProviderError, match="wrapped by local:other"):
        kek.unwrap(replace(wrapped, kek_id="local:other"), CASE.bytes)


def test_local_key_file_is_the_owners_and_made_once(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "kek.json"
    first = LocalKek.create_file(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    again = LocalKek.create_file(path)  # another process starting: the same key
    assert again.kek_id == first.kek_id
    assert again.unwrap(first.wrap(KEY, CASE.bytes), CASE.bytes) == KEY
    assert [p.name for p in path.parent.iterdir()] == ["kek.json"]  # no temporary left


def test_a_malformed_key_file_is_named_not_shown(tmp_path: Path) -> None:
    path = tmp_path / "kek.json"
    path.write_text('{"kek_id": "x", "versions": {"1": "c2VjcmV0LWJ1dC1zaG9ydA=="}}')
    with pytest.raises(ValueError, match=r"kek\.json is unreadable or malformed") as caught:
        LocalKek.from_file(path)
    assert "c2VjcmV0" not in str(caught.value)


def test_rotation_wraps_with_the_new_version_and_still_unwraps_the_old(tmp_path: Path) -> None:
    path = tmp_path / "kek.json"
    before = LocalKek.create_file(path)
    old = before.wrap(KEY, CASE.bytes)
    assert LocalKek.rotate_file(path) == 2
    after = LocalKek.from_file(path)
    assert after.kek_id == before.kek_id and after.current_version() == 2
    assert after.unwrap(old, CASE.bytes) == KEY
    rewrapped = after.rewrap(old, CASE.bytes)
    assert rewrapped.kek_version == 2 and rewrapped.ciphertext != old.ciphertext
    assert after.unwrap(rewrapped, CASE.bytes) == KEY
    with pytest.raises(KeyProviderError):  # the version is authenticated with the key
        after.unwrap(replace(rewrapped, kek_version=1), CASE.bytes)


# -- the envelope ----------------------------------------------------------------------------


def test_the_keyring_holds_only_wrapped_keys_and_shredding_destroys_them() -> None:
    keyring = InMemoryKeyring()
    vault = EnvelopeVault(keyring, LocalKek.ephemeral())
    sealed = vault.seal(CASE, {"name": NAME, "phone": PHONE})
    assert NAME not in sealed and PHONE not in sealed
    wrapped = keyring.get(CASE)
    assert wrapped is not None and len(wrapped.ciphertext) > 32
    assert vault.open(CASE, sealed) == {"name": NAME, "phone": PHONE}
    assert [h.case_id for h in vault.held()] == [CASE]
    vault.shred(CASE)
    vault.shred(CASE)  # idempotent
    assert vault.open(CASE, sealed) is None and vault.held() == []


def test_rewrap_after_rotation_moves_every_key_to_the_current_version(tmp_path: Path) -> None:
    path = tmp_path / "kek.json"
    keyring = InMemoryKeyring()
    vault = EnvelopeVault(keyring, LocalKek.create_file(path))
    cases = [uuid.uuid4() for _ in range(3)]
    sealed = {c: vault.seal(c, {"name": str(c), "phone": ""}) for c in cases}
    foreign = uuid.uuid4()
    keyring.put(foreign, WrappedKey("local:elsewhere", 1, b"x" * 60))
    LocalKek.rotate_file(path)
    vault = EnvelopeVault(keyring, LocalKek.from_file(path))
    assert vault.rewrap_stale() == 3
    assert {keyring.get(c).kek_version for c in cases} == {2}  # type: ignore[union-attr]
    assert all(vault.open(c, s) == {"name": str(c), "phone": ""} for c, s in sealed.items())
    assert keyring.get(foreign) == WrappedKey("local:elsewhere", 1, b"x" * 60)  # left, logged
    assert vault.rewrap_stale() == 0


# -- Vault transit, against a fake transit server --------------------------------------------


@pytest.fixture
def fake_vault() -> Iterator[FakeVaultTransit]:
    with FakeVaultTransit() as fake:
        fake.create_key("casework-pii")
        yield fake


def transit(fake: FakeVaultTransit, tmp_path: Path) -> VaultTransit:
    token_file = tmp_path / "vault-token"
    token_file.write_text(fake.issue_token() + "\n")
    return VaultTransit(fake.url, "casework-pii", TokenFile(token_file))


def test_vault_transit_wraps_unwraps_and_binds_the_case(
    fake_vault: FakeVaultTransit, tmp_path: Path
) -> None:
    kek = transit(fake_vault, tmp_path)
    wrapped = kek.wrap(KEY, CASE.bytes)
    assert (wrapped.kek_id, wrapped.kek_version) == ("vault:transit/casework-pii", 1)
    assert wrapped.ciphertext.startswith(b"vault:v1:") and KEY not in wrapped.ciphertext
    assert kek.unwrap(wrapped, CASE.bytes) == KEY
    with pytest.raises(KeyProviderError, match="Vault refused decrypt: HTTP 400"):
        kek.unwrap(wrapped, uuid.uuid4().bytes)  # the derived key of another case
    assert fake_vault.calls == [
        "POST /v1/transit/encrypt/casework-pii",
        "POST /v1/transit/decrypt/casework-pii",
        "POST /v1/transit/decrypt/casework-pii",
    ]


def test_vault_rotation_rewraps_inside_vault(fake_vault: FakeVaultTransit, tmp_path: Path) -> None:
    kek = transit(fake_vault, tmp_path)
    keyring = InMemoryKeyring()
    vault = EnvelopeVault(keyring, kek)
    sealed = vault.seal(CASE, {"name": NAME, "phone": PHONE})
    assert kek.current_version() == 1
    assert fake_vault.rotate("casework-pii") == 2
    seen = fake_vault.plaintexts_seen
    assert vault.rewrap_stale() == 1
    assert fake_vault.plaintexts_seen == seen  # re-wrapped without the key coming out
    stored = keyring.get(CASE)
    assert stored is not None and stored.kek_version == 2
    assert stored.ciphertext.startswith(b"vault:v2:")
    assert vault.open(CASE, sealed) == {"name": NAME, "phone": PHONE}
    assert "POST /v1/transit/rewrap/casework-pii" in fake_vault.calls


def test_vault_refusals_and_outages_disclose_nothing(
    fake_vault: FakeVaultTransit, tmp_path: Path
) -> None:
    kek = transit(fake_vault, tmp_path)
    wrapped = kek.wrap(KEY, CASE.bytes)
    fake_vault.revoke_all_tokens()
    with pytest.raises(KeyProviderError, match="HTTP 403"):
        kek.unwrap(wrapped, CASE.bytes)
    with pytest.raises(KeyProviderError, match="wrapped by local:x"):
        kek.unwrap(replace(wrapped, kek_id="local:x"), CASE.bytes)
    gone = VaultTransit(
        "http://127.0.0.1:9", "casework-pii", TokenFile(tmp_path / "vault-token"), timeout=1
    )
    with pytest.raises(KeyProviderError, match="Vault unreachable for encrypt"):
        gone.wrap(KEY, CASE.bytes)
    missing = VaultTransit(fake_vault.url, "casework-pii", TokenFile(tmp_path / "none"))
    with pytest.raises(KeyProviderError, match=r"token file .* unreadable"):
        missing.current_version()


def test_kubernetes_login_and_a_new_token_when_refused(
    fake_vault: FakeVaultTransit, tmp_path: Path
) -> None:
    jwt = tmp_path / "sa-token"
    jwt.write_text(fake_vault.k8s_jwt)
    kek = VaultTransit(fake_vault.url, "casework-pii", KubernetesLogin("casework-api", jwt))
    wrapped = kek.wrap(KEY, CASE.bytes)
    fake_vault.revoke_all_tokens()  # the token expired or was revoked
    assert kek.unwrap(wrapped, CASE.bytes) == KEY
    assert [c for c in fake_vault.calls if "login" in c] == [
        "POST /v1/auth/kubernetes/login",
        "POST /v1/auth/kubernetes/login",
    ]
    wrong = VaultTransit(fake_vault.url, "casework-pii", KubernetesLogin("other-role", jwt))
    with pytest.raises(KeyProviderError, match="Vault refused login"):
        wrong.current_version()


# -- the settings, and what production refuses ------------------------------------------------


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("PUBREV_"):
            monkeypatch.delenv(name)


def test_production_refuses_the_local_key_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUBREV_ENVIRONMENT", "production")
    with pytest.raises(ValueError, match="PUBREV_KEK_PROVIDER=local is refused in production"):
        PersonalDataSettings()
    local = PersonalDataSettings(
        kek_file=Path("/tmp/kek.json"),  # noqa: S108
        environment=Environment.development,
    )
    with pytest.raises(ValueError, match="refused in production"):
        local.check(Environment.production)
    settings = ServiceSettings.model_construct(
        service="casework", environment=Environment.production
    )
    feed = {
        "PUBREV_ZHIHUI_URL": "https://zhihui.example.invalid/feeds",
        "PUBREV_ZHIHUI_SECRET": "z" * 40,
    }
    with pytest.raises(ValueError, match="PUBREV_KEK_PROVIDER=local is refused"):
        build(settings, feed=feed, pd=local)  # before anything is connected or read


def test_production_takes_vault_over_https_only(monkeypatch: pytest.MonkeyPatch) -> None:
    vault = {
        "PUBREV_ENVIRONMENT": "production",
        "PUBREV_KEK_PROVIDER": "vault",
        "PUBREV_VAULT_ADDR": "https://vault.example.invalid:8200",
        "PUBREV_VAULT_AUTH_ROLE": "casework-api",
    }
    for name, value in vault.items():
        monkeypatch.setenv(name, value)
    settings = PersonalDataSettings()
    assert settings.kek_provider is KekProvider.vault
    kek = settings.kek()
    assert isinstance(kek, VaultTransit) and kek.kek_id == "vault:transit/casework-pii"
    kek.close()
    monkeypatch.setenv("PUBREV_VAULT_ADDR", "http://vault.example.invalid:8200")
    with pytest.raises(ValueError, match="must be an https:// URL in production"):
        PersonalDataSettings()
    monkeypatch.setenv("PUBREV_VAULT_ADDR", "https://vault.example.invalid:8200")
    monkeypatch.delenv("PUBREV_VAULT_AUTH_ROLE")
    with pytest.raises(ValueError, match="PUBREV_VAULT_TOKEN_FILE or PUBREV_VAULT_AUTH_ROLE"):
        PersonalDataSettings()


def test_the_retention_period_is_configured_and_marked_local(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PUBREV_PII_RETENTION_DAYS", "180")
    retention = PersonalDataSettings().retention()
    assert retention.days_after_closure == 180
    assert "个人信息保护法》第十九条" in retention.legal_basis
    assert "180日" in retention.legal_basis and "本地配置" in retention.legal_basis
    monkeypatch.setenv("PUBREV_PII_RETENTION_DAYS", "0")
    with pytest.raises(ValueError, match="pii_retention_days"):
        PersonalDataSettings()


# -- every read recorded -------------------------------------------------------------------


def casework(
    clock: FakeClock,
    log: InMemoryReadLog | None = None,
    retention: PersonalDataRetention | None = None,
) -> CaseworkApplication:
    return CaseworkApplication(
        env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
        clock=clock,
        retention=retention,
        vault=EnvelopeVault(InMemoryKeyring(clock), LocalKek.ephemeral()),
        read_model=InMemoryCaseReadModel,
        read_log=log or InMemoryReadLog(),
    )


def test_a_read_without_a_purpose_is_refused_and_not_recorded() -> None:
    app = casework(FakeClock(WHEN))
    case_id = app.handle(OFFICER, complaint()).case_id
    with pytest.raises(InvalidArgument) as caught:
        app.handle(OFFICER, ReadComplainant(case_id, "", "x" * 201))
    assert {(v.field, v.rule) for v in caught.value.violations} == {
        ("purpose", "unknown_purpose"),
        ("note", "too_long"),
    }
    with pytest.raises(InvalidArgument):
        app.handle(OFFICER, ReadComplainant(case_id, "curiosity"))
    assert queries.list_personal_data_reads(app, AUDITOR, "", "", None, None, 0, 100) == []


def test_a_read_that_cannot_be_recorded_discloses_nothing() -> None:
    class Broken(InMemoryReadLog):
        def record(self, read: PersonalDataRead) -> PersonalDataRead:
            raise OSError("the database is away")

    app = casework(FakeClock(WHEN), Broken())
    case_id = app.handle(OFFICER, complaint()).case_id
    with pytest.raises(OSError, match="away"):
        app.handle(OFFICER, ReadComplainant(case_id, "feedback"))


def test_reads_through_a_front_end_name_it_and_the_city_lists_by_unit_case_and_time() -> None:
    clock = FakeClock(WHEN)
    app = casework(clock)
    first = app.handle(OFFICER, complaint("c1")).case_id
    second = app.handle(OFFICER, complaint("c2")).case_id
    hanjiang = RULES.check(Identity("property-bureau", "officer", "hanjiang"))
    third = app.handle(
        hanjiang, replace(complaint("c3"), unit="hanjiang", community_code="HJ-0001")
    ).case_id
    person = replace(
        RULES.check(Identity("property-bureau", "officer", "licheng", "林某")), via="putian-console"
    )
    app.handle(person, ReadComplainant(first, "investigation", "核实投诉内容"))
    clock.now = WHEN + timedelta(hours=2)
    app.handle(OFFICER, ReadComplainant(second, "feedback"))
    app.handle(hanjiang, ReadComplainant(third, "mediation"))
    every = queries.list_personal_data_reads(app, CITY_HEAD, "", "", None, None, 0, 100)
    assert [(r.case_id, r.reader, r.via, r.purpose, r.fields) for r in every] == [
        (
            first,
            "agency=property-bureau;role=officer;unit=licheng;subject=林某",
            "putian-console",
            "investigation",
            ("name", "phone"),
        ),
        (second, OFFICER.render(), "", "feedback", ("name", "phone")),
        (third, hanjiang.render(), "", "mediation", ("name", "phone")),
    ]
    assert [r.read_at for r in every] == [
        WHEN,
        WHEN + timedelta(hours=2),
        WHEN + timedelta(hours=2),
    ]
    assert [
        r.case_id
        for r in queries.list_personal_data_reads(
            app, DISCIPLINE, "licheng", "", None, None, 0, 100
        )
    ] == [first, second]
    assert [
        r.case_id
        for r in queries.list_personal_data_reads(app, AUDITOR, "", second, None, None, 0, 100)
    ] == [second]
    assert [
        r.case_id
        for r in queries.list_personal_data_reads(
            app, CITY_HEAD, "", "", WHEN + timedelta(hours=1), None, 0, 100
        )
    ] == [second, third]
    assert [
        r.case_id
        for r in queries.list_personal_data_reads(
            app, CITY_HEAD, "", "", None, WHEN + timedelta(hours=1), 0, 100
        )
    ] == [first]
    page = queries.list_personal_data_reads(app, CITY_HEAD, "", "", None, None, 0, 2)
    rest = queries.list_personal_data_reads(app, CITY_HEAD, "", "", None, None, page[-1].read_id, 2)
    assert [r.case_id for r in page + rest] == [first, second, third]


def test_no_unit_lists_its_own_reads_and_bad_filters_are_named() -> None:
    app = casework(FakeClock(WHEN))
    for identity in (
        COUNTY_HEAD,
        OFFICER,
        RULES.check(Identity("property-bureau", "officer", "putian")),
        RULES.check(Identity("discipline", "supervisor", "licheng")),
    ):
        with pytest.raises(PermissionDenied):
            queries.list_personal_data_reads(app, identity, "licheng", "", None, None, 0, 100)
    with pytest.raises(InvalidArgument) as caught:
        queries.list_personal_data_reads(
            app, AUDITOR, "atlantis", "not-a-case" * 50, WHEN.replace(tzinfo=None), WHEN, -1, 5000
        )
    assert {(v.field, v.rule) for v in caught.value.violations} == {
        ("unit", "unknown_unit"),
        ("case_id", "case_id_format"),
        ("since", "time_format"),
        ("after_read_id", "non_negative"),
        ("limit", "limit_range"),
    }
    assert "not-a-case" not in str(caught.value.violations)
    with pytest.raises(InvalidArgument) as caught:
        queries.list_personal_data_reads(app, AUDITOR, "", "", WHEN, WHEN - timedelta(days=1), 0, 0)
    assert [(v.field, v.rule) for v in caught.value.violations] == [("until", "before_since")]


def test_a_rectification_case_has_no_complainant_and_nothing_is_recorded() -> None:
    app = casework(FakeClock(WHEN))
    on_rectification_ordered(
        app,
        DeliveryRef("casework.rectification", "f-1", 2),
        finding_id="f-1",
        unit="licheng",
        community_code="LC-0001",
        company_uscc="91350200776049653A",
        kind="A1",
        deadline=WHEN + timedelta(days=30),
        found_at=WHEN,
    )
    case_id = str(Case.create_id("rectification:f-1"))
    read = app.handle(OFFICER, ReadComplainant(case_id, "investigation"))
    assert (read.complainant_name, read.complainant_phone, read.shredded, read.read_id) == (
        "",
        "",
        False,
        0,
    )
    assert queries.list_personal_data_reads(app, AUDITOR, "", "", None, None, 0, 100) == []


# -- retention -------------------------------------------------------------------------------


def closed_complaint(app: CaseworkApplication, request_id: str = "c1") -> str:
    case_id: str = app.handle(OFFICER, complaint(request_id)).case_id
    for command in (
        StartInvestigation(f"{request_id}-i", case_id),
        ResolveCase(f"{request_id}-r", case_id, "已责令公示"),
        GiveFeedback(f"{request_id}-f", case_id, "phone", "已电话告知"),
        CloseCase(f"{request_id}-c", case_id),
    ):
        app.handle(OFFICER, command)
    return case_id


def test_retention_shreds_closed_complaints_once_their_period_ran_out() -> None:
    clock = FakeClock(WHEN)
    app = casework(clock)
    closed = closed_complaint(app)
    still_open = app.handle(OFFICER, complaint("open")).case_id
    clock.now = WHEN + timedelta(days=10)
    later = closed_complaint(app, "c2")  # closed ten days after the first
    clock.now = WHEN + timedelta(days=365) - timedelta(seconds=1)
    assert shred_expired_personal_data(app) == 0
    clock.now = WHEN + timedelta(days=365)
    assert shred_expired_personal_data(app) == 1
    case = app.case(closed)
    assert case.shredded and case.archived and case.status == "closed"
    [shredding] = [
        e
        for e in app.repository.event_store.get(case.id)
        if isinstance(e, Case.PersonalDataShredded)
    ]
    assert (shredding.reason, shredding.shredded_at) == ("retention", WHEN + timedelta(days=365))
    assert "第十九条" in shredding.legal_basis and "365日" in shredding.legal_basis
    assert app.handle(OFFICER, ReadComplainant(closed, "complainant_request")).shredded
    assert {h.case_id for h in app.vault.held()} == {uuid.UUID(still_open), uuid.UUID(later)}
    version = case.version
    assert shred_expired_personal_data(app) == 0  # once: nothing more is recorded
    assert app.case(closed).version == version
    assert app.handle(OFFICER, ReadComplainant(still_open, "feedback")).complainant_name == NAME
    clock.now = WHEN + timedelta(days=375)
    assert shred_expired_personal_data(app) == 1
    assert app.case(later).archived and not app.case(still_open).shredded


def test_the_period_is_the_configured_one() -> None:
    clock = FakeClock(WHEN)
    app = casework(clock, retention=PersonalDataRetention(days_after_closure=30))
    case_id = closed_complaint(app)
    clock.now = WHEN + timedelta(days=29)
    assert shred_expired_personal_data(app) == 0
    clock.now = WHEN + timedelta(days=30)
    assert shred_expired_personal_data(app) == 1
    [shredding] = [
        e
        for e in app.repository.event_store.get(uuid.UUID(case_id))
        if isinstance(e, Case.PersonalDataShredded)
    ]
    assert "30日" in shredding.legal_basis and "365日" not in shredding.legal_basis


def test_retention_cleans_what_a_crash_left() -> None:
    """A shredding recorded whose key survived (the process stopped in between), and a key
    whose case never came to be, are destroyed; a key younger than the grace is kept (its
    complaint may be being received right now)."""
    clock = FakeClock(WHEN)
    app = casework(clock)
    case_id = app.handle(OFFICER, complaint()).case_id
    keyring = app.vault.keyring  # type: ignore[attr-defined]
    wrapped = keyring.get(uuid.UUID(case_id))
    app.handle(OFFICER, ShredPersonalData("s", case_id))
    keyring.put(uuid.UUID(case_id), wrapped)  # as if the key had survived
    assert app.handle(
        OFFICER, ReadComplainant(case_id, "feedback")
    ).shredded  # shredded is shredded
    orphan, young = uuid.uuid4(), uuid.uuid4()
    keyring.put(orphan, wrapped)
    clock.now = WHEN + ORPHAN_KEY_GRACE
    keyring.put(young, wrapped)
    assert shred_expired_personal_data(app) == 0
    assert {h.case_id for h in app.vault.held()} == {young}
    shreddings = [
        e
        for e in app.repository.event_store.get(uuid.UUID(case_id))
        if isinstance(e, Case.PersonalDataShredded)
    ]
    assert [(e.reason, e.shredded_at) for e in shreddings] == [("requested", WHEN)]


def test_a_case_changed_meanwhile_is_archived_on_the_next_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The retention sweep and a command on the same case: the sweep's commit conflicts, the
    key stays, and the next run archives the case."""
    clock = FakeClock(WHEN)
    app = casework(clock)
    case_id = closed_complaint(app)
    clock.now = WHEN + timedelta(days=365)
    record = app.record

    def conflicting(*objs: Any, **kwargs: Any) -> bool:
        raise Conflict("changed meanwhile", "并发修改")

    monkeypatch.setattr(app, "record", conflicting)
    assert shred_expired_personal_data(app) == 0
    assert {h.case_id for h in app.vault.held()} == {uuid.UUID(case_id)}
    monkeypatch.setattr(app, "record", record)
    assert shred_expired_personal_data(app) == 1
    assert app.vault.held() == []


def test_only_a_closed_complaint_past_its_period_is_archived() -> None:
    clock = FakeClock(WHEN)
    app = casework(clock)
    case = app.case(app.handle(OFFICER, complaint()).case_id)
    with pytest.raises(RuleViolated):
        case.archive(WHEN + timedelta(days=400), PersonalDataRetention())
    closed = app.case(closed_complaint(app, "c2"))
    with pytest.raises(RuleViolated):
        closed.archive(WHEN + timedelta(days=364), PersonalDataRetention())


def test_a_shredding_recorded_before_v2_reads_as_requested() -> None:
    state = {"unit": "licheng"}
    Case.PersonalDataShredded.upcast_v1_v2(state)
    assert state == {
        "unit": "licheng",
        "reason": "requested",
        "legal_basis": "",
        "shredded_at": None,
    }


# -- over gRPC ------------------------------------------------------------------------------


async def test_read_and_list_over_grpc() -> None:
    clock = FakeClock(WHEN)
    app = casework(clock)
    case_id = app.handle(OFFICER, complaint()).case_id
    settings = ServiceSettings(
        service="casework", environment="test", grpc_port=0, dev_identity_header=True
    )
    server = GrpcServer(settings, [SERVICE_NAME], RULES)
    register(app)(server.server)
    port = await server.start()

    def md(identity: Identity) -> tuple[tuple[str, str], ...]:
        return ((IDENTITY_HEADER, identity.render()),)

    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = pb_grpc.CaseworkServiceStub(channel)
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stub.ReadComplainant(
                    pb.ReadComplainantRequest(case_id=case_id), metadata=md(OFFICER)
                )
            assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            for n in range(3):
                read = await stub.ReadComplainant(
                    pb.ReadComplainantRequest(
                        case_id=case_id, purpose="follow_up", note=f"第{n + 1}次回访"
                    ),
                    metadata=md(OFFICER),
                )
                assert (read.complainant_name, read.read_id) == (NAME, n + 1)
            assert read.read_at == "2026-05-06T01:15:00+00:00"
            page = await stub.ListPersonalDataReads(
                pb.ListPersonalDataReadsRequest(limit=2), metadata=md(AUDITOR)
            )
            assert [r.note for r in page.reads] == ["第1次回访", "第2次回访"]
            assert page.next_after_read_id == 2
            last = await stub.ListPersonalDataReads(
                pb.ListPersonalDataReadsRequest(after_read_id=page.next_after_read_id, limit=2),
                metadata=md(AUDITOR),
            )
            assert [(r.note, r.reader, r.unit, list(r.fields)) for r in last.reads] == [
                ("第3次回访", OFFICER.render(), "licheng", ["name", "phone"])
            ]
            assert last.next_after_read_id == 0
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stub.ListPersonalDataReads(
                    pb.ListPersonalDataReadsRequest(since="yesterday"), metadata=md(AUDITOR)
                )
            assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stub.ListPersonalDataReads(
                    pb.ListPersonalDataReadsRequest(), metadata=md(COUNTY_HEAD)
                )
            assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    finally:
        await server.stop(0)
    assert [r.purpose for r in app.read_log.reads(["licheng"], "", None, None, 0, 10)] == [
        "follow_up"
    ] * 3
