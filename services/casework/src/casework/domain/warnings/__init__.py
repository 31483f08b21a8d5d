"""Warnings (问题预警) for the 智慧监督 platform of the discipline commission (DOMAIN.md §8).

A warning is raised once per rule, subject and period, then acknowledged and closed; the
closure is evidenced (闭环管理). The rules are pure functions over what casework remembers of
the other services' events; their thresholds are versioned configuration because no
official text fixes them.

- `supervision_warning`: the aggregate `SupervisionWarning` (one warning) and `Due` (a
  warning a rule says is due);
- `community_facts`, `company_facts`, `unit_inspections`, `plan_checks`: what the warnings
  remember of the events of disclosure, inspection and casework itself, one aggregate each;
- `rules`: the rules and their thresholds (`WarningRules`), each with its legal basis;
- `periods`: the quarters, years, months and days (Asia/Shanghai) warnings are raised for.

Stored events name these classes by their module: the topics of the single module
`casework.domain.warnings` they lived in before (and of `Warning`, now `SupervisionWarning`)
are registered next to each class, so that events stored then still load.
"""

from __future__ import annotations

import uuid

NAMESPACE = uuid.UUID("5d1f7a3e-2c64-4b8f-a0d9-8e7c6b5a4f31")
"""Of the ids of every aggregate of the warnings (derived from their natural keys): part of
the stored data, never to change."""
