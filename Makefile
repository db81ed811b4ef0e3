# neuvc: plain GNU make.  Targets:
#   make              library (static + shared), pkg-config file, tools, examples -> build/
#   make check        build and run the whole test suite: every suite in
#                     CHECK_SUITES, one after another (what CI runs)
#   make test         only the native suite (tests/run.sh), the quick loop
#   make bench        benchmarks (entropy coder, kernels, codec vs x264)
#   make install PREFIX=/usr/local
#   make ffmpeg       FFmpeg 5.1 with neuvc into build/ffmpeg/ (docs/ffmpeg.md)
#   make SANITIZE=1 check   the same suite under ASan + UBSan (build/san/)
#   make fuzz         the libFuzzer targets (clang-14) into build/fuzz/
#                     (tests/robust.mk, docs/security.md)
#   make ARCH=aarch64 cross build for 64-bit ARM (or CROSS=aarch64-linux-gnu-):
#                     library, tools and tests into build/aarch64/;
#                     make check-aarch64 runs them under qemu
# Sources are found by wildcard: a new .c in a library folder is built and
# linked without editing this file.

CC      ?= gcc
AR      ?= ar
PREFIX  ?= /usr/local
PYTHON  ?= $(shell test -x /usr/bin/python3 && echo /usr/bin/python3 || echo python3)

VERSION := 0.1.0
SOVER   := 0

BUILD   ?= build
# Cross builds: ARCH=aarch64 names Debian's cross toolchain; CROSS is the
# tool prefix.  Their objects go to build/<arch>/, so the native build
# is untouched; Check comes from the target's multiarch pkg-config files.
ifeq ($(ARCH),aarch64)
CROSS   ?= aarch64-linux-gnu-
endif
ifneq ($(CROSS),)
CC      := $(CROSS)gcc
AR      := $(CROSS)ar
CROSS_TRIPLE := $(patsubst %-,%,$(CROSS))
BUILD   := build/$(firstword $(subst -, ,$(CROSS_TRIPLE)))
PKG_CONFIG_ENV := PKG_CONFIG_LIBDIR=/usr/lib/$(CROSS_TRIPLE)/pkgconfig
endif
ifeq ($(SANITIZE),1)
BUILD   := build/san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
endif
# The library as the fuzz targets link it (tests/robust.mk): clang with
# libFuzzer's coverage, ASan and UBSan.
FUZZCC  ?= clang-14
ifeq ($(SANITIZE),fuzz)
BUILD   := build/fuzz
CC      := $(FUZZCC)
SANFLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
endif

CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
BASEFLAGS := -std=c11 -D_GNU_SOURCE -fPIC -fvisibility=hidden -pthread -I. -Iinclude $(WARN) $(SANFLAGS)
ALL_CFLAGS = $(BASEFLAGS) $(CFLAGS)
LDLIBS  := -lm -pthread $(SANFLAGS)
LDFLAGS ?=

LIB_DIRS := common encoder decoder entropy netlib netlib/ref netlib/opencl models
LIB_SRC  := $(sort $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c)))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/gen/model_default.o \
            $(BUILD)/obj/gen/opencl_kernels.o

