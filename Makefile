# srv: developer entry points. Each target installs the Debian packages it
# needs (Debian 12, as root or with sudo), then configures and builds.
#
#   make run          build and serve the example Flask site on http://127.0.0.1:8080
#   make test         build and run every test (unit + black-box)
#   make test-asan    the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   make test-tsan    the same under ThreadSanitizer
#   make fuzz-smoke   build the fuzzers and run each for FUZZ_SECONDS
#   make win win-test cross-compile srv.exe and test it under wine
#   make lint         formatting, portability rules, headers, docs
#   make docs         regenerate docs/config.md from the key table
#   make bench        the side-by-side benchmark (bench/README.md);
#                     BENCH_ARGS="--profile full" for every server and app

JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 60
# Every libFuzzer target: one tests/fuzz/fuzz_NAME.c each.
FUZZ_TARGETS = $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
BUILD ?= build
SRV_ARGS ?= --chdir examples/site app:app -b 127.0.0.1:8080 --static /static=static

.PHONY: deps build run test test-asan test-tsan fuzz-smoke win win-test lint docs bench clean

deps:
	@.ci/install-deps base

build: deps
	cmake -S . -B $(BUILD) -DSRV_WERROR=ON
	cmake --build $(BUILD) -j$(JOBS)

run: build
	$(BUILD)/service/srv $(SRV_ARGS)

test: build
	ctest --test-dir $(BUILD) --output-on-failure

test-asan: deps
	cmake -S . -B build-asan -DSRV_WERROR=ON -DSRV_SANITIZE=address,undefined -DCMAKE_BUILD_TYPE=Debug
	cmake --build build-asan -j$(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	    LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp SRV_TEST_SANITIZER=address \
	    ctest --test-dir build-asan --output-on-failure

test-tsan: deps
	@.ci/install-deps clang
	cmake -S . -B build-tsan -DSRV_WERROR=ON -DSRV_SANITIZE=thread -DCMAKE_BUILD_TYPE=Debug \
	    -DCMAKE_C_COMPILER=clang
	cmake --build build-tsan -j$(JOBS)
	# The black-box suite: the threads are there. (Criterion cannot map its
	# arena under TSan, and the unit tests are single-threaded anyway.)
	SRV_TEST_SANITIZER=thread ctest --test-dir build-tsan --output-on-failure -L blackbox

fuzz-smoke: deps
	@.ci/install-deps clang
	cmake -S . -B build-fuzz -DSRV_FUZZ=ON -DCMAKE_C_COMPILER=clang -DSRV_BUILD_TESTS=OFF
	cmake --build build-fuzz -j$(JOBS) --target $(addprefix fuzz_,$(FUZZ_TARGETS))
	for t in $(FUZZ_TARGETS); do \
	    mkdir -p build-fuzz/work/$$t && \
	    build-fuzz/tests/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
	        -dict=tests/fuzz/http.dict -artifact_prefix=build-fuzz/ \
	        build-fuzz/work/$$t tests/fuzz/corpus/$$t || exit 1; \
	done

win: deps
	@.ci/install-deps win
	cmake/win/build-deps.sh build-win-deps
	cmake -S . -B build-win -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-mingw64.cmake \
	    -DCMAKE_PREFIX_PATH=$(CURDIR)/build-win-deps/prefix -DSRV_BUILD_TESTS=OFF -DSRV_WERROR=ON
	cmake --build build-win -j$(JOBS)

win-test: win
	.ci/wine-test build-win

lint: build
	@.ci/install-deps lint
	.ci/lint $(BUILD)

docs: build
	$(BUILD)/service/srv --help-markdown > docs/config.md

bench: build
	@.ci/install-deps bench
	bench/compare $(BENCH_ARGS)

clean:
	rm -rf build build-asan build-tsan build-fuzz build-win build-win-deps
