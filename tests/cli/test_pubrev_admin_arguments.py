"""`pubrev-admin` refuses bad arguments before calling anything (exit 2, the argument and the
rule named, never more than a short prefix of what was typed), and says plainly when a
service does not answer (exit 3). No service runs here: the calls that do go out go to a
closed port on this machine."""

from __future__ import annotations

import getpass
import io
import json
import socket
from typing import Any

import protovalidate
import pytest

from pubrev.common.v1 import admin_pb2 as pb
from pubrev_admin.cli import main, since_instant
from pubrev_admin.client import (
    DEFAULT_PORTS,
    IDENTITY_HEADER,
    ArgumentProblem,
    make_credentials,
    resolve_targets,
)
from tools.run_platform import SERVICES

ORACLE = protovalidate.Validator()  # type: ignore[no-untyped-call]
ENV = {"PUBREV_OPERATOR": "lin.wei"}


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), stdout=out, stderr=err, env=ENV if env is None else env)
    return code, out.getvalue(), err.getvalue()


def refused(*args: str, env: dict[str, str] | None = None) -> str:
    code, out, err = run(*args, env=env)
    assert (code, out) == (2, ""), err
    return err


def test_the_help_names_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    shown = capsys.readouterr().out
    for command in ("parked", "redrive", "skip", "lag", "projection", "feeds"):
        assert f"\n  {command} " in shown
    assert main(["feeds", "repush", "--help"]) == 0
    assert "--since DATE" in capsys.readouterr().out


def test_the_default_addresses_are_those_of_make_run() -> None:
    assert DEFAULT_PORTS == SERVICES
    assert resolve_targets(["credit"], [], {}) == {"credit": "127.0.0.1:50053"}


@pytest.mark.parametrize("entry", ["x", "0", "#", "1e3", "12a", str(10**16)])
def test_a_parked_entry_is_a_positive_number(entry: str) -> None:
    err = refused("redrive", entry, "--service", "credit")
    assert "Invalid value for 'ID'" in err and "is not a parked entry's number" in err


def test_an_entry_as_parked_lists_it_is_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = run(
        "redrive", "#12", "--service", "credit", "--target", f"127.0.0.1:{closed_port()}"
    )
    assert code == 3 and "did not answer ListParked" in err  # parsed, then called


def test_skip_needs_a_reason_in_words() -> None:
    assert "Missing option '--reason'" in refused("skip", "3", "--service", "credit")
    assert "give the reason in words" in refused(
        "skip", "3", "--service", "credit", "--reason", "   "
    )
    assert "no control characters" in refused(
        "skip", "3", "--service", "credit", "--reason", "已更正\t见附件"
    )
    err = refused("skip", "3", "--service", "credit", "--reason", "理" * 501)
    assert "at most 500 characters (this one has 501)" in err
    assert "理理" not in err  # the reason is not echoed


@pytest.mark.parametrize(
    "reason",
    [
        "ok",
        "经办人已手工录入",
        "x" * 500,
        "x" * 501,
        "a\tb",
        "a\nb",
        "a\x7fb",
        "a\x85b",
        "zero\u200bwidth",
        "emoji 🚫",
        "semi;colon=fine",
    ],
)
def test_the_reason_check_agrees_with_the_contract(reason: str) -> None:
    """The local check is the bound admin.proto declares on SkipParkedRequest.reason: what
    protovalidate refuses is refused here, and what it takes is called (here: a closed
    port, exit 3)."""
    contract_ok = not ORACLE.collect_violations(pb.SkipParkedRequest(id=1, reason=reason))
    code, _, _ = run(
        "skip",
        "1",
        "--service",
        "credit",
        "--reason",
        reason,
        "--target",
        f"127.0.0.1:{closed_port()}",
    )
    assert code == (3 if contract_ok else 2)


def test_a_service_is_known_or_given_an_address() -> None:
    err = refused("parked", "--service", "nosuch")
    assert "unknown service 'nosuch'" in err and "PUBREV_ADMIN_NOSUCH_TARGET" in err
    err = refused("lag", "--service", "N" * 5000)
    assert "is not a service name" in err and len(err) < 400
    # A service make run does not know, at an address given: called.
    code, _, err = run("lag", "--service", "tally", "--target", f"127.0.0.1:{closed_port()}")
    assert code == 3 and "tally" in err


