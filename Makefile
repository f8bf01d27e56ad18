# SPDX-License-Identifier: GPL-2.0-only
# vouch: `make` builds everything into .output/, `make test` runs every test.
# Quiet by default; `make V=1` prints full commands.

OUTPUT ?= .output
CLANG ?= clang
BPFTOOL ?= bpftool
CC ?= gcc
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SYSCONFDIR ?= /etc
DESTDIR ?=
VERSION := $(shell cat VERSION)

ARCH := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux

PKGS := libbpf yaml-0.1 jansson libprotobuf-c libcurl libmicrohttpd sqlite3 libcrypto \
	gnutls libsystemd
CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow \
	-Wstrict-prototypes -Wmissing-prototypes
ALL_CFLAGS := $(CFLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE \
	-DVOUCH_VERSION='"$(VERSION)"' -Iinclude -Iagent -Itools/collector \
	-I$(OUTPUT) -I$(OUTPUT)/proto -MMD -MP
LDLIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lelf -lz
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
	-Iinclude -I$(OUTPUT) -MMD -MP

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

# Agent modules; main.o is vouchd's alone, the rest are shared with tools
# and unit tests.
AGENT_SRCS := $(filter-out agent/main.c,$(wildcard agent/*.c))
AGENT_OBJS := $(patsubst %.c,$(OUTPUT)/%.o,$(AGENT_SRCS)) \
	$(OUTPUT)/proto/vouch.pb-c.o
# The collector's modules; main.c is vouch-collector's alone.
COLLECTOR_SRCS := $(filter-out tools/collector/main.c,\
	$(wildcard tools/collector/*.c))
COLLECTOR_OBJS := $(patsubst %.c,$(OUTPUT)/%.o,$(COLLECTOR_SRCS))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(UNIT_SRCS))

BINS := $(OUTPUT)/vouchd $(OUTPUT)/vouchctl $(OUTPUT)/vouch-trigger \
	$(OUTPUT)/vouch-floor $(OUTPUT)/vouch-collector $(OUTPUT)/vouch-batch \
	$(OUTPUT)/vouch-connect

.PHONY: all clean deps test unit e2e vmtest run bench fuzz install uninstall deb
all: $(BINS)

$(OUTPUT) $(OUTPUT)/agent $(OUTPUT)/bpf $(OUTPUT)/tools $(OUTPUT)/tests \
$(OUTPUT)/proto $(OUTPUT)/tools/collector:
	$(Q)mkdir -p $@

# The event protobuf, compiled with protoc-c for vouchd, the collector and
# vouchctl alike.
$(OUTPUT)/proto/vouch.pb-c.c $(OUTPUT)/proto/vouch.pb-c.h &: include/vouch.proto | $(OUTPUT)/proto
	$(call msg,PROTOC,$@)
	$(Q)protoc-c --proto_path=include --c_out=$(OUTPUT)/proto $<

$(OUTPUT)/proto/vouch.pb-c.o: $(OUTPUT)/proto/vouch.pb-c.c
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -I$(OUTPUT)/proto -c $< -o $@

$(OUTPUT)/vmlinux.h: | $(OUTPUT)
	$(call msg,BTF,$@)
	$(Q)$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@.tmp && mv $@.tmp $@

$(OUTPUT)/bpf/%.bpf.o: bpf/%.bpf.c $(OUTPUT)/vmlinux.h | $(OUTPUT)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUTPUT)/%.skel.h: $(OUTPUT)/bpf/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@.tmp && mv $@.tmp $@

# Generated headers come first; -MMD records the rest.
GENERATED := $(OUTPUT)/vouch.skel.h $(OUTPUT)/egress.skel.h \
	$(OUTPUT)/floor.skel.h \
	$(OUTPUT)/proto/vouch.pb-c.h

$(OUTPUT)/agent/%.o: agent/%.c | $(OUTPUT)/agent $(GENERATED)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(OUTPUT)/tools/%.o: tools/%.c | $(OUTPUT)/tools $(GENERATED)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(OUTPUT)/tools/collector/%.o: tools/collector/%.c | $(OUTPUT)/tools/collector $(GENERATED)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(OUTPUT)/vouchd: $(OUTPUT)/agent/main.o $(AGENT_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(OUTPUT)/vouch-collector: $(OUTPUT)/tools/collector/main.o \
		$(COLLECTOR_OBJS) $(AGENT_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(OUTPUT)/vouchctl: $(OUTPUT)/tools/vouchctl.o $(OUTPUT)/tools/vouchctl-events.o \
		$(OUTPUT)/tools/vouchctl-attest.o $(OUTPUT)/tools/vouchctl-status.o \
		$(AGENT_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(OUTPUT)/vouch-trigger: $(OUTPUT)/tools/vouch-trigger.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@

$(OUTPUT)/vouch-connect: $(OUTPUT)/tools/vouch-connect.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ -luring -lpthread -o $@

$(OUTPUT)/vouch-batch: $(OUTPUT)/tools/vouch-batch.o $(OUTPUT)/proto/vouch.pb-c.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(OUTPUT)/vouch-floor: $(OUTPUT)/tools/vouch-floor.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(OUTPUT)/tests/%.o: tests/unit/%.c | $(OUTPUT)/tests $(GENERATED)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(OUTPUT)/tests/test_%: $(OUTPUT)/tests/test_%.o $(AGENT_OBJS) \
		$(COLLECTOR_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -lcriterion -o $@

# Installs every Debian package the build, the tests and `make run` need,
# and only when one is missing. Node.js and npm (for the protobufjs interop
# test) are taken as they are when present, whatever their origin.
DEB_PKGS := make gcc clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev \
	libyaml-dev libjansson-dev libcriterion-dev pkg-config jq procps \
	util-linux coreutils protobuf-c-compiler libprotobuf-c-dev \
	libcurl4-openssl-dev libmicrohttpd-dev libsqlite3-dev sqlite3 openssl \
	libgnutls28-dev curl runc bpftrace iproute2 libssl-dev libsystemd-dev \
	dpkg-dev systemd qemu-system-x86 busybox-static cpio kmod bc liburing-dev \
	binutils groff-base man-db socat
deps:
	$(Q)missing=$$(for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
		grep -q '^install ok installed' || echo $$p; done); \
	command -v npm > /dev/null || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
		echo "  DEPS     installing:" $$missing; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q --no-install-recommends $$missing; \
	fi

unit: $(UNIT_BINS)
	$(Q)tests/run-unit.sh $(UNIT_BINS)

e2e: $(BINS)
	$(Q)tests/e2e/run.sh

test: deps
	$(Q)$(MAKE) --no-print-directory all $(UNIT_BINS)
	$(Q)tests/run-all.sh

run: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tools/run-demo.sh

bench: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tests/bench/compare.sh
	$(Q)tests/bench/scale.sh
	$(Q)tests/bench/connect.sh
	$(Q)tests/bench/pipeline.sh
	$(Q)tests/bench/container.sh

# The end-to-end tests under qemu on Debian 12's 6.1 kernel with BPF LSM.
vmtest: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tests/vm/run.sh

# Fuzz targets for the parsers of outside input, built with clang's
# libFuzzer and sanitizers; `make fuzz` runs each for FUZZ_SECONDS.
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all -std=gnu11 -D_GNU_SOURCE -Iinclude -Iagent \
	-Itools/collector -I$(OUTPUT)/proto
FUZZ_TARGETS := $(OUTPUT)/fuzz/fuzz_yamltree $(OUTPUT)/fuzz/fuzz_batch \
	$(OUTPUT)/fuzz/fuzz_attest $(OUTPUT)/fuzz/fuzz_egress \
	$(OUTPUT)/fuzz/fuzz_k8s

$(OUTPUT)/fuzz/fuzz_yamltree: tests/fuzz/fuzz_yamltree.c agent/yamltree.c \
		agent/diag.c
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D) && $(CLANG) $(FUZZ_CFLAGS) $^ -lyaml -o $@

$(OUTPUT)/fuzz/fuzz_egress: tests/fuzz/fuzz_egress.c agent/egress.c \
		agent/yamltree.c agent/diag.c
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D) && $(CLANG) $(FUZZ_CFLAGS) $^ -lyaml -o $@

$(OUTPUT)/fuzz/fuzz_batch: tests/fuzz/fuzz_batch.c \
		tools/collector/collector_validate.c \
		tools/collector/collector_time.c $(OUTPUT)/proto/vouch.pb-c.c
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D) && $(CLANG) $(FUZZ_CFLAGS) $^ -lprotobuf-c -o $@

$(OUTPUT)/fuzz/fuzz_attest: tests/fuzz/fuzz_attest.c agent/attest.c \
		agent/statement.c agent/jcheck.c agent/dsse.c agent/trust.c \
		agent/utc.c agent/allowlist.c agent/yamltree.c agent/diag.c \
		agent/fspath.c
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D) && $(CLANG) $(FUZZ_CFLAGS) $^ -ljansson -lcrypto -lyaml -o $@

$(OUTPUT)/fuzz/fuzz_k8s: tests/fuzz/fuzz_k8s.c agent/k8s.c agent/k8s_pod.c \
		agent/k8s_config.c agent/log.c agent/utf8.c agent/yamltree.c \
		agent/diag.c
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D) && $(CLANG) $(FUZZ_CFLAGS) \
		-DVOUCH_VERSION='"$(VERSION)"' $^ -ljansson -lcurl -lyaml -lbpf -o $@

fuzz: deps $(FUZZ_TARGETS)
	$(Q)for t in $(FUZZ_TARGETS); do \
		mkdir -p $$t.corpus && \
		$$t -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
			-rss_limit_mb=1024 $$t.corpus || exit 1; \
	done

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SYSCONFDIR)/vouch
	install -m 0755 $(OUTPUT)/vouchd $(OUTPUT)/vouchctl $(DESTDIR)$(BINDIR)/
	install -m 0644 rules/example.yaml $(DESTDIR)$(SYSCONFDIR)/vouch/rules.yaml
	install -m 0644 packaging/vouchd.yaml $(DESTDIR)$(SYSCONFDIR)/vouch/vouchd.yaml

# A .deb of the binaries, the systemd unit, the configuration, the example
# rules and the man pages (packaging/deb/build.sh).
deb: all
	$(call msg,DEB,$(OUTPUT)/vouch_$(VERSION)_$(shell dpkg --print-architecture).deb)
	$(Q)packaging/deb/build.sh $(OUTPUT) $(VERSION) > /dev/null

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/vouchd $(DESTDIR)$(BINDIR)/vouchctl
	rm -f $(DESTDIR)$(SYSCONFDIR)/vouch/rules.yaml
	rm -f $(DESTDIR)$(SYSCONFDIR)/vouch/vouchd.yaml
	-rmdir $(DESTDIR)$(SYSCONFDIR)/vouch 2>/dev/null

clean:
	$(call msg,CLEAN,$(OUTPUT))
	$(Q)rm -rf $(OUTPUT)

-include $(wildcard $(OUTPUT)/agent/*.d $(OUTPUT)/tools/*.d \
	$(OUTPUT)/tools/collector/*.d $(OUTPUT)/tests/*.d $(OUTPUT)/bpf/*.d)

.DELETE_ON_ERROR:
.SECONDARY:
