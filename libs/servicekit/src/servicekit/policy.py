"""Authorization by declared policy: RPC × agency × role × scope, default deny.

Each service declares one `Policy` in its application layer (`application/access.py`): for
every RPC, the grants that allow it — an agency, some or all of its roles, and the scopes
that must all hold between the caller and the record (`Scope`). The application asks twice:
`admit(rpc, identity)` before it reads anything (does any grant name this agency and role?),
and `authorize(rpc, identity, resource)` once it knows the record's facts (its unit,
company, community, referred office, whether it is published). An RPC without a row, an
agency or role without a grant, a scope that does not hold: PermissionDenied. A list is
authorized on the filter it is asked for, and the application then returns only what
matches that filter.

The same declaration renders into the document an auditor reads (`render_markdown`) and
drives the matrix tests (`relations`): what is declared is what is enforced and published.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from servicekit.errors import PermissionDenied
from servicekit.identity import Identity, IdentityRules


class Scope(StrEnum):
    """A relation that must hold between the caller and the record."""

    ANY = "any"
    """No record to judge: the grant itself decides."""
    CITY = "city"
    """The caller is at the city level (莆田市)."""
    JURISDICTION = "jurisdiction"
    """The record's unit is the caller's, or the caller is the city (DOMAIN.md §2)."""
    OWN_UNIT = "own_unit"
    """The record's unit is exactly the caller's: the city has no say through this grant."""
    OWN_COMPANY = "own_company"
    """The record is the caller's company's (subject = its USCC)."""
    OWN_COMMUNITY = "own_community"
    """The record is of the caller's community (subject = its code)."""
    REFERRED = "referred"
    """The record was referred to the caller's police office (subject = the office)."""
    PUBLISHED = "published"
    """The record is published (what anyone may see)."""
    NOT_CONCERNED = "not_concerned"
    """The record is not about the caller's own unit's conduct (a unit does not close the
    warnings raised about its own failures)."""


SCOPE_TEXT: dict[Scope, str] = {
    Scope.ANY: "any record",
    Scope.CITY: "caller at city level",
    Scope.JURISDICTION: "record of caller's unit (the city: all)",
    Scope.OWN_UNIT: "record of caller's own unit only",
    Scope.OWN_COMPANY: "caller's own company",
    Scope.OWN_COMMUNITY: "caller's own community",
    Scope.REFERRED: "referred to caller's office",
    Scope.PUBLISHED: "published record",
    Scope.NOT_CONCERNED: "not about caller's own unit's conduct",
}


@dataclass(frozen=True)
class Resource:
    """The facts of a record the scopes are judged on ("" / False: the record has none)."""

    unit: str = ""
    company: str = ""
    community: str = ""
    office: str = ""
    published: bool = False
    concerns_unit: str = ""
    """The unit whose own conduct the record is about (a warning about a unit's failure)."""


@dataclass(frozen=True)
class Grant:
    agency: str
    roles: tuple[str, ...] = ()
    """Empty: every role of the agency."""
    scopes: tuple[Scope, ...] = (Scope.JURISDICTION,)

    def names(self, identity: Identity) -> bool:
        return identity.agency == self.agency and (not self.roles or identity.role in self.roles)


@dataclass(frozen=True)
class Rule:
    rpc: str
    grants: tuple[Grant, ...]
    what: str
    """One line for the document: what the RPC does and why these callers."""
    limited: bool = False
    """Calls of the public are rate-limited (per front end)."""


def holds(scope: Scope, identity: Identity, resource: Resource, city: str) -> bool:
    if scope is Scope.ANY:
        return True
    if scope is Scope.CITY:
        return identity.unit == city
    if scope is Scope.JURISDICTION:
        return identity.unit == city or (bool(resource.unit) and identity.unit == resource.unit)
    if scope is Scope.OWN_UNIT:
        return bool(resource.unit) and identity.unit == resource.unit
    if scope is Scope.OWN_COMPANY:
        return bool(resource.company) and identity.subject == resource.company
    if scope is Scope.OWN_COMMUNITY:
        return bool(resource.community) and identity.subject == resource.community
    if scope is Scope.REFERRED:
        return bool(resource.office) and identity.subject == resource.office
    if scope is Scope.PUBLISHED:
        return resource.published
    if scope is Scope.NOT_CONCERNED:
        return identity.unit != resource.concerns_unit
    raise AssertionError(scope)


class RateLimiter:
    """A token bucket per key: `per_minute` calls, refilled continuously."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> bool:
        with self._lock:
            now = self.clock()
            tokens, at = self._buckets.get(key, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - at) * self.per_minute / 60)
            if tokens < 1:
                self._buckets[key] = (tokens, now)
                return False
            self._buckets[key] = (tokens - 1, now)
            return True


PUBLIC_AGENCY = "public"

SUBJECT_SCOPES: dict[Scope, str] = {
    Scope.OWN_COMPANY: "uscc",
    Scope.OWN_COMMUNITY: "community",
    Scope.REFERRED: "police_office",
}
"""The scopes judged on the caller's subject, and the subject kind each needs."""

