"""`make bench`: throughput of pubrev's hot paths beside raw baselines measured in the same run.

Run from the repository root as `.venv/bin/python -m bench` (after `tools/devinfra.py up`).
It prints one table per measurement and writes the same figures as JSON to
`.local/bench/latest.json`. Nothing here asserts a timing: this is a report, and absolute
figures move with the machine and whatever else runs on it. The ratios against baselines
taken seconds earlier on the same machine are what to compare between runs.

Every figure is `count / seconds` of one timed loop (set-up excluded), in operations per
second; the concurrent ones also give p50/p99 latency of a single call. Two CPU columns say
what bound the rate: `py cpu%` is this process (gRPC client and server, worker threads,
Kafka client alike) in % of ONE core — near 100% means the GIL-bound Python process is the
limit; `host%` is the whole machine (PostgreSQL and the broker included) in % of ALL cores.
Expect ±15% between runs of the same code on a shared 2-core machine; a ratio moving by
more than that is worth a look.

1. Relay: disclosure event store → Kafka (pubrev.disclosure.events.v1)
   A fresh database is filled with 20,000 stored DisclosureFiled events (not timed; only
   filings, no command receipts, so every notification becomes a message), then:
   - `relay`: `servicekit.relay.Relay.run_once()` until it returns 0 — reading the
     notification log, translating each event to its contract message, producing the batch
     (acks=all, idempotent) and recording the tracking position, batch after batch;
   - `log read`: `select_notifications` in batches of the same size (no Kafka) — the floor
     set by PostgreSQL and eventsourcing;
   - `translate`: the relay's translation alone (decode the stored event, build the contract
     model, dump its JSON, CloudEvents headers) on the same notifications;
   - `raw produce`: aiokafka sends of the very messages the relay produces (same topic, keys,
     headers; a producer with the relay's own settings), acks of each batch gathered
     together — what Kafka and the client take without the relay's own work.
   relay ÷ raw produce near 1 would mean Kafka is the limit; far below 1 says the time goes
   elsewhere, and the per-event costs of `log read` and `translate` say where.

2. FileDisclosure commands through gRPC
   The disclosure API runs in this process (`servicekit.runtime.start(parts, ("api",))`), on
   a fresh database with communities registered beforehand (RegisterCommunity over the same
   API, untimed); 50 concurrent callers share one
   grpc.aio channel and file one disclosure per community and quarter (2024Q1–2025Q4).
   Each command reads three aggregates (receipt, community, disclosure) and writes the
   disclosure and its command receipt in one transaction under the event table's lock.
   Decomposition, same database and server:
   - `health via servicekit`: grpc health Check on that same server — the gRPC stack plus
     the servicekit interceptor, no application work;
   - `in-process, 50 callers`: `app.file_disclosure` through `asyncio.to_thread`, exactly as
     the servicer calls it, minus gRPC;
   - `in-process, 1 thread`: sequential calls — the latency of the application itself.
   Baselines:
   - `trivial gRPC`: a grpc.aio generic unary handler returning bytes, same 50 callers;
   - `asyncpg insert`: one single-row INSERT per call into a scratch table, 50 callers on a
     pool of 50 connections, and one connection sequentially;
   - `es save`: eventsourcing `Application.save` of one new aggregate per call, one thread
     (the ARCHITECTURE.md reference is ≈650/s on a 2-core machine).
   Reading the ratios (each is rate ÷ rate, so higher is better for the numerator):
   - FileDisclosure ÷ trivial gRPC: the share of the bare RPC rate the command path keeps;
   - FileDisclosure ÷ es save: 1 would mean a command costs no more than one eventsourcing
     write (each command is one such write of two events, plus three reads); above 1 is
     only reachable by grouping concurrent commands into one transaction;
   - FileDisclosure ÷ asyncpg insert: against the cheapest durable write there is;
   - via gRPC ÷ in-process: what gRPC, protobuf and the interceptor leave of the
     application's own rate (1 = free);
   - in-process 50 callers ÷ 1 thread: what concurrency buys under the event table's lock,
     the GIL and the default thread pool;
   - health via servicekit ÷ trivial gRPC: the cost of the servicekit interceptor and the
     health servicer over a bare handler.

Both parts create their databases as `bench_<purpose>_<random>` and drop them afterwards.
Kafka keeps what the relay published: the test suite deletes `pubrev.*` topics on the local
broker at its session start, so leftovers never reach a test.
"""
