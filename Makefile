# Diptych — two kernels, one body of code.
#
#   make qemu-mono        boot the monolithic kernel (serial console in this terminal)
#   make qemu-micro       boot the microkernel
#   make test             host unit tests + every QEMU test on both kernels
#   make grade            the grader (same harness), with a score; LAB=name grades
#                         one lab (labs/README.md), TEST=text one test, USERTEST=name
#                         one usertest alone
#   make starter LAB=name DEST=dir   a lab's starter tree (a git repository)
#   make handin           in a starter tree: handin-LAB.tar.gz to hand in
#   make grade-batch DIR=dir         grade every submission in dir (staff)
#   make test-labs        every lab: full tree full marks, starter builds and scores less
#   make fuzz SEED=.. N=..  the system-call and message fuzzers, a long run
#   make bench            benchmarks (guest instructions), both kernels, side by side
#   make figures          make bench, and its table into the README and docs
#   make inject N=...     fault-injection campaign: N random faults in the
#                         micro-kernel's servers (default 1,000), all survived?
#   make crash-long       long power-cut runs of the journal: host (200 random
#                         workloads) and QEMU (50 cuts per kernel)
#   make copy-time        wall time of copying a 20 MiB file on each kernel
#   make trace            one pipe write through both kernels: build/trace/index.html
#                         (CMD='ls | wc' for another command line)
#   make qemu-mono-gdb    boot and wait for GDB (likewise qemu-micro-gdb)
#   make clean
#
# Options: ACCEL=kvm (hardware virtualisation, if you have it), QEMUEXTRA=...
#
# Each bare-metal part is its own cargo workspace with its own compiler flags
# (see the .cargo/config.toml in mono-kernel/, micro-kernel/kernel/,
# micro-kernel/user/ and user/); this Makefile only runs them in order and
# assembles the disk images.

SHELL := /bin/bash
export PATH := $(PATH):/usr/sbin:/sbin

BUILD   := build
PROFILE := release
TARGET  := x86_64-unknown-none

MONO_ELF   := $(BUILD)/mono-kernel.elf
MICRO_ELF  := $(BUILD)/micro-kernel.elf
# The co-location experiment's micro-kernel: the fs code inside vfs.
MICRO_COLOCATED_ELF := $(BUILD)/micro-colocated-kernel.elf
MONO_IMG   := $(BUILD)/mono.img
MICRO_IMG  := $(BUILD)/micro.img
DISK_MIB   := 32

USER_MONO_BIN  := target/user-mono/$(TARGET)/$(PROFILE)
USER_MICRO_BIN := target/user-micro/$(TARGET)/$(PROFILE)
USER_PROGRAMS  := init sh cat echo grep wc ls mkdir rm ln mv kill sleep true usertests bench trace sync fswork \
	fuzz msgfuzz pingpong primes find xargs date crash faultwork

CARGO_BUILD := cargo build --release --quiet

# ---- QEMU ----------------------------------------------------------------
QEMU := qemu-system-x86_64
QBOOT := /usr/share/qemu/qboot.rom
# qboot boots in ~50 ms but leaves the VGA card uninitialised, so with a
# window (DISPLAY set) we keep QEMU's default SeaBIOS, which sets up VGA.
QEMU_BIOS := $(if $(DISPLAY),,$(if $(wildcard $(QBOOT)),-bios $(QBOOT),))
ifeq ($(ACCEL),kvm)
QEMU_ACCEL := -accel kvm -cpu max,-arch-capabilities
else
QEMU_ACCEL := -accel tcg
endif
# With no DISPLAY (ssh, CI, containers) there is no window: the serial port
# in this terminal is the console. With a DISPLAY, QEMU also opens the VGA window.
QEMU_DISPLAY := $(if $(DISPLAY),,-display none)
QEMU_FLAGS = -machine pc $(QEMU_ACCEL) -m 256M $(QEMU_BIOS) -serial mon:stdio $(QEMU_DISPLAY) \
	-no-reboot -device isa-debug-exit,iobase=0xf4,iosize=0x04 $(QEMUEXTRA)
