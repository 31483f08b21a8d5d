"""After the chaos: what the platform holds, against what the load generator's model says it
must hold (model.py).

Read, never written: each service's event store and read models (a read-only session of
its database), every record of the four topics and the dead-letter topics (from the
beginning, in no consumer group), the feed receiver's accepted records, and the parked
events as the operators see them (AdminService.ListParked).

Each row counts, for one kind of effect, what the model expects and what was found: a
*loss* is an expected effect missing (or found fewer times than expected), a *double* one
found more often than expected or one the model never asked for. The run fails on any.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from aiokafka import AIOKafkaConsumer

from tools.chaos.model import Model
from tools.chaos.poison import PoisonReport

SERVICES = ("disclosure", "inspection", "credit", "casework")


def topic_of(service: str) -> str:
    return f"pubrev.{service}.events.v1"


def _plain(value: Any) -> Any:
    """eventsourcing's JSON transcodings ({"_type_": "uuid_hex", ...}) as plain values."""
    if isinstance(value, dict):
        kind = value.get("_type_")
        if kind == "uuid_hex":
            return str(uuid.UUID(value["_data_"]))
        if kind is not None and "_data_" in value:
            return _plain(value["_data_"])
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


@dataclass(frozen=True)
class Stored:
    aggregate: str
    version: int
    kind: str
    """The domain event, `Class.Event` (the stored topic without its module)."""
    state: dict[str, Any]

    @property
    def ce_id(self) -> str:
        return f"{self.aggregate}:{self.version}"


def read_store(url: str, service: str) -> list[Stored]:
    """Every stored event of the service, in a read-only transaction."""
    with psycopg.connect(
        url, connect_timeout=10, options="-c default_transaction_read_only=on"
    ) as conn:
        rows = conn.execute(
            f"SELECT originator_id, originator_version, topic, state "  # noqa: S608
            f"FROM {service}_events ORDER BY notification_id"
        ).fetchall()
    return [
        Stored(
            str(aggregate),
            int(version),
            str(topic).rpartition(":")[2],
            _plain(json.loads(bytes(state))),
        )
        for aggregate, version, topic, state in rows
    ]


