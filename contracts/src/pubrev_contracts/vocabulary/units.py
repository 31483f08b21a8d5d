"""Supervising units of Putian (莆田市) and their division codes (DOMAIN.md §2).

The 7 county-level units are not the GB/T 2260 tree: three of them share 350305.
"""

from typing import Literal

CITY = "putian"

UNITS: dict[str, tuple[str, str]] = {
    "putian": ("莆田市", "350300"),
    "chengxiang": ("城厢区", "350302"),
    "hanjiang": ("涵江区", "350303"),
    "licheng": ("荔城区", "350304"),
    "xiuyu": ("秀屿区", "350305"),
    "xianyou": ("仙游县", "350322"),
    "meizhoudao": ("湄洲岛国家旅游度假区管委会", "350305"),
    "beian": ("湄洲湾北岸经济开发区管委会", "350305"),
}

COUNTY_UNITS = tuple(u for u in UNITS if u != CITY)

Unit = Literal[
    "putian", "chengxiang", "hanjiang", "licheng", "xiuyu", "xianyou", "meizhoudao", "beian"
]