GDB_PORT := 1234
# How many times `make bench` measures (more than once: a determinism check).
BENCH_RUNS ?= 1

.PHONY: all tools mono micro user-mono user-micro images qemu-mono qemu-micro \
	qemu-mono-gdb qemu-micro-gdb test test-host test-qemu grade bench fuzz inject figures trace fmt clippy clean FORCE \
	micro-test-host test-micro crash-long copy-time micro-colocated starter handin grade-batch test-labs \
	grade-repeat

all: $(MONO_IMG) $(MICRO_IMG) mono micro

tools:
	@bash scripts/ensure-tools.sh

$(BUILD):
	@mkdir -p $(BUILD)

# ---- kernels ---------------------------------------------------------------
mono: tools | $(BUILD)
	cd mono-kernel && $(CARGO_BUILD)
	@cmp -s target/mono-kernel/$(TARGET)/$(PROFILE)/mono-kernel $(MONO_ELF) || \
		cp target/mono-kernel/$(TARGET)/$(PROFILE)/mono-kernel $(MONO_ELF)

# --- micro-kernel ---
# Build order: the servers first, then the root task (its build.rs embeds
# the servers' ELF files), then the kernel (its build.rs embeds the root
# task). One `cargo build` of the whole workspace could build root before a
# server it carries, hence three steps.
micro: tools | $(BUILD)
	cd micro-kernel/user && $(CARGO_BUILD) --workspace --exclude root
	cd micro-kernel/user && $(CARGO_BUILD) -p root
	cd micro-kernel/kernel && $(CARGO_BUILD)
	@cmp -s target/micro-kernel/$(TARGET)/$(PROFILE)/micro-kernel $(MICRO_ELF) || \
		cp target/micro-kernel/$(TARGET)/$(PROFILE)/micro-kernel $(MICRO_ELF)

# The co-location experiment (docs/performance.md): the same micro-kernel
# and servers, but the fs code linked into the vfs server (vfs and root
# built with the feature `colocated-fs`, in target folders of their own, so
# the normal build is untouched), carried by a kernel of its own. Same disk.
COLOCATED_USER := target/micro-user-colocated
micro-colocated: micro
	cd micro-kernel/user && CARGO_TARGET_DIR=../../$(COLOCATED_USER) $(CARGO_BUILD) -p vfs --features colocated-fs
	cd micro-kernel/user && CARGO_TARGET_DIR=../../$(COLOCATED_USER) \
		MICRO_SERVER_VFS_ELF=$(abspath $(COLOCATED_USER)/$(TARGET)/$(PROFILE)/vfs) \
		$(CARGO_BUILD) -p root --features colocated-fs
	cd micro-kernel/kernel && CARGO_TARGET_DIR=../../target/micro-kernel-colocated \
		MICRO_ROOT_ELF=$(abspath $(COLOCATED_USER)/$(TARGET)/$(PROFILE)/root) $(CARGO_BUILD)
	@cmp -s target/micro-kernel-colocated/$(TARGET)/$(PROFILE)/micro-kernel $(MICRO_COLOCATED_ELF) || \
		cp target/micro-kernel-colocated/$(TARGET)/$(PROFILE)/micro-kernel $(MICRO_COLOCATED_ELF)

# Host unit tests of the microkernel's pure parts: the kernel's mapping
# database and ELF reader, the proc server's bookkeeping (frame
# reference counts, memory maps and copy-on-write decisions, process table),
# the vfs server's (descriptor tables, pipes and parked requests) and the
# console server's (parked readers).
micro-test-host:
	cd micro-kernel/kernel && cargo test --release --quiet --lib --target x86_64-unknown-linux-gnu
	cd micro-kernel/user && cargo test --release --quiet -p proc -p vfs -p console --lib --target x86_64-unknown-linux-gnu

