"""Who may do what (DOMAIN.md §1–2): a county-level user acts only in its own unit, the
city everywhere; a property company only for the communities it manages."""

from __future__ import annotations

from servicekit.errors import PermissionDenied
from servicekit.identity import Identity

PROPERTY_BUREAU = "property-bureau"
PROPERTY_COMPANY = "property-company"


def require_bureau_of(identity: Identity, unit: str) -> None:
    if identity.agency != PROPERTY_BUREAU or not identity.may_access_unit(unit):
        raise PermissionDenied(
            f"{identity.agency}/{identity.unit} may not manage communities of unit {unit}",
            f"无权管理{unit}辖区的小区",
        )


def require_filer_for(identity: Identity, unit: str, company_uscc: str) -> None:
    if identity.agency == PROPERTY_COMPANY:
        if identity.subject != company_uscc:
            raise PermissionDenied(
                "a property company files only for the communities it manages",
                "物业服务企业只能为其服务的小区填报公示",
            )
        return
    require_bureau_of(identity, unit)


def require_reader_of(identity: Identity, unit: str, company_uscc: str) -> None:
    if identity.agency == PROPERTY_COMPANY and identity.subject == company_uscc:
        return
    if identity.agency == PROPERTY_COMPANY or not identity.may_access_unit(unit):
        raise PermissionDenied(
            f"{identity.agency}/{identity.unit} may not read records of unit {unit}",
            f"无权查看{unit}辖区的数据",
        )


OWNERS_COMMITTEE = "owners-committee"
OWNERS = "owners"


def require_audit_requester(identity: Identity, unit: str) -> None:
    """The owners' committee or owners' representatives of a community (through the
    provincial system), or the unit's bureau recording a request it received."""
    if identity.agency in (OWNERS_COMMITTEE, OWNERS):
        return
    require_bureau_of(identity, unit)