def test_targets() -> None:
    assert "exactly one --service" in refused("lag", "--target", "127.0.0.1:1")
    assert "not among the services" in refused(
        "lag", "--service", "credit", "--target", "casework=127.0.0.1:1"
    )
    for bad in ("localhost", "host:99999", "host:", "a b:1", "x" * 3000 + ":1"):
        err = refused("lag", "--service", "credit", "--target", bad)
        assert "is not HOST:PORT" in err and len(err) < 400
    env = {**ENV, "PUBREV_ADMIN_CREDIT_TARGET": "credit-api.pubrev:50051"}
    assert resolve_targets(["credit", "casework"], ["casework=10.0.0.9:50051"], env) == {
        "credit": "credit-api.pubrev:50051",
        "casework": "10.0.0.9:50051",
    }
    with pytest.raises(ArgumentProblem, match="is not HOST:PORT"):
        resolve_targets(["credit"], [], {"PUBREV_ADMIN_CREDIT_TARGET": "nowhere"})


def test_feeds_are_pushed_by_credit_and_casework_only() -> None:
    err = refused("feeds", "repush", "--service", "disclosure", "--feed", "creditchina")
    assert "Invalid value for '--service'" in err and "'credit', 'casework'" in err
    assert "Missing option '--feed'" in refused("feeds", "repush", "--service", "credit")
    assert "Invalid value for '--status'" in refused(
        "feeds", "repush", "--service", "credit", "--feed", "market", "--status", "pending"
    )


def test_since_is_a_putian_date_or_a_time_with_its_offset() -> None:
    assert since_instant("2026-05-01") == "2026-05-01T00:00:00+08:00"
    assert since_instant("2026-05-01T08:30:00Z") == "2026-05-01T08:30:00+00:00"
    assert since_instant("") == ""
    for bad, why in (
        ("yesterday", "is neither a date"),
        ("2026-13-01", "is neither a date"),
        ("2026-05-01T08:30:00", "has no offset"),
    ):
        err = refused("feeds", "repush", "--service", "credit", "--feed", "market", "--since", bad)
        assert "Invalid value for '--since'" in err and why in err


def test_the_operator_is_named_in_ascii_without_separators(monkeypatch: pytest.MonkeyPatch) -> None:
    assert make_credentials(None, None, None, None, None, {"USER": "chen.min"}).metadata() == (
        (IDENTITY_HEADER, "agency=operator;role=operator;unit=putian;subject=chen.min"),
    )
    assert (
        make_credentials("lin.wei", None, None, None, None, {"USER": "root"}).operator == "lin.wei"
    )
    assert "is not a person's name" in refused("lag", "--operator", "lin;role=head")
    assert "is not a person's name" in refused("lag", "--operator", " lin")
    assert "carries ASCII only" in refused("lag", "--operator", "林伟")
    monkeypatch.setattr(getpass, "getuser", _no_user)  # the module pubrev_admin asks
    assert "who is the operator?" in refused("lag", env={})


def _no_user() -> str:
    raise OSError("no login name")


def test_mtls_needs_a_certificate_and_its_key(tmp_path: Any) -> None:
    cert = tmp_path / "operator.crt"
    cert.write_text("not checked before the handshake")
    assert "needs both the client certificate and its key" in refused("lag", "--cert", str(cert))
    assert "--ca and --server-name are for mTLS" in refused("lag", "--ca", str(cert))
    assert "no file" in refused("lag", "--cert", str(cert), "--key", str(tmp_path / "none"))
    tls = make_credentials(None, cert, cert, None, "localhost", {})
    assert tls.mtls and tls.metadata() == ()  # the services refuse the header with mTLS


def test_services_that_do_not_answer_exit_3_each_named() -> None:
    port = closed_port()
    env = {
        **ENV,
        **{f"PUBREV_ADMIN_{s.upper()}_TARGET": f"127.0.0.1:{port}" for s in DEFAULT_PORTS},
    }
    code, out, err = run("parked", env=env)
    assert (code, out) == (3, "")
    for service in DEFAULT_PORTS:
        assert (
            f"pubrev-admin: {service} (127.0.0.1:{port}) did not answer ListParked: "
            "UNAVAILABLE" in err
        )
    code, out, _ = run("lag", "--json", env=env)
    document = json.loads(out)
    assert code == 3 and document["ok"] is False
    assert {s: a["error"]["code"] for s, a in document["services"].items()} == {
        s: "UNAVAILABLE" for s in DEFAULT_PORTS
    }