# Every grading suite on the micro-kernel alone (`make test` runs them on
# both kernels).
test-micro: all
	$(GRADE) --kernel micro
# --- end micro-kernel ---

# ---- user programs and disk images ------------------------------------------
# The checksum file changes only when a program changes, so the disk image
# (and everything written to it) survives between boots until then.
$(BUILD)/user-mono.sum: FORCE tools | $(BUILD)
	cd user && $(CARGO_BUILD)
	@cd $(USER_MONO_BIN) && sha256sum $(USER_PROGRAMS) > $(CURDIR)/$@.new
	@cmp -s $@.new $@ && rm $@.new || mv $@.new $@

$(BUILD)/user-micro.sum: FORCE tools | $(BUILD)
	cd user && $(CARGO_BUILD) --no-default-features --features micro --target-dir ../target/user-micro
	@cd $(USER_MICRO_BIN) && sha256sum $(USER_PROGRAMS) > $(CURDIR)/$@.new
	@cmp -s $@.new $@ && rm $@.new || mv $@.new $@

user-mono: $(BUILD)/user-mono.sum
user-micro: $(BUILD)/user-micro.sum

$(MONO_IMG): $(BUILD)/user-mono.sum scripts/make-disk.sh user/README
	bash scripts/make-disk.sh $(USER_MONO_BIN) $@ $(DISK_MIB) $(USER_PROGRAMS)

$(MICRO_IMG): $(BUILD)/user-micro.sum scripts/make-disk.sh user/README
	bash scripts/make-disk.sh $(USER_MICRO_BIN) $@ $(DISK_MIB) $(USER_PROGRAMS)

images: $(MONO_IMG) $(MICRO_IMG)

# ---- running ---------------------------------------------------------------
DISK_FLAGS = -drive file=$(1),format=raw,if=ide,index=0

qemu-mono: mono $(MONO_IMG)
	$(QEMU) $(QEMU_FLAGS) -kernel $(MONO_ELF) $(call DISK_FLAGS,$(MONO_IMG)) || [ $$? -eq 33 ]

qemu-micro: micro $(MICRO_IMG)
	$(QEMU) $(QEMU_FLAGS) -kernel $(MICRO_ELF) $(call DISK_FLAGS,$(MICRO_IMG)) || [ $$? -eq 33 ]

qemu-mono-gdb: mono $(MONO_IMG)
	@echo "*** QEMU waits for GDB on port $(GDB_PORT). In another terminal:"
	@echo "***   gdb $(CURDIR)/$(MONO_ELF) -ex 'target remote :$(GDB_PORT)'"
	$(QEMU) $(QEMU_FLAGS) -kernel $(MONO_ELF) $(call DISK_FLAGS,$(MONO_IMG)) -S -gdb tcp::$(GDB_PORT)

qemu-micro-gdb: micro $(MICRO_IMG)
	@echo "*** QEMU waits for GDB on port $(GDB_PORT). In another terminal:"
	@echo "***   gdb $(CURDIR)/$(MICRO_ELF) -ex 'target remote :$(GDB_PORT)'"
	$(QEMU) $(QEMU_FLAGS) -kernel $(MICRO_ELF) $(call DISK_FLAGS,$(MICRO_IMG)) -S -gdb tcp::$(GDB_PORT)

# Names a kernel address from a fault report: make addr2line ADDR=0xffffffff8010650e [KERNEL=micro]
addr2line:
	@addr2line -f -C -i -e $(if $(filter micro,$(KERNEL)),$(MICRO_ELF),$(MONO_ELF)) $(ADDR)

# ---- tests -----------------------------------------------------------------
GRADE := cargo run --release --quiet -p grading --bin grade --

test: test-host micro-test-host test-qemu

# Property tests draw their cases from this seed, so `make test` runs the
# same cases every time (a test that passes on one run and fails on the
# next helps nobody). Try others with `make test-host PROPTEST_RNG_SEED=N`;
# a failure is saved under proptest-regressions/ and replayed from then on.
export PROPTEST_RNG_SEED ?= 1206

