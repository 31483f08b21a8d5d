"""Casework's 智慧监督 feed settings: its own key with an id, and what production refuses
(issue 10, item 5): an http:// receiver, a development or short secret."""

from __future__ import annotations

import os

import pytest

from casework.bootstrap import WarningFeedSettings, build
from servicekit.push import DEV_KEY_ID, dev_secret
from servicekit.settings import Environment, ServiceSettings

KEY = "z" * 40
PRODUCTION = {
    "PUBREV_ENVIRONMENT": "production",
    "PUBREV_ZHIHUI_URL": "https://zhihui.example.invalid/feeds/zhihui",
    "PUBREV_ZHIHUI_KEY_ID": "2026-01",
    "PUBREV_ZHIHUI_SECRET": KEY,
}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("PUBREV_"):
            monkeypatch.delenv(name)


def from_env(monkeypatch: pytest.MonkeyPatch, **env: str) -> WarningFeedSettings:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return WarningFeedSettings()


def test_the_development_key_is_the_feeds_own() -> None:
    config = WarningFeedSettings().config({"type": "object"})
    assert (config.key.key_id, config.key.secret) == (DEV_KEY_ID, dev_secret("zhihui").encode())


def test_production_with_https_and_its_key_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    config = from_env(monkeypatch, **PRODUCTION).config({"type": "object"})
    assert (config.key.key_id, config.key.secret) == ("2026-01", KEY.encode())


def test_production_refuses_an_http_feed_url(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="PUBREV_ZHIHUI_URL must be an https:// URL") as caught:
        from_env(
            monkeypatch,
            **{**PRODUCTION, "PUBREV_ZHIHUI_URL": "http://zhihui.example.invalid/feeds"},
        )
    assert KEY not in str(caught.value)  # pydantic would show every input, the secret too


def test_production_refuses_the_development_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="refused in production") as caught:
        from_env(monkeypatch, PUBREV_ENVIRONMENT="production")
    message = str(caught.value)
    assert "PUBREV_ZHIHUI_URL must be an https:// URL in production, not http://" in message
    assert "PUBREV_ZHIHUI_SECRET is a development secret" in message
    assert dev_secret("zhihui") not in message


def test_production_refuses_a_short_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="PUBREV_ZHIHUI_SECRET is shorter than 32 bytes"):
        from_env(monkeypatch, **{**PRODUCTION, "PUBREV_ZHIHUI_SECRET": "changeme"})


def test_build_refuses_an_http_feed_in_production_before_connecting() -> None:
    settings = ServiceSettings.model_construct(
        service="casework", environment=Environment.production
    )
    feed = WarningFeedSettings(url="http://zhihui.example.invalid/feeds", secret=KEY)
    with pytest.raises(ValueError, match="PUBREV_ZHIHUI_URL must be an https:// URL"):
        build(settings, feed=feed)
