# DouTok on Dapr. `make run` and `make test` set up everything they need on a fresh Debian/Ubuntu.
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(PATH)

# The Dapr runtime pin lives in one place: the require line of dapr/runtime/go.mod.
DAPR_VERSION := $(shell awk '$$1 == "github.com/dapr/dapr" { print $$2; exit }' dapr/runtime/go.mod)
BIN   := $(CURDIR)/.cache/bin
DAPRD := $(BIN)/daprd-$(DAPR_VERSION)

# The component set: local (Redis Streams, a media folder) or kafka-s3 (pubsub.kafka and
# bindings.aws.s3 against a Kafka-protocol broker and an S3 server that the stack runs itself).
INFRA ?= local
# The kafka-s3 set's servers, built from the pinned modules of tools/infra (not for local).
INFRA_BINS := $(if $(filter kafka-s3,$(INFRA)),$(BIN)/kafkaserver $(BIN)/kafkalag $(BIN)/versitygw $(BIN)/s3bucket)

.PHONY: web run run-deps dapr-runtime jaeger stop replay-dead-letters test unit e2e fuzz bench deps daprd build infra vet clean

run: deps daprd build infra web ## Run the whole system on http://localhost:8080 (Ctrl-C stops it); INFRA=kafka-s3 for Kafka and S3
	DAPRD=$(DAPRD) DOUTOK_INFRA=$(INFRA) $(BIN)/devstack run

run-deps: deps daprd build infra web dapr-runtime ## PostgreSQL and Redis only, for a stock `dapr run -f .` (dapr.yaml) to start the apps
	DAPRD=$(DAPRD) DOUTOK_INFRA=$(INFRA) $(BIN)/devstack deps

# dapr.yaml's runtimePath: the Dapr CLI looks for <runtimePath>/.dapr/bin/daprd.
dapr-runtime: daprd
	@mkdir -p .cache/dapr-runtime/.dapr/bin
	@ln -sf $(DAPRD) .cache/dapr-runtime/.dapr/bin/daprd

jaeger: $(BIN)/jaeger ## Jaeger on http://127.0.0.1:16686, taking spans from DOUTOK_TRACE_ZIPKIN_URL=http://127.0.0.1:9411/api/v2/spans make run
	$(BIN)/jaeger --config tools/jaeger/config.yaml

# Jaeger, pinned in tools/jaeger/go.mod (a module of its own, outside `make test`); the first
# build downloads and compiles a large module graph (about 4 minutes here).
$(BIN)/jaeger: tools/jaeger/go.mod tools/jaeger/go.sum
	@echo "building Jaeger from its Go module (first time: a few minutes)…"
	@mkdir -p $(BIN)
	cd tools/jaeger && go build -trimpath -o $@.tmp github.com/jaegertracing/jaeger/cmd/jaeger && mv $@.tmp $@

stop: ## Stop a running `make run`
	@if [ -x $(BIN)/devstack ]; then $(BIN)/devstack stop; else echo "nothing running"; fi

replay-dead-letters: ## Publish the events the services kept as dead letters again (stack running)
	$(BIN)/devstack replay-dead-letters

# The component sets `make test` proves: the end-to-end suite runs once on each.
TEST_SETS := local kafka-s3

test: deps daprd build vet unit ## Unit tests, then the end-to-end tests on each component set
	@for set in $(TEST_SETS); do \
		echo "== end-to-end tests on the $$set component set"; \
		$(MAKE) --no-print-directory e2e INFRA=$$set || exit 1; \
	done

unit: web/node_modules/.package-lock.json
	go test -count=1 ./services/... ./tools/...
	cd web && npm test --silent
	@# The manifests' check: its own module (Kubernetes and Dapr types), reading files outside it,
	@# which Go's test cache cannot see: never cached.
	cd deploy/check && go test -count=1 ./...

e2e: daprd build infra web ## End-to-end tests alone (on freshly built binaries); INFRA=kafka-s3 for Kafka and S3
	DAPRD=$(DAPRD) DOUTOK_BIN_DIR=$(BIN) E2E_INFRA=$(INFRA) go test -tags e2e -count=1 -timeout 20m ./test/e2e/...