test-host:
	cargo test --release --workspace
	cd user && cargo test --release --quiet -p ulib --target x86_64-unknown-linux-gnu --lib

test-qemu: all
	$(GRADE) --kernel both

# make grade [LAB=name [TEST=text]] [USERTEST=name]: every suite, or one
# lab's tests (labs/README.md), or one usertest alone.
LAB ?=
TEST ?=
USERTEST ?=
grade: all
	$(GRADE) --kernel both --json $(BUILD)/results.json $(if $(LAB),--lab $(LAB)) \
		$(if $(TEST),--test $(TEST)) $(if $(USERTEST),--usertest $(USERTEST))

# ---- labs (labs/README.md) ----------------------------------------------------
# A lab's starter tree: make starter LAB=syscall DEST=../syscall
starter:
	@test -n "$(LAB)" -a -n "$(DEST)" || { echo "usage: make starter LAB=name DEST=dir"; exit 2; }
	$(GRADE) starter $(LAB) $(DEST)

# In a starter tree: the student's work, as handin-LAB.tar.gz.
handin:
	$(GRADE) handin

# Staff: grade every submission in DIR (tarballs from make handin, or trees),
# JOBS at a time: DIR/grades.csv and DIR/results/NAME.json.
JOBS ?= 2
grade-batch:
	@test -n "$(DIR)" || { echo "usage: make grade-batch DIR=dir [JOBS=n]"; exit 2; }
	$(GRADE) batch $(DIR) --jobs $(JOBS)

# The grader's determinism check: every suite and every lab (hidden tests
# included) graded N times in a row (default 10); fails if any run scores
# differently from the first. Logs in build/grade-repeat/.
grade-repeat: all
	bash scripts/grade-repeat.sh $(or $(N),10) $(BUILD)/grade-repeat

# Every lab (or LAB=name): the full tree scores full marks, the starter
# builds, boots and scores less. Several minutes a lab (each starter is a
# fresh build); .ci/run runs it after make test.
test-labs: all
	$(GRADE) self-check $(LAB)

# The benchmarks on both kernels, side by side: build/bench/figures.md,
# figures.csv and ratios.svg. BENCH_RUNS=3 measures three times and marks
# what differed (the determinism check); ACCEL=kvm measures cycles.
bench: all micro-colocated
	BENCH_RUNS=$(BENCH_RUNS) bash scripts/bench-table.sh $(BUILD)/bench

# The fuzzers (grading/src/suites/fuzz.rs), a long run: `fuzz SEED N` on
# both kernels and `msgfuzz SEED N` on the micro-kernel. A new seed each
# time unless SEED is given; a failure prints the command that replays it.
SEED ?= $(shell date +%s)
SEED := $(SEED)
N ?= 20000
fuzz: all
	@echo "fuzz: seed $(SEED), $(N) calls (make fuzz SEED=$(SEED) N=$(N) repeats this run)"
	FUZZ_SEED=$(SEED) FUZZ_CALLS=$(N) $(GRADE) --kernel both --suite fuzz

# The fault-injection campaign (grading/src/suites/fault_isolation.rs,
# docs/fault-isolation.md), a long run: `faultwork SEED N` on the
# micro-kernel, N random faults in the disk, fs and console servers while
# it works (1,000 unless N is given on the command line); reports how many
# it survived with the data intact, and e2fsck -fn checks the disk after.
INJECT_N = $(if $(filter command line,$(origin N)),$(N),1000)
inject: all
	@echo "inject: seed $(SEED), $(INJECT_N) faults (make inject SEED=$(SEED) N=$(INJECT_N) repeats this run)"
	INJECT_SEED=$(SEED) INJECT_FAULTS=$(INJECT_N) $(GRADE) --kernel micro --suite fault-isolation --test fault-campaign

