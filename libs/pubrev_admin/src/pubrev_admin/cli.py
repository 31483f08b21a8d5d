"""The commands of `pubrev-admin`, each over one AdminService RPC of the services.

    pubrev-admin parked   [--service S]… [--role R] [--status …]   ListParked
    pubrev-admin redrive  ID --service S                           RedriveParked
    pubrev-admin skip     ID --service S --reason TEXT             SkipParked
    pubrev-admin lag      [--service S]…                           GetLag
    pubrev-admin projection rebuild NAME --service S               RebuildProjection
    pubrev-admin feeds repush --service credit|casework --feed F   RepushFeeds

Every command says in plain words what it found or did (`--json` instead: one JSON
document on stdout, for scripts) and exits 0 when done, 1 when a service refused or failed
(its error printed, the zh-CN message too), 2 for arguments it refuses before calling
anything, 3 when a service could not be reached.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TextIO, TypeVar
from zoneinfo import ZoneInfo

import click

from pubrev.common.v1 import admin_pb2 as pb
from pubrev_admin.client import (
    DEFAULT_PORTS,
    FEED_SERVICES,
    AdminClient,
    ArgumentProblem,
    Credentials,
    ServiceFailure,
    admin_client,
    excerpt,
    make_credentials,
    resolve_targets,
)

OK, FAILED, USAGE, UNREACHABLE = 0, 1, 2, 3

ROLES = ("relay", "projector", "consumer", "push")
STATUSES = ("parked", "redriven", "skipped", "superseded", "all")
MAX_REASON = 500
"""SkipParkedRequest.reason's bound in admin.proto (max_len 500, no control characters),
checked here too so that a bad reason is refused before anything is called."""
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
PUTIAN = ZoneInfo("Asia/Shanghai")
"""A bare date in --since is midnight in Putian (the platform keeps calendar dates as
Asia/Shanghai dates: issue 11, item 1)."""
DEFAULT_TIMEOUT = 30.0
REBUILD_TIMEOUT = 6 * 3600.0
"""A rebuild replays the whole log in one call: hours are possible on a large log."""

F = TypeVar("F", bound=Callable[..., Any])


# -- the invocation -----------------------------------------------------------------------------


@dataclass
class App:
    """Where the output goes and the environment read: injected, so that the commands run
    the same in a test's thread as in a terminal."""

    out: TextIO
    err: TextIO
    env: Mapping[str, str]


@dataclass
class Session:
    app: App
    targets: dict[str, str]
    credentials: Credentials
    timeout: float
    as_json: bool

    def client(
        self, service: str, timeout: float | None = None
    ) -> AbstractContextManager[AdminClient]:
        return admin_client(
            service, self.targets[service], self.credentials, timeout or self.timeout
        )

    # -- output ----------------------------------------------------------------------------

    def say(self, text: str = "") -> None:
        if not self.as_json:
            self.app.out.write(text + "\n")

    def emit(self, document: Mapping[str, Any]) -> None:
        if self.as_json:
            json.dump(document, self.app.out, ensure_ascii=False, indent=2)
            self.app.out.write("\n")

    def failed(self, failure: ServiceFailure, *, document: bool = True) -> int:
        """Prints a service's error (on stderr; in --json mode also as the document) and
        returns the exit status it means."""
        if document:
            self.emit({"ok": False, "error": failure.as_dict()})
        self.complain(failure)
        return UNREACHABLE if failure.unreachable else FAILED

    def complain(self, failure: ServiceFailure) -> None:
        err = self.app.err
        what = "did not answer" if failure.unreachable else "refused"
        err.write(
            f"pubrev-admin: {failure.service} ({failure.target}) {what} "
            f"{failure.rpc}: {failure.code}\n"
        )
        if not failure.violations:
            err.write(f"  {clean(failure.message)}\n")
            if failure.message_zh and failure.message_zh != failure.message:
                err.write(f"  {clean(failure.message_zh)}\n")
        for v in failure.violations:  # the summary says the same: each field once
            err.write(
                f"  {clean(v.field) or '(request)'}: {clean(v.description)} "
                f"[{clean(v.rule)}]"
                + (f"  {clean(v.description_zh)}" if v.description_zh else "")
                + "\n"
            )
        hint = failure.hint(self.credentials.mtls)
        if hint:
            err.write(f"  Hint: {hint}\n")


