"""Generate (or check) the AsyncAPI documents of the four services from their FastStream apps.

    python tools/gen_asyncapi.py          # write contracts/asyncapi/<service>.json
    python tools/gen_asyncapi.py --check  # fail when a committed document is out of date

Each document lists what the service publishes (its topic, with the JSON schema of every
contract event on it) and what it consumes (its consumer runner's subscriptions). The
applications are built on in-memory persistence: generating docs needs no database.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Union

from faststream.specification import AsyncAPI

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "contracts" / "asyncapi"
IN_MEMORY = {"PERSISTENCE_MODULE": "eventsourcing.popo"}


def _subscriptions(service: str) -> list[Any]:
    if service == "inspection":
        from inspection.application.app import InspectionApplication
        from inspection.entrypoints.consumers import subscriptions

        return subscriptions(InspectionApplication(env=IN_MEMORY))  # handlers are not run
    if service == "credit":
        from credit.application.app import CreditApplication
        from credit.entrypoints.consumers import subscriptions as credit_subscriptions

        return credit_subscriptions(CreditApplication(env=IN_MEMORY))
    if service == "casework":
        from casework.application.app import CaseworkApplication
        from casework.entrypoints.consumers import subscriptions as casework_subscriptions

        return casework_subscriptions(CaseworkApplication(env=IN_MEMORY))
    return []


def document(service: str, topic: str) -> dict[str, Any]:
    from pubrev_contracts.events.base import REGISTRY  # the package registers every contract
    from servicekit.consumer import ConsumerRunner

    runner = ConsumerRunner(service, "kafka:9092", _subscriptions(service))
    published = [cls for cls in REGISTRY.values() if cls.topic == topic]
    if published:
        schema: Any = Union[tuple(published)]  # noqa: UP007 (a runtime union of classes)
        runner.broker.publisher(
            topic,
            title=f"{service}:{topic}",
            description="Relayed from the service's event store (outbox); CloudEvents "
            "binary mode, ce_type one of: " + ", ".join(sorted(c.ce_type for c in published)),
            schema=schema,
        )
    spec = AsyncAPI(
        runner.broker,
        title=f"pubrev {service}",
        version="1.0.0",
        description=f"Events the {service} service publishes and consumes on Kafka.",
    )
    jsonable: dict[str, Any] = spec.to_specification().to_jsonable()
    return jsonable


def _services() -> dict[str, str]:
    from pubrev_contracts import topics

    return {
        "disclosure": topics.DISCLOSURE_EVENTS,
        "inspection": topics.INSPECTION_EVENTS,
        "credit": topics.CREDIT_EVENTS,
        "casework": topics.CASEWORK_EVENTS,
    }


def render(service: str, topic: str) -> str:
    return json.dumps(document(service, topic), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def run(check: bool, write: Callable[[Path, str], None]) -> int:
    stale = []
    for service, topic in _services().items():
        path = OUT / f"{service}.json"
        text = render(service, topic)
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(str(path.relative_to(ROOT)))
        else:
            write(path, text)
    if stale:
        print(
            "AsyncAPI documents out of date; run `make asyncapi`:",
            *stale,
            sep="\n  ",
            file=sys.stderr,
        )
        return 1
    print(f"gen_asyncapi: {len(_services())} documents {'match' if check else 'written'}")
    return 0


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    return run(parser.parse_args().check, _write)


if __name__ == "__main__":
    raise SystemExit(main())
