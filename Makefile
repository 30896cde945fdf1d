# attnbench: `make` builds build/attnbench. Every target has a one-line comment; see README.md.
#
# A file named *_<suffix>.c gets the flags FLAGS_<suffix> of the table below; everything
# else is built for baseline x86-64 (or the host architecture), so one binary runs
# anywhere and the registry skips at run time what the CPU lacks (a kernel's `requires`).

CC       ?= cc
OPT      ?= -O3
CFLAGS   ?= $(OPT) -g
WARN     := -Wall -Wextra
CPPFLAGS += -Iinclude -Iharness $(shell pkg-config --cflags libcjson 2>/dev/null)
OMPFLAG  ?= -fopenmp
LDLIBS   += -linih -lcjson -lm
BUILD    ?= build
ALLFLAGS  = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(OMPFLAG) -MMD -MP

# On a fresh machine `make test` / `make bench` install the libraries first, here, while
# the Makefile is read: the CBLAS check below must see what install-deps.sh brings.
ifneq ($(filter test bench sanitize fuzz,$(MAKECMDGOALS)),)
  DEPS_STATUS := $(shell scripts/install-deps.sh >&2; echo $$?)
  ifneq ($(DEPS_STATUS),0)
    $(error scripts/install-deps.sh could not install what the build needs (above))
  endif
endif

# CBLAS for the blas kernel: OpenBLAS found by pkg-config (or -lopenblas), checked by
# compiling and linking a call. CBLAS=auto (default): use it when found; CBLAS=0: build
# without (blas is then listed unavailable, with the reason); CBLAS=1: fail when missing.
CBLAS ?= auto
ifneq ($(CBLAS),0)
  CBLAS_CFLAGS := $(shell pkg-config --cflags openblas 2>/dev/null)
  CBLAS_LIBS   := $(or $(shell pkg-config --libs openblas 2>/dev/null),-lopenblas)
  CBLAS_FOUND  := $(shell printf '\043include <cblas.h>\nint main(void){float a=0;openblas_set_num_threads(1);cblas_sgemm(CblasRowMajor,CblasNoTrans,CblasNoTrans,1,1,1,1.0f,&a,1,&a,1,0.0f,&a,1);return 0;}\n' | \
                    $(CC) -x c - $(CBLAS_CFLAGS) -o /dev/null $(CBLAS_LIBS) >/dev/null 2>&1 && echo yes)
  ifeq ($(CBLAS_FOUND),yes)
    LDLIBS += $(CBLAS_LIBS)
  else ifeq ($(CBLAS),1)
    $(error CBLAS=1 but no OpenBLAS CBLAS found: install libopenblas-dev (scripts/install-deps.sh))
  endif
endif
CBLAS_DEFS := $(if $(CBLAS_FOUND),-DATTN_HAVE_CBLAS $(CBLAS_CFLAGS))

# Build flags per file-name suffix: one line per suffix, nothing else to add. A kernel
# file kernels/<name>_<suffix>.c (and harness/*/*_<suffix>.c) is compiled with them;
# its descriptor's `requires` names the CPU features they assume. For example:
#   FLAGS_amx        := $(FLAGS_avx512) -mavx512bf16 -mamx-tile -mamx-bf16
# _avx2: AVX2 + FMA, and F16C for vec_avx2.h's f16 row loads (a kernel that calls them,
# decode_avx2, requires ATTN_REQ_AVX2 | F16C; the others ATTN_REQ_AVX2);
# _f16: AVX2 + FMA kernels that read f16 storage through F16C (ATTN_REQ_AVX2 | F16C);
# _bf16: AVX-512 kernels with AVX512-BF16 (ATTN_REQ_AVX512 | AVX512_BF16).
FLAGS_avx2   := -mavx2 -mfma -mf16c
FLAGS_avx512 := -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx2 -mfma
FLAGS_f16    := -mavx2 -mfma -mf16c
FLAGS_bf16   := $(FLAGS_avx512) -mavx512bf16

ISA_SUFFIXES := $(sort $(patsubst FLAGS_%,%,$(filter FLAGS_%,$(.VARIABLES))))
ARCH := $(shell uname -m)
ISA_SRC := $(foreach s,$(ISA_SUFFIXES),$(wildcard kernels/*_$(s).c harness/*/*_$(s).c))
ifeq ($(filter x86_64 amd64,$(ARCH)),)
  SRC_LIB := $(filter-out $(ISA_SRC) harness/cli/main.c, $(wildcard kernels/*.c harness/*/*.c))
else
  SRC_LIB := $(filter-out harness/cli/main.c, $(wildcard kernels/*.c harness/*/*.c))
