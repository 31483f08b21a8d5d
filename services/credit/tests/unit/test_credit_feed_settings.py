"""Credit's feed settings: a key per feed, and what production refuses (issue 10, item 5):
one key serving both feeds, http:// receivers, development or short secrets."""

from __future__ import annotations

import os

import pytest

from credit.adapters.feeds import CREDIT_CHINA, MARKET
from credit.bootstrap import FeedSettings, build, feed_configs
from servicekit.push import DEV_KEY_ID, PushOutbox, dev_secret
from servicekit.settings import Environment, ServiceSettings

CREDITCHINA_KEY = "c" * 40
MARKET_KEY = "m" * 40
PRODUCTION = {
    "PUBREV_ENVIRONMENT": "production",
    "PUBREV_FEED_CREDITCHINA_URL": "https://creditchina.example.invalid/feeds/creditchina",
    "PUBREV_FEED_CREDITCHINA_KEY_ID": "2026-01",
    "PUBREV_FEED_CREDITCHINA_SECRET": CREDITCHINA_KEY,
    "PUBREV_FEED_MARKET_URL": "https://market.example.invalid/feeds/market",
    "PUBREV_FEED_MARKET_KEY_ID": "2026-02",
    "PUBREV_FEED_MARKET_SECRET": MARKET_KEY,
}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("PUBREV_"):
            monkeypatch.delenv(name)


def from_env(monkeypatch: pytest.MonkeyPatch, **env: str) -> FeedSettings:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return FeedSettings()


def test_each_feed_has_its_own_key() -> None:
    configs = feed_configs(FeedSettings())
    assert configs[CREDIT_CHINA].key.secret == dev_secret(CREDIT_CHINA).encode()
    assert configs[MARKET].key.secret == dev_secret(MARKET).encode()
    assert configs[CREDIT_CHINA].key.key_id == configs[MARKET].key.key_id == DEV_KEY_ID


def test_one_key_for_both_feeds_is_refused() -> None:
    shared = FeedSettings(creditchina_secret="one-key", market_secret="one-key")
    with pytest.raises(ValueError, match="share one secret: each feed has its own key"):
        PushOutbox(feed_configs(shared))


def test_the_old_shared_secret_is_refused_not_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="PUBREV_FEED_SECRET signed both feeds") as caught:
        from_env(monkeypatch, PUBREV_FEED_SECRET="the-old-one")
    assert "the-old-one" not in str(caught.value)


def test_production_with_https_and_a_key_per_feed_is_accepted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = from_env(monkeypatch, **PRODUCTION)
    assert settings.environment is Environment.production
    configs = feed_configs(settings)
    assert (configs[CREDIT_CHINA].key.key_id, configs[CREDIT_CHINA].key.secret) == (
        "2026-01",
        CREDITCHINA_KEY.encode(),
    )
    assert (configs[MARKET].key.key_id, configs[MARKET].key.secret) == (
        "2026-02",
        MARKET_KEY.encode(),
    )
    assert CREDITCHINA_KEY not in repr(settings)


@pytest.mark.parametrize("feed", ["CREDITCHINA", "MARKET"])
def test_production_refuses_an_http_feed_url(monkeypatch: pytest.MonkeyPatch, feed: str) -> None:
    url = f"http://{feed.lower()}.example.invalid/feeds"
    with pytest.raises(
        ValueError, match=f"PUBREV_FEED_{feed}_URL must be an https:// URL"
    ) as caught:
        from_env(monkeypatch, **{**PRODUCTION, f"PUBREV_FEED_{feed}_URL": url})
    # Nor the secrets beside it (pydantic would show every input).
    assert CREDITCHINA_KEY not in str(caught.value) and MARKET_KEY not in str(caught.value)


def test_production_refuses_the_development_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="refused in production") as caught:
        from_env(monkeypatch, PUBREV_ENVIRONMENT="production")
    message = str(caught.value)
    for setting in ("PUBREV_FEED_CREDITCHINA_URL", "PUBREV_FEED_MARKET_URL"):
        assert f"{setting} must be an https:// URL in production, not http://" in message
    for setting in ("PUBREV_FEED_CREDITCHINA_SECRET", "PUBREV_FEED_MARKET_SECRET"):
        assert f"{setting} is a development secret" in message
    assert dev_secret(CREDIT_CHINA) not in message


def test_production_refuses_a_short_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="PUBREV_FEED_MARKET_SECRET is shorter than 32 bytes"):
        from_env(monkeypatch, **{**PRODUCTION, "PUBREV_FEED_MARKET_SECRET": "changeme"})


def test_build_refuses_development_feed_settings_in_production() -> None:
    """Feed settings made without the service's environment are checked against it too,
    before anything connects."""
    settings = ServiceSettings.model_construct(service="credit", environment=Environment.production)
    with pytest.raises(ValueError, match="refused in production"):
        build(settings, feeds=FeedSettings(environment=Environment.development))
