NATS_SERVER_BIN := $(CURDIR)/.tools/bin/nats-server
CARGO ?= cargo

.PHONY: all tools test lint demo bench bench-match

all: lint test

# Project-local tools: pinned nats-server in .tools/bin, aiosmtpd (the
# black-box digest test's SMTP server) in .tools/smtpd.
tools:
	bash scripts/install-nats.sh
	bash scripts/install-smtpd.sh

# The oldest nats-server we support (2.9): Debian's package where installed.
NATS_COMPAT_BIN ?= /usr/sbin/nats-server
COMPAT_TESTS := pipeline:: delivery::blocked delivery::migrated delivery::a_redelivered delivery::deleted delivery::poison email_batch:: ledger::two_writers backtest:: rule_stats::

# The whole test suite against the pinned nats-server: benchmarks once each
# (smoke), the JetStream paths against the oldest supported server when it is
# installed, then unit, binary and end-to-end tests.
test: tools
	$(CARGO) test --benches
	@if [ -x "$(NATS_COMPAT_BIN)" ]; then \
		echo "== compatibility: $$($(NATS_COMPAT_BIN) --version)"; \
		NATS_SERVER_BIN=$(NATS_COMPAT_BIN) $(CARGO) test --test e2e -- $(COMPAT_TESTS); \
	else echo "== compatibility: no $(NATS_COMPAT_BIN); skipped"; fi
	NATS_SERVER_BIN=$(NATS_SERVER_BIN) $(CARGO) test --lib --bins --tests

# Formatting, clippy, no import cycle between src/ modules, and no source
# file over 400 lines outside its test module.
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings
	python3 scripts/module-deps.py src
	bash scripts/file-sizes.sh 400 src

demo: tools
	NATS_SERVER_BIN=$(NATS_SERVER_BIN) bash scripts/demo.sh

# Matcher benchmark (release build, ~3 minutes on 2 cores) and its summary
# table; numbers are quoted in benches/README.md.
bench:
	$(CARGO) bench --bench matcher && $(CARGO) bench --bench memory
	python3 scripts/bench-summary.py

# End to end: `newsalert match` against native matchers (Hyperscan, token
# hash, aho-corasick in benches/native; needs libhyperscan-dev) over 100 MB
# of generated articles and 1k/100k rules, ~10 minutes; not part of `test`.
# See benches/README.md.
bench-match:
	python3 scripts/bench-match.py $(BENCH_MATCH_ARGS)
