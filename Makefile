# leafnet — one non-recursive GNU Makefile.
#   make            build every binary into $(BUILD)/bin
#   make SAN=1      the same with AddressSanitizer + UBSan (into build-san/)
#   make check      unit tests (no root needed)
#   make test       everything: unit tests, then the network-namespace tests
#                   (root), plain and under ASan/UBSan; last line "N passed, N failed"
#   make bench      side-by-side benchmarks (root)
#   make V=1        show the commands

.DEFAULT_GOAL := all
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
# libresolv: the etcd store's base64 (b64_ntop/b64_pton), linked from
# glibc's libresolv.a (below).
# libcurl, libevent: headers only.  The etcd store dlopen()s libevent-2.1.so.7
# (http:// endpoints) and libcurl.so.4 (https://, the watch) when it is used
# (store/store_etcd_http.c says why), so no binary links either.
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) libcurl libevent 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lmnl -lcjson)
# libmicrohttpd: leafnet-docker's HTTP side and leafnetd's metrics (routing/metrics.c)
MHD_CFLAGS := $(shell pkg-config --cflags libmicrohttpd 2>/dev/null)
MHD_LIBS   := $(shell pkg-config --libs libmicrohttpd 2>/dev/null || echo -lmicrohttpd)
# libnftables: only leafnetd's outbound NAT (routing/nat.c) uses it
NFT_CFLAGS := $(shell pkg-config --cflags libnftables 2>/dev/null)
NFT_LIBS   := $(shell pkg-config --libs libnftables 2>/dev/null || echo -lnftables)

# The user's CFLAGS (make CFLAGS=-O0, CFLAGS="-O2 -march=native") only add
# to what leafnet needs: the language, warnings and include paths below are
# kept apart and always used.  WERROR=0 turns warnings back into warnings.
CFLAGS  ?= -O2 -g
WERROR  ?= 1
LEAFNET_CFLAGS = -std=c17 -D_GNU_SOURCE -Wall -Wextra $(if $(filter 1,$(WERROR)),-Werror) \
                 -MMD -MP $(PKG_CFLAGS) $(SANFLAGS)
LDFLAGS += $(SANFLAGS)
# libresolv (only the etcd store's base64) from its archive: one shared
# object less for every process start to map and relocate (~0.05 ms of each
# CNI ADD; bench/README.md).  libmnl and cJSON have no archive in Debian.
LDLIBS  += $(PKG_LIBS) -l:libresolv.a

ifeq ($(V),1)
Q =
else
Q = @
endif

# ---- the layers (ARCHITECTURE.md) ------------------------------------------
# Each folder is one layer and one archive.  A folder is compiled with the
# include paths of itself and of the layers it may use, nothing else, so an
# include that points up (or sideways to a layer not listed) does not
# compile.  DEPS_x lists, bottom first, what x may include and link.
DEPS_lib          :=
DEPS_kernel       := lib
DEPS_store        := lib
DEPS_ctl          := lib
DEPS_bgpconf      := lib store
DEPS_ipam         := lib store
DEPS_attach       := lib kernel store ipam ctl
# front ends
DEPS_cni          := lib store bgpconf ipam ctl attach
DEPS_dockerplugin := lib store ipam ctl attach
DEPS_netctl       := lib kernel store bgpconf ipam ctl
DEPS_routing      := lib kernel store ctl bgpconf ipam
LAYERS     := lib kernel store ctl bgpconf ipam attach
FRONTENDS  := cni dockerplugin netctl routing

# the archive link order: users before what they use
LINK_ORDER := cni dockerplugin netctl routing attach ipam bgpconf ctl store kernel lib
# what x links: x and everything its layers use, all the way down
closure     = $(sort $(1) $(foreach d,$(1),$(call closure,$(DEPS_$(d)))))
archives    = $(foreach l,$(LINK_ORDER),$(if $(filter $(l),$(call closure,$(1))),$(BUILD)/lib$(l).a))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

