# ctrsh — see README.md. Tests need root and start a private Docker Engine (fixtures/engine.sh),
# a private Podman service (fixtures/podman.sh) and a private containerd with its CRI plugin
# (fixtures/cri.sh).
GO      ?= go
BIN     ?= bin/ctrsh
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
# grpcnotrace: gRPC without golang.org/x/net/trace, which links html/template and text/template
# and, through their reflection, every exported method of every type: 5.5 MB of a 33 MB binary,
# and of every ctrsh process's RSS, for request tracing pages ctrsh never serves.
TAGS    ?= grpcnotrace
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
# make bench: N running containers for the main table (ctrsh-bench's default: 100) and the Ns of
# the cost curve (default: 1,20,100,300); empty means the default (and -quick's small values).
N ?=
CURVE ?=
# static: no dynamic dependencies (hosts of any distro; ctrsh fleet push), the cgo entry
# constructor included. osusergo and netgo keep glibc's NSS (which cannot be linked
# statically) out; sqlite_omit_load_extension lets mattn/go-sqlite3 link statically.
STATIC_BIN  ?= bin/ctrsh-static
STATIC_TAGS ?= osusergo netgo sqlite_omit_load_extension

.PHONY: build static test test-go fuzz engine engine-stop cri cri-stop lint run demo bench clean generate bench-trace bench-journal bench-top install man

# build makes the static binary too: with no dynamic loader to map and relocate libc, a ctrsh
# process starts with ~170 fewer page faults, 4-7 ms of every run on the test machine (README,
# Performance). DYNAMIC=1 builds one linked against the host's glibc (its NSS: LDAP users, mDNS).
DYNAMIC ?=
STATIC_BUILD = CGO_ENABLED=1 $(GO) build -tags '$(TAGS) $(STATIC_TAGS)' -ldflags '$(LDFLAGS) -linkmode external -extldflags "-static"'
build:
ifeq ($(DYNAMIC),)
	$(STATIC_BUILD) -o $(BIN) ./cmd/ctrsh
else
	$(GO) build -tags '$(TAGS)' -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/ctrsh
endif

static:
	$(STATIC_BUILD) -o $(STATIC_BIN) ./cmd/ctrsh
	@if ldd $(STATIC_BIN) >/dev/null 2>&1; then echo "make static: $(STATIC_BIN) is dynamically linked" >&2; exit 1; fi

# install puts the binary, the manual page and the completion of bash, zsh and fish below
# $(DESTDIR)$(PREFIX), as distributions package them.
PREFIX  ?= /usr/local
DESTDIR ?=
install: build
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions \
		$(DESTDIR)$(PREFIX)/share/zsh/site-functions \
		$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/ctrsh
	install -m 0644 ctrsh.1 $(DESTDIR)$(PREFIX)/share/man/man1/ctrsh.1
	$(BIN) completion bash > $(DESTDIR)$(PREFIX)/share/bash-completion/completions/ctrsh
	$(BIN) completion zsh > $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_ctrsh
	$(BIN) completion fish > $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/ctrsh.fish
	chmod 0644 $(DESTDIR)$(PREFIX)/share/bash-completion/completions/ctrsh \
		$(DESTDIR)$(PREFIX)/share/zsh/site-functions/_ctrsh \
		$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/ctrsh.fish

# man rewrites ctrsh.1 from the help text the binary prints (a test checks they agree).
man:
	$(GO) test -count=1 -run '^TestManPageIsUpToDate$$' ./cmd/ctrsh -update-man

# test starts (or reuses) the private test engine and CRI runtime, runs every test against
# them, then fuzzes every Lua function for FUZZ_TEST_TIME (one target per go test -fuzz).
FUZZ_TEST_TIME ?= 60s
FUZZTIME ?= 10m
test: build engine cri
	. ./fixtures/engine.env && . ./fixtures/cri.env && $(GO) test -count=1 -timeout 40m ./...
	. ./fixtures/engine.env && . ./fixtures/cri.env && $(GO) test -run='^$$' -fuzz='^FuzzLua$$' -fuzztime=$(FUZZ_TEST_TIME) -fuzzminimizetime=10x ./bindings