# x86 kernels (netlib/x86), only for x86 targets.  ISA flags go to the ISA
# files alone (*_avx2.c, *_avx512.c, *_amx.c; the dispatcher calls them only when
# the CPU has the level).  X86CC compiles netlib/x86: gcc 12 and clang 14
# measured the same on these kernels (tests/bench_checkasm), so it
# defaults to $(CC); X86CC=clang works too (not with SANITIZE=1, whose
# runtime must come from one compiler).
X86_TARGET := $(filter x86_64% i686% i586% i386%,$(shell $(CC) -dumpmachine))
ifneq ($(X86_TARGET),)
X86_SRC := $(sort $(wildcard netlib/x86/*.c))
LIB_OBJ += $(X86_SRC:%.c=$(BUILD)/obj/%.o)
endif
X86CC ?= $(CC)

# ARM kernels (netlib/arm), only for aarch64 targets, where NEON is the
# baseline; the dot-product files (*_neondot.c) alone get +dotprod (the
# dispatcher calls them only when HWCAP_ASIMDDP says the CPU has it).
ARM_TARGET := $(filter aarch64%,$(shell $(CC) -dumpmachine))
ifneq ($(ARM_TARGET),)
ARM_SRC := $(sort $(wildcard netlib/arm/*.c))
LIB_OBJ += $(ARM_SRC:%.c=$(BUILD)/obj/%.o)
endif
ARM_DOTPROD_FLAGS := -march=armv8.2-a+dotprod
X86_AVX2_FLAGS := -mavx2 -mfma
X86_AVX512_FLAGS := -mavx2 -mfma -mavx512f -mavx512bw -mavx512vl -mavx512vnni
X86_AMX_FLAGS := $(X86_AVX512_FLAGS) -mamx-tile -mamx-int8

# The default model, compiled into the library as a byte array.
DEFAULT_MODEL ?= models/neuvc-rt.nvm
HOSTCC ?= cc

TOOL_NAMES := neuvc-enc neuvc-dec
TOOL_COMMON_SRC := $(filter-out $(TOOL_NAMES:%=tools/%.c),$(wildcard tools/*.c))
TOOL_COMMON_OBJ := $(TOOL_COMMON_SRC:%.c=$(BUILD)/obj/%.o)
TOOLS := $(TOOL_NAMES:%=$(BUILD)/%)

TEST_SRC  := $(sort $(wildcard tests/test_*.c))
TEST_BINS := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
TEST_COMMON_SRC := $(wildcard tests/common/*.c)
TEST_COMMON_OBJ := $(TEST_COMMON_SRC:%.c=$(BUILD)/obj/%.o)
OPENCL_TEST_BINS := $(BUILD)/tests/opencl_check
BENCH_SRC  := $(sort $(wildcard tests/bench_*.c))
BENCH_BINS := $(BENCH_SRC:tests/%.c=$(BUILD)/tests/%)
# Example programs (docs/video-call.md): the public header only.
EXAMPLE_SRC := $(sort $(wildcard examples/*.c))
EXAMPLES := $(EXAMPLE_SRC:examples/%.c=$(BUILD)/examples/%)

CHECK_CFLAGS := $(shell $(PKG_CONFIG_ENV) pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   := $(shell $(PKG_CONFIG_ENV) pkg-config --libs check 2>/dev/null)

.PHONY: all lib tools tests test check check-san check-opencl check-aarch64 bench eval install clean ffmpeg examples

# The suites `make check` runs, in order.  A new suite is a phony target
# added here; each prints its own "N passed, N failed" line.
#   test       the native suite: C (Check) and Python tests, tests/run.sh
#   check-san  the native suite again under ASan + UBSan (build/san/)
#   check-opencl  the OpenCL kernels, executor and codec against the CPU,
#              native and under ASan + UBSan (tests/run-opencl.sh; needs an
#              OpenCL device, PoCL in CI)
#   check-fuzz, check-valgrind, check-allocfail: the robustness suites of
#              tests/robust.mk (docs/security.md)
#   check-aarch64  the cross build's C tests under qemu-aarch64, and the
#              cross-architecture identity of streams (tests/run-aarch64.sh)
CHECK_SUITES := test check-san check-fuzz check-valgrind check-allocfail check-opencl check-aarch64
# keep object files (the tools' objects would otherwise be deleted as intermediates)
.SECONDARY:
all: lib tools $(BUILD)/neuvc.pc examples
ifneq ($(CROSS),)
all: tests          # a cross build includes the test programs (run under qemu)
endif

lib: $(BUILD)/libneuvc.a $(BUILD)/libneuvc.so

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/netlib/x86/%_avx2.o: netlib/x86/%_avx2.c
	@mkdir -p $(dir $@)
	$(X86CC) $(ALL_CFLAGS) $(X86_AVX2_FLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/netlib/x86/%_avx512.o: netlib/x86/%_avx512.c
	@mkdir -p $(dir $@)
	$(X86CC) $(ALL_CFLAGS) $(X86_AVX512_FLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/netlib/x86/%_amx.o: netlib/x86/%_amx.c
	@mkdir -p $(dir $@)
	$(X86CC) $(ALL_CFLAGS) $(X86_AMX_FLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/netlib/x86/%.o: netlib/x86/%.c
	@mkdir -p $(dir $@)
	$(X86CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/netlib/arm/%_neondot.o: netlib/arm/%_neondot.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ARM_DOTPROD_FLAGS) -MMD -MP -c $< -o $@

$(BUILD)/bin2c: tools/gen/bin2c.c
	@mkdir -p $(dir $@)
	$(HOSTCC) -O2 -o $@ $<

$(BUILD)/gen/model_default.c: $(DEFAULT_MODEL) $(BUILD)/bin2c
	@mkdir -p $(dir $@)
	$(BUILD)/bin2c nv_default_model $(DEFAULT_MODEL) > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/gen/model_default.o: $(BUILD)/gen/model_default.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

# The OpenCL kernels (netlib/opencl), embedded as bytes; the library
# loads libOpenCL.so.1 at run time (dlopen), so nothing OpenCL is linked.
$(BUILD)/gen/opencl_kernels.c: netlib/opencl/kernels.cl $(BUILD)/bin2c
	@mkdir -p $(dir $@)
	$(BUILD)/bin2c nl_opencl_kernels netlib/opencl/kernels.cl > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/gen/opencl_kernels.o: $(BUILD)/gen/opencl_kernels.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/libneuvc.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/libneuvc.so: $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,libneuvc.so.$(SOVER) -o $@ $^ $(LDLIBS)

# pkg-config file for prefix $(1)
pc_text = printf 'prefix=%s\nlibdir=$${prefix}/lib\nincludedir=$${prefix}/include\n\nName: neuvc\nDescription: learned low-delay video codec\nVersion: %s\nLibs: -L$${libdir} -lneuvc\nLibs.private: -lm -pthread\nCflags: -I$${includedir}\n' '$(1)' '$(VERSION)'

$(BUILD)/neuvc.pc: Makefile
	@mkdir -p $(dir $@)
	$(call pc_text,$(PREFIX)) > $@

tools: $(TOOLS)

examples: $(EXAMPLES)
$(BUILD)/examples/%: examples/%.c $(BUILD)/libneuvc.a include/neuvc/neuvc.h
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -Iinclude $(WARN) $(SANFLAGS) $(CFLAGS) -o $@ $< $(BUILD)/libneuvc.a $(LDLIBS)
$(BUILD)/neuvc-%: $(BUILD)/obj/tools/neuvc-%.o $(TOOL_COMMON_OBJ) $(BUILD)/libneuvc.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

tests: $(TEST_BINS) $(BENCH_BINS) $(OPENCL_TEST_BINS)
$(BUILD)/tests/%: tests/%.c $(TEST_COMMON_OBJ) $(BUILD)/libneuvc.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) $(LDFLAGS) -o $@ $< $(TEST_COMMON_OBJ) $(BUILD)/libneuvc.a $(CHECK_LIBS) $(LDLIBS)

# The checker's benchmark is the checker's code (it includes it).
$(BUILD)/tests/bench_checkasm: tests/test_checkasm.c

ffmpeg: lib
	sh ffmpeg_plugin/build-ffmpeg.sh

# Every suite runs even when an earlier one failed; the exit status says
# whether any failed.
check:
	@rc=0; for s in $(CHECK_SUITES); do \
	    echo "== make $$s"; $(MAKE) --no-print-directory $$s || rc=1; \
	done; \
	[ $$rc -eq 0 ] && echo "make check: all suites passed" || echo "make check: a suite FAILED"; \
	exit $$rc

test: all tests ffmpeg
	BUILD=$(BUILD) PYTHON=$(PYTHON) sh tests/run.sh

check-san:
	$(MAKE) --no-print-directory SANITIZE=1 test

# The OpenCL suite, natively and under ASan + UBSan (build/san/, which
# check-san has built when both run).
check-opencl: all $(OPENCL_TEST_BINS)
	$(MAKE) --no-print-directory SANITIZE=1 build/san/tests/opencl_check
	BUILDS="$(BUILD) build/san" sh tests/run-opencl.sh

# Static programs: qemu-user 7.2 can hang in dynamically linked threaded
# programs (seen on a 6.18 host kernel); static ones run.
check-aarch64: all fuzz-seeds
	$(MAKE) --no-print-directory ARCH=aarch64 LDFLAGS=-static all
	BUILD=$(BUILD) XBUILD=build/aarch64 sh tests/run-aarch64.sh

bench: all tests
	BUILD=$(BUILD) PYTHON=$(PYTHON) sh tests/run-bench.sh

eval: all
	$(PYTHON) tools/eval.py $(EVAL_ARGS)

install: all
	install -d $(DESTDIR)$(PREFIX)/include/neuvc $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/bin
	install -m 644 include/neuvc/neuvc.h $(DESTDIR)$(PREFIX)/include/neuvc/
	install -m 644 $(BUILD)/libneuvc.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/libneuvc.so $(DESTDIR)$(PREFIX)/lib/libneuvc.so.$(VERSION)
	ln -sf libneuvc.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libneuvc.so.$(SOVER)
	ln -sf libneuvc.so.$(SOVER) $(DESTDIR)$(PREFIX)/lib/libneuvc.so
	$(call pc_text,$(PREFIX)) > $(DESTDIR)$(PREFIX)/lib/pkgconfig/neuvc.pc
	install -m 755 $(TOOLS) $(DESTDIR)$(PREFIX)/bin/

clean:
	rm -rf $(BUILD)/obj $(BUILD)/tests $(BUILD)/lib* $(BUILD)/neuvc* $(BUILD)/san $(BUILD)/fuzz $(BUILD)/allocfail $(BUILD)/aarch64 $(BUILD)/examples

include tests/robust.mk

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
