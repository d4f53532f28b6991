# leafnet — one non-recursive GNU Makefile.
#   make            build every binary into $(BUILD)/bin
#   make SAN=1      the same with AddressSanitizer + UBSan (into build-san/)
#   make check      unit tests (no root needed)
#   make test       everything: unit tests, then the network-namespace tests
#                   (root), plain and under ASan/UBSan; last line "N passed, N failed"
#   make bench      side-by-side benchmarks (root)
#   make V=1        show the commands

CC      ?= gcc
SAN     ?= 0
ifeq ($(SAN),1)
BUILD   ?= build-san
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD   ?= build
SANFLAGS =
endif

PKGS     = libmnl libcjson
# libcurl: headers only.  The etcd store dlopen()s libcurl.so.4 when it is
# used (lib/store_etcd_http.c says why), so no binary links it.
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) libcurl 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lmnl -lcjson)

CFLAGS  ?= -O2 -g
CFLAGS  += -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -MMD -MP \
           -Ilib -Iipam -Icni -Irouting -Idockerplugin $(PKG_CFLAGS) $(SANFLAGS)
LDFLAGS += $(SANFLAGS)
LDLIBS  += $(PKG_LIBS)

ifeq ($(V),1)
Q =
else
Q = @
endif

LIB_SRCS   := $(wildcard lib/*.c ipam/*.c)
CNI_MAINS  := cni/main_leafnet.c cni/main_ipam.c
CNI_SRCS   := $(filter-out $(CNI_MAINS),$(wildcard cni/*.c))
NETCTL_SRCS:= $(wildcard netctl/*.c)
DOCKER_MAIN:= dockerplugin/main.c
DOCKER_SRCS:= $(filter-out $(DOCKER_MAIN),$(wildcard dockerplugin/*.c))
# libmicrohttpd: only leafnet-docker's HTTP side uses it
MHD_CFLAGS := $(shell pkg-config --cflags libmicrohttpd 2>/dev/null)
MHD_LIBS   := $(shell pkg-config --libs libmicrohttpd 2>/dev/null || echo -lmicrohttpd)
# libnftables: only leafnetd's outbound NAT (routing/nat.c) uses it
NFT_CFLAGS := $(shell pkg-config --cflags libnftables 2>/dev/null)
NFT_LIBS   := $(shell pkg-config --libs libnftables 2>/dev/null || echo -lnftables)
ROUTING_MAIN:= routing/main.c
ROUTING_SRCS:= $(filter-out $(ROUTING_MAIN),$(wildcard routing/*.c))
FUZZ_SRCS  := $(wildcard tests/fuzz/fuzz_*.c)
UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
BENCH_SRCS := $(wildcard bench/*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIB     := $(BUILD)/libleafnet.a
CNILIB  := $(BUILD)/libcni.a
ROUTELIB:= $(BUILD)/librouting.a
DOCKERLIB:= $(BUILD)/libdocker.a
BINS    := $(BUILD)/bin/leafnet $(BUILD)/bin/leafnet-ipam $(BUILD)/bin/netctl \
           $(if $(wildcard routing/main.c),$(BUILD)/bin/leafnetd) \
           $(if $(wildcard $(DOCKER_MAIN)),$(BUILD)/bin/leafnet-docker)
UNITS   := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
BENCHES := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))

all: $(BINS) $(UNITS) $(BENCHES)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(LIB): $(call obj,$(LIB_SRCS))
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(CNILIB): $(call obj,$(CNI_SRCS))
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(ROUTELIB): $(call obj,$(ROUTING_SRCS))
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(DOCKERLIB): $(call obj,$(DOCKER_SRCS))
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/obj/dockerplugin/%.o: CFLAGS += $(MHD_CFLAGS)

$(BUILD)/bin/leafnet-docker: $(call obj,$(DOCKER_MAIN)) $(DOCKERLIB) $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(MHD_LIBS) $(LDLIBS)

$(BUILD)/bin/leafnet: $(call obj,cni/main_leafnet.c $(CNI_SRCS)) $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bin/leafnet-ipam: $(call obj,cni/main_ipam.c $(CNI_SRCS)) $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bin/netctl: $(call obj,$(NETCTL_SRCS)) $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/obj/routing/nat.o: CFLAGS += $(NFT_CFLAGS)
$(BUILD)/bin/leafnetd: LDLIBS += $(NFT_LIBS)

# Unit tests link the module archives; only the objects they use are pulled in.
$(BUILD)/bin/leafnetd: $(call obj,routing/main.c) $(ROUTELIB) $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(CNILIB) $(ROUTELIB) $(DOCKERLIB) $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(NFT_LIBS) -lcmocka

$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lm

check: $(UNITS)
	@tests/run --unit-only --build $(BUILD)

test:
	@tests/run

# Rewrite tests/golden/leafnetd/*.ok from the current leafnetd -n (root:
# leafnetd runs under unshare -n).  Review `git diff tests/golden` after.
golden-update: $(BUILD)/bin/leafnetd $(BUILD)/bin/netctl
	@LEAFNET_BIN=$(CURDIR)/$(BUILD)/bin GOLDEN_UPDATE=1 bash tests/netns/test_golden.sh

check-netns: $(BINS)
	@tests/run --netns-only --build $(BUILD)

bench: all
	@bench/run --build $(BUILD)

clean:
	rm -rf build build-san

# ---- fuzzing (clang + libFuzzer) ----
#   make fuzz         each fuzzer for FUZZ_TIME seconds (default 60)
#   make fuzz-short   the same, 20 s each (part of the test command)
#   make fuzz-corpus  regenerate the seed corpus from the unit tests
FUZZ_CC     ?= clang
FUZZ_TIME   ?= 60
FUZZ_FLAGS   = -std=c17 -D_GNU_SOURCE -g -O1 -Wall -Wextra -Werror \
               -Ilib -Irouting -fno-omit-frame-pointer \
               -fsanitize=fuzzer,address,undefined \
               -fno-sanitize-recover=undefined
FUZZ_BGP_SRCS = tests/fuzz/fuzz_bgp_msg.c lib/buf.c lib/prefix.c \
               routing/bgp_msg.c routing/bgp_attr.c routing/bgp_update.c

build/fuzz/fuzz_bgp_msg: $(FUZZ_BGP_SRCS) lib/buf.h lib/prefix.h \
		routing/bgp_msg.h routing/bgp_msg_priv.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZ-LD $@")
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $(FUZZ_BGP_SRCS)

# The checked-in seeds are read-only input; new finds go to build/fuzz/.
fuzz-bgp: build/fuzz/fuzz_bgp_msg
	@mkdir -p build/fuzz/corpus/bgp_msg build/fuzz/crashes
	build/fuzz/fuzz_bgp_msg -max_total_time=$(FUZZ_TIME) -max_len=4200 \
	    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix=build/fuzz/crashes/ \
	    build/fuzz/corpus/bgp_msg tests/fuzz/corpus/bgp_msg

fuzz: fuzz-bgp

fuzz-short: FUZZ_TIME = 20
fuzz-short: fuzz-bgp

fuzz-corpus: $(BUILD)/tests/test_bgp_msg $(BUILD)/tests/test_bgp_malformed
	@mkdir -p tests/fuzz/corpus/bgp_msg
	BGP_CORPUS_DIR=tests/fuzz/corpus/bgp_msg $(BUILD)/tests/test_bgp_msg >/dev/null
	BGP_CORPUS_DIR=tests/fuzz/corpus/bgp_msg $(BUILD)/tests/test_bgp_malformed >/dev/null

.PHONY: fuzz fuzz-short fuzz-bgp fuzz-corpus

.PHONY: all check test golden-update check-netns bench clean
.SECONDARY:

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
