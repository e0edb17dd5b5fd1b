# gomomo — developer entry points. The README's two commands:
#   make run    the standalone server with the demo tenant, on http://127.0.0.1:3000
#   make test   everything CI checks, from a clean checkout (.ci/run calls it)
#
# Postgres: DATABASE_URL when you set it; otherwise a private cluster in .pgdata/
# (scripts/pg.sh), started on demand.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.ONESHELL:
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

CARGO   ?= cargo
PYTHON  ?= python3
PG      := bash scripts/pg.sh
# Target of `make package`: x86_64 or arm64. The template deploys arm64 (`sam build`
# cross-compiles); arm64 here needs `rustup target add aarch64-unknown-linux-gnu`.
ARCH    ?= x86_64
GOMOMO  := $(CARGO) run --quiet --bin gomomo --

# pip installs console scripts (cfn-lint, cargo-lambda) into ~/.local/bin for --user installs.
export PATH := $(HOME)/.local/bin:$(HOME)/.cargo/bin:$(PATH)

# Shell snippet: DATABASE_URL from the caller, else the private cluster. Sets
# PG_STARTED=1 when this recipe started the cluster, and stops it again when the recipe
# ends (success, failure or Ctrl-C) in that case only.
define WITH_DATABASE
PG_STARTED=""
if [ -z "$${DATABASE_URL:-}" ]; then
  if ! $(PG) status >/dev/null 2>&1; then
    PG_STARTED=1
    trap '$(PG) stop' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
  fi
  DATABASE_URL="$$($(PG) start)"
fi
export DATABASE_URL
echo "==> DATABASE_URL=$$DATABASE_URL"
endef

# Shell snippet (after WITH_DATABASE): the AWS emulator for the tests that go over the wire
# (PyPI moto[server]). MOTO_ENDPOINT from the caller, else a moto_server on a free port,
# installed when missing; stopped when the recipe ends, together with the private Postgres
# when WITH_DATABASE started it (one EXIT trap for both).
define WITH_MOTO
MOTO_PID=""
if [ -z "$${MOTO_ENDPOINT:-}" ]; then
  if ! command -v moto_server >/dev/null 2>&1; then
    echo "==> pip install 'moto[server]'"
    $(PYTHON) -m pip install --quiet 'moto[server]' ||
      $(PYTHON) -m pip install --quiet --user --break-system-packages 'moto[server]'
    if command -v pyenv >/dev/null 2>&1; then pyenv rehash || true; fi
    hash -r
  fi
  MOTO_PORT="$$($(PYTHON) -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
  mkdir -p target
  moto_server -H 127.0.0.1 -p "$$MOTO_PORT" >target/moto.log 2>&1 &
  MOTO_PID=$$!
  trap 'kill $$MOTO_PID 2>/dev/null || true; if [ -n "$$PG_STARTED" ]; then $(PG) stop; fi' EXIT
  for _ in $$(seq 1 150); do
    $(PYTHON) -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$$MOTO_PORT" 2>/dev/null && break
    kill -0 "$$MOTO_PID" 2>/dev/null || { cat target/moto.log >&2; echo "moto_server exited" >&2; exit 1; }
    sleep 0.2
  done
  MOTO_ENDPOINT="http://127.0.0.1:$$MOTO_PORT"
fi
export MOTO_ENDPOINT
echo "==> MOTO_ENDPOINT=$$MOTO_ENDPOINT"
endef

# cfn-lint exits 2 on errors, 4 on warnings, 8 on informational messages (bit flags): only
# errors fail, so an older (or newer) cfn-lint with other warning rules does not break CI.
define CFN_LINT
echo "==> cfn-lint template.yaml ($$(cfn-lint --version 2>&1))"
cfn_rc=0
cfn-lint template.yaml || cfn_rc=$$?
if [ $$((cfn_rc & 2)) -ne 0 ] || [ "$$cfn_rc" -eq 1 ]; then exit 1; fi
if [ "$$cfn_rc" -ne 0 ]; then echo "cfn-lint: warnings only (exit $$cfn_rc), not failing"; fi
endef

.PHONY: help run test bench package lint layers fmt fmt-check clippy cfn-lint check-template \
        tools pg-start pg-stop lambda-test browser-test console-test screenshots e2e caldav-test

