"""Test helpers of the credit service (imported as services.credit.tests.support.<module>)."""
