"""Credit's feed settings (adapters/feeds.py's FEED_SPECS through servicekit's load_feeds):
a key per feed, the variable names deploy/k8s sets, and what production refuses (issue 10,
item 5): one key serving both feeds, the old shared key, http:// receivers, development or
short secrets. None of them echoes a secret."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from credit.adapters.feeds import CREDIT_CHINA, FEED_SPECS, MARKET, RETIRED, SourceUnit
from credit.bootstrap import SCHEMAS, build
from servicekit.feed_settings import load_feeds
from servicekit.push import DEV_KEY_ID, FeedConfig, dev_secret
from servicekit.settings import Environment, ServiceSettings

CREDITCHINA_KEY = "c" * 40
MARKET_KEY = "m" * 40
PRODUCTION = {
    "PUBREV_FEED_CREDITCHINA_URL": "https://creditchina.example.invalid/feeds/creditchina",
    "PUBREV_FEED_CREDITCHINA_KEY_ID": "2026-01",
    "PUBREV_FEED_CREDITCHINA_SECRET": CREDITCHINA_KEY,
    "PUBREV_FEED_MARKET_URL": "https://market.example.invalid/feeds/market",
    "PUBREV_FEED_MARKET_KEY_ID": "2026-02",
    "PUBREV_FEED_MARKET_SECRET": MARKET_KEY,
}
DEPLOY = Path(__file__).resolve().parents[4] / "deploy"


def feeds(env: dict[str, str], environment: Environment) -> dict[str, FeedConfig]:
    return load_feeds(FEED_SPECS, environment, SCHEMAS, env, retired=RETIRED)


def test_each_feed_has_its_own_key_and_the_local_receiver_by_default() -> None:
    configs = feeds({}, Environment.development)
    assert configs[CREDIT_CHINA].key.secret == dev_secret(CREDIT_CHINA).encode()
    assert configs[MARKET].key.secret == dev_secret(MARKET).encode()
    assert configs[CREDIT_CHINA].key.key_id == configs[MARKET].key.key_id == DEV_KEY_ID
    assert configs[CREDIT_CHINA].url == "http://127.0.0.1:18080/feeds/creditchina"
    assert configs[MARKET].url == "http://127.0.0.1:18080/feeds/market"
    assert configs[CREDIT_CHINA].schema["$defs"]  # contracts/feeds/creditchina.schema.json


def test_one_variable_sets_the_attempts_of_both_feeds() -> None:
    configs = feeds({"PUBREV_FEED_MAX_ATTEMPTS": "3"}, Environment.development)
    assert configs[CREDIT_CHINA].max_attempts == configs[MARKET].max_attempts == 3


def test_one_key_for_both_feeds_is_refused() -> None:
    shared = {"PUBREV_FEED_CREDITCHINA_SECRET": "one-key", "PUBREV_FEED_MARKET_SECRET": "one-key"}
    with pytest.raises(ValueError, match="share one secret: each feed has its own key") as caught:
        feeds(shared, Environment.development)
    assert "one-key" not in str(caught.value)


def test_the_old_shared_secret_is_refused_not_ignored() -> None:
    with pytest.raises(ValueError, match="PUBREV_FEED_SECRET is no longer read") as caught:
        feeds({"PUBREV_FEED_SECRET": "the-old-one"}, Environment.development)
    assert "PUBREV_FEED_CREDITCHINA_KEY_ID/_SECRET" in str(caught.value)
    assert "the-old-one" not in str(caught.value)


def test_production_with_https_and_a_key_per_feed_is_accepted() -> None:
    configs = feeds(PRODUCTION, Environment.production)
    assert (configs[CREDIT_CHINA].key.key_id, configs[CREDIT_CHINA].key.secret) == (
        "2026-01",
        CREDITCHINA_KEY.encode(),
    )
    assert (configs[MARKET].key.key_id, configs[MARKET].key.secret) == (
        "2026-02",
        MARKET_KEY.encode(),
    )
    assert configs[MARKET].url == PRODUCTION["PUBREV_FEED_MARKET_URL"]


@pytest.mark.parametrize("feed", ["CREDITCHINA", "MARKET"])
def test_production_refuses_an_http_feed_url(feed: str) -> None:
    url = f"http://{feed.lower()}.example.invalid/feeds"
    with pytest.raises(
        ValueError, match=f"PUBREV_FEED_{feed}_URL must be an https:// URL"
    ) as caught:
        feeds({**PRODUCTION, f"PUBREV_FEED_{feed}_URL": url}, Environment.production)
    assert CREDITCHINA_KEY not in str(caught.value) and MARKET_KEY not in str(caught.value)


def test_production_refuses_the_development_defaults() -> None:
    with pytest.raises(ValueError, match="feed settings refused") as caught:
        feeds({}, Environment.production)
    message = str(caught.value)
    for setting in ("PUBREV_FEED_CREDITCHINA_URL", "PUBREV_FEED_MARKET_URL"):
        assert f"{setting} must be an https:// URL in production, not http://" in message
    for setting in ("PUBREV_FEED_CREDITCHINA_SECRET", "PUBREV_FEED_MARKET_SECRET"):
        assert f"{setting} is a development secret" in message
    assert dev_secret(CREDIT_CHINA) not in message


def test_production_refuses_a_short_secret() -> None:
    with pytest.raises(ValueError, match="PUBREV_FEED_MARKET_SECRET is shorter than 32 bytes"):
        feeds({**PRODUCTION, "PUBREV_FEED_MARKET_SECRET": "changeme"}, Environment.production)


def test_build_refuses_development_feed_settings_in_production() -> None:
    """The service's environment decides, before anything connects."""
    settings = ServiceSettings.model_construct(service="credit", environment=Environment.production)
    with pytest.raises(ValueError, match="in production"):
        build(settings, feeds={})


def test_every_feed_variable_deploy_sets_is_one_credit_reads() -> None:
    """deploy/k8s names the feeds' variables (base/credit, the credit-feeds secret): each is
    still read, so a deployment's setting is never silently ignored."""
    read = {
        f"{spec.prefix}{suffix}" for spec in FEED_SPECS for suffix in ("URL", "KEY_ID", "SECRET")
    }
    read |= {"PUBREV_FEED_MAX_ATTEMPTS"}
    deployed = {
        name
        for path in DEPLOY.rglob("*")
        if path.is_file() and path.suffix in (".yaml", ".md")
        for name in re.findall(r"PUBREV_FEED_[A-Z_]*[A-Z]", path.read_text(encoding="utf-8"))
    }
    assert deployed, "deploy/ names no feed variable: the test reads the wrong place"
    assert deployed <= read, deployed - read


def test_the_source_unit_is_the_bureau_unless_configured() -> None:
    """数据来源单位 on every record: PUBREV_FEED_SOURCE_UNIT_NAME and _USCC."""
    assert SourceUnit.from_env({}).name == "莆田市城市管理局"
    configured = SourceUnit.from_env(
        {
            "PUBREV_FEED_SOURCE_UNIT_NAME": "仙游县住房和城乡建设局",
            "PUBREV_FEED_SOURCE_UNIT_USCC": "91350200776049653A",
        }
    )
    assert (configured.name, configured.uscc) == ("仙游县住房和城乡建设局", "91350200776049653A")