# fuzz runs the Lua fuzz test longer (FUZZTIME); a failing input lands in
# bindings/testdata/fuzz/FuzzLua and then runs with every go test.
fuzz: engine cri
	. ./fixtures/engine.env && . ./fixtures/cri.env && $(GO) test -run='^$$' -fuzz='^FuzzLua$$' -fuzztime=$(FUZZTIME) -fuzzminimizetime=20x ./bindings

# engine starts the private Docker engine and the private Podman service (fixtures/podman.sh:
# the docker module is tested against Podman's Docker-compatible API too).
engine:
	./fixtures/engine.sh start
	./fixtures/podman.sh start
	./fixtures/engine.sh env > fixtures/engine.env
	./fixtures/podman.sh env >> fixtures/engine.env

engine-stop:
	./fixtures/engine.sh stop
	./fixtures/podman.sh stop

# cri starts (or reuses) the private containerd with its CRI plugin: a Kubernetes node's runtime.
cri:
	./fixtures/cri.sh start
	./fixtures/cri.sh env > fixtures/cri.env

cri-stop:
	./fixtures/cri.sh stop

# lint: vet, staticcheck, and no function over 80 lines of code outside tests (table data in
# composite literals does not count; internal/tools/funclen says how it measures).
lint:
	$(GO) mod tidy -diff
	$(GO) vet ./...
	GOARCH=arm64 $(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	$(GO) run ./internal/tools/funclen -max 80 .

run: build
	./$(BIN)

demo: build engine
	./fixtures/demo.sh ./$(BIN)

# bench compares ctrsh with the docker CLI on the private engine, each a whole process: the
# main table at N running containers, stats and pidmap at each N of CURVE; the table goes to
# the terminal and to bench.json. BENCH_FLAGS=-quick is a small run for development.
bench: build engine
	. ./fixtures/engine.env && $(GO) run ./cmd/ctrsh-bench $(if $(N),-n $(N)) $(if $(CURVE),-curve $(CURVE)) -ctrsh ./$(BIN) -json bench.json $(BENCH_FLAGS)
	. ./fixtures/engine.env && $(GO) test -run='^$$' -bench='^BenchmarkAbandonedStream$$' -benchtime=200x ./bindings

# bench-trace measures what tracing costs an exec-heavy container (README, Tracing).
bench-trace: engine
	. ./fixtures/engine.env && $(GO) test -run '^$$' -bench ExecTraced -benchtime 1x -count 1 ./bindings/trace

# bench-top measures the CPU one refresh of ctrsh top costs with TOP_N containers running
# (README, Performance); it starts and removes its own containers.
TOP_N ?= 100
bench-top: engine
	. ./fixtures/engine.env && CTRSH_BENCH_TOP_N=$(TOP_N) $(GO) test -run '^$$' -bench Refresh -benchtime 50x -count 1 ./bindings/top

# generate rebuilds the BPF objects of bindings/trace (needs clang and libbpf-dev);
# the generated Go and .o files are committed, so a build needs no clang.
generate:
	@command -v clang >/dev/null && test -f /usr/include/bpf/bpf_helpers.h || \
		{ echo "make generate needs clang and libbpf-dev: apt-get install clang libbpf-dev" >&2; exit 1; }
	$(GO) generate ./bindings/trace

# bench-journal runs the journal's Go benchmarks (insert rate, sampling N=100 containers on the
# private engine, a container's last day among 10 million rows; the 10M database is kept in /var/tmp).
bench-journal: engine
	. ./fixtures/engine.env && CTRSH_BENCH_DIR=/var/tmp $(GO) test -run '^$$' -timeout 30m \
		-bench 'SustainedInsert|InsertFlat|Sample100|LastDayOf10M' -benchtime 5x ./bindings/journal/

clean:
	rm -rf bin fixtures/engine.env fixtures/cri.env
