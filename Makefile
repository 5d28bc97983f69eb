# authd: make run starts a node on the embedded store; make test runs every
# test. See README.md.

GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
FUZZTIME ?= 5s

.PHONY: all build run test test-unit test-sql fuzz bench bench-cluster lint clean

all: build

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o bin/authd ./cmd/authd
	$(GO) build -o bin/authd-bench ./bench

# run starts authd with zero configuration: embedded store in ./authd-data,
# public API on :8080, admin API on 127.0.0.1:8081.
run: build
	./bin/authd serve

# test runs the whole suite: vet, staticcheck, unit and end-to-end tests under the race
# detector (the SQL tests on a throwaway PostgreSQL), the end-to-end server
# suite a second time on the SQL store, and each fuzz target briefly.
test: test-unit test-sql fuzz

test-unit:
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	$(GO) test -race -count=1 -timeout 15m ./...

test-sql:
	AUTHD_E2E_STORE=sql $(GO) test -race -count=1 -timeout 10m ./server/

fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzCheck$$' -fuzztime $(FUZZTIME) ./server/token/
	$(GO) test -run '^$$' -fuzz '^FuzzParseForm$$' -fuzztime $(FUZZTIME) ./server/
	$(GO) test -run '^$$' -fuzz '^FuzzRegisterJSON$$' -fuzztime $(FUZZTIME) ./server/
	$(GO) test -run '^$$' -fuzz '^FuzzParseScope$$' -fuzztime $(FUZZTIME) ./server/
	$(GO) test -run '^$$' -fuzz '^FuzzParseBasic$$' -fuzztime $(FUZZTIME) ./server/
	$(GO) test -run '^$$' -fuzz '^FuzzParsePHC$$' -fuzztime $(FUZZTIME) ./server/password/

# bench runs the standard benchmark suite against a throw-away local node;
# bench-cluster against a throw-away three-node cluster on the local
# PostgreSQL server. Reports go to ./bench-out/.
bench:
	./bench/run-local.sh

bench-cluster:
	BENCH_NODES=3 ./bench/run-local.sh

lint:
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

clean:
	rm -rf bin bench-out
