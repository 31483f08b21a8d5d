"""How often one person of the public may lodge a complaint or ask its status.

The public reaches casework only through a front end (a provincial app, a web page), which
asserts `agency=public;role=anonymous;unit=putian` for the person it serves. servicekit's
policy limits the public per front end and RPC (`Rule.limited`, `Policy.public_per_minute`):
a ceiling on what one front end sends in all, shared by everyone it serves. A front end
serves many people, so each person is also limited here, after admission and before
anything is read or written:
- a front end that knows the person (a logged-in account, a verified phone) names it in its
  signed assertion (`subject`, SubjectKind.PERSON): the bucket is (front end, person);
- a public identity without a person: the bucket is (front end, what the request is about):
  the complainant's phone for LodgeComplaint, the tracking number for GetComplaintStatus.
  Whoever varies that only reaches the front end's ceiling, and guessing a tracking number
  is hopeless (case.TRACKING_LENGTH).
The keys are HMAC digests under a key drawn when the process starts: the buckets never hold
a phone in clear, and a digest does not outlive the process. The buckets are the process's
own: with N api replicas a person gets at most N times the allowance (as with servicekit's
limiter). The numbers are local configuration: no source sets them.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from pubrev_contracts.vocabulary.agencies import Agency
from pubrev_contracts.vocabulary.sources import local
from servicekit.clock import Clock
from servicekit.errors import PermissionDenied
from servicekit.identity import Identity


@dataclass(frozen=True)
class Allowance:
    """`calls` at once, refilled evenly over `seconds` (a token bucket)."""

    calls: int
    seconds: int


@dataclass(frozen=True)
class PublicLimits:
    version: str = "putian-public-limits-2026.1"
    lodge: Allowance = field(default_factory=lambda: Allowance(5, 3600))
    """Complaints one person lodges: 5 an hour."""
    status: Allowance = field(default_factory=lambda: Allowance(30, 3600))
    """Status queries of one person: 30 an hour."""
    max_buckets: int = 100_000
    """Buckets kept at most; the least recently used go first (memory stays bounded however
    many phones a caller makes up)."""

    @property
    def legal_basis(self) -> str:
        return local("公众每人每小时投诉不超过5件、查询不超过30次") + f"（{self.version}）"


class PublicRateLimiter:
    """Token buckets per person of the public, on the application's clock."""

    def __init__(self, limits: PublicLimits, clock: Clock) -> None:
        self.limits = limits
        self.clock = clock
        self._secret = secrets.token_bytes(32)
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def key(self, identity: Identity, about: str) -> str:
        """The bucket of the caller: (front end, person) or (front end, `about`)."""
        if identity.subject:
            parts = ("person", identity.via, identity.subject)
        else:
            # The same phone however grouped (`139-0594-0000`, `139 0594 0000`).
            parts = ("about", identity.via, re.sub(r"[\s-]", "", about))
        material = "\x00".join(parts)
        return hmac.new(self._secret, material.encode(), hashlib.sha256).hexdigest()

    def take(self, rpc: str, allowance: Allowance, identity: Identity, about: str) -> None:
        """Takes one call of the caller's allowance for `rpc`, or PermissionDenied. Only the
        public is limited here (owners and committees are known by their community)."""
        if identity.agency != Agency.PUBLIC:
            return
        bucket = f"{rpc}:{self.key(identity, about)}"
        now = self.clock().timestamp()
        with self._lock:
            tokens, at = self._buckets.pop(bucket, (float(allowance.calls), now))
            tokens = min(
                float(allowance.calls),
                tokens + max(0.0, now - at) * allowance.calls / allowance.seconds,
            )
            allowed = tokens >= 1
            self._buckets[bucket] = (tokens - 1 if allowed else tokens, now)
            while len(self._buckets) > self.limits.max_buckets:
                self._buckets.popitem(last=False)
        if not allowed:
            raise PermissionDenied(
                f"{rpc}: too many calls of this person, try again later",
                "您的请求过于频繁，请稍后再试",
            )
