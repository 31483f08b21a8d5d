"""Who may do what in the disclosure service: its declared policy (servicekit.policy), one
row per RPC of pubrev.disclosure.v1.DisclosureService, default deny. Rendered into
docs/authorization.md by tools/gen_authz_doc.py; the application asks it before it reads
(`POLICY.admit`) and once it knows the record (`POLICY.authorize`).

Decisions, from DOMAIN.md §1–3 and the 2023 work plan (seed/000_…):
- The property bureau (物业管理主管部门) keeps the register and receives the disclosures: a
  unit's bureau registers its communities and their handovers, the city any unit's. The
  register of companies is the city's: a company serves communities in several units, so
  no one unit owns its entry. Officers and heads write; inspectors read.
- A disclosure is the duty and the right of the company in charge on the quarter's last day
  (Community.company_for; 《民法典》第九百四十三条). The company reports it to the bureau too
  (plan 四（二）: 上报小区所在地的物业管理主管部门), so the unit's bureau may enter a filing,
  or its correction, that it received. A company's identity acts by its USCC only: its unit
  gives it nothing.
- A third-party audit is asked for by the owners' committee or by owners of ≥ 20% of the
  households (DOMAIN.md §3, plan 四（六）) of their own community (subject = its code), each
  only as what it is (`check_audit_requester`); the unit's bureau may record a request it
  received on paper.
- The quarter close is the bureau's (its unit; the city all), and the hourly sweep's, which
  runs as the operator's scheduler at the city level.
- Reading: the supervising agencies of the record's unit (the city: all): the bureau, the
  township (companies report to it too, plan 四（二）), the discipline office (智慧监督 tracks
  the campaign's data, plan 四（五）); the credit office and market regulation read the
  disclosures, not the rate, because they join the bureau's spot-check verification (plan
  附件2 item 11: 联合协同部门…实地抽查核实) and record results under the company's name. The
  filing company reads its own, the community's owners' committee and owners theirs
  (DOMAIN.md §1: owners see disclosures). Police have nothing here (DOMAIN.md §1: they see
  only the cases referred to them).
- Published: a filed disclosure is posted by law (《民法典》第九百四十三条, plan 四（二）: the
  signboard and the provincial system), so its current version is published, and the public
  may read and list it (rate-limited). The contact person and phone are on the posting for
  the owners' questions (plan 四（二）: 在接受业主监督时…予以解释答复); they are a person's data
  (PIPL: no more than necessary), so the public's copy leaves them out (`sees_contact`).
  Earlier versions and the history (every version, the contact, the owners' audit requests)
  are the audit trail, which is not published.
- The self-inspection ledger (自查自纠台账, plan 五（二）) is the company's: it keeps it, posts
  its result in the community and tells every owner, so the company in charge of the
  community files it and records its problems rectified; the unit's bureau organises the
  self-inspection and keeps the ledgers (附件1 items 8 and 9: 组织…开展自查自纠，并建立台账), so
  it may enter a ledger, or a rectification, on the company's behalf. Posted in the
  community and told to every owner, the ledger is published: whoever reads disclosures
  reads it, the public without the persons responsible (a person's data, as the contact
  on a disclosure). The list of a unit's ledgers is its supervisors' (the bureau keeps them,
  the townships build them with the companies: 附件2 items 8 and 9; the discipline office
  tracks the campaign), not the public's: the community's own ledger is what is posted.
- A third-party audit's result (plan 四（六）) answers the owners who asked for it: the
  community's owners' committee and owners read it, the audited company reads it, and so
  do the unit's supervisors (the bureau follows a result finding problems up with the
  township, 四（六）; the discipline office tracks problems to closure, 五（三）) and the
  joint checkers, who verify the disclosures it tests (附件2 item 11); it is part of the
  disclosure's audit trail, which they read already (GetHistory of the disclosure). The unit's
  bureau records it, as it receives it: the audit firm is the owners' hire (聘请第三方审计机构)
  and no caller of the platform, and the platform's auditor reads the log and changes
  nothing. The result is not published: the owners hold the report they paid for, and what
  the plan posts publicly is the rectification that follows.
- History: GetHistory of a disclosure follows GetDisclosure on the disclosure's facts (never
  published); a community's and a company's follow the rule of who keeps their register
  (RegisterCommunity, RegisterCompany): no RPC reads them by themselves. The whole log is
  the auditor's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from disclosure.domain.community import Community
from disclosure.domain.disclosure import OWNERS, OWNERS_COMMITTEE, Disclosure
from disclosure.domain.property_company import PropertyCompany
from disclosure.domain.self_inspection_ledger import SelfInspectionLedger
from pubrev_contracts.vocabulary.agencies import Agency
from pubrev_contracts.vocabulary.units import CITY
from servicekit.errors import PermissionDenied
from servicekit.eventstore import HistoryReads
from servicekit.identity import Identity
from servicekit.operations import admin_rules
from servicekit.policy import Grant, Policy, Resource, Rule, Scope, holds

WRITERS = ("officer", "head")
"""The bureau's roles that change the register; its inspectors read."""