def clean(text: str) -> str:
    """A service's text on the operator's terminal: control characters (an escape sequence
    in an event's error, say) shown as U+FFFD, never interpreted."""
    return "".join(c if c.isprintable() else "\ufffd" for c in text)


def connection_options(command: F) -> F:
    """--target, the identity (--operator, or --cert/--key/--ca for mTLS), --timeout and
    --json, on every command."""
    options = [
        click.option(
            "--target",
            "targets",
            multiple=True,
            metavar="[SERVICE=]HOST:PORT",
            help="Where a service listens (repeatable). Default: "
            "PUBREV_ADMIN_<SERVICE>_TARGET, else make run's "
            "127.0.0.1:50051–50054.",
        ),
        click.option(
            "--operator",
            metavar="NAME",
            help="Your name for the audit trail: the subject of the operator "
            "identity the development header carries (without mTLS). Default: "
            "$PUBREV_OPERATOR, else $USER.",
        ),
        click.option(
            "--cert",
            type=click.Path(dir_okay=False, path_type=Path),
            help="mTLS: the operator's client certificate (PEM), whose URI SAN names "
            "them. Default: $PUBREV_ADMIN_TLS_CERT.",
        ),
        click.option(
            "--key",
            type=click.Path(dir_okay=False, path_type=Path),
            help="mTLS: its private key (PEM). Default: $PUBREV_ADMIN_TLS_KEY.",
        ),
        click.option(
            "--ca",
            type=click.Path(dir_okay=False, path_type=Path),
            help="mTLS: the CA that signed the services' certificates. Default: "
            "$PUBREV_ADMIN_TLS_CA, else the system's.",
        ),
        click.option(
            "--server-name",
            metavar="NAME",
            help="mTLS: the name the services' certificates carry, when it is not "
            "the target's host. Default: $PUBREV_ADMIN_TLS_SERVER_NAME.",
        ),
        click.option(
            "--timeout",
            type=click.FloatRange(min=0.1, max=86_400.0),
            help=f"Seconds to wait for each answer (default {DEFAULT_TIMEOUT:g}; "
            f"a rebuild {REBUILD_TIMEOUT:g}).",
        ),
        click.option(
            "--json",
            "as_json",
            is_flag=True,
            help="One JSON document on stdout instead of sentences.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def session(
    services: Sequence[str], conn: Mapping[str, Any], default_timeout: float = DEFAULT_TIMEOUT
) -> Session:
    app = click.get_current_context().find_object(App)
    assert app is not None
    try:
        targets = resolve_targets(services, conn["targets"], app.env)
        credentials = make_credentials(
            conn["operator"], conn["cert"], conn["key"], conn["ca"], conn["server_name"], app.env
        )
    except ArgumentProblem as problem:
        raise click.UsageError(str(problem)) from None
    return Session(app, targets, credentials, conn["timeout"] or default_timeout, conn["as_json"])


def entry_id(ctx: click.Context, param: click.Parameter, value: str) -> int:
    """A parked entry's number as `parked` shows it (`#12` or `12`)."""
    text = value.removeprefix("#")
    if not text.isdigit() or not 0 < int(text) <= 10**15:
        raise click.BadParameter(
            f"{excerpt(value)} is not a parked entry's number "
            "(a positive integer, as `pubrev-admin parked` lists them)"
        )
    return int(text)


# -- the commands -------------------------------------------------------------------------------


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
def cli() -> None:
    """The operators' command line of pubrev (运维): parked events, their re-drive or skip,
    the workers' lag, a projection's rebuild and the feeds' re-push, over each service's
    AdminService (operators only; every action is recorded in the service's audit trail).

    Exit status: 0 done, 1 a service refused or failed (its error printed), 2 bad
    arguments (nothing called), 3 a service could not be reached.
    """


@cli.command(short_help="List parked events with their reasons, per service and role.")
@click.option(
    "--service",
    "services",
    multiple=True,
    metavar="SERVICE",
    help="Only this service (repeatable). Default: all four.",
)
@click.option("--role", type=click.Choice(ROLES), help="Only this worker role.")
@click.option(
    "--worker",
    default="",
    metavar="WORKER",
    help="Only this worker (e.g. consumer:credit.ledger, push:creditchina).",
)
@click.option(
    "--status",
    type=click.Choice(STATUSES),
    default="parked",
    show_default=True,
    help="Entries in this state: still parked, or resolved how (all: every one).",
)
@click.option(
    "--after",
    type=click.IntRange(min=0),
    default=0,
    metavar="ID",
    help="Entries after this number (paging).",
)
@click.option(
    "--limit",
    type=click.IntRange(1, 1000),
    default=100,
    show_default=True,
    help="At most this many per service.",
)
@connection_options
def parked(
    services: tuple[str, ...],
    role: str | None,
    worker: str,
    status: str,
    after: int,
    limit: int,
    **conn: Any,
) -> int:
    """Lists the events the workers parked, with why, per service and role.

    An event one worker could not handle (decode, translate, apply, send) is parked with
    its error and the worker goes on; later events of its aggregate wait behind it ("held
    behind #ID") until it is re-driven or skipped.
    """
    run = session(list(services) or list(DEFAULT_PORTS), conn)
    request = pb.ListParkedRequest(
        role=role or "", worker=worker, status=status, after_id=after, limit=limit
    )
    document: dict[str, Any] = {}
    codes: list[int] = []
    heads = 0
    for service, target in run.targets.items():
        try:
            with run.client(service) as client:
                entries = list(client.call("ListParked", request).parked)
        except ServiceFailure as failure:
            document[service] = {"target": target, "error": failure.as_dict()}
            codes.append(run.failed(failure, document=False))
            continue
        document[service] = {"target": target, "parked": [parked_dict(e) for e in entries]}
        heads += sum(1 for e in entries if e.status == "parked" and not e.held_behind)
        say_entries(run, service, target, entries, status, limit)
    if heads and not run.as_json:
        run.say(
            "Re-drive an event after its fix with `pubrev-admin redrive ID --service S` "
            "(the events held behind it follow, in order), or give it up with "
            "`pubrev-admin skip ID --service S --reason TEXT`."
        )
    run.emit({"ok": not codes, "services": document})
    return max(codes, default=OK)


def say_entries(
    run: Session,
    service: str,
    target: str,
    entries: Sequence[pb.ParkedEvent],
    status: str,
    limit: int,
) -> None:
    if not entries:
        run.say(
            f"{service} ({target}): nothing "
            + ("parked" if status == "parked" else f"in status {status}")
        )
        return
    if status == "parked":
        held = sum(1 for e in entries if e.held_behind)
        summary = f"{len(entries) - held} parked" + (
            f", {held} held behind {'it' if len(entries) - held == 1 else 'them'}" if held else ""
        )
    else:
        summary = f"{len(entries)} " + ("entries" if status == "all" else status)
    run.say(f"{service} ({target}): {summary}")
    for role in sorted({e.role for e in entries}, key=_role_order):
        run.say(f"  {role}")
        for entry in (e for e in entries if e.role == role):
            for line in entry_lines(entry):
                run.say(f"    {line}")
    if len(entries) == limit:
        run.say(f"  (the first {limit} only: more with --after {entries[-1].id})")


def _role_order(role: str) -> int:
    return ROLES.index(role) if role in ROLES else len(ROLES)


def moment(rfc3339: str) -> str:
    """A service's RFC 3339 time (UTC) as an operator reads it, to the second."""
    try:
        return datetime.fromisoformat(rfc3339).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except ValueError:
        return clean(rfc3339)


def entry_lines(e: pb.ParkedEvent) -> list[str]:
    event = f"event {clean(e.event_key)}"
    if e.aggregate_id:
        event += f" of {clean(e.aggregate_id)}" + (f" v{e.version}" if e.version else "")
    if e.role == "consumer" and e.position:
        event += f" (partition {e.partition}, offset {e.position})"
    lines = [f"#{e.id}  {clean(e.worker)}  {event}"]
    if e.status == "parked" and e.held_behind:
        lines.append(f"     held behind #{e.held_behind} since {moment(e.parked_at)}")
    elif e.status == "parked":
        tries = f"{e.attempts} attempt" + ("s" if e.attempts != 1 else "")
        lines.append(f"     parked {moment(e.parked_at)} after {tries}: {clean(e.error)}")
    else:
        lines.append(
            f"     {e.status} {moment(e.resolved_at)} by {clean(e.resolved_by)}"
            + (f": “{clean(e.reason)}”" if e.reason else "")
        )
        lines.append(f"     was parked {moment(e.parked_at)}: {clean(e.error)}")
    return lines


def parked_dict(e: pb.ParkedEvent) -> dict[str, Any]:
    return {
        "id": e.id,
        "role": e.role,
        "worker": e.worker,
        "event_key": e.event_key,
        "aggregate_id": e.aggregate_id,
        "version": e.version,
        "position": e.position,
        "partition": e.partition,
        "error": e.error,
        "attempts": e.attempts,
        "parked_at": e.parked_at,
        "held_behind": e.held_behind,
        "status": e.status,
        "resolved_at": e.resolved_at,
        "resolved_by": e.resolved_by,
        "reason": e.reason,
    }


def find_entry(client: AdminClient, entry: int) -> pb.ParkedEvent | None:
    """The entry as it stands, to say what is re-driven or skipped (None: no such entry;
    the service then says so itself)."""
    listed = client.call(
        "ListParked", pb.ListParkedRequest(status="all", after_id=entry - 1, limit=1)
    ).parked
    return listed[0] if listed and listed[0].id == entry else None


def describe(e: pb.ParkedEvent | None) -> str:
    if e is None:
        return ""
    what = f" ({clean(e.worker)}, event {clean(e.event_key)}"
    if e.aggregate_id:
        what += f" of {clean(e.aggregate_id)}" + (f" v{e.version}" if e.version else "")
    return what + ")"


def check_reason(ctx: click.Context, param: click.Parameter, reason: str) -> str:
    """The reason as the service takes it: words (not only spaces), at most MAX_REASON
    characters, no control characters."""
    if not reason.strip():
        raise click.BadParameter("give the reason in words")
    if len(reason) > MAX_REASON:
        raise click.BadParameter(f"at most {MAX_REASON} characters (this one has {len(reason)})")
    if _CONTROL.search(reason):
        raise click.BadParameter("one line, no control characters (tabs, line breaks …)")
    return reason


def plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


@cli.command(short_help="Re-drive a parked event after its fix; those behind it follow.")
@click.argument("entry", metavar="ID", callback=entry_id)
@click.option(
    "--service", required=True, metavar="SERVICE", help="The service whose worker parked it."
)
@connection_options
def redrive(entry: int, service: str, **conn: Any) -> int:
    """Re-drives parked event ID after its fix: applies (or sends) it again, then the events
    of its aggregate held behind it, in order. One that fails again stays parked, at the
    head, and the ones behind it keep waiting.

    ID must be a head (an entry held behind another is re-driven with its head).
    """
    run = session([service], conn)
    try:
        with run.client(service) as client:
            before = find_entry(client, entry)
            outcome = client.call("RedriveParked", pb.RedriveParkedRequest(id=entry))
    except ServiceFailure as failure:
        return run.failed(failure)
    done = list(outcome.redriven_ids)
    run.emit(
        {
            "ok": outcome.failed_id == 0,
            "service": service,
            "id": entry,
            "entry": parked_dict(before) if before else None,
            "redriven_ids": done,
            "failed_id": outcome.failed_id,
            "error": outcome.error,
            "still_held": outcome.still_held,
        }
    )
    where = f"on {service}{describe(before)}"
    sent = (
        (
            " (queued again: the pusher sends "
            + ("it" if len(done) == 1 else "them")
            + " in its next round)"
        )
        if before is not None and before.role == "push"
        else ""
    )
    if done:
        behind = [f"#{i}" for i in done[1:]]
        run.say(
            f"Re-drove #{done[0]} {where}"
            + (
                f", then {plural(len(behind), 'event')} held behind it, in order: "
                f"{', '.join(behind)}"
                if behind
                else ""
            )
            + f"{sent}."
        )
    if outcome.failed_id == 0:
        run.say("Nothing of its aggregate waits behind it any more.")
        return OK
    waiting = plural(outcome.still_held, "event") + (
        " still waits" if outcome.still_held == 1 else " still wait"
    )
    if outcome.failed_id == entry:
        message = (
            f"#{entry} failed again {where}: {clean(outcome.error)}\n"
            f"Nothing was re-driven: #{entry} stays parked at the head; {waiting} "
            "behind it."
        )
    else:
        message = (
            f"#{outcome.failed_id}, held behind it, failed: {clean(outcome.error)}\n"
            f"#{outcome.failed_id} is now parked at the head of its aggregate; "
            f"{waiting} behind it."
        )
    if run.as_json:
        run.app.err.write(message + "\n")
    else:
        run.say(message)
    return FAILED


@cli.command(short_help="Give up on a parked event, with a reason (recorded).")
@click.argument("entry", metavar="ID", callback=entry_id)
@click.option(
    "--service", required=True, metavar="SERVICE", help="The service whose worker parked it."
)
@click.option(
    "--reason",
    required=True,
    metavar="TEXT",
    callback=check_reason,
    help=f"Why it is given up (kept with it and in the audit trail; at most "
    f"{MAX_REASON} characters, one line).",
)
@connection_options
def skip(entry: int, service: str, reason: str, **conn: Any) -> int:
    """Gives up on parked event ID, with a reason: it is never applied or sent, and the next
    event of its aggregate held behind it becomes the head (still parked: re-drive it).

    Recorded durably: the entry keeps its reason, who skipped it and when (`parked --status
    skipped`), and the service's audit trail has the action (GetHistory).
    """
    run = session([service], conn)
    try:
        with run.client(service) as client:
            before = find_entry(client, entry)
            outcome = client.call("SkipParked", pb.SkipParkedRequest(id=entry, reason=reason))
    except ServiceFailure as failure:
        return run.failed(failure)
    skipped = outcome.skipped
    run.emit(
        {
            "ok": True,
            "service": service,
            "skipped": parked_dict(skipped),
            "next_head": outcome.next_head,
        }
    )
    run.say(
        f"Skipped #{entry} on {service}{describe(before or skipped)}: it will not be "
        f"applied or sent."
    )
    run.say(
        f"Recorded: skipped {moment(skipped.resolved_at)} by {clean(skipped.resolved_by)}, "
        f"reason “{clean(skipped.reason)}”; in {service}'s audit trail too "
        f"(`pubrev-admin parked --service {service} --status skipped` lists it)."
    )
    if outcome.next_head:
        run.say(
            f"#{outcome.next_head}, held behind it, is now the head of its aggregate and "
            f"still parked: re-drive it with `pubrev-admin redrive {outcome.next_head} "
            f"--service {service}`."
        )
    return OK


@cli.command(short_help="How far behind the relay, projections and consumer groups are.")
@click.option(
    "--service",
    "services",
    multiple=True,
    metavar="SERVICE",
    help="Only this service (repeatable). Default: all four.",
)
@connection_options
def lag(services: tuple[str, ...], **conn: Any) -> int:
    """How far behind each worker is: the relay's position against the head of the
    service's log, each projection's, each consumer group's committed offsets against the
    partitions' ends (Kafka), and what is parked."""
    run = session(list(services) or list(DEFAULT_PORTS), conn)
    document: dict[str, Any] = {}
    codes: list[int] = []
    for service, target in run.targets.items():
        try:
            with run.client(service) as client:
                answer = client.call("GetLag", pb.GetLagRequest())
        except ServiceFailure as failure:
            document[service] = {"target": target, "error": failure.as_dict()}
            codes.append(run.failed(failure, document=False))
            continue
        document[service] = {"target": target, **lag_dict(answer)}
        say_lag(run, service, target, answer)
        if answer.consumers_error:
            # The rest of the answer stands; the consumer groups' lag is missing.
            run.app.err.write(
                f"pubrev-admin: {service} ({target}) could not ask the broker "
                f"for its consumer groups' offsets: "
                f"{clean(answer.consumers_error)}\n"
            )
            codes.append(FAILED)
    run.emit({"ok": not codes, "services": document})
    return max(codes, default=OK)


def lag_dict(answer: pb.GetLagResponse) -> dict[str, Any]:
    return {
        "relay": {
            "name": answer.relay.name,
            "position": answer.relay.position,
            "head": answer.relay.head,
        },
        "projections": [
            {"name": p.name, "position": p.position, "head": p.head} for p in answer.projections
        ],
        "consumers": [
            {
                "group": c.group,
                "topic": c.topic,
                "partition": c.partition,
                "committed": c.committed,
                "end": c.end,
                "lag": c.lag,
            }
            for c in answer.consumers
        ],
        "consumers_error": answer.consumers_error,
        "parked": [
            {"role": p.role, "worker": p.worker, "parked": p.parked, "held": p.held}
            for p in answer.parked
        ],
    }


def behind(position: int, head: int) -> str:
    gap = head - position
    return "caught up" if gap <= 0 else f"{gap} behind"


def say_lag(run: Session, service: str, target: str, answer: pb.GetLagResponse) -> None:
    run.say(f"{service} ({target})")
    relay = answer.relay
    run.say(
        f"  relay       {relay.name}: at {relay.position} of {relay.head} "
        f"({behind(relay.position, relay.head)})"
    )
    for p in answer.projections:
        run.say(
            f"  projection  {p.name}: at {p.position} of {p.head} ({behind(p.position, p.head)})"
        )
    if answer.consumers_error:
        run.say(f"  consumers   the broker could not be asked: {clean(answer.consumers_error)}")
    groups: dict[tuple[str, str], list[pb.ConsumerLag]] = {}
    for c in answer.consumers:
        groups.setdefault((c.group, c.topic), []).append(c)
    for (group, topic), partitions in groups.items():
        total = sum(max(c.lag, 0) for c in partitions)
        fresh = sum(1 for c in partitions if c.committed < 0)
        run.say(
            f"  consumer    {group} on {topic}: "
            + ("caught up" if total == 0 else f"{total} behind")
            + f" over {plural(len(partitions), 'partition')}"
            + (f" ({fresh} with nothing committed yet)" if fresh else "")
        )
    if not answer.consumers and not answer.consumers_error:
        run.say("  consumers   none (it subscribes to no topic)")
    if not answer.parked:
        run.say("  parked      nothing")
    for count in answer.parked:
        run.say(
            f"  parked      {count.role} {count.worker}: {count.parked} parked"
            + (f", {count.held} held behind" if count.held else "")
        )


@cli.group(short_help="Rebuild a projection (read model) from the whole log.")
def projection() -> None:
    """A service's projections (read models)."""


@projection.command("rebuild", short_help="Rebuild NAME into fresh tables, then swap.")
@click.argument("name", metavar="NAME")
@click.option("--service", required=True, metavar="SERVICE", help="The projection's service.")
@connection_options
def rebuild(name: str, service: str, **conn: Any) -> int:
    """Rebuilds projection NAME from position 0 of the service's log into fresh tables, then
    swaps them in (readers see the old tables until then). `pubrev-admin lag` lists the
    projections."""
    run = session([service], conn, default_timeout=REBUILD_TIMEOUT)
    try:
        with run.client(service, DEFAULT_TIMEOUT) as client:
            state = client.call("GetLag", pb.GetLagRequest())
        with run.client(service) as client:
            report = with_progress(
                run,
                f"rebuilding {name} on {service} from position 0 "
                f"({state.relay.head} events in its log)",
                lambda: client.call("RebuildProjection", pb.RebuildProjectionRequest(name=name)),
            )
    except ServiceFailure as failure:
        return run.failed(failure)
    run.emit(
        {
            "ok": True,
            "service": service,
            "name": report.name,
            "applied": report.applied,
            "parked": report.parked,
            "held": report.held,
            "position": report.position,
            "tables": list(report.tables),
            "seconds": report.seconds,
        }
    )
    run.say(
        f"Rebuilt {report.name} on {service} from position 0 in {report.seconds:.1f} s: "
        f"{plural(report.applied, 'event')} into fresh tables "
        f"({', '.join(report.tables) or 'none'}), swapped in at position "
        f"{report.position}."
    )
    if report.parked:
        run.say(
            f"{plural(report.parked, 'event')} could not be projected and "
            f"{'is' if report.parked == 1 else 'are'} parked ({report.held} held behind): "
            f"`pubrev-admin parked --service {service} --role projector`."
        )
    else:
        run.say("Nothing was parked.")
    return OK


T = TypeVar("T")


def with_progress(run: Session, label: str, work: Callable[[], T]) -> T:
    """Shows a spinner with the elapsed time while `work` runs, on a terminal only (quiet
    under CI, when piped and with --json). The RebuildProjection RPC reports nothing until
    the swap, so there is no position to show, and no honest ETA."""
    if run.as_json or run.app.env.get("CI") or not run.app.err.isatty():
        return work()
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=Console(file=run.app.err),
        transient=True,
    ) as progress:
        progress.add_task(label, total=None)
        return work()


