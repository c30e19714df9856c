# lab: one static (musl) multi-call binary. See README.md.
#
#   make                 build ./lab (dependencies first, through build.sh)
#   make test            install test peers, build, run every test that can run here
#   make demo            a whole home cloud on this machine (lab demo), as root
#   make fuzz            build the libFuzzer targets (clang)
#   make install         PREFIX=/usr/local: lab and one lab-<cmd> symlink per command
#   make bloat           size per object file in the linked binary
#   make clean           remove lab's build output (make distclean: dependencies too)

PREFIX   ?= /usr/local
DESTDIR  ?=
SYSROOT  := .deps/sysroot
CC       := $(SYSROOT)/bin/lab-cc
FUZZCC   ?= clang
B        := build

WARN     := -Wall -Wextra -Wno-unused-parameter -Wshadow -Wstrict-prototypes \
            -Wmissing-prototypes -Wpointer-arith -Wformat=2 -Wno-format-nonliteral
CFLAGS   ?= -Os
CFLAGS   += -std=c11 -D_GNU_SOURCE -ffunction-sections -fdata-sections -fno-pie \
            -fno-plt -fstack-protector-strong $(WARN) -Ilib -Icmd -I$(B)/gen -MMD -MP
LDFLAGS  += -static -no-pie -Wl,--gc-sections -Wl,-z,noexecstack
LIBS     := -lssh -lmbedtls -lmbedx509 -lmbedcrypto -lbearssl -lz -lpthread

LIB_SRC  := $(sort $(wildcard lib/*.c))
CMD_SRC  := $(sort $(wildcard cmd/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(B)/%.o)
CMD_OBJ  := $(CMD_SRC:%.c=$(B)/%.o)
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(B)/fuzz/%)
DEPS     := $(SYSROOT)/stamp/all

all: lab

# Dependencies: build.sh decides what, if anything, needs rebuilding.
$(DEPS): build.sh vendor/deps.lock vendor/SHA256SUMS $(wildcard vendor/*.sh)
	./build.sh deps
	@touch $@

deps: $(DEPS)

$(B)/gen/pins.h: vendor/deps.lock | $(DEPS)
	@mkdir -p $(@D)
	@scripts/gen-pins.sh vendor/deps.lock > $@.tmp && mv $@.tmp $@

# The version header changes only when the version or commit does.
$(B)/gen/version.h: FORCE
	@mkdir -p $(@D)
	@scripts/gen-version.sh > $@.tmp; cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

# The example inventory of `lab deploy init`, built in.
EMBEDDED := $(shell find embedded-layers 2>/dev/null)
$(B)/gen/embedded.c: scripts/gen-embedded.sh $(EMBEDDED)
	@mkdir -p $(@D)
	@scripts/gen-embedded.sh > $@.tmp && mv $@.tmp $@

$(B)/gen/embedded.o: $(B)/gen/embedded.c lib/embedded.h | $(DEPS)
	$(CC) $(CFLAGS) -c -o $@ $<

$(B)/%.o: %.c | $(DEPS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

$(B)/cmd/lab.o $(B)/lib/deploy_recv.o: $(B)/gen/pins.h $(B)/gen/version.h

$(B)/liblab.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/lab: $(CMD_OBJ) $(B)/gen/embedded.o $(B)/liblab.a
	$(CC) $(LDFLAGS) -Wl,-Map=$(B)/lab.map -o $@ $(CMD_OBJ) $(B)/gen/embedded.o $(B)/liblab.a \
		-L$(SYSROOT)/lib $(LIBS)

lab: $(B)/lab
	strip -o $@ $<

# Unit tests link the same objects as the binary.
$(B)/tests/%: tests/unit/%.c tests/tap.h $(B)/liblab.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests $(LDFLAGS) -o $@ $< $(B)/liblab.a -L$(SYSROOT)/lib $(LIBS)

tests: $(UNIT_BIN) lab

# Fuzz targets: clang + libFuzzer + ASan/UBSan against the system libc;
# each target #includes the parser it drives and links the rest of lib/
# from an archive of its own (members are pulled only when needed).
FUZZ_FLAGS := -g -O1 -fsanitize=address,undefined -D_GNU_SOURCE -Ilib -I$(B)/gen \
              -isystem $(SYSROOT)/include -DLAB_FUZZ
FUZZ_LIB_OBJ := $(LIB_SRC:lib/%.c=$(B)/fuzz/obj/%.o)

$(B)/fuzz/obj/deploy_recv.o: $(B)/gen/version.h

$(B)/fuzz/obj/%.o: lib/%.c | $(DEPS)
	@mkdir -p $(@D)
	$(FUZZCC) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

$(B)/fuzz/liblab.a: $(FUZZ_LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

# BearSSL (built with musl, no libc calls of note, not position-independent)
# links into the fuzzers as it is, hence -no-pie.
$(B)/fuzz/%: tests/fuzz/%.c $(B)/fuzz/liblab.a
	$(FUZZCC) $(FUZZ_FLAGS) -fsanitize=fuzzer -no-pie -MMD -MP -o $@ $< $(B)/fuzz/liblab.a \
		$(SYSROOT)/lib/libbearssl.a $(SYSROOT)/lib/libz.a

fuzz: $(FUZZ_BIN)

test:
	tests/setup.sh
	$(MAKE) --no-print-directory tests
	if command -v $(FUZZCC) >/dev/null; then $(MAKE) --no-print-directory fuzz; fi
	tests/run.sh

# The demo needs openssh-server, busybox-static, btrfs-progs: installed if missing.
demo: lab
	scripts/demo-deps.sh
	./lab demo

install: lab
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 lab $(DESTDIR)$(PREFIX)/bin/lab
	for c in $$(./lab --list | awk '{print $$1}'); do \
		ln -sfn lab $(DESTDIR)$(PREFIX)/bin/lab-$$c; done

bloat: $(B)/lab
	@scripts/bloat.sh $(B)/lab.map
	@printf 'stripped size of ./lab: '; stat -c %s lab 2>/dev/null || echo '(run make first)'

clean:
	rm -rf $(B) lab

distclean: clean
	./build.sh clean

.PHONY: all deps tests fuzz test demo install bloat clean distclean FORCE

-include $(LIB_OBJ:.o=.d) $(CMD_OBJ:.o=.d) $(FUZZ_LIB_OBJ:.o=.d) $(FUZZ_BIN:=.d)
