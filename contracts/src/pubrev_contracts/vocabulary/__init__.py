"""The platform's one vocabulary (共享内核): the words and rules every service must use the
same way, in one pure package (standard library only) that the services' domain layers may
import (the import-linter contracts allow exactly this package).

- `units`: the city and its seven county-level units (DOMAIN.md §2);
- `agencies`: who may call pubrev, their roles and subjects (DOMAIN.md §1);
- `calendar`: Asia/Shanghai, quarters and their labels, the disclosure deadline, the State
  Council's holiday calendar (`holidays.toml`) and periods counted by it;
- `identifiers`: USCC with its check character, community codes, mobile and landline numbers;
- `pace`: the spot-check pace; `violations`: the violation codes, texts and severities;
- `campaign`: the campaign calendar (`campaign.toml`): each year's stages and due dates, the
  monthly reports (25th, 30th), each with its basis, and which units are behind a stage;
- `sources`: where each rule comes from; a value no source gives is marked local configuration;
- `errors`: what a rule table without the needed entry raises.
"""