help:
	@echo "make run          standalone server + demo tenant (Postgres started on demand)"
	echo "make test         fmt, clippy, tests, template checks, Lambda event replay (CI)"
	echo "make bench        every benchmark next to its floor, then one summary table"
	echo "make package      cargo lambda zips of every function (ARCH=x86_64|arm64)"
	echo "make lint         rustfmt check, clippy, cfn-lint, template checks"
	echo "make fmt          rustfmt the workspace"
	echo "make browser-test the chat widget in headless Chromium against gomomo serve"
	echo "make console-test the console (/admin) in headless Chromium: every screen, screenshots in target/"
	echo "make screenshots  the console test, then its screenshots copied into docs/screenshots/"
	echo "make lambda-test  replay events/api-*.json under cargo lambda watch"
	echo "make caldav-test  the CalDAV client against a real CalDAV server (Radicale on 127.0.0.1)"
	echo "make e2e          the deployed shape locally: a booking, its mail and reminder SMS, hop by hop"
	echo "make pg-start     start the private Postgres (prints DATABASE_URL)"
	echo "make pg-stop      stop it"

## run: migrate, seed the demo tenant, serve in the foreground (Ctrl-C stops the server;
## the private Postgres keeps running: make pg-stop).
run:
	@if [ -z "$${DATABASE_URL:-}" ]; then DATABASE_URL="$$($(PG) start)"; fi
	export DATABASE_URL
	echo "==> DATABASE_URL=$$DATABASE_URL"
	echo "==> cargo build --bin gomomo"
	$(CARGO) build --bin gomomo
	echo "==> gomomo migrate"
	$(GOMOMO) migrate
	echo "==> gomomo seed-demo"
	$(GOMOMO) seed-demo
	# The demo shows the autonomous tools at work (the product default stays off).
	export AUTONOMY_ENABLED="$${AUTONOMY_ENABLED:-true}"
	echo "==> gomomo serve (GOMOMO_ADDR=$${GOMOMO_ADDR:-127.0.0.1:3000}, AUTONOMY_ENABLED=$$AUTONOMY_ENABLED; Ctrl-C stops; make pg-stop stops Postgres)"
	exec $(GOMOMO) serve

## test: the order is fixed and fails fast; cheap checks first, Postgres only once needed.
test: tools
	@echo "==> cargo fmt --all --check"
	$(CARGO) fmt --all --check
	echo "==> scripts/check_layers.py (import graph, layer rules, SQL and env reads in their modules)"
	$(PYTHON) scripts/check_layers.py
	$(WITH_DATABASE)
	$(WITH_MOTO)
	echo "==> cargo clippy --workspace --all-targets -- -D warnings"
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	echo "==> cargo test --workspace"
	$(CARGO) test --workspace
	echo "==> conversation simulation (run by cargo test above; scripts/simulation-test.sh runs it alone)"
	sed -n '/^| persona/,/^wall time/p' target/simulation.md
	$(CFN_LINT)
	echo "==> scripts/check_template.py"
	$(PYTHON) scripts/check_template.py
	echo "==> scripts/lambda-test.sh"
	bash scripts/lambda-test.sh
	echo "==> scripts/browser-test.sh (the widget in headless Chromium)"
	bash scripts/browser-test.sh
	echo "==> scripts/console-test.sh (the console at /admin in headless Chromium, every screen)"
	bash scripts/console-test.sh
	echo "==> scripts/api-client-test.sh (OpenAPI lint, a generated client against gomomo serve)"
	bash scripts/api-client-test.sh
	echo "==> scripts/caldav-test.sh (the CalDAV client against Radicale on 127.0.0.1)"
	bash scripts/caldav-test.sh
	echo "==> scripts/e2e/run.py (the local cloud run: every function under cargo lambda watch)"
	$(PYTHON) scripts/e2e/run.py
	echo "==> make test: all green"

