"""Casework's 智慧监督 feed settings (adapters/feeds.py, read by servicekit's load_feeds): its
own key with an id, the variables it always had, and what production refuses (issue 10,
item 5): an http:// receiver, a development or short secret."""

from __future__ import annotations

import pytest

from casework.adapters.feeds import ZHIHUI, ZHIHUI_FEED
from casework.bootstrap import SCHEMAS, build
from servicekit.feed_settings import load_feeds
from servicekit.push import DEV_KEY_ID, FeedConfig, dev_secret
from servicekit.settings import Environment, ServiceSettings

KEY = "z" * 40
PRODUCTION = {
    "PUBREV_ZHIHUI_URL": "https://zhihui.example.invalid/feeds/zhihui",
    "PUBREV_ZHIHUI_KEY_ID": "2026-01",
    "PUBREV_ZHIHUI_SECRET": KEY,
}


def zhihui(env: dict[str, str], environment: Environment = Environment.production) -> FeedConfig:
    return load_feeds([ZHIHUI_FEED], environment, SCHEMAS, env=env)[ZHIHUI]


def test_the_development_key_and_receiver_are_the_feeds_own() -> None:
    config = zhihui({}, Environment.development)
    assert (config.key.key_id, config.key.secret) == (DEV_KEY_ID, dev_secret("zhihui").encode())
    assert config.url == "http://127.0.0.1:18080/feeds/zhihui"
    assert config.max_attempts == 8
    assert config.schema["$id"].endswith("zhihui.schema.json")  # contracts/feeds


def test_production_with_https_and_its_key_is_accepted() -> None:
    config = zhihui({**PRODUCTION, "PUBREV_ZHIHUI_MAX_ATTEMPTS": "12"})
    assert (config.key.key_id, config.key.secret) == ("2026-01", KEY.encode())
    assert (config.url, config.max_attempts) == (PRODUCTION["PUBREV_ZHIHUI_URL"], 12)


def test_production_refuses_an_http_feed_url() -> None:
    with pytest.raises(ValueError, match="PUBREV_ZHIHUI_URL must be an https:// URL") as caught:
        zhihui({**PRODUCTION, "PUBREV_ZHIHUI_URL": "http://zhihui.example.invalid/feeds"})
    assert KEY not in str(caught.value)


def test_production_refuses_the_development_defaults() -> None:
    with pytest.raises(ValueError, match="refused") as caught:
        zhihui({})
    message = str(caught.value)
    assert "PUBREV_ZHIHUI_URL must be an https:// URL in production, not http://" in message
    assert "PUBREV_ZHIHUI_SECRET is a development secret" in message
    assert dev_secret("zhihui") not in message


def test_production_refuses_a_short_secret() -> None:
    with pytest.raises(ValueError, match="PUBREV_ZHIHUI_SECRET is shorter than 32 bytes"):
        zhihui({**PRODUCTION, "PUBREV_ZHIHUI_SECRET": "changeme"})


def test_build_refuses_an_http_feed_in_production_before_connecting() -> None:
    settings = ServiceSettings.model_construct(
        service="casework", environment=Environment.production
    )
    feed = {"PUBREV_ZHIHUI_URL": "http://zhihui.example.invalid/feeds", "PUBREV_ZHIHUI_SECRET": KEY}
    with pytest.raises(ValueError, match="PUBREV_ZHIHUI_URL must be an https:// URL"):
        build(settings, feed=feed)
