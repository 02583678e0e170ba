# Tern's entry points (README.md): `make run`, `make test`, `make build`.
# Every target installs what is missing first (scripts/install-deps.sh, Debian packages).

BUILD    ?= build
JOBS     ?= 2
DATA     ?= ./data
PYTHON   := /usr/bin/python3
# Clang, not GCC 12: GCC 12 destroys lambda and aggregate temporaries twice when they appear
# in a co_await expression (a use-after-free in any `co_await f([x = shared] {...})`), and the
# broker is written with C++20 coroutines throughout.
CXX      := clang++
CC       := clang
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo

.PHONY: all deps configure build run test unit fuzz integration bench clean format

all: build

deps:
	@scripts/install-deps.sh

configure: deps
	@if [ ! -f $(BUILD)/build.ninja ]; then \
	  cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS) -DCMAKE_C_COMPILER=$(CC) \
	    -DCMAKE_CXX_COMPILER=$(CXX) -DCMAKE_CXX_COMPILER_LAUNCHER=ccache; \
	fi

build: configure
	cmake --build $(BUILD) -j$(JOBS)

run: build
	mkdir -p $(DATA)
	$(BUILD)/tern serve --data $(DATA)

# Unit tests (ctest), bounded fuzzing, then integration tests with real clients.
test: build
	$(MAKE) --no-print-directory unit fuzz integration

unit:
	ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS)

fuzz: deps
	scripts/run-fuzz.sh

integration:
	TERN_BINARY=$(abspath $(BUILD))/tern $(PYTHON) -m pytest -q -p no:cacheprovider tests/integration

bench: build
	@echo "see bench/README.md"

format:
	clang-format -i $$(git ls-files '*.h' '*.cc')

clean:
	rm -rf $(BUILD) build-fuzz
