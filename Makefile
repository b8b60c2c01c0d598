# Cadre build. `make` builds bin/cadre-agent and bin/cadre-aggregator; `make test` installs
# missing Debian packages, builds and runs every test. V=1 shows commands, SANITIZE=1 builds
# with ASan + UBSan (into build/san and build/san/bin so plain objects are never mixed in).

SANITIZE ?= 0
ifeq ($(SANITIZE),1)
BUILD ?= build/san
BIN ?= build/san/bin
SANFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
OPT = -O1
else
BUILD ?= build
BIN ?= bin
SANFLAGS =
OPT = -O2
endif

CC ?= cc
PKGS = libprotobuf-c rocksdb libmicrohttpd libcurl inih jansson libzstd libisal gnutls libsystemd
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

# CPPFLAGS, CFLAGS and LDFLAGS from the environment or the command line reach every
# compile and link (a distribution's hardening flags, for one). Warnings are errors in
# development builds; a packager building with another compiler passes WERROR= .
CFLAGS ?= $(OPT) -g
WERROR ?= -Werror
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -Wall -Wextra $(WERROR) -MMD -MP $(SANFLAGS) \
	-I. -I$(BUILD)/proto $(PKG_CFLAGS) $(CPPFLAGS) $(CFLAGS)
LDLIBS = $(PKG_LIBS) -lcsv -lcrypto -lz -lsnappy -lm -lpthread
ALL_LDFLAGS = $(SANFLAGS) $(LDFLAGS)

ifeq ($(V),1)
Q =
else
Q = @
endif

