# Tollgate — the two commands are `make dev` and `make test`.
GO        ?= go
BIN       := bin/tollgate
VERSION   := $(shell git describe --always --dirty 2>/dev/null || echo dev)
export GOTOOLCHAIN ?= local

.PHONY: dev test build deps vet unit fuzz bench clean

## dev: build and run everything locally (Postgres, Temporal + UI, worker, API)
dev: build
	./$(BIN) dev

## build: the one binary
build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/tollgate

## test: install what is missing, vet, run every test (unit, integration, browser), brief fuzzing
test: deps vet
	$(GO) test -count=1 -timeout 40m ./...
	$(MAKE) fuzz

deps:
	scripts/install-deps.sh

vet:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed: $$out"; exit 1; fi
	$(GO) vet ./...

## fuzz: a short run of each fuzz target of the request decoders (the fuzzonly tag leaves out
## the integration tests, so the instrumented build stays small). The budget is a count of
## executions, not a duration: with a duration, Go 1.26's fuzz coordinator can fail a target
## with a spurious "context deadline exceeded" as the time runs out, a race in how it cancels
## its own contexts (go.dev/issue/75804).
FUZZ_EXECS ?= 20000
fuzz:
	@for t in $$($(GO) test -tags fuzzonly -list "^Fuzz" ./api/ | grep "^Fuzz"); do \
		echo "fuzz $$t"; $(GO) test -tags fuzzonly -run "^$$" -fuzz "^$$t$$" -fuzztime $(FUZZ_EXECS)x ./api/ || exit 1; done

## bench: load and throughput figures (lifecycle with invoices and PDFs, usage hot paths, webhook delivery)
bench: deps
	@for d in bench/*/; do echo "== $$d"; $(GO) run ./$$d || exit 1; done

clean:
	rm -rf bin .tollgate
