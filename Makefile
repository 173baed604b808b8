# iotrace - build, dependencies, tests and benchmarks.
#
#   sudo make run     install dependencies, build, run `iotrace run md5dir` on a generated dataset
#   sudo make test    install dependencies, build, run every test
#   make bench        overhead and speed ratios (root)
#   make install      PREFIX=/usr/local DESTDIR=

PREFIX ?= /usr/local
DESTDIR ?=
SANITIZE ?= 0
V ?= 0

ifeq ($(SANITIZE),1)
BUILD := build-san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all
else
BUILD := build
SANFLAGS :=
endif

CC := gcc
CLANG ?= clang
BPFTOOL ?= bpftool
ARCH := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')

VERSION := $(shell git describe --always --dirty 2>/dev/null || echo 0.1)

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer \
	  -MMD -MP -D_GNU_SOURCE -DIOTRACE_VERSION='"$(VERSION)"' \
	  -I$(BUILD) -Iuser -Ibpf -Iworkloads -Ireports $(SANFLAGS)
LDFLAGS += $(SANFLAGS)
LDLIBS := -lbpf -lelf -lz -luv -luring -lcrypto -ldw -ljansson -lpthread -lm

BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -I$(BUILD) -Ibpf -Iuser -Wall -Werror

# Debian packages needed to build, test and run (make deps installs what is missing).
DEB_PKGS := clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libuv1-dev libssl-dev \
	    liburing-dev libdw-dev libcmocka-dev libjansson-dev pkg-config make gcc python3 libxml2-utils curl \
	    coreutils util-linux procps fio nodejs chromium groff-base libc6-dbg