_charged: contextvars.ContextVar[tuple[int, str, Identity, str] | None] = contextvars.ContextVar(
    "pubrev_policy_charged", default=None
)
"""The call whose admission took the public's token (each gRPC call runs in its own
context): its `authorize` then takes none."""


@dataclass
class Policy:
    service: str
    rules: Sequence[Rule]
    city: str = field(kw_only=True)
    """The unit at city level (the vocabulary's CITY): it sees every unit's records."""
    public_per_minute: int = 30
    clock: Callable[[], float] = time.monotonic
    """The rate limit's clock (tests inject one)."""
    limiter: RateLimiter = field(init=False)
    by_rpc: dict[str, Rule] = field(init=False)

    def __post_init__(self) -> None:
        self.by_rpc = {}
        for rule in self.rules:
            if rule.rpc in self.by_rpc:
                raise ValueError(f"{self.service}: {rule.rpc} declared twice")
            self.by_rpc[rule.rpc] = rule
        self.limiter = RateLimiter(self.public_per_minute, self.clock)

    def _deny(self, rpc: str, identity: Identity, why: str) -> PermissionDenied:
        return PermissionDenied(
            f"{identity.agency}/{identity.role} of {identity.unit} may not call {rpc}: {why}",
            f"无权调用 {rpc}",
        )

    def grants(self, rpc: str, identity: Identity) -> list[Grant]:
        rule = self.by_rpc.get(rpc)
        return [] if rule is None else [g for g in rule.grants if g.names(identity)]

    def _admitted(self, rpc: str, identity: Identity) -> tuple[Rule, list[Grant]]:
        rule = self.by_rpc.get(rpc)
        if rule is None:
            raise self._deny(rpc, identity, "no policy row (default deny)")
        grants = [g for g in rule.grants if g.names(identity)]
        if not grants:
            raise self._deny(rpc, identity, "no grant for this agency and role")
        return rule, grants

    def _take(self, rule: Rule, identity: Identity) -> bool:
        """Takes a token of the public's bucket (per front end and RPC) for a limited RPC;
        whether one was taken."""
        if identity.agency != PUBLIC_AGENCY or not rule.limited:
            return False
        if not self.limiter.take(f"{rule.rpc}:{identity.via}"):
            raise PermissionDenied(
                f"{rule.rpc}: too many calls of the public, try again later",
                "公众请求过于频繁，请稍后再试",
            )
        return True

    def admit(self, rpc: str, identity: Identity) -> list[Grant]:
        """Before anything is read: the grants naming the caller's agency and role. Takes the
        public's token for a rate-limited RPC (the call's `authorize` then takes none)."""
        rule, grants = self._admitted(rpc, identity)
        if self._take(rule, identity):
            _charged.set((id(self), rpc, identity, identity.via))
        return grants

    def decide(self, rpc: str, identity: Identity, resource: Resource) -> Grant | None:
        """The grant that allows the call on this record, or None (no side effect)."""
        for grant in self.grants(rpc, identity):
            if all(holds(s, identity, resource, self.city) for s in grant.scopes):
                return grant
        return None

    def _history_grants(self, rpc: str, identity: Identity) -> list[Grant]:
        if identity.agency == PUBLIC_AGENCY:
            return []
        return [g for g in self.grants(rpc, identity) if Scope.PUBLISHED not in g.scopes]

    def may_read_history_under(self, rpc: str, identity: Identity) -> bool:
        """Whether any record read by `rpc` could have its history read by the caller (asked
        before the record is loaded)."""
        return bool(self._history_grants(rpc, identity))

    def decide_history(self, rpc: str, identity: Identity, resource: Resource) -> Grant | None:
        """The grant letting the caller read the history (GetHistory) of a record that `rpc`
        reads, or None. The same grants as `rpc`'s, but for those that only open what is
        published: a record's trail (earlier versions, contact details, who did what) is not
        published with it, so the public and published-only grants read none."""
        for grant in self._history_grants(rpc, identity):
            if all(holds(s, identity, resource, self.city) for s in grant.scopes):
                return grant
        return None

    def authorize(self, rpc: str, identity: Identity, resource: Resource) -> Grant:
        """Once the record's facts are known: the grant allowing the call on it. A call of
        the public counts once against its rate limit, whether the application admitted it
        first or authorizes it alone (a list authorized on its filter)."""
        rule, _ = self._admitted(rpc, identity)
        if _charged.get() == (id(self), rpc, identity, identity.via):
            _charged.set(None)
        else:
            self._take(rule, identity)
        grant = self.decide(rpc, identity, resource)
        if grant is None:
            raise self._deny(rpc, identity, "the record is outside the caller's scope")
        return grant

    def problems(self, rules: IdentityRules) -> list[str]:
        """What in this policy the vocabulary does not allow (a test asserts there is none):
        unknown agencies and roles, a subject scope on an agency without that subject, a
        grant to a front end, a rate limit nobody it limits may hit, a rule without why."""
        found: list[str] = []
        for rule in sorted(self.rules, key=lambda r: r.rpc):
            where = rule.rpc
            if not rule.what.strip():
                found.append(f"{where}: no `what` says why")
            for grant in rule.grants:
                agency = rules.agencies.get(grant.agency)
                if agency is None:
                    found.append(f"{where}: unknown agency {grant.agency[:32]!r}")
                    continue
                found += [
                    f"{where}: {grant.agency} has no role {role[:32]!r}"
                    for role in grant.roles
                    if role not in agency.roles
                ]
                for scope in grant.scopes:
                    kind = SUBJECT_SCOPES.get(scope)
                    if kind is not None and agency.subject != kind:
                        found.append(
                            f"{where}: {scope.value} needs {grant.agency} to have a "
                            f"{kind} subject, not {agency.subject}"
                        )
                if agency.frontend:
                    found.append(
                        f"{where}: {grant.agency} is a front end: it acts for people "
                        "and is authorized for nothing"
                    )
            if rule.limited and not any(g.agency == PUBLIC_AGENCY for g in rule.grants):
                found.append(f"{where}: rate-limited but the public has no grant")
        return found

    def render_markdown(self, rules: IdentityRules | None = None) -> str:
        lines = [f"## {self.service}", "", "| RPC | who | scope | what |", "|---|---|---|---|"]
        for rule in sorted(self.rules, key=lambda r: r.rpc):
            first = True
            for grant in rule.grants:
                roles = ", ".join(grant.roles) if grant.roles else "all roles"
                scope = " and ".join(SCOPE_TEXT[s] for s in grant.scopes)
                limit = " (rate-limited)" if rule.limited and grant.agency == PUBLIC_AGENCY else ""
                what = _cell(rule.what) if first else ""
                lines.append(
                    f"| {rule.rpc if first else ''} | {grant.agency} ({roles}){limit}"
                    f" | {scope} | {what} |"
                )
                first = False
            if not rule.grants:
                lines.append(f"| {rule.rpc} | nobody | — | {_cell(rule.what)} |")
        return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    """Text in a Markdown table cell: a `|` would end the cell."""
    return text.replace("|", "\\|")


