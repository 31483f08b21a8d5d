"""物业服务企业 (PropertyCompany): a property service company, known by its 统一社会信用代码
(USCC, GB 32100-2015). The register of companies is the city's: a company serves
communities in several units.

Its rule: a company registering itself (`application`) gives a valid USCC, check character
and all; a code from an official registry (`official_registry`) is kept as the registry has
it, flagged when it fails the check, because the registry, not the platform, says what a
company's code is.
"""

from __future__ import annotations

import uuid

from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import register_topic

from disclosure.domain.ids import NAMESPACE
from pubrev_contracts.vocabulary.identifiers import (
    USCC_DESCRIPTION_ZH,
    USCC_LENGTH,
    USCC_RULE,
    uscc_problem,
)
from servicekit.errors import FieldViolation, Validator

APPLICATION = "application"
OFFICIAL_REGISTRY = "official_registry"
SOURCES = (APPLICATION, OFFICIAL_REGISTRY)


class PropertyCompany(Aggregate):
    """A property service company (物业服务企业) on the city's register."""

    class Registered(Aggregate.Created):
        uscc: str
        name: str
        source: str
        uscc_flagged: bool

    @event(Registered)
    def __init__(self, uscc: str, name: str, source: str, uscc_flagged: bool) -> None:
        self.uscc = uscc
        self.name = name
        self.source = source
        self.uscc_flagged = uscc_flagged

    @staticmethod
    def create_id(uscc: str) -> uuid.UUID:
        return uuid.uuid5(NAMESPACE, f"company:{uscc}")

    @classmethod
    def register(cls, uscc: str, name: str, source: str) -> PropertyCompany:
        """Registers a company from `source`, flagging a code that fails GB 32100 (only an
        official registry's may). InvalidArgument as `check_registration` says."""
        v = Validator()
        v.violations.extend(cls.check_registration(uscc, source))
        v.raise_if_any()
        return cls(uscc, name, source, uscc_flagged=uscc_problem(uscc) is not None)

    @staticmethod
    def check_registration(uscc: str, source: str) -> list[FieldViolation]:
        """What refuses a registration (the handler asks before it reads anything, so every
        bad field comes back at once; `register` refuses the same)."""
        v = Validator()
        v.require(
            source in SOURCES,
            "source",
            "unknown_source",
            "source is application or official_registry",
            "来源须为申请或官方登记",
        )
        if source == APPLICATION:
            problem = uscc_problem(uscc)
            v.require(problem is None, "uscc", USCC_RULE, f"USCC {problem}", USCC_DESCRIPTION_ZH)
        else:
            v.require(
                len(uscc) == USCC_LENGTH,
                "uscc",
                "uscc_length",
                "must be 18 characters",
                "统一社会信用代码须为18位",
            )
        return v.violations


# Stored events name their classes by module path (ADR 0014): those written while this
# class lived in disclosure.domain.model must still load.
register_topic("disclosure.domain.model:PropertyCompany", PropertyCompany)
register_topic("disclosure.domain.model:PropertyCompany.Registered", PropertyCompany.Registered)