USER_SRCS := $(wildcard user/*/*.c) $(wildcard workloads/*.c) $(wildcard reports/*.c)
USER_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(USER_SRCS))
# everything but main() links into the unit tests
LIB_OBJS := $(filter-out $(BUILD)/user/cli/main.o,$(USER_OBJS))
TEST_SRCS := $(wildcard tests/unit/test_*.c)
TEST_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(TEST_SRCS))
BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(BUILD)/%.bpf.o,$(BPF_SRCS))
SKELS := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))

ifeq ($(V),1)
Q :=
else
Q := @
endif

.PHONY: all deps run test unit integration bench stress fuzz install clean check-root

# a sanitizer build stays in build-san: ./iotrace is always the plain one
all: $(if $(filter 1,$(SANITIZE)),$(BUILD)/iotrace,iotrace)

iotrace: $(BUILD)/iotrace
	$(Q)cp $< $@

$(BUILD)/iotrace: $(USER_OBJS)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/vmlinux.h:
	@mkdir -p $(dir $@)
	@echo "  GEN     $@"
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

$(BUILD)/%.bpf.o: bpf/%.bpf.c bpf/iotrace.h user/model/states.h $(BUILD)/vmlinux.h
	@echo "  BPF     $@"
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	@echo "  SKEL    $@"
	$(Q)$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

# user objects may include the skeleton: build it first
$(BUILD)/%.o: %.c | $(SKELS)
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJS)
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB_OBJS) $(LDLIBS) -lcmocka

# tests/progs: the tracer's test helpers (a known workload; a driver of the tracer alone)
PROGS := $(BUILD)/tests/progs/tracer_work $(BUILD)/tests/progs/tracer_drv $(BUILD)/tests/progs/waits_work

.PHONY: progs
progs: $(PROGS)

$(BUILD)/tests/progs/tracer_work: tests/progs/tracer_work.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< -lpthread

$(BUILD)/tests/progs/waits_work: tests/progs/waits_work.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< -lpthread

TIMELINE_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(wildcard user/model/timeline*.c))

$(BUILD)/tests/progs/tracer_drv: tests/progs/tracer_drv.c $(BUILD)/user/trace/tracer.o $(BUILD)/user/trace/ucopy.o $(BUILD)/user/trace/ring.o $(TIMELINE_OBJS) $(BUILD)/user/model/waits.o
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/user/trace/tracer.o $(BUILD)/user/trace/ucopy.o $(BUILD)/user/trace/ring.o $(TIMELINE_OBJS) $(BUILD)/user/model/waits.o -lbpf -lelf -lz

# tests/bench: make bench's drivers and the stress tests' helper (linked against everything but main.o)
BENCH_BINS := $(patsubst tests/bench/%.c,$(BUILD)/tests/bench/%,$(filter-out %.bpf.c,$(wildcard tests/bench/*.c)))

.PHONY: benchprogs
benchprogs: $(BENCH_BINS)

$(BUILD)/tests/bench/%: tests/bench/%.c $(LIB_OBJS)
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB_OBJS) $(LDLIBS)

# the floor: empty programs on sys_enter/sys_exit, what observing syscalls costs at all
$(BUILD)/tests/bench/floor.bpf.o: tests/bench/floor.bpf.c $(BUILD)/vmlinux.h
	@mkdir -p $(dir $@)
	@echo "  BPF     $@"
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/tests/bench/floor.skel.h: $(BUILD)/tests/bench/floor.bpf.o
	@echo "  SKEL    $@"
	$(Q)$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

$(BUILD)/tests/bench/floor: tests/bench/floor.c $(BUILD)/tests/bench/floor.skel.h
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS) -I$(BUILD)/tests/bench $(LDFLAGS) -o $@ $< -lbpf -lelf -lz

# tests/fuzz: libFuzzer targets (clang) on every parser of outside input, FUZZ_SECS each in
# make fuzz, and their corpora (seeds, inputs that once crashed) replayed by make test as
# $(BUILD)/tests/test_fuzz_NAME, built with gcc against the same objects as the unit tests
FUZZ_SECS ?= 60
FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(patsubst %,build-fuzz/fuzz_%,$(FUZZ_NAMES))
FUZZ_OBJS := $(patsubst %.c,build-fuzz/%.o,$(filter-out user/cli/main.c,$(USER_SRCS)))
FUZZ_CFLAGS := -g -O1 -std=gnu11 -Wall -fno-omit-frame-pointer -D_GNU_SOURCE \
	       -DIOTRACE_VERSION='"$(VERSION)"' -Ibuild -Iuser -Ibpf -Iworkloads -Ireports -Itests/fuzz \
	       -fsanitize=address,undefined -fno-sanitize-recover=undefined
REPLAY_BINS := $(patsubst %,$(BUILD)/tests/test_fuzz_%,$(FUZZ_NAMES))

unit: $(REPLAY_BINS)

$(BUILD)/tests/test_fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c tests/fuzz/fuzz.h $(LIB_OBJS)
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -Itests/fuzz -DFUZZ_NAME='"$*"' -Wl,--wrap=fopen -o $@ $< \
		tests/fuzz/replay.c $(LIB_OBJS) $(LDLIBS) -lcmocka

build-fuzz/%.o: %.c build/iotrace.skel.h
	@mkdir -p $(dir $@)
	@echo "  CLANG   $@"
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_OBJS)
	@echo "  FUZZER  $@"
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer -Wl,--wrap=fopen -o $@ $< $(FUZZ_OBJS) $(LDLIBS)

fuzz: deps
	$(MAKE) all
	$(MAKE) $(FUZZ_BINS)
	tests/fuzz/run.sh $(FUZZ_SECS) $(FUZZ_NAMES)

# Idempotent: installs only the packages that are missing; a no-op otherwise.
deps:
	@missing=""; for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" != 0 ]; then echo "make deps: missing packages:$$missing; run as root (sudo make deps)" >&2; exit 1; fi; \
		echo "  DEPS    installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null || exit 1; \
	fi
	@[ ! -f tests/js/Makefile ] || $(MAKE) -s -C tests/js deps

run: deps
	$(MAKE) all
	./iotrace run md5dir

unit: $(TEST_BINS)

# TEST_SUITE=unit runs the cmocka binaries (fuzz corpora included) without loading probes
TEST_SUITE ?= all
test: deps
	$(MAKE) all unit
	@tests/run-tests.sh $(BUILD) $(TEST_SUITE)

bench: deps
	$(MAKE) all benchprogs
	tests/bench.sh $(BUILD)

stress: deps
	$(MAKE) all
	IOTRACE_STRESS=full tests/run-tests.sh $(BUILD) stress

# INSTALL_BIN: the binary to install (the tests install a sanitized build's into a DESTDIR)
INSTALL_BIN ?= iotrace
install: $(INSTALL_BIN)
	install -D -m 0755 $(INSTALL_BIN) $(DESTDIR)$(PREFIX)/sbin/iotrace
	install -D -m 0644 docs/iotrace.8 $(DESTDIR)$(PREFIX)/share/man/man8/iotrace.8
	install -D -m 0644 scripts/completion/iotrace.bash \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/iotrace
	install -D -m 0644 README.md $(DESTDIR)$(PREFIX)/share/doc/iotrace/README.md

clean:
	rm -rf build build-san build-fuzz iotrace

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