@cli.group(short_help="Re-push a feed's dead records (credit, casework).")
def feeds() -> None:
    """The outbound feeds (credit: creditchina, market; casework: zhihui)."""


@feeds.command("repush", short_help="Queue a feed's dead (or delivered) records again.")
@click.option(
    "--service",
    required=True,
    type=click.Choice(FEED_SERVICES),
    help="The service that pushes the feed.",
)
@click.option(
    "--feed",
    required=True,
    metavar="FEED",
    help="The feed: creditchina or market (credit), zhihui (casework).",
)
@click.option(
    "--status",
    type=click.Choice(["dead", "delivered"]),
    default="dead",
    show_default=True,
    help="Queue the records in this status again.",
)
@click.option(
    "--since",
    metavar="DATE",
    callback=lambda c, p, v: since_instant(v),
    help="Only records enqueued at or after this: a date (midnight in Putian, "
    "Asia/Shanghai) or an RFC 3339 time with its offset.",
)
@connection_options
def repush(service: str, feed: str, status: str, since: str, **conn: Any) -> int:
    """Queues a feed's dead (or delivered) records again, after the receiver or the data was
    fixed: each is sent again by the pusher's next round, with a fresh count of attempts."""
    run = session([service], conn)
    try:
        with run.client(service) as client:
            answer = client.call(
                "RepushFeeds", pb.RepushFeedsRequest(feed=feed, status=status, since=since)
            )
    except ServiceFailure as failure:
        return run.failed(failure)
    ids = list(answer.record_ids)
    run.emit(
        {
            "ok": True,
            "service": service,
            "feed": feed,
            "status": status,
            "since": since,
            "repushed": answer.repushed,
            "record_ids": ids,
        }
    )
    when = f" enqueued since {since}" if since else ""
    if answer.repushed == 0:
        run.say(f"No {status} records of {feed} on {service}{when}: nothing queued.")
        return OK
    shown = ", ".join(clean(i) for i in ids[:10])
    more = f" and {answer.repushed - 10} more" if answer.repushed > 10 else ""
    run.say(
        f"Queued {plural(answer.repushed, f'{status} record')} of {feed} on {service}"
        f"{when} again: {shown}{more}. The pusher sends "
        + ("it" if answer.repushed == 1 else "them")
        + " in its next round."
    )
    return OK


