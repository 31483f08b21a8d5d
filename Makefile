# pubrev: two commands on a fresh machine, `make run` and `make test`.
# Everything a run leaves behind lives in .venv/ and .local/ (both ignored).

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
BUF_VERSION := 1.61.0
BUF := .local/node/node_modules/.bin/buf
SERVICES := disclosure inspection credit casework
PROTO_DEPS := .local/protovalidate
SRC_ROOTS := contracts/src libs/servicekit/src libs/pubrev_admin/src \
             $(foreach s,$(SERVICES),services/$(s)/src) $(PROTO_DEPS)/python

.PHONY: help deps run demo stop status infra-up infra-down infra-status test test-unit test-infra lint \
        protos protos-check asyncapi authz-doc bench profile chaos coverage fmt clean

help:
	@echo "make run     start Kafka, PostgreSQL and the four services (Ctrl-C or make stop)"
	@echo "             DEMO=1 loads the synthetic Putian data first (also: make demo)"
	@echo "make test    install what is missing, lint, then the whole test suite"
	@echo "make lint    ruff, mypy, import-linter, buf lint, stub drift, k8s manifests"
	@echo "make bench   throughput figures against raw baselines of the same run"
	@echo "make profile where the command path's and the relay's time goes (py-spy)"
	@echo "make chaos   10,000 commands while roles are killed and Kafka and PostgreSQL restart,"
	@echo "             then a reconciliation table; fails on any loss or double effect"
	@echo "make coverage  branch coverage of each service's domain and application (>= 90 %)"
	@echo "make stop    stop the services and the local infrastructure"
	@echo "make status  the infrastructure, and each role of make run: pid, restarts, last exit"
	@echo "$(VENV)/bin/pubrev-admin   the operators' command line: parked, redrive, skip, lag, ..."

# -- dependencies -------------------------------------------------------------------------
$(STAMP): requirements.lock requirements-dev.txt Makefile tools/proto_deps.py
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11+ is required" >&2; exit 1; }
	@command -v java >/dev/null || { echo "Java 17+ is required (for the Kafka broker)" >&2; exit 1; }
	@command -v mvn >/dev/null || { echo "Maven is required (fetches the Kafka broker)" >&2; exit 1; }
	@command -v go >/dev/null || { echo "Go is required (fetches protovalidate's validate.proto)" >&2; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	@# The protos' bounds import buf/validate/validate.proto: fetched (never kept here) into
	@# $(PROTO_DEPS), its Python module generated beside it (tools/proto_deps.py).
	$(PY) tools/proto_deps.py
	@# Source roots on sys.path: services import contracts and servicekit, never each other.
	printf '%s\n' $(abspath $(SRC_ROOTS)) > "$$($(PY) -c 'import sysconfig; print(sysconfig.get_path("purelib"))')/pubrev-workspace.pth"
	@# The operators' command line, on the same source roots (a console script, like pip's).
	printf '#!%s\nfrom pubrev_admin.cli import console_main\n\nconsole_main()\n' \
	  "$(abspath $(PY))" > $(VENV)/bin/pubrev-admin && chmod +x $(VENV)/bin/pubrev-admin
	touch $@

$(BUF):
	@command -v npm >/dev/null || { echo "npm is required (installs buf)" >&2; exit 1; }
	npm install -s --no-audit --no-fund --prefix .local/node @bufbuild/buf@$(BUF_VERSION)

deps: $(STAMP) $(BUF)

# -- local infrastructure -----------------------------------------------------------------
infra-up: $(STAMP)
	$(PY) tools/devinfra.py up

infra-down:
	@if [ -x $(PY) ]; then $(PY) tools/devinfra.py down; fi

infra-status: $(STAMP)
	$(PY) tools/devinfra.py status

# -- run ----------------------------------------------------------------------------------
run: $(STAMP)
	$(PY) tools/run_platform.py $(if $(DEMO),--demo)

demo: $(STAMP)
	$(PY) tools/devinfra.py up
	$(PY) tools/load_demo.py

# The supervisor of `make run` stops its roles and the infrastructure; infra-down then only
# catches an infrastructure started without it.
stop:
	@if [ -x $(PY) ]; then $(PY) tools/run_platform.py --stop; fi
	@$(MAKE) --no-print-directory infra-down

status: $(STAMP)
	@$(PY) tools/devinfra.py status || true
	@$(PY) tools/run_platform.py --status || true

# -- quality ------------------------------------------------------------------------------
protos: $(STAMP)
	$(PY) tools/gen_protos.py

protos-check: $(STAMP)
	$(PY) tools/gen_protos.py --check

asyncapi: $(STAMP)
	$(PY) tools/gen_asyncapi.py

authz-doc: $(STAMP)
	$(PY) tools/gen_authz_doc.py

lint: $(STAMP) $(BUF)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	@# buf reads images that protoc builds with the fetched validate.proto on its include
	@# path (buf itself would fetch it from the Buf Schema Registry; tools/gen_protos.py).
	$(PY) tools/gen_protos.py --image .local/protos/current.binpb
	cd contracts/proto && ../../$(BUF) lint ../../.local/protos/current.binpb --config buf.yaml --path pubrev
	@# Breaking changes against the last commit (what a reviewer would merge).
	$(PY) tools/gen_protos.py --image .local/protos/head.binpb --ref HEAD
	cd contracts/proto && ../../$(BUF) breaking ../../.local/protos/current.binpb \
	  --against ../../.local/protos/head.binpb --config buf.yaml --path pubrev
	$(PY) tools/gen_protos.py --check
	$(PY) tools/gen_asyncapi.py --check
	$(PY) tools/gen_authz_doc.py --check
	$(PY) tools/bus_acls.py render --check
	$(PY) tools/check_k8s.py

fmt: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# -- tests --------------------------------------------------------------------------------
test-unit: $(STAMP)
	$(VENV)/bin/pytest -m "not infra" -q

test-infra: $(STAMP)
	$(PY) tools/devinfra.py up
	$(VENV)/bin/pytest -m infra -q

test: lint
	$(PY) tools/coverage_report.py
	$(PY) tools/devinfra.py up
	$(VENV)/bin/pytest -q

# Branch coverage of each service's domain and application by its unit tests: one line per
# service, `coverage <service> <percent>`; fails below 90 %.
coverage: $(STAMP)
	$(PY) tools/coverage_report.py

# BENCH_SCALE=small|default|large|<stored events> sizes the stores (bench/scale.py; default:
# a million events to replay, about ten minutes on 2 cores); history in .local/bench/.
bench: $(STAMP)
	$(PY) tools/devinfra.py up
	BENCH_SCALE="$(BENCH_SCALE)" $(PY) -m bench

# py-spy profiles of the command path, a query and the relay (bench/profile.py): what bounds them.
profile: $(STAMP)
	$(PY) tools/devinfra.py up
	$(PY) -m bench.profile all

# Its own broker and PostgreSQL (it restarts them), never the shared ones; state, logs and the
# result in .local/chaos/. The small version runs in `make test` (tests/e2e/test_chaos_small.py).
chaos: $(STAMP)
	$(PY) -m tools.chaos

clean:
	-$(MAKE) --no-print-directory stop
	rm -rf $(VENV) .local .mypy_cache .ruff_cache .pytest_cache
