"""Identifiers and numbers (DOMAIN.md §10), checked the one way every service checks them.

- 统一社会信用代码 (USCC): 18 characters of the GB 32100-2015 set with its check character.
- Community codes: the register's codes (2–40 ASCII letters, digits or hyphens).
- Contact numbers (联系电话): the work plan asks the disclosure to show the company's contact
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


USCC_LENGTH = 18
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
USCC_PATTERN = r"[0-9A-HJ-NPQRTUWXY]{18}"
"""The character set only (what an identity's subject may be); `uscc_problem` checks the
check character too."""


def uscc_problem(code: str) -> str | None:
    """Why `code` is not a valid 统一社会信用代码 (GB 32100-2015), or None when it is."""
    if len(code) != USCC_LENGTH:
        return "must be 18 characters"
    bad = sorted({c for c in code if c not in USCC_CHARSET})
    if bad:
        return f"has characters outside the GB 32100 set: {''.join(bad)[:18]}"
    total = sum(USCC_CHARSET.index(c) * w for c, w in zip(code[:17], USCC_WEIGHTS, strict=True))
    expected = USCC_CHARSET[(31 - total % 31) % 31]
    if code[17] != expected:
        return f"check character is {code[17]}, GB 32100 gives {expected}"
    return None


def is_uscc(code: str) -> bool:
    return uscc_problem(code) is None


USCC_RULE = "uscc_check"
USCC_DESCRIPTION_ZH = "统一社会信用代码不符合GB 32100-2015校验规则"

COMMUNITY_CODE_PATTERN = r"[A-Za-z0-9-]{2,40}"
_COMMUNITY_CODE = re.compile(COMMUNITY_CODE_PATTERN)
COMMUNITY_CODE_RULE = "code_format"
COMMUNITY_CODE_DESCRIPTION = "2–40 letters, digits or '-'"
COMMUNITY_CODE_DESCRIPTION_ZH = "小区编码须为2至40位字母、数字或连字符"


def is_community_code(code: str) -> bool:
    """ASCII only, whole string: "CX-001\n" or full-width digits are not codes."""
    return code.isascii() and _COMMUNITY_CODE.fullmatch(code) is not None