def since_instant(value: str | None) -> str:
    """--since as the RFC 3339 instant RepushFeedsRequest.since takes."""
    if not value:
        return ""
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime(day.year, day.month, day.day, tzinfo=PUTIAN).isoformat()
        when = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{excerpt(value)} is neither a date (2026-05-01) nor a time "
            "with its offset (2026-05-01T08:00:00+08:00)"
        ) from None
    if when.tzinfo is None:
        raise click.BadParameter(
            f"{excerpt(value)} has no offset: add it (e.g. +08:00), or give a date"
        )
    return when.isoformat()


# -- entry points -------------------------------------------------------------------------------


def main(
    argv: Sequence[str] | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    env: Mapping[str, str] | None = None,
) -> int:
    """Runs one command; returns its exit status. The streams and the environment are
    parameters so that a test can run it beside services in the same process."""
    app = App(stdout or sys.stdout, stderr or sys.stderr, os.environ if env is None else env)
    try:
        result = cli.main(
            args=list(argv) if argv is not None else None,
            prog_name="pubrev-admin",
            standalone_mode=False,
            obj=app,
        )
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.ClickException as problem:
        problem.show(file=app.err)
        return problem.exit_code
    except click.Abort:
        app.err.write("pubrev-admin: aborted\n")
        return FAILED
    return result if isinstance(result, int) else OK


def console_main() -> None:
    sys.exit(main())
