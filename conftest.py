"""Registers the real-stack fixtures (servicekit.testing) for every test folder."""

pytest_plugins = ["servicekit.testing"]
