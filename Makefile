# payoutflow: `make run` starts everything in one process; `make test` runs every test.
GO        ?= go
export GOTOOLCHAIN := go1.27.3
export GOFLAGS     := -buildvcs=false

# Packages that do not import the Temporal server build and test in seconds, so they also run under the race
# detector; the integration tests and the embedded dev server share one slow-to-build server dependency.
FAST_PKGS = $(shell GOTOOLCHAIN=$(GOTOOLCHAIN) $(GO) list ./... | grep -v -e /integration -e /internal/devserver -e /internal/chaos -e /internal/deploytest -e /internal/connecttest -e /internal/clustertest -e /cmd/ -e /e2e -e /internal/readmetest)

.PHONY: run test test-cluster test-fast stress-servers e2e e2e-deps build lint vulncheck bench bench-scale chaos histories clean

run: ## start Temporal + UI, worker, API and sandboxes in one process
	$(GO) run ./cmd/dev

test: lint ## every test: unit tests (with -race), integration tests on a real in-process Temporal server, a short chaos run, the deploy and commands' tests, the browser test
	$(GO) test -race -count=1 $(FAST_PKGS)
	cd client && $(GO) test -race -count=1 ./...
	$(GO) test -count=1 -timeout 20m ./integration/ ./internal/devserver/ ./internal/readmetest/
	$(GO) test -count=1 -timeout 20m ./internal/connecttest/
	$(GO) test -count=1 -timeout 20m ./internal/chaos/
	$(GO) test -count=1 -timeout 20m ./internal/deploytest/ ./cmd/...
	$(GO) test -count=1 -timeout 30m ./e2e/

test-cluster: ## the production topology: Temporal server on PostgreSQL (installed if missing), two workers, the API; a worker killed mid-run
	bash scripts/install-postgresql.sh
	$(GO) test -count=1 -timeout 30m -v ./internal/clustertest/

# CHAOS_FLAGS: e.g. '-n 100 -seed 42 -worker-kills 5' (bin/chaos -h lists them).
CHAOS_FLAGS ?=
chaos: ## 500 payouts across all providers with every fault on and processes killed; prints the report
	$(GO) build -o bin/ ./cmd/dev ./cmd/chaos
	bin/chaos -dev bin/dev $(CHAOS_FLAGS)

e2e-deps: ## install Debian's Chromium for the browser test
	bash e2e/install-chromium.sh

e2e: ## the browser test alone: an operator approves and cancels in Temporal UI (screenshots in e2e/artifacts)
	$(GO) test -count=1 -timeout 30m -v ./e2e/

# ROUNDS: how many times each dev-server test process runs its tests (20 by default).
stress-servers: ## two processes start dev servers ROUNDS times beside the integration tests: no port collision, no panic (about 20 min)
	scripts/stress-servers.sh

test-fast: ## the unit tests only
	$(GO) test -count=1 $(FAST_PKGS)
	cd client && $(GO) test -count=1 ./...

build: ## binaries under bin/
	$(GO) build -o bin/ ./cmd/...

lint: ## go vet and a gofmt check (the client module's too: ./... stops at its go.mod)
	$(GO) vet ./...
	cd client && $(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# vuln.go.dev cannot be reached from here: the database is built from the golang.org/x/vulndb module (the proxy's
# copy, checked against VULNDB_SUM) into ~/.cache/payoutflow/vulndb. Bump VULNDB_VERSION (`go list -m -json
# golang.org/x/vulndb@latest` gives version and time; `go mod download -json` the sum) to take newer entries.
GOVULNCHECK_VERSION = v1.10.0
VULNDB_VERSION      = v0.0.0-20261105234957-e22db6528018
VULNDB_SUM          = h1:mfngRv0Yoh0VApsXKEN82CjD99kl7mtparN3bs3JnqI=
vulncheck: ## govulncheck on every package (standard library included), offline: fails if the code reaches a vulnerability that has a fix
	$(GO) run ./internal/tools/vulncheck -govulncheck $(GOVULNCHECK_VERSION) -vulndb $(VULNDB_VERSION) -vulndb-sum $(VULNDB_SUM) ./...

# RELEASE: the version in RELEASES whose histories to record; the newest by default.
RELEASE ?=
histories: ## record the replay suite's histories of a release from the real stack (workflows/testdata/histories)
	scripts/histories.sh $(RELEASE)

# BENCH_FLAGS: e.g. '-levels 20,100 -reps 1' (bin/bench -h lists them); GOBENCH=0 skips the Go benchmarks;
# SCALE: how many payouts bench-scale leaves waiting.
BENCH_FLAGS ?=
GOBENCH     ?= 1
SCALE       ?= 10000
bench: ## the Go benchmarks, then payoutflow side by side with a bare-Temporal peer at 20, 100, 500 in flight: table, docs/bench/latest.{json,md,svg}, README's table (about 15 min)
	@if [ "$(GOBENCH)" != 0 ]; then echo '$(GO) test -run ^$$ -bench . -benchmem ./...'; $(GO) test -run '^$$' -bench . -benchmem ./...; fi
	$(GO) build -o bin/ ./cmd/dev ./cmd/bench ./cmd/benchpeer
	bin/bench -readme README.md $(BENCH_FLAGS)

bench-scale: ## SCALE payouts (10,000) created and left waiting, read, approved and drained: added to docs/bench/latest.*
	$(GO) build -o bin/ ./cmd/dev ./cmd/bench ./cmd/benchpeer
	bin/bench -scale $(SCALE) -readme README.md $(BENCH_FLAGS)

clean:
	rm -rf bin/
