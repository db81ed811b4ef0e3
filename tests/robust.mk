# Robustness suites (docs/security.md), included by the Makefile.
#   make fuzz             the libFuzzer targets tests/fuzz/fuzz_*.c -> build/fuzz/
#   make check-fuzz       builds them, replays the regression inputs and the
#                         seed corpora, then fuzzes each for FUZZ_TIME seconds
#   make check-valgrind   neuvc-enc and neuvc-dec on a short clip under valgrind
#   make check-allocfail  every allocation of open/encode/decode/close made to
#                         fail in turn (build/allocfail/)

FUZZ_TARGETS := $(sort $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_TIME ?= 25
.PHONY: fuzz fuzz-bins fuzz-seeds check-fuzz check-valgrind check-allocfail

# Seeds that come from picture data (streams, packets, Y4M) are made from a
# clip (../shared/clips or $NEUVC_CLIPS) by tests/fuzz/clip-seeds.sh, never
# committed; they are remade when the tools (and so the model) change.  The
# native suite (the replay test, test_hostile), check-fuzz and check-aarch64
# read them.
FUZZ_CLIP_SEEDS := build/fuzz-seeds/dec_stream/tree_60x100_ippi.nvc
fuzz-seeds: $(FUZZ_CLIP_SEEDS)
$(FUZZ_CLIP_SEEDS): tests/fuzz/clip-seeds.sh $(BUILD)/neuvc-enc $(BUILD)/neuvc-dec
	PYTHON=$(PYTHON) sh tests/fuzz/clip-seeds.sh $(BUILD)/neuvc-enc $(BUILD)/neuvc-dec
test: fuzz-seeds

fuzz:
	$(MAKE) --no-print-directory SANITIZE=fuzz fuzz-bins

# Only meaningful with SANITIZE=fuzz (BUILD = build/fuzz, CC = clang).
fuzz-bins: $(FUZZ_TARGETS:%=$(BUILD)/%)
$(BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(BUILD)/libneuvc.a
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $< $(BUILD)/libneuvc.a $(LDLIBS)

check-fuzz: fuzz fuzz-seeds
	BUILD=build/fuzz FUZZ_TIME=$(FUZZ_TIME) sh tests/fuzz/run-fuzz.sh $(FUZZ_TARGETS)

check-valgrind: all
	BUILD=$(BUILD) PYTHON=$(PYTHON) sh tests/robust/run-valgrind.sh

# The ASan + UBSan library with every allocation call (malloc, calloc,
# realloc, aligned_alloc, posix_memalign, strdup) renamed to the test's
# failing versions: no source change, and allocations added later are
# covered without anyone remembering to route them.
AF_DIR := build/allocfail
AF_SYMS := malloc calloc realloc aligned_alloc posix_memalign strdup
AF_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

$(AF_DIR)/libneuvc.a: build/san/libneuvc.a
	@mkdir -p $(dir $@)
	objcopy $(foreach s,$(AF_SYMS),--redefine-sym $(s)=nv_af_$(s)) $< $@

$(AF_DIR)/test_allocfail: tests/robust/test_allocfail.c $(AF_DIR)/libneuvc.a
	$(CC) $(BASEFLAGS) $(CFLAGS) $(AF_FLAGS) -o $@ $< $(AF_DIR)/libneuvc.a -lm -pthread $(AF_FLAGS)

check-allocfail:
	$(MAKE) --no-print-directory SANITIZE=1 lib
	$(MAKE) --no-print-directory $(AF_DIR)/test_allocfail
	$(AF_DIR)/test_allocfail

# The replay test includes the fuzz targets' sources.
$(BUILD)/tests/test_fuzz_replay: $(wildcard tests/fuzz/*.c tests/fuzz/*.h)
