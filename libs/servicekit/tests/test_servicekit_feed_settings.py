"""servicekit.feed_settings: one loader of every service's outbound feeds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from servicekit.feed_settings import FeedSpec, load_feeds
from servicekit.push import DEV_KEY_ID, dev_secret
from servicekit.settings import Environment

SPECS = [
    FeedSpec(
        "alpha",
        "PUBREV_FEED_ALPHA_",
        "http://127.0.0.1:18080/feeds/alpha",
        "PUBREV_FEED_MAX_ATTEMPTS",
    ),
    FeedSpec(
        "beta", "PUBREV_FEED_BETA_", "http://127.0.0.1:18080/feeds/beta", "PUBREV_FEED_MAX_ATTEMPTS"
    ),
]
PRODUCTION = {
    "PUBREV_FEED_ALPHA_URL": "https://alpha.example.invalid/in",
    "PUBREV_FEED_ALPHA_KEY_ID": "2026-01",
    "PUBREV_FEED_ALPHA_SECRET": "a" * 40,
    "PUBREV_FEED_BETA_URL": "https://beta.example.invalid/in",
    "PUBREV_FEED_BETA_KEY_ID": "2026-02",
    "PUBREV_FEED_BETA_SECRET": "b" * 40,
}


@pytest.fixture
def schemas(tmp_path: Path) -> Path:
    for name in ("alpha", "beta"):
        (tmp_path / f"{name}.schema.json").write_text(json.dumps({"title": name}))
    return tmp_path


def test_defaults_serve_the_local_receiver_each_feed_with_its_own_development_key(
    schemas: Path,
) -> None:
    configs = load_feeds(SPECS, Environment.development, schemas, env={})
    assert configs["alpha"].url == "http://127.0.0.1:18080/feeds/alpha"
    assert configs["alpha"].key.secret == dev_secret("alpha").encode()
    assert configs["beta"].key.secret == dev_secret("beta").encode()
    assert configs["alpha"].key.key_id == DEV_KEY_ID
    assert configs["beta"].schema == {"title": "beta"}
    assert configs["alpha"].max_attempts == 8


def test_production_settings_are_read_from_the_variables(schemas: Path) -> None:
    env = {**PRODUCTION, "PUBREV_FEED_MAX_ATTEMPTS": "12"}
    configs = load_feeds(SPECS, Environment.production, schemas, env=env)
    assert configs["beta"].url == "https://beta.example.invalid/in"
    assert configs["beta"].key.key_id == "2026-02"
    assert configs["alpha"].max_attempts == configs["beta"].max_attempts == 12


def test_production_refuses_http_and_development_secrets_naming_each_variable(
    schemas: Path,
) -> None:
    with pytest.raises(ValueError, match="feed settings refused") as refused:
        load_feeds(SPECS, Environment.production, schemas, env={})
    message = str(refused.value)
    for variable in (
        "PUBREV_FEED_ALPHA_URL",
        "PUBREV_FEED_ALPHA_SECRET",
        "PUBREV_FEED_BETA_URL",
        "PUBREV_FEED_BETA_SECRET",
    ):
        assert variable in message
    assert dev_secret("alpha") not in message


def test_one_secret_for_two_feeds_is_refused_without_echoing_it(schemas: Path) -> None:
    env = {"PUBREV_FEED_ALPHA_SECRET": "s" * 40, "PUBREV_FEED_BETA_SECRET": "s" * 40}
    with pytest.raises(ValueError, match="share one secret") as refused:
        load_feeds(SPECS, Environment.development, schemas, env=env)
    assert "s" * 40 not in str(refused.value)


@pytest.mark.parametrize("attempts", ["0", "101", "eight", "-1"])
def test_attempts_out_of_bounds_are_refused(schemas: Path, attempts: str) -> None:
    with pytest.raises(ValueError, match="PUBREV_FEED_MAX_ATTEMPTS must be a whole number"):
        load_feeds(
            SPECS, Environment.development, schemas, env={"PUBREV_FEED_MAX_ATTEMPTS": attempts}
        )


def test_a_retired_variable_is_refused_with_what_replaces_it(schemas: Path) -> None:
    with pytest.raises(ValueError, match="PUBREV_FEED_SECRET is no longer read: one key per feed"):
        load_feeds(
            SPECS,
            Environment.development,
            schemas,
            env={"PUBREV_FEED_SECRET": "x"},
            retired={"PUBREV_FEED_SECRET": "one key per feed"},
        )


def test_a_bad_key_id_names_its_variable(schemas: Path) -> None:
    with pytest.raises(ValueError, match="PUBREV_FEED_ALPHA_KEY_ID"):
        load_feeds(
            SPECS,
            Environment.development,
            schemas,
            env={"PUBREV_FEED_ALPHA_KEY_ID": "no spaces allowed"},
        )
