"""The display-period sweep: restores, for every company with a ledger, what the display
periods release (every 6 h in the projector role, and on an operator's SweepDisplayPeriods).
The ledger decides what is due (CreditLedger.restore_due); the sweep only visits them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from credit.domain.credit_ledger import CreditLedger

if TYPE_CHECKING:
    from credit.application.app import CreditApplication


def restore_due(app: CreditApplication, company_uscc: str) -> int:
    """Restores what is due on one company's ledger now; how many findings."""
    ledger = app.find(CreditLedger.create_id(company_uscc), CreditLedger)
    if ledger is None:
        return 0
    restored = ledger.restore_due(app.rules, app.clock())
    if restored:
        app.record(ledger)
    return len(restored)


def sweep_display_periods(app: CreditApplication) -> int:
    """Restores what is due on every ledger the read model lists; how many findings."""
    return sum(restore_due(app, uscc) for uscc in app.read_model.companies_with_ledgers())
