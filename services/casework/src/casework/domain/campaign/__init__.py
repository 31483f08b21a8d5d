"""The campaign calendar's facts (专项整治进度, DOMAIN.md §5b, §9): what casework remembers of each
unit's campaign year to say how far it is in each stage, to assemble its monthly report and
to rank the units in the city's monthly circular.

- `unit_communities`: the communities of a county-level unit (CommunityRegistered), the
  denominator of its stages and rates;
- `unit_campaign`: one unit's year as the other services report it (self-inspections,
  township inspections, rectifications, disclosures, cross checks);
- `stage_record`: a stage a unit records as done itself (mobilisation, its summary, ...);
- `monthly_report`: a unit's monthly report to the city, and the city's briefing to the
  province;
- `progress`: what each stage counts and expects of a unit (pure);
- `circular`: the indicators of the monthly circular and the ranking (pure).

The calendar itself (stages, due dates, monthly duties) is `pubrev_contracts.vocabulary.campaign`.
"""

from __future__ import annotations

import uuid

NAMESPACE = uuid.UUID("8f3c2a71-4d5e-4b6f-9a0b-1c2d3e4f5a6b")
"""Of the ids of the campaign's aggregates (derived from their natural keys): part of the
stored data, never to change."""
