"""`make bench`: throughput of pubrev's hot paths beside raw baselines measured in the same run.

Run from the repository root as `.venv/bin/python -m bench` (after `tools/devinfra.py up`),
or `make bench`; `BENCH_SCALE` chooses the stores' size (`small`, `default`: a million stored
events to replay, `large`, or a number; bench.scale). It prints one table per measurement,
each ratio beside the previous run's (of the same scale, else the last) and the issue's goal
for it, writes the same figures as JSON to `.local/bench/latest.json` and appends the run to
`.local/bench/history.jsonl` (git commit, date, scale, every figure; bench.history).
Progress, with a bar and an ETA per step, goes to stderr (one line per step under CI or
without a terminal; bench.progress). The default run takes about ten minutes on a 2-core
machine (10 min 0 s measured with `time make bench`). Nothing here asserts a timing: this
is a report, and absolute figures move with the machine and whatever else runs on it. The
ratios against baselines taken seconds earlier on the same machine are what to compare
between runs.

Every figure is `count / seconds` of one timed loop (set-up excluded), in operations per
second; the concurrent ones also give p50/p99 latency of a single call. The CPU columns say
what bound the rate: `py cpu%` is this process (gRPC client, and the server too where it
runs in this process, worker threads, Kafka client alike) in % of ONE core — near 100%
means the GIL-bound Python process is the limit; `srv cpu%` is a server started as its own
process(es) (section 2, `own process`), summed over them, in % of one core; `host%` is the
whole machine (PostgreSQL and the broker included) in % of ALL cores.
Expect ±15% between runs of the same code on a shared 2-core machine; a ratio moving by
more than that is worth a look.

Workload: the synthetic Putian of `tools/synthetic_putian.py` (the demo data of `make run`),
`generate(seed=2023, communities=2800, companies=560)`, made once per run: its companies,
communities and quarterly filings (2024Q1–2025Q4; kinds on_time, late, zero_revenue, and
inconsistent ones the service refuses by design). Each section notes the sizes and kinds it
used (`bench.disclosure_data`).

1. Relay: disclosure event store → Kafka (pubrev.disclosure.events.v1)
   A fresh database is filled with 20,000 stored DisclosureFiled events (not timed; only
   filings, no command receipts, so every notification becomes a message): the first 20,000
   valid generated filings in time order, written directly with their generated filing
   times and lateness. Then:
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
   elsewhere, and the per-event costs of `log read` and `translate` say where (goal ≥ 0.8).
   Then the idle latency: 40 single writes each way, at random moments, the relay idle in
   between, timed from the write's call to the relay's recorded position — polling every
   `relay_idle_poll_seconds` as before, then woken by LISTEN/NOTIFY (servicekit.wakeup).
   With `BENCH_SCALE` below 100,000 the store holds a fifth of it.

2. Replay (bench.replay_bench; its docstring says each figure): a store of `BENCH_SCALE`
   stored events of the disclosure service, written by COPY (untimed; bench.replay_store),
   read raw (the baseline) and rebuilt into the disclosure read model by
   `Projector.rebuild()` with the service's own projection and decoder (its `apply_batch`
   and stored-fields decoding, disclosure.adapters.read_model) — rebuild ÷ raw read, goal
   ≥ 0.5 — beside the same rebuild decoding with the mapper, the same projection applied
   one event at a time (its `apply`, as before issue 14) on a prefix, and the rebuild's
   reader alone; the time for 10 million events extrapolated.

3. FileDisclosure commands through gRPC
   Two placements. ONE process (client and server share one Python process, one GIL, so
   these figures understate the server): `FileDisclosure via gRPC`, `health Check` and
   `trivial gRPC`. SEPARATE processes, as deployed: the figures saying `own process`.
   The disclosure API runs in this process (`servicekit.runtime.start(parts, ("api",))`), on
   a fresh database with the generated companies (RegisterCompany as generated, official-
   registry ones included) and ~700 communities (every 4th of the dataset first, all seven
   units) registered beforehand over the same API, untimed; 50 concurrent callers share one
   grpc.aio channel and file those communities' generated filings in time order, one
   disclosure per community and quarter, each run (warm-up, gRPC, in-process) a disjoint
   slice. The service stamps its own clock: every filing is made now, hence recorded late.
   The generated `inconsistent` filings of those communities are sent apart, untimed, and
   must all fail with INVALID_ARGUMENT.
   Each command reads three aggregates (receipt, community, disclosure) and writes the
   disclosure and its command receipt in one transaction under the event table's lock.
   Decomposition, same database and server:
   - `health via servicekit`: grpc health Check on that same server — the gRPC stack plus
     the servicekit interceptor, no application work;
   - `in-process, 50 callers`: `app.handle` through `asyncio.to_thread`, exactly as
     the servicer calls it, minus gRPC;
   - `in-process, 1 thread`: sequential calls — the latency of the application itself.
   The read side on that same server, once its filings are in (`bench.query_bench`, goal 7):
   - `ListDisclosures via gRPC`: a page of 50 of the unit and year with most filings, 50
     callers (policy, validation, the one-query `current()`, the read model's SELECT on the
     service's asyncpg pool); against the same page read by a hand-written SELECT alone, on
     an asyncpg pool of 4 (the read pool's size) and on psycopg in `asyncio.to_thread` (the
     driver and the thread hop the queries used before ADR 0021).
   Baselines:
   - `trivial gRPC`: a grpc.aio generic unary handler returning bytes, same 50 callers;
   - `asyncpg insert`: one single-row INSERT per call into a scratch table, 50 callers on a
     pool of 50 connections, and one connection sequentially;
   - `es save`: eventsourcing `Application.save` of one new aggregate per call, one thread
     (the ARCHITECTURE.md reference is ≈650/s on a 2-core machine).
   Servers in their own processes (`bench.process_bench`), the bench being only the client:
   50 callers spread round-robin over 4 grpc.aio channels, each its own TCP connection
   (`grpc.use_local_subchannel_pool`):
   - `FileDisclosure, API in its own process (1 worker)`: `python -m disclosure api` started
     as a subprocess on a fresh database (PUBREV_API_WORKERS=1), ready when the gRPC health
     service reports the disclosure service SERVING; companies and communities registered
     through it, then the very warm-up and timed filings of the gRPC run above;
   - the same with PUBREV_API_WORKERS=2, on another fresh database: the api role starts a
     second process on the same port (SO_REUSEPORT) and the kernel spreads the 4
     connections over the two — by a hash of each connection, so not necessarily 2/2; a
     note gives each process's CPU and connections and says UNEVEN when they differ;
   - `trivial … own process`: `python -m bench.trivial_server`, the trivial handler alone
     in its own process, same callers and channels;
   - the deadline peak: after the 1-worker run, the API takes a province's 20,000 filings in
     the deadline's last hour (5.6/s) as seeded random arrivals, each sent at arrival;
     p50/p99 counted from arrival (`file_peak`).
   Each server is stopped with SIGTERM (SIGKILL after 20 s), also when the bench fails.
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
     health servicer over a bare handler;
   - own process: FileDisclosure ÷ trivial: as the first ratio, neither sharing a process
     with the client;
   - own process: 2 workers ÷ 1 worker: what a second api process buys (2 would be perfect
     scaling; on a 2-core machine PostgreSQL and the client compete for the same cores);
   - API in its own process ÷ in the bench's process: how much the shared process (one GIL
     for client and server) understated the server;
   - trivial own process ÷ in the bench's process: the same for the bare RPC (with the
     server elsewhere, the client's own CPU may become the limit: see its py cpu%).

Later sections (each its own module, run in order by `bench/__main__.py`):
- consumers (`bench/consumer_bench.py`, goal ≥ 5,000/s): inspection's consumer group
  applying BENCH_SCALE-sized DisclosureFiled records with every feature on, beside a raw
  aiokafka consume and a raw COPY of equivalent rows; casework's disclosure-warnings group
  applying the first 5,000 of them (community facts, the unit's year, warnings), against
  the same floors;
- end to end (`bench/e2e_bench.py`): disclosure api, relay and inspection consumer as their
  own processes, FileDisclosure at a sustained rate; the time from each answer to
  inspection's effect, p50/p99/max, split at the relay, and whether it grew;
- cost (`bench/cost_bench.py`): the fifteen roles of `make run` idle: RSS, PSS and the
  PostgreSQL connections they hold (ADR 0020); then the same four services as a small
  deployment runs them, each service one process (`python -m <service> all`).
- soak (`bench/soak_bench.py`, opt-in: `BENCH_SECTIONS=soak` or `BENCH_SCALE=large`):
  disclosure api, relay, projector and inspection consumer as processes, FileDisclosure at
  200/s for `BENCH_SOAK_SECONDS` (600); each role's RSS every 10 s, growth last ÷ first.
- growth (`bench/growth_bench.py`, opt-in: `BENCH_SECTIONS=growth` or `BENCH_SCALE=large`):
  FileDisclosure latency on 10,000 and `BENCH_SCALE` stored events, and on a community of
  10,001 events against ordinary ones; ratios, goal ≤ 1.2.

Every part creates its databases as `bench_<purpose>_<random>` and drops them afterwards.
Kafka keeps what the relay published: the test suite deletes `pubrev.*` topics on the local
broker at its session start, so leftovers never reach a test.
"""