# -- the matrix: every identity the vocabulary allows, by its relation to a record ----------


@dataclass(frozen=True)
class Cell:
    identity: Identity
    relation: str
    """How the identity relates to the record: e.g. `same unit, own company`."""


def relations(
    rules: IdentityRules,
    record: Resource,
    other_unit: str,
    other: Mapping[str, str],
    agencies: Iterable[str] | None = None,
) -> Iterator[Cell]:
    """Every (agency, role) of the vocabulary in every relation to `record` its identity can
    have: same unit / other unit / city, and, where the agency has a subject, the record's own
    subject or another one (`other`: subject kind → a valid subject that is not the
    record's)."""
    own = {"uscc": record.company, "police_office": record.office, "community": record.community}
    county = rules.units - {rules.city}
    if record.unit not in county:
        raise ValueError(f"the record must be of a county-level unit, not {record.unit!r}")
    if other_unit not in county or other_unit == record.unit:
        raise ValueError(
            f"the other unit {other_unit!r} must be a county-level unit other than the record's"
        )
    for kind, value in own.items():
        if value and other.get(kind) == value:
            raise ValueError(f"the other {kind} must not be the record's own")
    for agency in sorted(agencies if agencies is not None else rules.agencies):
        rule = rules.agencies[agency]
        units = (
            [("city", rules.city)]
            if rule.city_only
            else [("same unit", record.unit), ("other unit", other_unit), ("city", rules.city)]
        )
        if rule.subject in own:
            subjects = [
                (f"own {rule.subject}", own[rule.subject]),
                (f"other {rule.subject}", other[rule.subject]),
            ]
        elif rule.subject_required:
            subjects = [("", other[rule.subject])]
        else:
            subjects = [("", "")]
        for role in rule.roles:
            for unit_label, unit in units:
                for subject_label, subject in subjects:
                    if rule.subject_required and not subject:
                        continue
                    label = ", ".join(x for x in (unit_label, subject_label) if x)
                    yield Cell(rules.check(Identity(agency, role, unit, subject)), label)