def read_rows(url: str, query: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(
        url, connect_timeout=10, options="-c default_transaction_read_only=on"
    ) as conn:
        return conn.execute(query).fetchall()


@dataclass
class TopicRead:
    records: int = 0
    ce_ids: Counter[str] = field(default_factory=Counter)
    unreadable: int = 0
    """Records without a readable ce_id (the poison with a null header, e.g.)."""


async def read_topics(bootstrap: str, topics: Iterable[str]) -> dict[str, TopicRead]:
    """Every record of `topics`, from the beginning to the end offsets of now (no group: a
    group-less consumer of a subscription is assigned every partition)."""
    wanted = list(topics)
    found = {topic: TopicRead() for topic in wanted}
    consumer = AIOKafkaConsumer(
        *wanted,
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        deadline = asyncio.get_running_loop().time() + 30
        while {tp.topic for tp in consumer.assignment()} != set(wanted):
            if asyncio.get_running_loop().time() > deadline:
                raise RuntimeError(f"no partitions assigned for {wanted}")
            await asyncio.sleep(0.1)
        partitions = sorted(consumer.assignment())
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        left = {tp for tp in partitions if ends[tp] > 0}
        while left:
            batches = await consumer.getmany(*left, timeout_ms=1000, max_records=5000)
            for tp, records in batches.items():
                read = found[tp.topic]
                for record in records:
                    read.records += 1
                    ce_id = dict(record.headers).get("ce_id")
                    if ce_id is None:
                        read.unreadable += 1
                    else:
                        read.ce_ids[ce_id.decode(errors="replace")] += 1
            for tp in list(left):
                if await consumer.position(tp) >= ends[tp]:
                    left.discard(tp)
    finally:
        # aiokafka's group-less consumer awaits a task it cancels; stopped before that task
        # ever ran, the cancellation escapes stop(): it is the consumer's own, not ours.
        with contextlib.suppress(asyncio.CancelledError):
            await consumer.stop()
    return found


def read_feeds(folder: Path) -> dict[str, Counter[str]]:
    """Feed → record id → how many times the receiver accepted it as new."""
    feeds: dict[str, Counter[str]] = {}
    for path in sorted(folder.glob("*.jsonl")):
        counted: Counter[str] = Counter()
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                counted[json.loads(line)["record_id"]] += 1
        feeds[path.stem] = counted
    return feeds


# -- the table --------------------------------------------------------------------------------


@dataclass
class Row:
    area: str
    effect: str
    expected: int
    found: int
    lost: int
    double: int
    note: str = ""
    examples: list[str] = field(default_factory=list)


def compare(
    area: str,
    effect: str,
    expected: Mapping[Any, int],
    found: Mapping[Any, int],
    note: str = "",
    delayed: Callable[[Any], bool] | None = None,
) -> Row:
    """Per key: fewer found than expected is a loss, more (or a key never expected) a
    double effect. `delayed` tells a missing effect that is still on its way (a feed record
    waiting in the outbox) from a lost one: it is counted in the note, not as a loss."""
    lost = double = late = 0
    examples: list[str] = []
    for key in set(expected) | set(found):
        want, got = expected.get(key, 0), found.get(key, 0)
        if got < want and delayed is not None and delayed(key):
            late += want - got
        elif got < want:
            lost += want - got
            if len(examples) < 3:
                examples.append(f"missing {key!s:.90}")
        elif got > want:
            double += got - want
            if len(examples) < 3:
                examples.append(f"{got}× (expected {want}) {key!s:.80}")
    if late:
        note = (
            (note + "; " if note else "") + f"{late} still waiting in the outbox "
            "(leased by a pusher that died or failed mid-batch: sent when the lease ends)"
        )
    return Row(
        area, effect, sum(expected.values()), sum(found.values()), lost, double, note, examples
    )


def at_most_once(area: str, effect: str, keys: Iterable[Hashable]) -> Row:
    """An effect the model does not predict (a periodic sweep's, a threshold's), which
    must still never happen twice for one key."""
    found = Counter(keys)
    return compare(
        area, effect, Counter(dict.fromkeys(found, 1)), found, "not modelled: once at most"
    )


def once(keys: Iterable[Hashable]) -> Counter[Hashable]:
    """Each key expected (or found) once per appearance; a dict counts by its keys."""
    return Counter(key for key in keys)


@dataclass
class Evidence:
    """Everything read from the platform after the run."""

    stores: dict[str, list[Stored]]
    topics: dict[str, TopicRead]
    feeds: dict[str, Counter[str]]
    push: dict[str, Counter[str]]
    """service → status → records in its push outbox."""
    waiting: set[tuple[str, str]]
    """(feed, record id) of records pending in an outbox, not due yet (leased)."""
    read_models: dict[str, list[tuple[Any, ...]]]
    parked: list[dict[str, Any]]
    groups: dict[str, set[str]]
    """topic → the consumer groups reading it (from GetLag)."""


def gather(
    urls: dict[str, str],
    bootstrap: str,
    feeds: Path,
    parked: list[dict[str, Any]],
    groups: dict[str, set[str]],
) -> Evidence:
    stores = {s: read_store(urls[s], s) for s in SERVICES}
    topics = asyncio.run(
        read_topics(
            bootstrap,
            [topic_of(s) for s in SERVICES]
            + [f"pubrev.{s}.dlq.v1" for s in SERVICES if s != "disclosure"],
        )
    )
    push = {}
    waiting: set[tuple[str, str]] = set()
    for service in ("credit", "casework"):
        push[service] = Counter(
            {
                f"{feed}:{status}": n
                for feed, status, n in read_rows(
                    urls[service], "SELECT feed, status, count(*) FROM push_records GROUP BY 1, 2"
                )
            }
        )
        waiting |= {
            (str(feed), str(record))
            for feed, record in read_rows(
                urls[service],
                "SELECT feed, record_id FROM push_records WHERE status = 'pending'"
                " AND next_attempt_at > now()",
            )
        }
    models = {
        "disclosures": read_rows(
            urls["disclosure"], "SELECT disclosure_id::text, version FROM rm_disclosures"
        ),
        "findings": read_rows(urls["inspection"], "SELECT finding_id::text FROM rm_findings"),
        "checks": read_rows(
            urls["inspection"], "SELECT spot_check_id::text, findings FROM rm_checks"
        ),
        "watch": read_rows(urls["inspection"], "SELECT code, leads FROM rm_watch"),
        "cases": read_rows(
            urls["casework"], "SELECT case_id::text, kind, status, police_office FROM rm_cases"
        ),
        "penalties": read_rows(
            urls["credit"], "SELECT decision_number, published FROM rm_penalty_feed"
        ),
    }
    return Evidence(stores, topics, read_feeds(feeds), push, waiting, models, parked, groups)


def reconcile(
    model: Model, evidence: Evidence, poison: PoisonReport, crashed: Counter[str] | None = None
) -> list[Row]:
    """`crashed`: per service, the messages of the relay batches that crashed between the
    Kafka ack and the position record (armed_role.py's counter file)."""
    rows: list[Row] = []
    rows += _own_stores(model, evidence)
    rows += _topics(evidence, poison, crashed or Counter())
    rows += _downstream(model, evidence, poison)
    rows += _read_models(model, evidence)
    rows += _feeds(model, evidence)
    rows += _parked(evidence, poison)
    return rows


def _events(evidence: Evidence, service: str, kind: str) -> list[Stored]:
    return [e for e in evidence.stores[service] if e.kind == kind]


def _own_stores(model: Model, evidence: Evidence) -> list[Row]:
    area = "stores (commands)"
    d, i, k, c = (evidence.stores[s] for s in SERVICES)
    complaints = [e for e in c if e.kind == "Case.Received" and e.state.get("kind") == "complaint"]
    by_kind: dict[str, Counter[str]] = {
        "Disclosure.Amended": Counter(),
        "Case.InvestigationStarted": Counter(),
        "Case.ReferredToPolice": Counter(),
    }
    for event in [*d, *c]:
        if event.kind in by_kind:
            by_kind[event.kind][event.aggregate] += 1
    return [
        compare(
            area,
            "company registered",
            once(model.companies),
            once(e.state["uscc"] for e in d if e.kind == "PropertyCompany.Registered"),
        ),
        compare(
            area,
            "community registered",
            once(model.communities),
            once(e.state["code"] for e in d if e.kind == "Community.Registered"),
        ),
        compare(
            area,
            "disclosure filed",
            once(model.filings),
            once(e.aggregate for e in d if e.kind == "Disclosure.Filed"),
        ),
        compare(
            area,
            "disclosure amended",
            Counter(
                {f.disclosure_id: f.versions - 1 for f in model.filings.values() if f.versions > 1}
            ),
            by_kind["Disclosure.Amended"],
        ),
        compare(
            area,
            "inspector registered",
            once(model.inspectors),
            once(e.state["code"] for e in i if e.kind == "Inspector.Registered"),
        ),
        compare(
            area,
            "plan drawn",
            once(model.drawn),
            once(e.aggregate for e in i if e.kind == "SpotCheckPlan.DrawExecuted"),
        ),
        compare(
            area,
            "spot check done",
            once(model.checks),
            once(e.aggregate for e in i if e.kind == "SpotCheck.Done"),
        ),
        compare(
            area,
            "finding (ViolationFound)",
            once(model.findings()),
            once(e.aggregate for e in i if e.kind == "Finding.ViolationFound"),
        ),
        compare(
            area,
            "rectification ordered",
            once(model.findings()),
            once(e.aggregate for e in i if e.kind == "Finding.RectificationOrdered"),
        ),
        at_most_once(
            "stores (sweeps)",
            "rectification overdue (the projector's sweep)",
            [e.aggregate for e in i if e.kind == "Finding.RectificationOverdue"],
        ),
        compare(
            area,
            "penalty imposed",
            once(model.penalties),
            once(e.state["decision_number"] for e in k if e.kind == "Penalty.Imposed"),
        ),
        compare(
            area,
            "complaint case received",
            once(model.complaints),
            once(e.aggregate for e in complaints),
        ),
        compare(
            area,
            "investigation started",
            once(c.case_id for c in model.complaints.values() if c.investigated),
            by_kind["Case.InvestigationStarted"],
        ),
        compare(
            area,
            "referred to police",
            once(c.case_id for c in model.complaints.values() if c.referred),
            by_kind["Case.ReferredToPolice"],
        ),
    ]


def _topics(evidence: Evidence, poison: PoisonReport, crashed: Counter[str]) -> list[Row]:
    """Every stored event of a kind its relay publishes is on the topic (at least once: a
    re-send after a crash between ack and position is allowed); nothing on the topic that
    was never stored, but for the poison published there on purpose. A relay that crashed
    after the acks of n messages sent them again: at least n re-sent copies."""
    rows = []
    injected = {(p.topic, p.ce_id) for p in poison.kafka if p.ce_id}
    for service in SERVICES:
        topic = topic_of(service)
        read = evidence.topics[topic]
        stored = {e.ce_id: e.kind for e in evidence.stores[service]}
        published_kinds = {stored[ce] for ce in read.ce_ids if ce in stored}
        expected = once(ce for ce, kind in stored.items() if kind in published_kinds)
        present = once(ce for ce in read.ce_ids if ce in expected)
        phantom = [ce for ce in read.ce_ids if ce not in stored and (topic, ce) not in injected]
        # A poison record carrying a real event's ce_id is no re-sent copy of it.
        forged = sum(1 for t, ce in injected if t == topic and ce in stored)
        resent = sum(n - 1 for n in read.ce_ids.values()) - forged
        row = compare(
            "topics",
            f"{topic}: stored events relayed",
            expected,
            present,
            f"{read.records} records, {len(read.ce_ids)} distinct ce_id, {resent} re-sent copies",
        )
        row.double += len(phantom)
        row.examples += [f"on the topic, never stored: {ce:.80}" for ce in phantom[:2]]
        rows.append(row)
        if crashed[service]:
            short = max(0, crashed[service] - resent)
            rows.append(
                Row(
                    "topics",
                    f"{topic}: re-sent after the after-ack crashes",
                    crashed[service],
                    resent,
                    short,
                    0,
                    "at least the crashed batches' messages (and what else the "
                    "restarted relay re-read)",
                    [f"{short} acknowledged messages never re-sent"] if short else [],
                )
            )
    return rows


def _downstream(model: Model, evidence: Evidence, poison: PoisonReport) -> list[Row]:
    i, k, c = evidence.stores["inspection"], evidence.stores["credit"], evidence.stores["casework"]
    rows: list[Row] = []
    watches = {
        e.aggregate: e.state["community_code"] for e in i if e.kind == "CommunityWatch.Opened"
    }
    facts = {e.aggregate: e.state["community_code"] for e in c if e.kind == "CommunityFacts.Opened"}
    forged = {(f.disclosure_id, f.version - 1): f.forged_income_fen for f in poison.forged}
    versions = {
        (f.disclosure_id, v): f.community_code
        for f in model.filings.values()
        for v in range(f.versions)
    }
    area = "inspection ← disclosure"
    rows.append(
        compare(
            area,
            "registration noted",
            once(model.communities),
            once(
                watches.get(e.aggregate, "?")
                for e in i
                if e.kind == "CommunityWatch.RegistrationNoted"
            ),
        )
    )
    noted = [e for e in i if e.kind == "CommunityWatch.DisclosureNoted"]
    row = compare(
        area,
        "disclosure version noted",
        once(versions),
        once((e.state["disclosure_id"], e.state["revision"]) for e in noted),
    )
    applied_forgeries = [
        e
        for e in noted
        if forged.get((e.state["disclosure_id"], e.state["revision"]))
        == e.state["income_total_fen"]
    ]
    row.double += len(applied_forgeries)
    row.examples += ["a forged event was applied"] * bool(applied_forgeries)
    rows.append(row)
    rows.append(
        compare(
            "inspection ← casework",
            "complaint lead noted",
            model.leads(),
            Counter(
                watches.get(e.aggregate, "?") for e in i if e.kind == "CommunityWatch.LeadNoted"
            ),
        )
    )
    findings = model.findings()
    area = "credit ← inspection"
    rows.append(
        compare(
            area,
            "credit deducted per finding",
            once(findings),
            once(e.state["finding_id"] for e in k if e.kind == "CreditLedger.Deducted"),
        )
    )
    rows.append(
        compare(
            area,
            "spot-check result noted",
            once(model.checks),
            once(e.state["spot_check_id"] for e in k if e.kind == "SpotCheckResult.Noted"),
        )
    )
    rows.append(
        at_most_once(
            area,
            "serious dishonesty listed",
            (
                e.state["company_uscc"]
                for e in k
                if e.kind == "CreditLedger.SeriousDishonestyListed"
            ),
        )
    )
    area = "casework ← inspection"
    rows.append(
        compare(
            area,
            "rectification case per finding",
            once(findings),
            once(
                e.state.get("finding_id", "")
                for e in c
                if e.kind == "Case.Received" and e.state.get("kind") == "rectification"
            ),
        )
    )
    rows.append(
        compare(
            area,
            "finding noted for warnings",
            once(findings),
            once(e.state["finding_id"] for e in c if e.kind == "CompanyFacts.FindingNoted"),
        )
    )
    plans = {e.aggregate: e.state["plan_id"] for e in c if e.kind == "PlanChecks.Opened"}
    checks = {ch.spot_check_id: ch for ch in model.checks.values()}
    rows.append(
        compare(
            area,
            "check noted for the pace",
            Counter((ch.community_code,) for ch in checks.values()),
            Counter(
                (e.state["community_code"],)
                for e in c
                if e.kind == "PlanChecks.CheckNoted" and plans.get(e.aggregate) in model.drawn
            ),
        )
    )
    area = "casework ← disclosure"
    rows.append(
        compare(
            area,
            "registration noted for warnings",
            once(model.communities),
            once(facts.get(e.aggregate, "?") for e in c if e.kind == "CommunityFacts.Registered"),
        )
    )
    per_community = Counter(code for (_, _), code in versions.items())
    found = Counter(
        facts.get(e.aggregate, "?") for e in c if e.kind == "CommunityFacts.DisclosureNoted"
    )
    row = compare(area, "disclosure versions noted for warnings", per_community, found)
    applied = [
        e
        for e in c
        if e.kind == "CommunityFacts.DisclosureNoted"
        and e.state.get("income_fen") in set(forged.values())
        and facts.get(e.aggregate) in {versions.get(key) for key in forged}
    ]
    row.double += len(applied)
    rows.append(row)
    rows.append(
        compare(
            "casework ← casework",
            "complaint noted for warnings",
            model.leads(),
            Counter(
                facts.get(e.aggregate, "?") for e in c if e.kind == "CommunityFacts.ComplaintNoted"
            ),
        )
    )
    return rows


def _read_models(model: Model, evidence: Evidence) -> list[Row]:
    rm = evidence.read_models
    area = "read models"
    findings = model.findings()
    cases = {c.case_id: c for c in model.complaints.values()}
    return [
        compare(
            area,
            "rm_disclosures: latest version",
            Counter({(f.disclosure_id, f.versions): 1 for f in model.filings.values()}),
            Counter((str(d), int(v)) for d, v in rm["disclosures"]),
        ),
        compare(
            area,
            "rm_checks: check with its findings",
            Counter({(ch.spot_check_id, len(ch.findings)): 1 for ch in model.checks.values()}),
            Counter((str(s), int(n)) for s, n in rm["checks"]),
        ),
        compare(area, "rm_findings", once(findings), once(str(f) for (f,) in rm["findings"])),
        compare(
            area,
            "rm_watch: leads",
            Counter({code: n for code, n in model.leads().items()}),
            Counter({str(code): int(n) for code, n in rm["watch"] if n}),
        ),
        compare(
            area,
            "rm_cases: complaints, investigations, referrals",
            Counter({(cid, c.investigated, c.referred): 1 for cid, c in cases.items()}),
            Counter(
                (str(cid), status != "received", bool(police))
                for cid, kind, status, police in rm["cases"]
                if kind == "complaint"
            ),
        ),
        compare(
            area,
            "rm_cases: rectification cases",
            Counter({"rectification": len(findings)}),
            Counter({"rectification": sum(1 for row in rm["cases"] if row[1] == "rectification")}),
        ),
        compare(
            area,
            "rm_penalty_feed",
            Counter({(p.decision_number, p.published): 1 for p in model.penalties.values()}),
            Counter((str(n), bool(p)) for n, p in rm["penalties"]),
        ),
    ]


def _feeds(model: Model, evidence: Evidence) -> list[Row]:
    feeds = evidence.feeds
    creditchina, market = feeds.get("creditchina", Counter()), feeds.get("market", Counter())
    zhihui = feeds.get("zhihui", Counter())
    area = "feeds (receiver)"
    penalties = list(model.penalties.values())

    def waiting(feed: str) -> Callable[[Hashable], bool]:
        return lambda record: (feed, str(record)) in evidence.waiting

    rows = [
        compare(
            area,
            "信用中国: penalties (none for minor)",
            once(f"penalty:{p.decision_number}" for p in penalties if p.published),
            Counter({r: n for r, n in creditchina.items() if r.startswith("penalty:")}),
            delayed=waiting("creditchina"),
        ),
        compare(
            area,
            "market: penalties",
            once(f"penalty:{p.decision_number}" for p in penalties),
            Counter({r: n for r, n in market.items() if r.startswith("penalty:")}),
            delayed=waiting("market"),
        ),
        compare(
            area,
            "market: spot-check results",
            once(f"spot-check:{s}" for s in model.checks),
            Counter({r: n for r, n in market.items() if r.startswith("spot-check:")}),
            delayed=waiting("market"),
        ),
    ]
    rows.append(
        at_most_once(
            area,
            "信用中国: dishonesty listings (per company)",
            (
                r.split(":")[1]
                for r, n in creditchina.items()
                if r.startswith("dishonesty:")
                for _ in range(n)
            ),
        )
    )
    rows.append(
        at_most_once(
            area,
            "智慧监督: warnings (each record)",
            (r for r, n in zhihui.items() for _ in range(n)),
        )
    )
    dead = sum(
        n
        for service in evidence.push.values()
        for key, n in service.items()
        if key.endswith(":dead")
    )
    rows.append(
        Row(
            "feeds (outbox)",
            "records dead (given up)",
            0,
            dead,
            dead,
            0,
            ", ".join(f"{k} {n}" for s in evidence.push.values() for k, n in sorted(s.items()))
            + f"; {len(evidence.waiting)} pending under a lease",
        )
    )
    return rows


def _parked(evidence: Evidence, poison: PoisonReport) -> list[Row]:
    """The poison records are parked by each consumer group of their topic; anything else
    parked is shown with its reason (a valid event parked is also a loss above)."""
    expected: Counter[Hashable] = Counter()
    for record in poison.kafka:
        for group in evidence.groups.get(record.topic, set()):
            expected[(group, record.name)] += 1
    found: Counter[Hashable] = Counter()
    others: Counter[str] = Counter()
    names = {(p.topic, p.ce_id): p.name for p in poison.kafka}
    offsets = {f"{p.topic}/{p.partition}/{p.offset}": p.name for p in poison.kafka}
    for entry in evidence.parked:
        worker = entry["worker"].removeprefix("consumer:")
        name = (
            names.get((entry.get("topic", ""), entry["event_key"]))
            or next((n for (topic, ce), n in names.items() if ce == entry["event_key"]), None)
            or next((n for key, n in offsets.items() if entry["event_key"].endswith(key)), None)
        )
        if name is not None and entry["role"] == "consumer":
            found[(worker, name)] += 1
        else:
            others[f"{entry['worker']}: {entry['error'][:90]}"] += 1
    dead_letters = sum(
        read.records for topic, read in evidence.topics.items() if topic.endswith(".dlq.v1")
    )
    row = compare(
        "parked",
        "poison records parked by each consumer group",
        expected,
        found,
        f"{dead_letters} records on the dead-letter topics",
    )
    rows = [row]
    rows.append(
        Row(
            "parked",
            "other parked events (each also a loss above)",
            0,
            sum(others.values()),
            0,
            0,
            "; ".join(f"{n}× {why}" for why, n in others.most_common(5)),
        )
    )
    return rows
