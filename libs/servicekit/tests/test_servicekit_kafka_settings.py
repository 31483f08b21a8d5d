"""servicekit.settings, the bus: TLS and SASL/SCRAM client settings, refused when they
contradict each other, and production refuses any bus but SASL_SSL."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from servicekit.settings import KafkaSecurityProtocol, ServiceSettings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("PUBREV_") or name in ("DATABASE_URL", "KAFKA_BOOTSTRAP"):
            monkeypatch.delenv(name)


@pytest.fixture
def production(tmp_path: Path) -> dict[str, str]:
    """A production environment that lacks only the bus settings."""
    env = {"PUBREV_SERVICE": "credit", "PUBREV_ENVIRONMENT": "production"}
    for name in ("cert", "key", "client_ca"):
        path = tmp_path / f"{name}.pem"
        path.write_text("fake pem\n")
        env[f"PUBREV_TLS_{name.upper()}"] = str(path)
    return env


def settings_from(monkeypatch: pytest.MonkeyPatch, **env: str) -> ServiceSettings:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return ServiceSettings()


@pytest.mark.parametrize("protocol", ["PLAINTEXT", "SSL", "SASL_PLAINTEXT"])
def test_production_refuses_a_bus_without_sasl_over_tls(
    monkeypatch: pytest.MonkeyPatch, production: dict[str, str], protocol: str, tmp_path: Path
) -> None:
    sasl = (
        {"PUBREV_KAFKA_SASL_USERNAME": "credit", "PUBREV_KAFKA_SASL_PASSWORD": "pw"}
        if protocol.startswith("SASL")
        else {}
    )
    with pytest.raises(ValidationError) as caught:
        settings_from(monkeypatch, **production, PUBREV_KAFKA_SECURITY_PROTOCOL=protocol, **sasl)
    assert f"PUBREV_KAFKA_SECURITY_PROTOCOL={protocol} is refused" in str(caught.value)


def test_production_with_sasl_ssl_and_a_password_file_is_accepted(
    monkeypatch: pytest.MonkeyPatch, production: dict[str, str], tmp_path: Path
) -> None:
    password = tmp_path / "password"
    password.write_text("s3cret\n")
    ca = tmp_path / "kafka-ca.crt"
    ca.write_text("fake pem\n")
    settings = settings_from(
        monkeypatch,
        **production,
        PUBREV_KAFKA_SECURITY_PROTOCOL="SASL_SSL",
        PUBREV_KAFKA_SASL_USERNAME="credit",
        PUBREV_KAFKA_SASL_PASSWORD_FILE=str(password),
        PUBREV_KAFKA_CA_FILE=str(ca),
    )
    assert settings.kafka_security_protocol is KafkaSecurityProtocol.SASL_SSL
    assert settings.kafka_sasl_username == "credit"
    assert settings.kafka_sasl_password_file == password
    assert "s3cret" not in repr(settings)


def test_the_default_is_the_local_open_listener(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_from(monkeypatch, PUBREV_SERVICE="credit")
    assert settings.kafka_security_protocol is KafkaSecurityProtocol.PLAINTEXT
    assert settings.kafka_sasl_username is None


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {
                "PUBREV_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
                "PUBREV_KAFKA_SASL_PASSWORD": "pw",
            },
            "needs PUBREV_KAFKA_SASL_USERNAME",
        ),
        (
            {"PUBREV_KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "PUBREV_KAFKA_SASL_USERNAME": "credit"},
            "needs PUBREV_KAFKA_SASL_PASSWORD_FILE",
        ),
        (
            {
                "PUBREV_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
                "PUBREV_KAFKA_SASL_USERNAME": "credit",
                "PUBREV_KAFKA_SASL_PASSWORD": "pw",
                "PUBREV_KAFKA_SASL_PASSWORD_FILE": "/etc/hostname",
            },
            "are exclusive",
        ),
        (
            {
                "PUBREV_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
                "PUBREV_KAFKA_SASL_USERNAME": "credit",
                "PUBREV_KAFKA_SASL_PASSWORD_FILE": "/nonexistent/password",
            },
            "PUBREV_KAFKA_SASL_PASSWORD_FILE: no file at /nonexistent/password",
        ),
        (
            {"PUBREV_KAFKA_SASL_USERNAME": "credit", "PUBREV_KAFKA_SASL_PASSWORD": "pw"},
            "they would be ignored",
        ),
        ({"PUBREV_KAFKA_CA_FILE": "/etc/hostname"}, "which uses no TLS"),
        (
            {
                "PUBREV_KAFKA_SECURITY_PROTOCOL": "SSL",
                "PUBREV_KAFKA_CA_FILE": "/nonexistent/ca.crt",
            },
            "PUBREV_KAFKA_CA_FILE: no file at",
        ),
        (
            {
                "PUBREV_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
                "PUBREV_KAFKA_SASL_USERNAME": "credit",
                "PUBREV_KAFKA_SASL_PASSWORD": "pw",
                "PUBREV_KAFKA_SASL_MECHANISM": "PLAIN",
            },
            "kafka_sasl_mechanism",
        ),
    ],
)
def test_contradictory_bus_settings_are_refused_in_any_environment(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        settings_from(monkeypatch, PUBREV_SERVICE="credit", **env)
    assert message in str(caught.value)
    assert "pw" not in str(caught.value).replace("password", "").replace("PASSWORD", "")
