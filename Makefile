# neuvc: plain GNU make.  Targets:
#   make              library (static + shared), pkg-config file, tools, examples -> build/
#   make check        build and run the whole test suite: every suite in
#                     CHECK_SUITES, one after another (what CI runs)
#   make test         only the native suite (tests/run.sh), the quick loop
#   make bench        benchmarks (entropy coder, kernels, codec vs x264)
#   make install PREFIX=/usr/local
#   make ffmpeg       FFmpeg 5.1 with neuvc into build/ffmpeg/ (docs/ffmpeg.md)
#   make SANITIZE=1 check   the same suite under ASan + UBSan (build/san/)
# Sources are found by wildcard: a new .c in a library folder is built and
# linked without editing this file.

CC      ?= gcc
AR      ?= ar
PREFIX  ?= /usr/local
PYTHON  ?= $(shell test -x /usr/bin/python3 && echo /usr/bin/python3 || echo python3)

VERSION := 0.1.0
SOVER   := 0

BUILD   ?= build
ifeq ($(SANITIZE),1)
BUILD   := build/san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
endif

CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
BASEFLAGS := -std=c11 -D_GNU_SOURCE -fPIC -fvisibility=hidden -pthread -I. -Iinclude $(WARN) $(SANFLAGS)
ALL_CFLAGS = $(BASEFLAGS) $(CFLAGS)
LDLIBS  := -lm -pthread $(SANFLAGS)

LIB_DIRS := common encoder decoder entropy netlib netlib/ref models
LIB_SRC  := $(sort $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c)))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/gen/model_default.o

# x86 kernels (netlib/x86), only for x86 targets.  ISA flags go to the ISA
# files alone (*_avx2.c, *_avx512.c; the dispatcher calls them only when
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
X86_AVX2_FLAGS := -mavx2 -mfma
X86_AVX512_FLAGS := -mavx2 -mfma -mavx512f -mavx512bw -mavx512vl -mavx512vnni

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
BENCH_SRC  := $(sort $(wildcard tests/bench_*.c))
BENCH_BINS := $(BENCH_SRC:tests/%.c=$(BUILD)/tests/%)
# Example programs (docs/video-call.md): the public header only.
EXAMPLE_SRC := $(sort $(wildcard examples/*.c))
EXAMPLES := $(EXAMPLE_SRC:examples/%.c=$(BUILD)/examples/%)

CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   := $(shell pkg-config --libs check 2>/dev/null)

.PHONY: all lib tools tests test check check-san bench eval install clean ffmpeg examples

# The suites `make check` runs, in order.  A new suite is a phony target
# added here; each prints its own "N passed, N failed" line.
#   test       the native suite: C (Check) and Python tests, tests/run.sh
#   check-san  the native suite again under ASan + UBSan (build/san/)
CHECK_SUITES := test check-san
# keep object files (the tools' objects would otherwise be deleted as intermediates)
.SECONDARY:
all: lib tools $(BUILD)/neuvc.pc examples

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

$(BUILD)/obj/netlib/x86/%.o: netlib/x86/%.c
	@mkdir -p $(dir $@)
	$(X86CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/bin2c: tools/gen/bin2c.c
	@mkdir -p $(dir $@)
	$(HOSTCC) -O2 -o $@ $<

$(BUILD)/gen/model_default.c: $(DEFAULT_MODEL) $(BUILD)/bin2c
	@mkdir -p $(dir $@)
	$(BUILD)/bin2c nv_default_model $(DEFAULT_MODEL) > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/gen/model_default.o: $(BUILD)/gen/model_default.c
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
	$(CC) -o $@ $^ $(LDLIBS)

tests: $(TEST_BINS) $(BENCH_BINS)
$(BUILD)/tests/%: tests/%.c $(TEST_COMMON_OBJ) $(BUILD)/libneuvc.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -o $@ $< $(TEST_COMMON_OBJ) $(BUILD)/libneuvc.a $(CHECK_LIBS) $(LDLIBS)

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
	rm -rf $(BUILD)/obj $(BUILD)/tests $(BUILD)/lib* $(BUILD)/neuvc* $(BUILD)/san $(BUILD)/examples

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