endif
OBJ_LIB  := $(SRC_LIB:%.c=$(BUILD)/obj/%.o)
SRC_TEST := $(wildcard tests/*.c)
OBJ_TEST := $(SRC_TEST:%.c=$(BUILD)/obj/%.o)

GIT_SHA := $(shell git describe --always --dirty --abbrev=12 2>/dev/null || echo unknown)

.PHONY: all deps test slurm-test sanitize bench plot clean install fuzz peers FORCE

# build the benchmark binary
all: $(BUILD)/attnbench

# install what the build needs (compiler aside): inih, cJSON, gnuplot; idempotent
deps:
	@scripts/install-deps.sh

# run every unit and end-to-end test; ends with "N passed, N failed"
test: deps $(BUILD)/attnbench $(BUILD)/test_attn $(BUILD)/testpeer
	ATTNBENCH=$(BUILD)/attnbench ATTN_TESTPEER=$(BUILD)/testpeer $(BUILD)/test_attn

# PyTorch + NumPy for the peers (docs/peers.md) in .venv-peers; idempotent; several GB from PyPI
PEERS_PYTHON ?= python3
PEERS_READY := import torch, numpy; print("peers ready: torch", torch.__version__, "numpy", numpy.__version__)
peers:
	@test -x .venv-peers/bin/python || $(PEERS_PYTHON) -m venv .venv-peers
	@.venv-peers/bin/python -c '$(PEERS_READY)' 2>/dev/null || { \
		.venv-peers/bin/python -m pip install torch numpy && .venv-peers/bin/python -c '$(PEERS_READY)'; }

# scripts/slurm-shards.sh end to end on a private one-node Slurm (root; installs slurm-wlm; ~40 s)
slurm-test:
	tests/slurm-e2e.sh

# the tests again under AddressSanitizer + UndefinedBehaviorSanitizer
sanitize: deps
	$(MAKE) BUILD=build-san OPT=-O1 CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined" LDFLAGS="-fsanitize=address,undefined" test

# fuzz the config reader and the results reader (libFuzzer, clang, ASan+UBSan): make fuzz FUZZ_SECONDS=600
FUZZ_SECONDS ?= 60
fuzz: deps
	$(MAKE) BUILD=build-fuzz CC=clang OPT=-O1 CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined" \
		LDFLAGS="-fsanitize=fuzzer,address,undefined" build-fuzz/fuzz_config build-fuzz/fuzz_results
	scripts/fuzz.sh $(FUZZ_SECONDS)

# the main job: build, run the quick sweep, draw its charts
bench: deps $(BUILD)/attnbench
	@out=results/quick-$$(date +%Y%m%d-%H%M%S); \
	$(BUILD)/attnbench run configs/quick.ini -o $$out && \
	ln -sfn $$(basename $$out) results/latest && \
	$(BUILD)/attnbench plot $$out && echo "results in $$out (also results/latest)"

# charts for a results directory: make plot DIR=results/latest
plot: $(BUILD)/attnbench
	$(BUILD)/attnbench plot $(or $(DIR),results/latest)

# remove build outputs (results/ is kept)
clean:
	rm -rf build build-san build-fuzz

# install the binary: make install PREFIX=/usr/local
install: $(BUILD)/attnbench
	install -D -m 755 $(BUILD)/attnbench $(DESTDIR)$(or $(PREFIX),/usr/local)/bin/attnbench

$(BUILD)/attnbench: $(BUILD)/obj/harness/cli/main.o $(BUILD)/libattn.a
	$(CC) $(ALLFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/test_attn: $(OBJ_TEST) $(BUILD)/libattn.a
	$(CC) $(ALLFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# the protocol's test peer (tests/test_peer.c): plain C, no torch
$(BUILD)/testpeer: $(BUILD)/obj/tests/peers/testpeer.o $(BUILD)/libattn.a
	$(CC) $(ALLFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/fuzz_%: $(BUILD)/obj/tests/fuzz/fuzz_%.o $(BUILD)/libattn.a
	$(CC) $(ALLFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/libattn.a: $(OBJ_LIB)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALLFLAGS) $(ISA_FLAGS) -c -o $@ $<

# blas.c and the mha layer alone see the CBLAS header; rebuilt when the CBLAS choice changes
$(BUILD)/obj/kernels/blas.o $(BUILD)/obj/harness/core/layer.o: CPPFLAGS += $(CBLAS_DEFS)
$(BUILD)/obj/harness/core/layer.o: $(BUILD)/cblas.flags
$(BUILD)/obj/kernels/blas.o: ISA_FLAGS = -fno-trapping-math   # lets GCC vectorise its exp's clamp
$(BUILD)/obj/kernels/blas.o: $(BUILD)/cblas.flags
$(BUILD)/cblas.flags: FORCE
	@mkdir -p $(dir $@)
	@echo '$(CBLAS_DEFS) $(CBLAS_LIBS)' | cmp -s - $@ || echo '$(CBLAS_DEFS) $(CBLAS_LIBS)' > $@

# one pattern-specific ISA_FLAGS per row of the suffix table
$(foreach s,$(ISA_SUFFIXES),$(eval $$(BUILD)/obj/%_$(s).o: ISA_FLAGS = $$(FLAGS_$(s))))

# "avx2: -mavx2 -mfma; avx512: ..." as recorded in results (context.build.isa_flags)
ISA_FLAGS_DESC := $(shell printf '%s' '$(foreach s,$(ISA_SUFFIXES),$(s): $(FLAGS_$(s));)' | sed 's/ *;$$//; s/;\([^ ]\)/; \1/g')

# machine.c records the build in every results file, so it is rebuilt every time
$(BUILD)/obj/harness/core/machine.o: FORCE
$(BUILD)/obj/harness/core/machine.o: CPPFLAGS += -DATTN_GIT_SHA='"$(GIT_SHA)"' \
	-DATTN_CFLAGS='"$(strip $(CFLAGS) $(OMPFLAG))"' -DATTN_ISA_FLAGS='"$(ISA_FLAGS_DESC)"'

-include $(OBJ_LIB:.o=.d) $(OBJ_TEST:.o=.d) $(BUILD)/obj/harness/cli/main.d $(BUILD)/obj/tests/peers/testpeer.d
