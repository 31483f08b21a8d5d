"""Where the rules come from. A rule cites one of these, never a title of its own making."""

from __future__ import annotations

WORK_PLAN = (
    "莆田市城市管理局、发展和改革委员会、公安局、市场监督管理局《关于深化“整治物业公司侵占业主"
    "公共收益、收入及分配不公开等问题，切实维护业主利益”工作方案》（2023年7月14日）"
)
"""The 2023 work plan (DOMAIN.md; `shared/seed/`), by its real title and date."""

LOCAL = "本地配置（所依据的文件未规定此值）"
"""Marks a value that no source sets: the bureau's own configuration, changeable by it."""


def plan(section: str) -> str:
    """A citation of the work plan's section, e.g. `plan("二（一）")`."""
    return f"{WORK_PLAN}{section}"


def local(what: str) -> str:
    """A value without an official source, named as local configuration."""
    return f"{what}：{LOCAL}"
