"""The disclosure application: the service's eventsourcing application, which dispatches
each command to its handler by type (`handle`, the map in handlers.py)."""

from __future__ import annotations

from disclosure.application.access import HISTORY_READS, POLICY
from disclosure.application.handlers import HANDLERS
from disclosure.application.ports import DisclosureReadModel, ReadModelOf
from disclosure.domain.rules import DEFAULT_RULES, DisclosureRules
from pubrev_contracts.vocabulary.campaign import CAMPAIGN, CampaignCalendar
from servicekit.clock import Clock, utc_now
from servicekit.eventstore import ServiceApplication


class DisclosureApplication(ServiceApplication):
    """Communities, companies, quarterly disclosures and their audits, and the companies'
    self-inspection ledgers (application/handlers.py), read through application/queries.py;
    every call asks the declared policy (application/access.py). `campaign` is the campaign
    calendar the ledgers' lateness is judged by (vocabulary.campaign)."""

    name = "disclosure"
    policy = POLICY
    history_reads = HISTORY_READS
    handlers = HANDLERS

    def __init__(
        self,
        env: dict[str, str] | None = None,
        clock: Clock = utc_now,
        rules: DisclosureRules = DEFAULT_RULES,
        read_model: ReadModelOf | None = None,
        campaign: CampaignCalendar = CAMPAIGN,
    ) -> None:
        super().__init__(env=env)
        self.clock = clock
        self.rules = rules
        self.campaign = campaign
        self._read_model = read_model(self) if read_model is not None else None

    @property
    def read_model(self) -> DisclosureReadModel:
        """Lists, rates and the quarter close read it; the commands do not need it."""
        if self._read_model is None:
            raise RuntimeError("no read model given to DisclosureApplication (see bootstrap)")
        return self._read_model
