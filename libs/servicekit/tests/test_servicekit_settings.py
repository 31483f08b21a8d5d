"""servicekit.settings: environment-driven settings and the production safety rules."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from servicekit.settings import DEFAULT_GRPC_PORTS, Environment, ServiceSettings, with_database


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings come from the environment only: start every test from none of ours."""
    for name in list(os.environ):
        if name.startswith("PUBREV_") or name in ("DATABASE_URL", "KAFKA_BOOTSTRAP"):
            monkeypatch.delenv(name)


@pytest.fixture
def tls_files(tmp_path: Path) -> dict[str, str]:
    files = {}
    for name in ("cert", "key", "client_ca"):
        path = tmp_path / f"{name}.pem"
        path.write_text("fake pem\n")
        files[f"PUBREV_TLS_{name.upper()}"] = str(path)
    return files


def settings_from(monkeypatch: pytest.MonkeyPatch, **env: str) -> ServiceSettings:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return ServiceSettings()


def test_production_with_dev_identity_header_is_refused(
    monkeypatch: pytest.MonkeyPatch, tls_files: dict[str, str]
) -> None:
    with pytest.raises(ValidationError) as caught:
        settings_from(
            monkeypatch,
            PUBREV_SERVICE="disclosure",
            PUBREV_ENVIRONMENT="production",
            PUBREV_DEV_IDENTITY_HEADER="true",
            **tls_files,
        )
    assert "PUBREV_DEV_IDENTITY_HEADER" in str(caught.value)


def test_production_without_tls_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError) as caught:
        settings_from(monkeypatch, PUBREV_SERVICE="disclosure", PUBREV_ENVIRONMENT="production")
    assert "production needs mTLS" in str(caught.value)


def test_production_with_full_mtls_is_accepted(
    monkeypatch: pytest.MonkeyPatch, tls_files: dict[str, str]
) -> None:
    settings = settings_from(
        monkeypatch,
        PUBREV_SERVICE="disclosure",
        PUBREV_ENVIRONMENT="production",
        **tls_files,
        # production also refuses a bus without SASL_SSL
        PUBREV_KAFKA_SECURITY_PROTOCOL="SASL_SSL",
        PUBREV_KAFKA_SASL_USERNAME="disclosure",
        PUBREV_KAFKA_SASL_PASSWORD="secret",
    )
    assert settings.environment is Environment.production
    assert settings.mtls
    assert settings.dev_identity_header is False


@pytest.mark.parametrize("left_out", ["PUBREV_TLS_CERT", "PUBREV_TLS_KEY", "PUBREV_TLS_CLIENT_CA"])
def test_partial_tls_is_refused_in_any_environment(
    monkeypatch: pytest.MonkeyPatch, tls_files: dict[str, str], left_out: str
) -> None:
    partial = {k: v for k, v in tls_files.items() if k != left_out}
    with pytest.raises(ValidationError) as caught:
        settings_from(monkeypatch, PUBREV_SERVICE="disclosure", **partial)
    assert "go together" in str(caught.value)


def test_development_may_use_the_dev_header_without_tls(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_from(
        monkeypatch, PUBREV_SERVICE="inspection", PUBREV_DEV_IDENTITY_HEADER="true"
    )
    assert settings.environment is Environment.development
    assert settings.dev_identity_header
    assert not settings.mtls


@pytest.mark.parametrize(
    ("service", "port"),
    [
        ("disclosure", 50051),
        ("inspection", 50052),
        ("credit", 50053),
        ("casework", 50054),
        ("someother", 50050),
    ],
)
def test_default_grpc_ports(monkeypatch: pytest.MonkeyPatch, service: str, port: int) -> None:
    settings = settings_from(monkeypatch, PUBREV_SERVICE=service)
    assert settings.grpc_port == port
    assert settings.grpc_address == f"127.0.0.1:{port}"
    assert DEFAULT_GRPC_PORTS.get(service, 50050) == port


def test_explicit_port_zero_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    assert (
        settings_from(monkeypatch, PUBREV_SERVICE="disclosure", PUBREV_GRPC_PORT="0").grpc_port == 0
    )


def test_service_database_url_names_pubrev_service(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_from(
        monkeypatch,
        PUBREV_SERVICE="inspection",
        DATABASE_URL="postgresql://app:pw@db.example:5432/postgres?sslmode=require",
    )
    assert settings.service_database_url == (
        "postgresql://app:pw@db.example:5432/pubrev_inspection?sslmode=require"
    )


def test_default_database_url_names_pubrev_service(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_from(monkeypatch, PUBREV_SERVICE="disclosure")
    assert settings.service_database_url.endswith("/pubrev_disclosure")


def test_service_database_may_be_given_as_is(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "postgresql://app@db.example/my_own_db"
    settings = settings_from(
        monkeypatch, PUBREV_SERVICE="credit", DATABASE_URL=url, PUBREV_DATABASE_IS_SERVICE_DB="true"
    )
    assert settings.service_database_url == url


def test_kafka_bootstrap_keeps_its_common_name(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_from(
        monkeypatch, PUBREV_SERVICE="credit", KAFKA_BOOTSTRAP="broker-1:9092,broker-2:9092"
    )
    assert settings.kafka_bootstrap == "broker-1:9092,broker-2:9092"


def test_with_database_replaces_only_the_path() -> None:
    assert with_database("postgresql://u@h:1/a", "b") == "postgresql://u@h:1/b"


# -- identity: mTLS, the development header, front ends' keys -------------------------------


@pytest.mark.parametrize("environment", ["development", "test"])
def test_mtls_with_the_dev_identity_header_is_refused_in_any_environment(
    monkeypatch: pytest.MonkeyPatch, tls_files: dict[str, str], environment: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        settings_from(
            monkeypatch,
            PUBREV_SERVICE="disclosure",
            PUBREV_ENVIRONMENT=environment,
            PUBREV_DEV_IDENTITY_HEADER="true",
            **tls_files,
        )
    assert "PUBREV_DEV_IDENTITY_HEADER=true is refused with mTLS" in str(caught.value)


def test_mtls_without_the_dev_header_is_accepted_outside_production(
    monkeypatch: pytest.MonkeyPatch, tls_files: dict[str, str]
) -> None:
    settings = settings_from(monkeypatch, PUBREV_SERVICE="disclosure", **tls_files)
    assert settings.mtls and not settings.dev_identity_header


def test_frontend_keys_are_json_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert settings_from(monkeypatch, PUBREV_SERVICE="casework").frontend_keys == {}
    (tmp_path / "app.pem").write_text("pem\n")
    (tmp_path / "console.pem").write_text("pem\n")
    settings = settings_from(
        monkeypatch,
        PUBREV_SERVICE="casework",
        PUBREV_FRONTEND_KEYS=f'{{"putian-app": "{tmp_path}/app.pem", '
        f'"console": "{tmp_path}/console.pem"}}',
    )
    assert settings.frontend_keys == {
        "putian-app": tmp_path / "app.pem",
        "console": tmp_path / "console.pem",
    }


def test_a_missing_frontend_key_file_is_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with pytest.raises(ValidationError) as caught:
        settings_from(
            monkeypatch,
            PUBREV_SERVICE="casework",
            PUBREV_FRONTEND_KEYS=f'{{"putian-app": "{tmp_path}/missing.pem"}}',
        )
    assert "PUBREV_FRONTEND_KEYS: no key file for front end putian-app" in str(caught.value)


@pytest.mark.parametrize("name", ["Putian-App", "-app", "putian app", "a" * 65, ""])
def test_a_frontend_key_for_a_name_no_certificate_can_carry_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str
) -> None:
    (tmp_path / "app.pem").write_text("pem\n")
    with pytest.raises(ValidationError) as caught:
        settings_from(
            monkeypatch,
            PUBREV_SERVICE="casework",
            PUBREV_FRONTEND_KEYS=f'{{"{name}": "{tmp_path}/app.pem"}}',
        )
    assert "is not a front end's name" in str(caught.value)
    assert "a" * 33 not in str(caught.value)