# `make bench`, then the table into docs/figures/bench.md and every marked
# block of the README and docs (the only way figures get there), and the
# chart into docs/figures/bench.svg.
figures: bench
	bash scripts/update-figures.sh bench $(BUILD)/bench/figures.md:$(BUILD)/bench/ratios.svg \
		colocation $(BUILD)/bench/colocation.md targets $(BUILD)/bench/targets.md

# The journal's power-cut tests at length (`make test` runs short versions):
# every crash point of 200 random workloads on the host, judged by our
# recovery and by e2fsck; then 50 cuts of QEMU per kernel during `fswork`.
crash-long: all
	set -o pipefail; JOURNAL_CRASH_CASES=200 cargo test --release -p common --test journal_crash \
		-- --nocapture 2>&1 | awk '/so far/ { last = $$0; next } { print } END { print last }'
	POWER_CUTS=50 $(GRADE) --kernel both --suite power-cut

# Copying a 20 MiB file (`cat big > big2`, then `sync`, then `wc big2`) on
# each kernel under TCG, wall clock (scripts/copy-time.sh).
copy-time: all
	bash scripts/copy-time.sh $(MONO_ELF) $(MONO_IMG)
	bash scripts/copy-time.sh $(MICRO_ELF) $(MICRO_IMG)

# `make trace`: boots each kernel under -icount shift=0, traces CMD (default
# `echo hi | cat`) and writes build/trace/: index.html (the two paths as swim
# lanes), mono.json and micro.json (Chrome trace events, for Perfetto),
# summary.txt, the dumps, and the book's tables. For the default command the
# tables also go into docs/figures/ and the chapters' marked blocks, and the
# cut-down traces into common/src/trace/samples/ (the host tests' samples),
# except in a lab's starter tree (a `.lab` file), where they would end up in
# the student's hand-in.
TRACE := cargo run --release --quiet -p grading --bin trace --
TRACE_DEFAULT := echo hi | cat
CMD ?= $(TRACE_DEFAULT)
TRACE_CMD = '$(subst ','\'',$(CMD))'
TRACE_FIGURES := trace-totals trace-answers trace-where trace-parts trace-steps-mono trace-steps-micro

trace: all
	$(TRACE) --out $(BUILD)/trace -- $(TRACE_CMD)
	@if [ -f .lab ]; then \
		echo "trace: a lab's starter tree (.lab), so docs/figures/ and the samples stay as they are (the tables are in $(BUILD)/trace/figures/)"; \
	elif [ $(TRACE_CMD) = '$(TRACE_DEFAULT)' ]; then \
		bash scripts/update-figures.sh $(foreach f,$(TRACE_FIGURES),$(f) $(BUILD)/trace/figures/$(f).md) && \
		for k in mono micro; do \
			cmp -s $(BUILD)/trace/samples/$$k.trace common/src/trace/samples/echo-hi-cat.$$k.trace || \
			cp $(BUILD)/trace/samples/$$k.trace common/src/trace/samples/echo-hi-cat.$$k.trace; \
		done; \
	else \
		echo "trace: not the default command, so docs/figures/ and the samples stay as they are"; \
	fi

fmt:
	cargo fmt --all
	cd mono-kernel && cargo fmt
	cd micro-kernel/kernel && cargo fmt
	cd micro-kernel/user && cargo fmt
	cd user && cargo fmt

clippy:
	cargo clippy --workspace --all-targets -- -D warnings
	cargo clippy -p common --target $(TARGET) -- -D warnings
	cd mono-kernel && cargo clippy --release -- -D warnings
	cd micro-kernel/kernel && cargo clippy --release -- -D warnings
	cd micro-kernel/user && cargo clippy --release -- -D warnings
	cd user && cargo clippy --release -- -D warnings
	cd user && cargo clippy --release --no-default-features --features micro --target-dir ../target/user-micro -- -D warnings

clean:
	rm -rf $(BUILD) target

FORCE:
