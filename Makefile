# Boxoffice build. `make` builds build/boxoffice; `make check` builds the
# sanitizer variant and runs every test on SQLite and on PostgreSQL.
CC      ?= cc
PKGS    := libmicrohttpd jansson sqlite3 libpq libsodium libcurl glib-2.0 libqrencode zlib
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
WARN    := -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wstrict-prototypes
BASE_CFLAGS := -std=c17 -D_GNU_SOURCE $(WARN) -Isrc $(PKG_CFLAGS) -pthread
CFLAGS  ?= -O2 -g
SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
# libhpdf (e-ticket PDFs) ships no pkg-config file.
LDLIBS  := $(PKG_LIBS) -lhpdf -pthread -lm

# docs/openapi.json, served at GET /admin/v1/openapi.json, is compiled in (rule below).
GEN_SRC  := build/gen/openapi_json.c
# The Convious pricing browser library, made from web/analytics/ (web/analytics/build.sh).
GEN_SRC  += build/gen/analytics_js.c
SRC      := $(shell find src -name '*.c' | sort) $(GEN_SRC)
LIB_SRC  := $(filter-out src/main.c,$(SRC))
OBJ      := $(SRC:%.c=build/obj/%.o)
SAN_OBJ  := $(SRC:%.c=build/san/%.o)
SAN_LIB_OBJ := $(LIB_SRC:%.c=build/san/%.o)
UNIT_SRC := $(sort $(wildcard tests/unit/*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=build/san/tests/%)
BENCH_SRC := $(sort $(wildcard bench/*.c))
BENCH_BIN := $(BENCH_SRC:bench/%.c=build/bench/%)
LIB_OBJ  := $(LIB_SRC:%.c=build/obj/%.o)
# libFuzzer targets (fuzz/*.c, docs/DEVELOPING.md "Fuzzing"): clang builds its
# own instrumented archive of the same sources.
FUZZ_CC  ?= clang
# -Wno-shadow: clang's -Wshadow also flags parameters named like libc's
# globals (timezone), which gcc, the compiler of record, accepts.
FUZZ_CFLAGS := $(BASE_CFLAGS) -Wno-shadow -O1 -g
FUZZ_SAN := -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=build/fuzz/%.o)
FUZZ_SRC := $(sort $(wildcard fuzz/*.c))
FUZZ_BIN := $(FUZZ_SRC:fuzz/%.c=build/fuzz/bin/%)
FUZZ_SECONDS ?= 60

DB ?= sqlite:var/boxoffice.db

.PHONY: all run check deps clean bench unit-bins soak fuzz fuzz-bins
all: build/boxoffice

# od and sed rather than xxd: coreutils are everywhere. NUL-terminated.
build/gen/openapi_json.c: docs/openapi.json
	@mkdir -p $(dir $@)
	@echo GEN $@
	@{ echo '/* generated from $< by the Makefile; do not edit */'; \
	  echo 'const unsigned char openapi_json[] = {'; \
	  od -An -v -tx1 $< | sed -e 's/ \([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	  echo '0x00};'; \
	  echo 'const unsigned long openapi_json_len = sizeof openapi_json - 1;'; } > $@.tmp && mv $@.tmp $@

build/gen/analytics_js.c: web/analytics/analytics.js web/analytics/build.sh
	@echo GEN $@
	@web/analytics/build.sh $< $(dir $@)

build/boxoffice: $(OBJ)
	@echo LINK $@
	@$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

build/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo CC $<
	@$(CC) $(BASE_CFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

build/san/%.o: %.c
	@mkdir -p $(dir $@)
	@echo CC-SAN $<
	@$(CC) $(BASE_CFLAGS) -O1 -g $(SAN) -MMD -MP -c -o $@ $<

build/san/boxoffice: $(SAN_OBJ)
	@echo LINK $@
	@$(CC) $(SAN) -o $@ $^ $(LDLIBS)

# Tests and benchmarks link against archives, so each pulls in only the
# modules it uses.
build/san/libboxoffice.a: $(SAN_LIB_OBJ)
	@rm -f $@
	@ar rcs $@ $^

build/obj/libboxoffice.a: $(LIB_OBJ)
	@rm -f $@
	@ar rcs $@ $^

build/san/tests/%: tests/unit/%.c $(wildcard tests/unit/*.h) build/san/libboxoffice.a
	@mkdir -p $(dir $@)
	@echo LINK $@
	@$(CC) $(BASE_CFLAGS) -Itests -O1 -g $(SAN) -o $@ $< build/san/libboxoffice.a $(LDLIBS)

build/bench/%: bench/%.c $(wildcard bench/*.h) build/obj/libboxoffice.a
	@mkdir -p $(dir $@)
	@echo LINK $@
	@$(CC) $(BASE_CFLAGS) $(CFLAGS) -o $@ $< build/obj/libboxoffice.a $(LDLIBS)

unit-bins: build/san/boxoffice $(UNIT_BIN)

build/fuzz/%.o: %.c
	@mkdir -p $(dir $@)
	@echo CC-FUZZ $<
	@$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -MMD -MP -c -o $@ $<

build/fuzz/libboxoffice.a: $(FUZZ_LIB_OBJ)
	@rm -f $@
	@ar rcs $@ $^

build/fuzz/bin/%: fuzz/%.c $(wildcard fuzz/*.h) build/fuzz/libboxoffice.a
	@mkdir -p $(dir $@)
	@echo LINK $@
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -Ifuzz $(subst fuzzer-no-link,fuzzer,$(FUZZ_SAN)) -o $@ $< \
	    build/fuzz/libboxoffice.a $(LDLIBS)

fuzz-bins: $(FUZZ_BIN)

# Every target for FUZZ_SECONDS each, from its committed seeds; a crash fails.
fuzz: fuzz-bins
	@FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh

deps:
	@scripts/deps.sh

# Long: 10 minutes of mixed traffic on a release build (SOAK_SECONDS to change);
# fails if memory keeps growing or p99 drifts beyond 2x. Not part of `make check`.
soak: build/boxoffice
	@scripts/deps.sh test
	@python3 tests/soak/soak.py build/boxoffice $${SOAK_SECONDS:-600}

run: deps
	@$(MAKE) --no-print-directory build/boxoffice
	@mkdir -p var
	build/boxoffice migrate --db $(DB)
	build/boxoffice demo --db $(DB)
	build/boxoffice serve --db $(DB) --listen 127.0.0.1:8080

check:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory -j2 unit-bins fuzz-bins
	@scripts/check.sh

bench: $(BENCH_BIN) build/boxoffice
	@scripts/deps.sh bench
	@bench/run.sh

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