_J = (Scope.JURISDICTION,)
_BUREAU_WRITES = Grant(Agency.PROPERTY_BUREAU, WRITERS, _J)
_SUPERVISORS = (
    Grant(Agency.PROPERTY_BUREAU, (), _J),
    Grant(Agency.TOWNSHIP, (), _J),
    Grant(Agency.DISCIPLINE, (), _J),
)
_JOINT_CHECKERS = (
    Grant(Agency.CREDIT_OFFICE, (), _J),
    Grant(Agency.MARKET_REGULATION, (), _J),
)
_OWN = (
    Grant(Agency.PROPERTY_COMPANY, (), (Scope.OWN_COMPANY,)),
    Grant(Agency.OWNERS_COMMITTEE, (), (Scope.OWN_COMMUNITY,)),
    Grant(Agency.OWNERS, (), (Scope.OWN_COMMUNITY,)),
)
_PUBLIC = Grant(Agency.PUBLIC, (), (Scope.PUBLISHED,))

POLICY = Policy(
    "disclosure",
    [
        Rule(
            "RegisterCompany",
            (Grant(Agency.PROPERTY_BUREAU, WRITERS, (Scope.CITY,)),),
            "registers a company by USCC: the city's bureau, as a company serves several units",
        ),
        Rule(
            "RegisterCommunity",
            (_BUREAU_WRITES,),
            "registers a community under its unit: that unit's bureau, the city any (§1–2)",
        ),
        Rule(
            "ChangePropertyCompany",
            (_BUREAU_WRITES,),
            "records a handover: the bureau of the community's unit, the city any (§1–2)",
        ),
        Rule(
            "FileDisclosure",
            (Grant(Agency.PROPERTY_COMPANY, (), (Scope.OWN_COMPANY,)), _BUREAU_WRITES),
            "files a quarter: the company in charge on its last day (民法典 Art. 943), or the "
            "unit's bureau entering what the company reported to it (plan 四（二）)",
        ),
        Rule(
            "AmendDisclosure",
            (Grant(Agency.PROPERTY_COMPANY, (), (Scope.OWN_COMPANY,)), _BUREAU_WRITES),
            "corrects a filing: its company, or the unit's bureau entering the correction it "
            "received",
        ),
        Rule(
            "RequestAudit",
            (
                Grant(Agency.OWNERS_COMMITTEE, (), (Scope.OWN_COMMUNITY,)),
                Grant(Agency.OWNERS, (), (Scope.OWN_COMMUNITY,)),
                _BUREAU_WRITES,
            ),
            "asks for a third-party audit: the community's owners' committee or owners, each as "
            "what it is (§3), or the unit's bureau recording a request it received",
        ),
        Rule(
            "CloseQuarter",
            (_BUREAU_WRITES, Grant(Agency.OPERATOR, ("scheduler",), (Scope.CITY,))),
            "marks missing filings overdue after the deadline: the bureau for its unit (the "
            "city all), and the hourly sweep as the operator's scheduler",
        ),
        Rule(
            "GetDisclosure",
            (*_SUPERVISORS, *_JOINT_CHECKERS, *_OWN, _PUBLIC),
            "reads a filing: its unit's supervisors and joint checkers, its company, its "
            "community's owners; the public the current version without the contact",
            limited=True,
        ),
        Rule(
            "ListDisclosures",
            (*_SUPERVISORS, *_JOINT_CHECKERS, *_OWN, _PUBLIC),
            "lists filings, filtered to the caller's scope (unit, own USCC, own community); "
            "filed disclosures are posted by law, so the public may list them",
            limited=True,
        ),
        Rule(
            "GetDisclosureRate",
            _SUPERVISORS,
            "a unit's disclosure rate (plan 一: target 100%) measures its supervisors' work: "
            "the bureau, township and discipline office of the unit (the city all)",
        ),
        Rule(
            "FileSelfInspection",
            (Grant(Agency.PROPERTY_COMPANY, (), (Scope.OWN_COMPANY,)), _BUREAU_WRITES),
            "files a community's self-inspection ledger of a year: the company in charge of it "
            "(plan 五（二）), or the unit's bureau, which keeps the ledgers (附件1 items 8, 9)",
        ),
        Rule(
            "RecordSelfInspectionRectification",
            (Grant(Agency.PROPERTY_COMPANY, (), (Scope.OWN_COMPANY,)), _BUREAU_WRITES),
            "records a ledger's problem rectified: the ledger's company, or the unit's bureau",
        ),
        Rule(
            "GetSelfInspection",
            (*_SUPERVISORS, *_JOINT_CHECKERS, *_OWN, _PUBLIC),
            "reads a ledger: posted in the community and told to every owner (plan 五（二）), "
            "so published; the public's copy without the persons responsible",
            limited=True,
        ),
        Rule(
            "ListSelfInspections",
            _SUPERVISORS,
            "a unit's ledgers of a year: its bureau keeps them, its townships build them with "
            "the companies (附件1, 附件2 items 8, 9), its discipline office tracks the campaign",
        ),
        Rule(
            "RecordAuditResult",
            (_BUREAU_WRITES,),
            "records the result of an audit the owners asked for: the unit's bureau, which "
            "follows it up (plan 四（六）); the audit firm is the owners' hire, no caller",
        ),
        Rule(
            "GetAuditResult",
            (*_SUPERVISORS, *_JOINT_CHECKERS, *_OWN),
            "reads a disclosure's audits and their results: its community's owners' committee "
            "and owners, who asked; its company; its unit's supervisors and joint checkers. "
            "Not published",
        ),
        Rule(
            "GetHistory",
            (Grant(Agency.AUDITOR, ("auditor",), (Scope.CITY,)),),
            "the whole log: the auditor only; one record's history follows its read rule",
        ),
        # The operators' service (pubrev.common.v1.AdminService), the same in every service.
        *admin_rules(),
    ],
    city=CITY,
)


