"""The chaos run (issue 11 item 6), small: `python -m tools.chaos --small` on the real stack,
and the reconciliation's own rules.

The run starts a broker and a PostgreSQL server of its own (it restarts both), the four
services' roles as supervised processes, sends about 500 commands from 50 callers while
roles are killed (5 kill -9, plus relay crashes between the Kafka ack and the position
record), the poison corpus and generated requests, waits for quiescence and reconciles
every store, topic, read model and feed against the load generator's model. Its result is
the JSON it writes; the tests below read it.

The reconciliation itself is tested first, on hand-made evidence: each kind of wrong it
must catch (a lost deduction, a doubled one, a minor penalty pushed to 信用中国, an event on
a topic that was never stored, a forged event applied) makes its row fail.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace as NS
from typing import Any

import pytest

from tools.chaos.model import Model
from tools.chaos.poison import Forged, KafkaPoison, PoisonReport
from tools.chaos.reconcile import Evidence, Row, Stored, TopicRead, compare, reconcile
from tools.chaos.run import crashed_batches

ROOT = Path(__file__).resolve().parents[2]
RUN_TIMEOUT = 420
"""About 80 s on an idle 2-core machine; the rest is room for a loaded one."""


# -- the reconciliation's rules, on hand-made evidence -------------------------------------


def accepted_check(model: Model, failed: int) -> list[str]:
    """A spot check with `failed` failed items accepted, as the workload records it."""
    findings = [
        NS(finding_id=f"f{n}", kind="A1", severity="general", company_uscc="91350200776049653A")
        for n in range(failed)
    ]
    request = NS(community_code="LC-0001", checklist=[NS(passed=n >= failed) for n in range(10)])
    model.accept("RecordSpotCheck", request, NS(spot_check_id="check-1", findings=findings))
    return [f"f{n}" for n in range(failed)]


def penalty(model: Model, number: str, severity: str, published: bool) -> None:
    model.accept(
        "ImposePenalty",
        NS(decision_number=number, severity=severity, party_uscc="91350200776049653A"),
        NS(published=published, penalty_id=number),
    )


def evidence(**stores: list[Stored]) -> Evidence:
    empty: dict[str, list[Stored]] = {
        s: [] for s in ("disclosure", "inspection", "credit", "casework")
    }
    topics = {f"pubrev.{s}.events.v1": TopicRead() for s in empty}
    models: dict[str, list[tuple[Any, ...]]] = {
        k: [] for k in ("disclosures", "findings", "checks", "watch", "cases", "penalties")
    }
    return Evidence({**empty, **stores}, topics, {}, {}, set(), models, [], {})


def row(rows: list[Row], effect: str) -> Row:
    return next(r for r in rows if r.effect == effect)


def deductions(*finding_ids: str) -> list[Stored]:
    return [
        Stored(
            "ledger",
            n + 2,
            "CreditLedger.Deducted",
            {"finding_id": f, "company_uscc": "91350200776049653A"},
        )
        for n, f in enumerate(finding_ids)
    ]


def test_a_check_with_three_failed_items_must_make_three_deductions() -> None:
    model = Model()
    findings = accepted_check(model, 3)
    assert (
        row(
            reconcile(model, evidence(credit=deductions(*findings)), PoisonReport()),
            "credit deducted per finding",
        ).lost
        == 0
    )

    lost = row(
        reconcile(model, evidence(credit=deductions(*findings[:2])), PoisonReport()),
        "credit deducted per finding",
    )
    assert (lost.expected, lost.found, lost.lost, lost.double) == (3, 2, 1, 0)

    doubled = row(
        reconcile(model, evidence(credit=deductions(*findings, findings[0])), PoisonReport()),
        "credit deducted per finding",
    )
    assert (doubled.lost, doubled.double) == (0, 1)


def test_a_minor_penalty_pushed_to_creditchina_is_a_double_effect() -> None:
    model = Model()
    penalty(model, "莆罚〔2026〕1号", "minor", published=False)
    found = evidence()
    found.feeds = {
        "creditchina": Counter({"penalty:莆罚〔2026〕1号": 1}),
        "market": Counter({"penalty:莆罚〔2026〕1号": 1}),
    }
    rows = reconcile(model, found, PoisonReport())
    assert row(rows, "信用中国: penalties (none for minor)").double == 1
    assert row(rows, "market: penalties").double == 0
    assert not model.mismatches


def test_a_record_still_leased_in_the_outbox_is_late_not_lost() -> None:
    model = Model()
    penalty(model, "莆罚〔2026〕2号", "general", published=True)
    found = evidence()
    found.feeds = {"market": Counter({"penalty:莆罚〔2026〕2号": 1})}
    assert (
        row(reconcile(model, found, PoisonReport()), "信用中国: penalties (none for minor)").lost
        == 1
    )
    found.waiting = {("creditchina", "penalty:莆罚〔2026〕2号")}
    late = row(reconcile(model, found, PoisonReport()), "信用中国: penalties (none for minor)")
    assert late.lost == 0 and "1 still waiting in the outbox" in late.note


def test_topics_every_published_kind_relayed_nothing_unstored_and_resends_proven() -> None:
    stored = [
        Stored("d1", 1, "Disclosure.Filed", {}),
        Stored("d2", 1, "Disclosure.Filed", {}),
        Stored("r1", 1, "CommandReceipt.Issued", {}),
    ]
    found = evidence(disclosure=stored)
    topic = found.topics["pubrev.disclosure.events.v1"]
    topic.ce_ids = Counter({"d1:1": 2, "ghost:1": 1})
    topic.records = 3
    rows = reconcile(Model(), found, PoisonReport(), Counter({"disclosure": 3}))
    relayed = row(rows, "pubrev.disclosure.events.v1: stored events relayed")
    # d2:1 is of a published kind and missing; ghost:1 was never stored; receipts are not
    # published at all.
    assert (relayed.expected, relayed.lost, relayed.double) == (2, 1, 1)
    resent = row(rows, "pubrev.disclosure.events.v1: re-sent after the after-ack crashes")
    assert (resent.expected, resent.found, resent.lost) == (3, 1, 2)


def test_a_forged_event_applied_downstream_is_a_double_effect() -> None:
    model = Model()
    model.accept("FileDisclosure", NS(community_code="LC-0001"), NS(disclosure_id="d1", version=1))
    model.filings["d1"].versions = 2  # the real amendment, accepted
    watch = [Stored("w", 1, "CommunityWatch.Opened", {"community_code": "LC-0001"})]
    noted = [
        Stored(
            "w",
            2,
            "CommunityWatch.DisclosureNoted",
            {"disclosure_id": "d1", "revision": 0, "income_total_fen": 500},
        ),
        Stored(
            "w",
            3,
            "CommunityWatch.DisclosureNoted",
            {"disclosure_id": "d1", "revision": 1, "income_total_fen": 1},
        ),
    ]
    poison = PoisonReport(
        kafka=[KafkaPoison("forged", "pubrev.disclosure.events.v1", 0, 9, "d1:2")],
        forged=[Forged("d1", 2, 1)],
    )
    applied = row(
        reconcile(model, evidence(inspection=watch + noted), poison), "disclosure version noted"
    )
    assert applied.double == 1 and applied.lost == 0


def test_what_the_model_cannot_predict_still_happens_once_at_most() -> None:
    listed = [
        Stored("ledger", n, "CreditLedger.SeriousDishonestyListed", {"company_uscc": uscc})
        for n, uscc in enumerate(["91350200776049653A", "91110000600037341L", "91350200776049653A"])
    ]
    once_each = row(
        reconcile(Model(), evidence(credit=listed[:2]), PoisonReport()), "serious dishonesty listed"
    )
    assert (once_each.lost, once_each.double) == (0, 0)
    twice = row(
        reconcile(Model(), evidence(credit=listed), PoisonReport()), "serious dishonesty listed"
    )
    assert (twice.expected, twice.found, twice.double) == (2, 3, 1)


def test_compare_counts_keys_never_expected_as_double() -> None:
    counted = compare("a", "b", Counter({"x": 1}), Counter({"x": 1, "y": 2}))
    assert (counted.lost, counted.double) == (0, 2)


def test_the_after_ack_counter_is_read_per_service(tmp_path: Path) -> None:
    counter = tmp_path / "crashes.log"
    counter.write_text(
        "t disclosure pid=1 relay.after_ack messages=7\n"
        "t credit pid=2 relay.after_ack messages=2\n"
        "t disclosure pid=3 relay.after_ack messages=1\n"
    )
    assert crashed_batches(counter) == Counter({"disclosure": 8, "credit": 2})


# -- the run itself, on the real stack -----------------------------------------------------


@pytest.fixture(scope="module")
def chaos() -> Iterator[dict[str, Any]]:
    """One small chaos run for the tests below; its state is kept when a test fails."""
    state = ROOT / ".local" / "chaos-test" / uuid.uuid4().hex[:8]
    output = state / "result.json"
    env = {**os.environ, "CI": os.environ.get("CI", "1")}
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "tools.chaos",
            "--small",
            "--quiet",
            "--state",
            str(state),
            "--json",
            str(output),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    if not output.exists():
        pytest.fail(
            f"the chaos run wrote no result (exit {completed.returncode}):\n"
            f"{completed.stderr[-4000:]}"
        )
    result: dict[str, Any] = json.loads(output.read_text(encoding="utf-8"))
    result["_table"] = completed.stdout
    result["_state"] = str(state)
    print(completed.stdout)  # the table, shown with -s
    yield result
    if result["ok"]:
        shutil.rmtree(state, ignore_errors=True)


@pytest.mark.infra
@pytest.mark.timeout(RUN_TIMEOUT + 60)
def test_the_small_chaos_run_exercises_what_it_claims(chaos: dict[str, Any]) -> None:
    assert chaos["commands"] >= 450
    assert sum(chaos["kills"].values()) >= 5
    assert chaos["after_ack_crashes"] >= 1  # between the Kafka ack and the position record
    assert len(chaos["infra_restarts"]) == 2  # the broker and PostgreSQL
    assert sum(chaos["restarts"].values()) >= 5
    assert len(chaos["generated"]) >= 10
    rows = {(r["area"], r["effect"]) for r in chaos["rows"]}
    assert ("credit ← inspection", "credit deducted per finding") in rows
    assert any(
        r["effect"].endswith("re-sent after the after-ack crashes") and r["expected"]
        for r in chaos["rows"]
    )


@pytest.mark.infra
@pytest.mark.timeout(RUN_TIMEOUT + 60)
def test_no_loss_and_no_double_effect_under_chaos(chaos: dict[str, Any]) -> None:
    wrong = [
        f"{r['area']}: {r['effect']}: {r['lost']} lost, {r['double']} double {r['examples']}"
        for r in chaos["rows"]
        if r["lost"] or r["double"]
    ]
    assert not wrong, f"state kept in {chaos['_state']}\n{chaos['_table']}"
    assert chaos["quiescent"], chaos["failures"]
    assert not chaos["unresolved"]
    assert not chaos["mismatches"]


@pytest.mark.infra
@pytest.mark.timeout(RUN_TIMEOUT + 60)
def test_every_poison_and_generated_request_gets_a_specific_answer(
    chaos: dict[str, Any],
) -> None:
    corpus = {p["name"]: p.get("code") for p in chaos["poison"]}
    assert len(corpus) >= 10
    assert all(code in (None, "INVALID_ARGUMENT") for code in corpus.values()), corpus
    poisoned = [f for f in chaos["failures"] if "not a specific answer" in f]
    assert not poisoned, poisoned
    parked = row_of(chaos, "poison records parked by each consumer group")
    assert parked["expected"] >= 4 and parked["lost"] == 0


@pytest.mark.infra
@pytest.mark.timeout(RUN_TIMEOUT + 60)
def test_valid_commands_never_get_internal_during_the_restarts(chaos: dict[str, Any]) -> None:
    """A database or broker restart is transient: a valid command answered then must get
    UNAVAILABLE (retried with its request_id), never INTERNAL (the caller cannot tell
    whether it was done)."""
    assert not chaos["not_specific"], chaos["not_specific"]


def row_of(chaos: dict[str, Any], effect: str) -> dict[str, Any]:
    found: dict[str, Any] = next(r for r in chaos["rows"] if r["effect"] == effect)
    return found
