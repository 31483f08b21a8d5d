"""The namespace of the aggregates' deterministic ids: uuid5 of a natural key (a company's
USCC, a community's code, a community's quarter), so that a key names one aggregate
whoever writes first. Part of the stored data: every id issued so far was made with it."""

from __future__ import annotations

import uuid

NAMESPACE = uuid.UUID("0d7a2f0e-93a5-4c56-8f0b-6e0c5a1d2b31")