# The fuzz targets, package:target. Their seeds (and any crasher kept in testdata/fuzz) run in
# `make unit`; `make fuzz` searches further, FUZZTIME per target.
FUZZ_TARGETS := services/internal/params:FuzzParseID services/internal/params:FuzzParseRequest \
	services/internal/params:FuzzTime services/internal/auth:FuzzVerify \
	services/internal/auth:FuzzTamperedToken services/internal/auth:FuzzFromHeader \
	services/api:FuzzReceive
FUZZTIME ?= 20s

fuzz: ## Run each fuzz target for FUZZTIME (20s); a failure leaves its input in testdata/fuzz
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "== $${t#*:} (./$${t%%:*})"; \
		go test -run='^$$' -fuzz="^$${t#*:}\$$" -fuzztime=$(FUZZTIME) ./$${t%%:*}; \
	done

vet:
	@test -z "$$(gofmt -l services tools test bench deploy)" || { gofmt -l services tools test bench deploy; echo "gofmt needed"; exit 1; }
	go vet ./...
	go vet -tags e2e ./test/...
	go mod tidy -diff
	cd tools/infra && go mod tidy -diff && go vet ./...
	cd deploy/check && go mod tidy -diff && go vet ./...

deps:
	@scripts/install-deps.sh

daprd: $(DAPRD)

# Built once from the dapr module (about 5 minutes cold, 1 minute with a warm Go cache) and
# reused until the pin changes.
$(DAPRD): dapr/runtime/go.mod dapr/runtime/go.sum dapr/runtime/main.go
	@echo "building daprd $(DAPR_VERSION) from the dapr Go module (first time: ~5 minutes)…"
	@mkdir -p $(BIN)
	cd dapr/runtime && go build -tags stablecomponents -trimpath -o $(DAPRD).tmp . && mv $(DAPRD).tmp $(DAPRD)

# Every command under services/ (one per service) and the orchestrator.
build:
	@mkdir -p $(BIN)
	go build -o $(BIN)/ ./services/... ./tools/devstack/cmd/devstack

infra: $(INFRA_BINS)

# The development Kafka broker (franz-go's kfake) and the S3 server (versitygw, posix backend),
# pinned in tools/infra/go.mod, a module of its own so the services' go.mod stays lean.
$(BIN)/kafkaserver: tools/infra/go.mod tools/infra/go.sum tools/infra/cmd/kafkaserver/main.go
	@mkdir -p $(BIN)
	cd tools/infra && go build -trimpath -o $@.tmp ./cmd/kafkaserver && mv $@.tmp $@

$(BIN)/kafkalag: tools/infra/go.mod tools/infra/go.sum tools/infra/cmd/kafkalag/main.go
	@mkdir -p $(BIN)
	cd tools/infra && go build -trimpath -o $@.tmp ./cmd/kafkalag && mv $@.tmp $@

$(BIN)/s3bucket: tools/infra/go.mod tools/infra/go.sum tools/infra/cmd/s3bucket/main.go
	@mkdir -p $(BIN)
	cd tools/infra && go build -trimpath -o $@.tmp ./cmd/s3bucket && mv $@.tmp $@

$(BIN)/versitygw: tools/infra/go.mod tools/infra/go.sum
	@echo "building versitygw from its Go module (first time: a few minutes)…"
	@mkdir -p $(BIN)
	cd tools/infra && go build -trimpath -o $@.tmp github.com/versity/versitygw/cmd/versitygw && mv $@.tmp $@

# The web client (web/): installed from its lock file when that changes, built when a source does.
WEB_SOURCES := $(shell find web -name node_modules -prune -o -name dist -prune -o -name test-results -prune -o -type f -print 2>/dev/null)

web: web/dist/index.html ## Build the web client the gateway serves at /

web/node_modules/.package-lock.json: web/package-lock.json
	cd web && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error

web/dist/index.html: web/node_modules/.package-lock.json $(WEB_SOURCES)
	cd web && npm run --silent build

clean: ## Remove build output (keeps data); `rm -rf .data` forgets all local data
	rm -rf .cache

bench: deps daprd build infra ## Benchmarks on a stack of their own (see bench/main.go); INFRA=kafka-s3 for Kafka and S3
	DAPRD=$(DAPRD) DOUTOK_BIN_DIR=$(BIN) DOUTOK_INFRA=$(INFRA) go run ./bench