# -- the facts each record is judged on ----------------------------------------------------


def disclosure_facts(disclosure: Disclosure, current: bool = True) -> Resource:
    """A disclosure's facts. Only its current version is published (posted by law); an
    earlier version, like the history, is the audit trail."""
    return Resource(
        unit=disclosure.unit,
        company=disclosure.company_uscc,
        community=disclosure.community_code,
        published=current,
    )


def community_facts(community: Community) -> Resource:
    return Resource(unit=community.unit, community=community.code)


def self_inspection_filer_facts(community: Community) -> Resource:
    """A ledger to be filed: the community, and the company in charge of it now."""
    return Resource(unit=community.unit, company=community.company_uscc, community=community.code)


def self_inspection_facts(ledger: SelfInspectionLedger) -> Resource:
    """A filed ledger: posted in the community and told to every owner, so published."""
    return Resource(
        unit=ledger.unit,
        company=ledger.company_uscc,
        community=ledger.community_code,
        published=True,
    )


def audit_facts(disclosure: Disclosure) -> Resource:
    """A disclosure's audits: its community's, its company's, never published."""
    return Resource(
        unit=disclosure.unit, company=disclosure.company_uscc, community=disclosure.community_code
    )


HISTORY_READS: HistoryReads = {
    Disclosure: ("GetDisclosure", lambda d: disclosure_facts(d, current=False)),
    SelfInspectionLedger: (
        "GetSelfInspection",
        lambda ledger: replace(self_inspection_facts(ledger), published=False),
    ),
    Community: ("RegisterCommunity", community_facts),
    PropertyCompany: ("RegisterCompany", lambda c: Resource()),
}
"""GetHistory of one record: the record's own read rule, on facts never published."""