## tools: what a clean machine lacks. An older cfn-lint already installed is kept.
tools:
	@if command -v rustup >/dev/null 2>&1; then
	  $(CARGO) fmt --version >/dev/null 2>&1 || rustup component add rustfmt
	  $(CARGO) clippy --version >/dev/null 2>&1 || rustup component add clippy
	fi
	missing=()
	command -v cfn-lint >/dev/null 2>&1 || missing+=(cfn-lint)
	$(CARGO) lambda --version >/dev/null 2>&1 || missing+=(cargo-lambda)
	# The SMTP server of the delivery tests (shared/tests/delivery.rs starts scripts/smtp_sink.py).
	$(PYTHON) -c 'import aiosmtpd' >/dev/null 2>&1 || missing+=(aiosmtpd)
	# The e2e run's API Gateway stand-in (WebSocket side) and its AWS client (moto brings boto3).
	$(PYTHON) -c 'import websockets.asyncio.server, websockets.sync.client' >/dev/null 2>&1 || missing+=('websockets>=17,<18')
	$(PYTHON) -c 'import boto3' >/dev/null 2>&1 || missing+=(boto3)
	if [ "$${#missing[@]}" -gt 0 ]; then
	  echo "==> pip install $${missing[*]}"
	  if ! $(PYTHON) -m pip --version >/dev/null 2>&1 && [ "$$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-pip
	  fi
	  # A system Python (PEP 668) refuses plain installs: fall back to --user.
	  $(PYTHON) -m pip install --quiet "$${missing[@]}" ||
	    $(PYTHON) -m pip install --quiet --user --break-system-packages "$${missing[@]}" ||
	    $(PYTHON) -m pip install --quiet --user "$${missing[@]}"
	  if command -v pyenv >/dev/null 2>&1; then pyenv rehash || true; fi
	  hash -r
	  command -v cfn-lint >/dev/null 2>&1 || { echo "cfn-lint not on PATH after pip install" >&2; exit 1; }
	  $(CARGO) lambda --version >/dev/null 2>&1 || { echo "cargo-lambda not on PATH after pip install" >&2; exit 1; }
	  $(PYTHON) -c 'import aiosmtpd' || { echo "aiosmtpd not importable after pip install" >&2; exit 1; }
	  $(PYTHON) -c 'import websockets.asyncio.server, boto3' || { echo "websockets or boto3 not importable after pip install" >&2; exit 1; }
	fi

fmt:
	$(CARGO) fmt --all

fmt-check:
	$(CARGO) fmt --all --check

clippy:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

cfn-lint:
	@$(CFN_LINT)

check-template:
	$(PYTHON) scripts/check_template.py

lint: fmt-check layers clippy cfn-lint check-template

layers:
	$(PYTHON) scripts/check_layers.py

bench:
	@bash scripts/bench.sh

## package: release zips for Lambda under target/lambda/<binary>/bootstrap.zip.
package: tools
	@case "$(ARCH)" in
	  x86_64|x86-64|amd64) arch_flag=--x86-64 ;;
	  arm64|aarch64) arch_flag=--arm64 ;;
	  *) echo "ARCH must be x86_64 or arm64 (got $(ARCH))" >&2; exit 2 ;;
	esac
	bins="$$($(PYTHON) scripts/check_template.py --list-binaries)"
	[ -n "$$bins" ] || { echo "no function binaries under functions/" >&2; exit 1; }
	for bin in $$bins; do
	  echo "==> cargo lambda build --release --output-format zip $$arch_flag --bin $$bin"
	  $(CARGO) lambda build --release --output-format zip "$$arch_flag" --bin "$$bin"
	done
	echo "==> packages ($(ARCH))"
	for bin in $$bins; do
	  zip="target/lambda/$$bin/bootstrap.zip"
	  printf '%-12s %10s bytes  %s\n' "$$bin" "$$(stat -c %s "$$zip")" "$$zip"
	done

browser-test:
	@$(WITH_DATABASE)
	bash scripts/browser-test.sh

console-test:
	@$(WITH_DATABASE)
	bash scripts/console-test.sh

## screenshots: the console test, then the screenshots the README shows copied into
## docs/screenshots/ (CI runs console-test only and never writes into the tree).
SCREENSHOTS := desktop-day desktop-booking desktop-notifications \
               phone-day phone-menu phone-booking
screenshots:
	@$(WITH_DATABASE)
	bash scripts/console-test.sh
	mkdir -p docs/screenshots
	for name in $(SCREENSHOTS); do cp "target/console-screenshots/$$name.png" docs/screenshots/; done
	echo "==> $$(ls docs/screenshots | wc -l) screenshots in docs/screenshots/"

## e2e: the deployed shape run locally (scripts/e2e/run.py; docs in its header). Logs: target/e2e/.
## E2E_ARGS passes options through, e.g. make e2e E2E_ARGS="--until 3".
e2e: tools
	@$(WITH_DATABASE)
	$(WITH_MOTO)
	echo "==> scripts/e2e/run.py $(E2E_ARGS)"
	$(PYTHON) scripts/e2e/run.py $(E2E_ARGS)

lambda-test: tools
	@$(WITH_DATABASE)
	bash scripts/lambda-test.sh

## caldav-test: Radicale and the PyPI caldav client installed into .tools/caldav-venv when
## missing; no database needed.
caldav-test:
	@bash scripts/caldav-test.sh

check-template cfn-lint lint: tools

pg-start:
	$(PG) start

pg-stop:
	$(PG) stop
