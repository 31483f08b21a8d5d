"""Contact numbers (联系电话): the work plan asks the disclosure to show the company's contact
person and number (四（二）), and complaints reach the bureau by phone; a mainland mobile or
a landline serves. The formats are the national numbering plan's, checked syntactically:
- mobile: 11 digits beginning with 1 (DOMAIN.md §10);
- landline: a trunk-prefixed area code (0 + 2 or 3 digits: 010, 021, 0594 …), an optional
  hyphen, then a local number of 7 or 8 digits that does not begin with 0 or 1.
ASCII digits only: full-width digits and spaces are refused, not normalised.
"""

from __future__ import annotations

import re

_MOBILE = re.compile(r"1[0-9]{10}")
_LANDLINE = re.compile(r"0[1-9][0-9]{1,2}-?[2-9][0-9]{6,7}")
MAX_LENGTH = 13
"""The longest valid number: 4-digit area code, hyphen, 8 digits."""


def is_mainland_mobile(number: str) -> bool:
    return len(number) == 11 and number.isascii() and _MOBILE.fullmatch(number) is not None


def is_landline(number: str) -> bool:
    return (
        len(number) <= MAX_LENGTH and number.isascii() and _LANDLINE.fullmatch(number) is not None
    )


def is_contact_number(number: str) -> bool:
    """A mobile or a landline number (what 联系电话 means)."""
    return is_mainland_mobile(number) or is_landline(number)


RULE = "contact_number_format"
DESCRIPTION = (
    "an 11-digit mainland mobile number, or a landline with its area code (e.g. 0594-2345678)"
)
DESCRIPTION_ZH = "联系电话须为11位手机号码，或带区号的固定电话（如0594-2345678）"