def permit(rpc: str, identity: Identity, resource: Resource) -> Grant:
    """`POLICY.authorize` for a caller already admitted: the grant that allows the call on
    this record, or PermissionDenied saying why (the public's rate limit is charged once,
    by the admission)."""
    grant = POLICY.decide(rpc, identity, resource)
    if grant is not None:
        return grant
    return POLICY.authorize(rpc, identity, resource)  # raises: the record is out of scope


# -- lists: the filter asked for, narrowed to the caller's grant ---------------------------


@dataclass(frozen=True)
class Filter:
    unit: str = ""
    company: str = ""
    community: str = ""
    published: bool = False
    """Every row the list can return is published."""

    @property
    def resource(self) -> Resource:
        return Resource(
            unit=self.unit, company=self.company, community=self.community, published=self.published
        )


def _narrowed(grant: Grant, identity: Identity, asked: Filter, city: str) -> Filter:
    """The asked filter with every field the grant scopes the caller to filled from its
    identity (a county user's unit, a company's USCC, an owners' community)."""
    narrowed = asked
    # The city's jurisdiction is every unit: nothing to fill in for it.
    unit_bound = {Scope.OWN_UNIT} | ({Scope.JURISDICTION} if identity.unit != city else set())
    for scope in grant.scopes:
        if scope in unit_bound and not narrowed.unit:
            narrowed = replace(narrowed, unit=identity.unit)
        elif scope is Scope.OWN_COMPANY and not narrowed.company:
            narrowed = replace(narrowed, company=identity.subject)
        elif scope is Scope.OWN_COMMUNITY and not narrowed.community:
            narrowed = replace(narrowed, community=identity.subject)
    return narrowed


def authorize_list(rpc: str, identity: Identity, grants: Sequence[Grant], asked: Filter) -> Filter:
    """Authorizes a list (for a caller admitted with `grants`) on the filter it asks for,
    forced into the caller's scope: the first grant under which the narrowed filter holds
    decides it, and the list then returns only rows matching that filter. PermissionDenied
    when no grant holds (an asked unit, company or community outside the caller's)."""
    for grant in grants:
        narrowed = _narrowed(grant, identity, asked, POLICY.city)
        if all(holds(s, identity, narrowed.resource, POLICY.city) for s in grant.scopes):
            permit(rpc, identity, narrowed.resource)
            return narrowed
    permit(rpc, identity, asked.resource)  # raises: no grant holds
    raise AssertionError("unreachable")  # pragma: no cover


# -- what the policy's rows cannot say -----------------------------------------------------

AUDIT_REQUESTER: dict[str, str] = {
    Agency.OWNERS_COMMITTEE: OWNERS_COMMITTEE,
    Agency.OWNERS: OWNERS,
}
"""The requester kind each owners' identity is; the bureau records either kind."""


def check_audit_requester(identity: Identity, requester: str) -> None:
    """Owners' representatives may not ask as the owners' committee (which needs no 20% of
    households), nor the committee as owners: each asks as what its identity is."""
    own = AUDIT_REQUESTER.get(identity.agency)
    if own is not None and requester != own:
        raise PermissionDenied(
            f"{identity.agency} may request an audit only as requester {own!r}",
            "只能以本人身份（业主委员会或业主）申请审计",
        )


def sees_contact(identity: Identity) -> bool:
    """The contact person and phone on a posting, and the persons responsible in a
    self-inspection ledger, are for the community's owners and the supervisors; the public's
    copy leaves them out (a person's data, PIPL)."""
    return identity.agency != Agency.PUBLIC