MAINS      := cni/main_leafnet.c cni/main_ipam.c cni/install_cni.c dockerplugin/main.c routing/main.c \
              $(wildcard netctl/main.c)
srcs_of     = $(filter-out $(MAINS),$(wildcard $(1)/*.c))

define LAYER_RULES
$(BUILD)/lib$(1).a: $$(call obj,$$(call srcs_of,$(1)))
	@mkdir -p $$(dir $$@)
	$$(Q)rm -f $$@ && ar rcs $$@ $$^
$(BUILD)/obj/$(1)/%.o: DIR_CFLAGS = $(foreach d,$(DEPS_$(1)) $(1),-I$(d))
endef
$(foreach l,$(LAYERS) $(FRONTENDS),$(eval $(call LAYER_RULES,$(l))))

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(LEAFNET_CFLAGS) $(DIR_CFLAGS) $(EXTRA_CFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/obj/dockerplugin/%.o: EXTRA_CFLAGS = $(MHD_CFLAGS)
$(BUILD)/obj/routing/nat.o: EXTRA_CFLAGS = $(NFT_CFLAGS)
$(BUILD)/obj/routing/metrics.o: EXTRA_CFLAGS = $(MHD_CFLAGS)

# tests and benchmarks sit above every layer
ALL_INC    := $(foreach d,$(LAYERS) $(FRONTENDS),-I$(d))
$(BUILD)/obj/tests/%.o: DIR_CFLAGS = $(ALL_INC)
$(BUILD)/obj/bench/%.o: DIR_CFLAGS = $(ALL_INC)

UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
# bench/benchlib.c: what the bench drivers share, linked into each of them
BENCH_LIB  := bench/benchlib.c
BENCH_SRCS := $(filter-out $(BENCH_LIB),$(wildcard bench/*.c))

BINS    := $(BUILD)/bin/leafnet $(BUILD)/bin/leafnet-ipam $(BUILD)/bin/netctl \
           $(BUILD)/bin/leafnetd $(BUILD)/bin/leafnet-docker $(BUILD)/bin/leafnet-install-cni
UNITS   := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
BENCHES := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))

all: $(BINS) $(UNITS) $(BENCHES)

define LINK
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(1) $(LDLIBS)
endef

# The CNI plugins start once per operation: every symbol bound at start
# (-z now, one pass through ld.so, full RELRO) rather than one lazy-binding
# trampoline (saving and restoring the vector registers) per first call.
CNI_BIND := -Wl,-z,now
$(BUILD)/bin/leafnet: $(call obj,cni/main_leafnet.c) $(call archives,cni $(DEPS_cni))
	$(call LINK,$(CNI_BIND))
$(BUILD)/bin/leafnet-ipam: $(call obj,cni/main_ipam.c) $(call archives,cni $(DEPS_cni))
	$(call LINK,$(CNI_BIND))
# the Kubernetes init container's installer: lib only (cJSON, the config check)
$(BUILD)/bin/leafnet-install-cni: $(call obj,cni/install_cni.c) $(call archives,lib)
	$(call LINK)
$(BUILD)/bin/netctl: $(call obj,netctl/main.c) $(call archives,netctl $(DEPS_netctl))
	$(call LINK)
$(BUILD)/bin/leafnet-docker: $(call obj,dockerplugin/main.c) \
		$(call archives,dockerplugin $(DEPS_dockerplugin))
	$(call LINK,$(MHD_LIBS))
$(BUILD)/bin/leafnetd: $(call obj,routing/main.c) $(call archives,routing $(DEPS_routing))
	$(call LINK,$(NFT_LIBS) $(MHD_LIBS))

# Unit tests: each links the module it tests and the layers that module
# uses (UT_x), never the rest; a fake stands in where a layer below is
# heavy (tests/unit/*fake*).  A test missing from this table does not link.
UT_test_buf              := lib
UT_test_prefix           := lib
UT_test_log              := lib
UT_test_json             := lib
UT_test_conf             := lib
UT_test_util             := lib
UT_test_store            := ipam
UT_test_store_sweep      := store
UT_test_store_watch      := store
UT_test_bgpconf          := bgpconf
UT_test_network          := ipam
UT_test_ipam             := ipam
UT_test_ipam_corrupt     := ipam bgpconf
UT_test_ipam_split       := ipam
UT_test_attach           := attach
UT_test_cni_parse        := $(DEPS_cni)
UT_test_docker_translate := dockerplugin
UT_LIBS_test_docker_translate := $(MHD_LIBS)
# leafnetd's tests name the routing/ objects they test: the BGP side's with
# tests/unit/bgp_fake.h playing the local side, the local side's alone.
RT_CODEC   := $(call obj,$(addprefix routing/,bgp_msg.c bgp_attr.c bgp_update.c))
RT_BGP     := $(RT_CODEC) $(call obj,$(addprefix routing/,bgp_fsm.c peer.c rde.c rde_nexthop.c rde_out.c \
              rde_rr.c session.c msg.c gr.c))
UT_test_msg              := lib
UT_OBJS_test_msg         := $(call obj,routing/msg.c)
UT_test_bgp_msg          := lib
UT_OBJS_test_bgp_msg     := $(RT_CODEC)
UT_test_bgp_malformed    := lib
UT_OBJS_test_bgp_malformed := $(RT_CODEC)
UT_test_fsm              := lib
UT_OBJS_test_fsm         := $(RT_BGP)
UT_test_rde              := lib
UT_OBJS_test_rde         := $(RT_BGP)
UT_test_rde_rr           := lib
UT_OBJS_test_rde_rr      := $(RT_BGP)
UT_test_rde_nexthop      := lib
UT_OBJS_test_rde_nexthop := $(RT_BGP)
UT_test_nexthop          := lib
UT_OBJS_test_nexthop     := $(call obj,routing/nexthop.c)
UT_test_gr               := lib
UT_OBJS_test_gr          := $(RT_BGP)
UT_test_rib              := ipam
UT_OBJS_test_rib         := $(call obj,$(addprefix routing/,rib.c loop.c msg.c nat.c))
UT_LIBS_test_rib         := $(NFT_LIBS)
UT_test_metrics          := ipam ctl
UT_OBJS_test_metrics     := $(call obj,routing/metrics_text.c)
UT_test_nat              := ipam
UT_OBJS_test_nat         := $(call obj,$(addprefix routing/,nat.c loop.c))
UT_LIBS_test_nat         := $(NFT_LIBS)

.SECONDEXPANSION:
$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $$(UT_OBJS_$$*) $$(call archives,$$(UT_$$*))
	$(if $(UT_$*),,$(error $@: add UT_$* to the Makefile's unit test table))
	$(call LINK,$(UT_LIBS_$*) -lcmocka)

$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(call obj,$(BENCH_LIB)) $(call archives,$(LAYERS))
	$(call LINK,-lm)

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
	rm -rf build build-san build-fuzz

# ---- fuzzing (clang + libFuzzer) ----
#   make fuzz              each fuzzer for FUZZ_TIME seconds (default 60)
#   make fuzz-short        each for FUZZ_SHORT seconds (default 10; the test command)
#   make fuzz-NAME         one of them (fuzz-bgp_msg, fuzz-cni_conf, ...)
#   make fuzz-corpus       regenerate the BGP seed corpus from the unit tests
# The fuzzers are built by this same Makefile with clang into build-fuzz/
# (every layer compiled with -fsanitize=fuzzer-no-link,address,undefined),
# each linking the layers its parser lives in (FUZZ_x) like a unit test.
# Seeds: tests/fuzz/corpus/NAME/ (read-only); new finds: build-fuzz/corpus/NAME/.
FUZZ_CC     ?= clang
FUZZ_TIME   ?= 60
FUZZ_SHORT  ?= 10
FUZZ_BUILD  := build-fuzz
FUZZ_SAN     = -fsanitize=address,undefined -fno-sanitize-recover=undefined \
               -fno-omit-frame-pointer
FUZZ_NAMES  := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_bgp_msg     := routing
FUZZ_cni_conf    := $(DEPS_cni) cni
FUZZ_docker_req  := dockerplugin
FUZZ_LIBS_docker_req := $(MHD_LIBS)
FUZZ_conf        := lib
FUZZ_ctl_req     := ctl
FUZZ_netctl_args := netctl
FUZZ_store_rec   := ipam bgpconf store
FUZZ_OPTS_netctl_args := -close_fd_mask=3
FUZZ_MAXLEN_bgp_msg := 4200

# (inside the fuzz build) the fuzzer binaries
$(BUILD)/fuzz/fuzz_%: $(BUILD)/obj/tests/fuzz/fuzz_%.o $$(call archives,$$(FUZZ_$$*))
	$(if $(FUZZ_$*),,$(error $@: add FUZZ_$* to the Makefile's fuzz table))
	$(call LINK,-fsanitize=fuzzer $(FUZZ_LIBS_$*))
fuzzers: $(patsubst %,$(BUILD)/fuzz/fuzz_%,$(FUZZ_NAMES))

fuzz-build:
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) SAN=0 CC=$(FUZZ_CC) \
	    CFLAGS="-g -O1 -fsanitize=fuzzer-no-link $(FUZZ_SAN)" \
	    LDFLAGS="$(FUZZ_SAN)" fuzzers

# The checked-in seeds are read-only input; new finds go to build-fuzz/.
fuzz-%: fuzz-build
	@mkdir -p $(FUZZ_BUILD)/corpus/$* $(FUZZ_BUILD)/crashes tests/fuzz/corpus/$*
	$(FUZZ_BUILD)/fuzz/fuzz_$* -max_total_time=$(FUZZ_TIME) \
	    -max_len=$(or $(FUZZ_MAXLEN_$*),8192) -timeout=10 -rss_limit_mb=2048 \
	    -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/crashes/$*- $(FUZZ_OPTS_$*) \
	    $(FUZZ_BUILD)/corpus/$* tests/fuzz/corpus/$*

fuzz: fuzz-build
	@for f in $(FUZZ_NAMES); do $(MAKE) --no-print-directory fuzz-$$f || exit 1; done

fuzz-short: fuzz-build
	@for f in $(FUZZ_NAMES); do \
	    $(MAKE) --no-print-directory fuzz-$$f FUZZ_TIME=$(FUZZ_SHORT) || exit 1; done

fuzz-corpus: $(BUILD)/tests/test_bgp_msg $(BUILD)/tests/test_bgp_malformed
	@mkdir -p tests/fuzz/corpus/bgp_msg
	BGP_CORPUS_DIR=tests/fuzz/corpus/bgp_msg $(BUILD)/tests/test_bgp_msg >/dev/null
	BGP_CORPUS_DIR=tests/fuzz/corpus/bgp_msg $(BUILD)/tests/test_bgp_malformed >/dev/null

.PHONY: fuzz fuzz-short fuzz-build fuzzers fuzz-corpus

.PHONY: all check test golden-update check-netns bench clean
.SECONDARY:

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# ---- man pages, install, Debian package ------------------------------------
#   make man        doc/*.scd (scdoc) -> $(BUILD)/man/*.[58]
#   make install    DESTDIR=... PREFIX=/usr (default /usr/local): binaries,
#                   CNI plugins, systemd units, config, man pages
#   make deb        dpkg-buildpackage -us -uc -b in a copy of the tree
#                   (tracked and untracked-not-ignored files); the .deb lands
#                   in DEB_OUT (default $(BUILD)/deb)
# The version every binary reports comes from debian/changelog.
LEAFNET_VERSION ?= $(shell sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog 2>/dev/null)
ifneq ($(LEAFNET_VERSION),)
LEAFNET_CFLAGS += -DLEAFNET_VERSION='"$(LEAFNET_VERSION)"'
endif
# dpkg-buildflags' CPPFLAGS (-D_FORTIFY_SOURCE=2) and any the user gives
LEAFNET_CFLAGS += $(CPPFLAGS)

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
CNIDIR     ?= $(PREFIX)/lib/cni
MANDIR     ?= $(PREFIX)/share/man
UNITDIR    ?= $(PREFIX)/lib/systemd/system
SYSCONFDIR ?= /etc
SCDOC      ?= scdoc
INSTALL    ?= install

MAN_SRCS   := $(wildcard doc/*.scd)
MANS       := $(patsubst doc/%.scd,$(BUILD)/man/%,$(MAN_SRCS)) $(BUILD)/man/leafnet-ipam.8

$(BUILD)/man/%: doc/%.scd
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  SCDOC   $<")
	$(Q)$(SCDOC) <$< >$@.tmp && mv $@.tmp $@
# leafnet(8) describes both CNI plugins
$(BUILD)/man/leafnet-ipam.8:
	@mkdir -p $(dir $@)
	$(Q)echo '.so man8/leafnet.8' >$@

bins: $(BINS)
units: $(UNITS)
man: $(MANS)

install: $(BINS) $(MANS)
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(CNIDIR) $(DESTDIR)$(UNITDIR) \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(SYSCONFDIR)/leafnet $(DESTDIR)$(SYSCONFDIR)/iproute2/rt_protos.d
	$(INSTALL) -m 0755 $(BUILD)/bin/leafnetd $(BUILD)/bin/leafnet-docker \
	    $(BUILD)/bin/netctl $(BUILD)/bin/leafnet-install-cni $(DESTDIR)$(BINDIR)/
	$(INSTALL) -m 0755 $(BUILD)/bin/leafnet $(BUILD)/bin/leafnet-ipam $(DESTDIR)$(CNIDIR)/
	sed 's|/usr/bin/|$(BINDIR)/|' packaging/leafnetd.service \
	    >$(DESTDIR)$(UNITDIR)/leafnetd.service
	sed 's|/usr/bin/|$(BINDIR)/|' packaging/leafnet-docker.service \
	    >$(DESTDIR)$(UNITDIR)/leafnet-docker.service
	$(INSTALL) -m 0644 packaging/leafnet-docker.socket $(DESTDIR)$(UNITDIR)/
	chmod 0644 $(DESTDIR)$(UNITDIR)/leafnetd.service $(DESTDIR)$(UNITDIR)/leafnet-docker.service
	$(INSTALL) -m 0644 packaging/leafnet.conf $(DESTDIR)$(SYSCONFDIR)/leafnet/leafnet.conf
	$(INSTALL) -m 0644 packaging/rt_protos.d/leafnet.conf \
	    $(DESTDIR)$(SYSCONFDIR)/iproute2/rt_protos.d/leafnet.conf
	$(INSTALL) -m 0644 $(filter %.5,$(MANS)) $(DESTDIR)$(MANDIR)/man5/
	$(INSTALL) -m 0644 $(filter %.8,$(MANS)) $(DESTDIR)$(MANDIR)/man8/

DEB_OUT    ?= $(BUILD)/deb
DEB_SRC     = $(DEB_OUT)/leafnet-$(LEAFNET_VERSION)
deb:
	@command -v dpkg-buildpackage >/dev/null || { echo "make deb: dpkg-buildpackage missing (scripts/install-deps.sh)" >&2; exit 1; }
	rm -rf $(DEB_SRC) && mkdir -p $(DEB_SRC)
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
	    git ls-files -z -co --exclude-standard | \
	    tar --null --no-recursion --ignore-failed-read -T - -cf - 2>/dev/null; \
	else \
	    tar --exclude=./.git --exclude=./build --exclude=./build-san --exclude=./build-fuzz \
	        --exclude=./debian/build --exclude=./$(DEB_OUT) -cf - .; \
	fi | tar -xf - -C $(DEB_SRC)
	cd $(DEB_SRC) && dpkg-buildpackage -us -uc -b -j$$(nproc)
	@ls $(DEB_OUT)/leafnet_$(LEAFNET_VERSION)_*.deb

.PHONY: bins units man install deb