# Every proto/*.proto is compiled by protoc-c into $(BUILD)/proto: cadre.proto (the wire,
# in the common library) and remote.proto (Prometheus remote_write, in the exporters).
PROTO_SRC = $(wildcard proto/*.proto)
PROTO_C = $(patsubst proto/%.proto,$(BUILD)/proto/%.pb-c.c,$(PROTO_SRC))
PROTO_H = $(PROTO_C:.c=.h)

COMMON_SRC = $(wildcard common/*.c)
AGENT_SRC = $(filter-out agent/main.c,$(wildcard agent/*.c))
AGG_SRC = $(filter-out aggregator/main.c,$(wildcard aggregator/*.c))
EXP_SRC = $(wildcard exporters/*.c)
GEN_SRC = $(wildcard tools/gen/*.c)
UNIT_SRC = $(wildcard tests/unit/*_test.c)
TOOL_SRC = $(wildcard tests/tools/*.c)

obj = $(patsubst %.c,$(BUILD)/%.o,$(1))
COMMON_OBJ = $(call obj,$(COMMON_SRC)) $(BUILD)/proto/cadre.pb-c.o
AGENT_OBJ = $(call obj,$(AGENT_SRC))
AGG_OBJ = $(call obj,$(AGG_SRC))
EXP_OBJ = $(call obj,$(EXP_SRC)) $(BUILD)/proto/remote.pb-c.o

LIB_COMMON = $(BUILD)/libcadre_common.a
LIB_AGENT = $(BUILD)/libcadre_agent.a
LIB_AGG = $(BUILD)/libcadre_aggregator.a
LIB_EXP = $(BUILD)/libcadre_exporters.a
LIBS_ALL = $(LIB_AGG) $(LIB_AGENT) $(LIB_EXP) $(LIB_COMMON)

UNIT_BIN = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
TOOL_BIN = $(patsubst tests/tools/%.c,$(BUILD)/tests/tools/%,$(TOOL_SRC))
PROGS = $(BIN)/cadre-agent $(BIN)/cadre-aggregator $(if $(GEN_SRC),$(BIN)/cadre-gen)

.SECONDARY:
.PHONY: all deps test check unit integration lint clean bench demo demo-stop fuzz install man deb
all: $(PROGS)

# `make install`: the two daemons, their example configs and the licence under
# $(DESTDIR)$(PREFIX) (cadre-gen, a test-data generator, is not installed).
PREFIX ?= /usr/local
DESTDIR ?=
install: $(BIN)/cadre-agent $(BIN)/cadre-aggregator man
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man8 \
		$(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/doc/cadre
	install -m 755 $(BIN)/cadre-agent $(BIN)/cadre-aggregator $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(BUILD)/man/cadre-agent.8 $(BUILD)/man/cadre-aggregator.8 \
		$(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 644 $(BUILD)/man/cadre.conf.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 644 LICENSE README.md $(DESTDIR)$(PREFIX)/share/doc/cadre/

# `make deb`: cadre-agent, cadre-aggregator and cadre-common .deb files in $(DEB_OUT),
# built in $(DEB_BUILD) with Debian's hardening flags (dpkg-buildflags) and without
# -Werror; DEB_VERSION overrides the version scripts/mkdeb.sh derives from git describe.
DEB_BUILD ?= build/deb
DEB_OUT ?= $(DEB_BUILD)/out
DEB_VERSION ?=
deb:
	$(Q)$(MAKE) --no-print-directory all man BUILD=$(DEB_BUILD) BIN=$(DEB_BUILD)/bin SANITIZE=0 \
		WERROR= CFLAGS="$$(dpkg-buildflags --get CFLAGS)" \
		CPPFLAGS="$$(dpkg-buildflags --get CPPFLAGS)" LDFLAGS="$$(dpkg-buildflags --get LDFLAGS)"
	$(Q)bash scripts/mkdeb.sh $(DEB_BUILD)/bin $(DEB_BUILD)/man $(DEB_OUT) $(DEB_VERSION)

# Man pages cadre-agent(8), cadre-aggregator(8), cadre.conf(5), made from the binaries'
# --help (the tables the config parsers read), into $(BUILD)/man.
man: $(BIN)/cadre-agent $(BIN)/cadre-aggregator scripts/mkman.sh
	$(Q)bash scripts/mkman.sh $(BIN) $(BUILD)/man

deps:
	$(Q)bash scripts/install-deps.sh

$(BUILD)/proto/%.pb-c.c $(BUILD)/proto/%.pb-c.h: proto/%.proto
	@mkdir -p $(BUILD)/proto
	@echo "  PROTOC  $<"
	$(Q)protoc-c --proto_path=proto --c_out=$(BUILD)/proto $<

$(BUILD)/proto/%.pb-c.o: $(BUILD)/proto/%.pb-c.c $(PROTO_H)
	@echo "  CC      $@"
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

# Every object may include the generated header.
$(BUILD)/%.o: %.c $(PROTO_H)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIB_COMMON): $(COMMON_OBJ)
$(LIB_AGENT): $(AGENT_OBJ)
$(LIB_AGG): $(AGG_OBJ)
$(LIB_EXP): $(EXP_OBJ)
$(BUILD)/lib%.a:
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(BIN)/cadre-agent: $(BUILD)/agent/main.o $(LIB_AGENT) $(LIB_COMMON)
	@mkdir -p $(BIN)
	@echo "  LINK    $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/cadre-aggregator: $(BUILD)/aggregator/main.o $(LIB_AGG) $(LIB_EXP) $(LIB_COMMON)
	@mkdir -p $(BIN)
	@echo "  LINK    $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/cadre-gen: $(call obj,$(GEN_SRC)) $(LIB_COMMON)
	@mkdir -p $(BIN)
	@echo "  LINK    $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)

# Each unit test links only its own layer's libraries, so a module that reaches up a layer
# (common into agent, exporters into aggregator, ...) fails to link in its test. The layer
# of tests/unit/NAME_test.c is found without a table to keep up to date:
#   1. the folder of the module NAME (common/NAME.c, agent/NAME.c, exporters/NAME.c or
#      aggregator/NAME.c): store_test is an aggregator test, checkpoint_test an agent one;
#   2. else a layer whose name starts NAME (agent_sources_test, common_test);
#   3. else the aggregator layer, the top one (export_test, kpi_families_test).
# A test that compares layers side by side on purpose says so with UNIT_LAYER_NAME = all
# (tokens_test: the agent's and the aggregator's readers of one token file).
LAYERS = common agent exporters aggregator
LAYER_LIBS_common = $(LIB_COMMON)
LAYER_LIBS_agent = $(LIB_AGENT) $(LIB_COMMON)
LAYER_LIBS_exporters = $(LIB_EXP) $(LIB_COMMON)
LAYER_LIBS_aggregator = $(LIB_AGG) $(LIB_EXP) $(LIB_COMMON)
LAYER_LIBS_all = $(LIBS_ALL)
UNIT_LAYER_tokens = all
unit_layer = $(or $(UNIT_LAYER_$(1)),$(firstword \
	$(foreach l,$(LAYERS),$(if $(wildcard $(l)/$(1).c),$(l))) \
	$(foreach l,$(LAYERS),$(if $(filter $(l) $(l)_%,$(1)),$(l))) aggregator))
unit_libs = $(LAYER_LIBS_$(call unit_layer,$(1)))

.SECONDEXPANSION:
$(BUILD)/tests/%_test: $(BUILD)/tests/unit/%_test.o $$(call unit_libs,$$*)
	@mkdir -p $(dir $@)
	@echo "  LINK    $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ -lcmocka $(LDLIBS)

# Helper programs the integration tests drive (stand-in servers and the like).
$(BUILD)/tests/tools/%: $(BUILD)/tests/tools/%.o $(LIBS_ALL)
	@mkdir -p $(dir $@)
	@echo "  LINK    $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)

# `make test` (alias `check`): packages, build, unit tests, then integration tests.
test: deps
	$(Q)$(MAKE) --no-print-directory all units
	$(Q)BIN=$(abspath $(BIN)) BUILD=$(abspath $(BUILD)) bash tests/run.sh

check: test

units: $(UNIT_BIN) $(TOOL_BIN)

lint:
	$(Q)clang-format --dry-run --Werror $(COMMON_SRC) $(AGENT_SRC) $(AGG_SRC) $(EXP_SRC) agent/main.c aggregator/main.c $(wildcard */*.h)
	$(Q)cppcheck --quiet --error-exitcode=1 --enable=warning,portability --inline-suppr \
		--suppress=missingIncludeSystem -I. common agent aggregator exporters

BENCH_BIN = $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/*.c))
$(BUILD)/bench/%: $(BUILD)/bench/%.o $(LIBS_ALL)
	@mkdir -p $(dir $@)
	@echo "  LINK    $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)

# `make bench`: figures for docs/BENCHMARKS.md (see bench/run.sh).
bench: deps
	$(Q)$(MAKE) --no-print-directory all $(BENCH_BIN)
	$(Q)BIN=$(abspath $(BIN)) BUILD=$(abspath $(BUILD)) bash bench/run.sh

# libFuzzer targets (clang): tests/fuzz/*_fuzz.c into build/fuzz/. FUZZ_SECONDS=N runs each.
fuzz:
	$(Q)bash tests/fuzz/build.sh

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)bash scripts/demo.sh start

demo-stop:
	$(Q)bash scripts/demo.sh stop

clean:
	rm -rf build bin

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
