# Entry points for people and CI. `make demo` and `make test` work on a fresh
# Debian 12 machine: both install the dependencies first.

BUILD_TYPE ?= release
BUILD_DIR := build/$(BUILD_TYPE)
CONFIG ?= config/demo.yaml
LISTEN ?= 127.0.0.1:8080
# ctest runs this many tests at once; the machines have 2 cores.
TEST_JOBS ?= 2

.PHONY: all deps build demo test test-asan test-tsan fuzz sanitizers clean bench soak

all: build

deps:
	scripts/install-deps.sh

build: deps
	cmake --preset $(BUILD_TYPE)
	cmake --build --preset $(BUILD_TYPE)
	ln -sf $(BUILD_TYPE)/tuilerie build/tuilerie

demo: build
	@echo "Serving config/demo.yaml; open http://$(LISTEN)/ (Ctrl-C stops it)"
	build/tuilerie serve --config $(CONFIG) --listen $(LISTEN)

test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(TEST_JOBS)

# The unit and integration tests under AddressSanitizer and UBSan.
test-asan: deps
	cmake --preset asan
	cmake --build --preset asan
	ctest --test-dir build/asan --output-on-failure -j $(TEST_JOBS)

# The cache and render pool tests under ThreadSanitizer.
test-tsan: deps
	cmake --preset tsan
	cmake --build --preset tsan
	ctest --test-dir build/tsan --output-on-failure -j $(TEST_JOBS) -L 'cache|concurrency'

# Every fuzz target for 10 minutes with clang's libFuzzer (fuzz/README.md).
fuzz: deps
	scripts/run-fuzzers.sh 600

# The AddressSanitizer and UBSan build with the unit, cache, MVT and integration tests, then the
# ThreadSanitizer build with the cache and concurrency tests; prints how long each step took.
sanitizers: deps
	scripts/run-sanitizers.sh

# Every benchmark of bench/ against nginx, Apache + mod_tile, renderd, ogr2ogr and geojson-vt, with
# the tables appended to docs/benchmarks.md; about 30 minutes on 2 cores with the 10-minute soak.
# Never part of `make test`.
bench: build
	scripts/install-deps.sh --bench
	TUILERIE_BIN=$(CURDIR)/$(BUILD_DIR)/tuilerie bench/run-all.sh

# The soak alone: SOAK_SECONDS (default 600) of mixed load at 256 connections.
soak: build
	scripts/install-deps.sh --bench
	TUILERIE_BIN=$(CURDIR)/$(BUILD_DIR)/tuilerie bench/soak.sh

clean:
	rm -rf build
