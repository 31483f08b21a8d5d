"""Event contracts, one module per producing service. Importing the package registers them
all in `base.REGISTRY`."""

from pubrev_contracts.events import casework, credit, disclosure, inspection  # noqa: F401
