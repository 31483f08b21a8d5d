"""The chaos run (issue 11 item 6): `make chaos`, and its small version in `make test`.

    python -m tools.chaos            # about 10,000 commands, 50 kills (make chaos)
    python -m tools.chaos --small    # about 500 commands, 5 kills (tests/e2e/test_chaos_small.py)

infra.py      a Kafka broker and a PostgreSQL server of the run's own, restartable
roles.py      the four services' roles as supervised processes (tools/run_platform.py)
armed_role.py a relay that crashes now and then between the Kafka ack and its position
commands.py   valid requests of every command, and who may send them
client.py     one call, retried with its request_id on UNAVAILABLE/ABORTED/DEADLINE_EXCEEDED
model.py      what each accepted command must cause
workload.py   the mixed workload from concurrent callers
poison.py     the issue's poison corpus and hypothesis-generated requests
reconcile.py  stores, topics, read models, feeds and parked events against the model
run.py        one run, start to finish, and its table
"""
