# Diptych — two kernels, one body of code.
#
#   make qemu-mono        boot the monolithic kernel (serial console in this terminal)
#   make qemu-micro       boot the microkernel
#   make test             host unit tests + every QEMU test on both kernels
#   make grade            the lab grader (same harness), with a score
#   make bench            benchmarks (guest instructions), both kernels, side by side
#   make figures          make bench, and its table into the README and docs
#   make crash-long       long power-cut runs of the journal: host (200 random
#                         workloads) and QEMU (50 cuts per kernel)
#   make copy-time        wall time of copying a 20 MiB file on each kernel
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
MONO_IMG   := $(BUILD)/mono.img
MICRO_IMG  := $(BUILD)/micro.img
DISK_MIB   := 32

USER_MONO_BIN  := target/user-mono/$(TARGET)/$(PROFILE)
USER_MICRO_BIN := target/user-micro/$(TARGET)/$(PROFILE)
USER_PROGRAMS  := init sh cat echo grep wc ls mkdir rm ln mv kill sleep true usertests bench trace sync fswork crash faultwork

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
	qemu-mono-gdb qemu-micro-gdb test test-host test-qemu grade bench figures fmt clippy clean FORCE \
	micro-test-host test-micro crash-long copy-time

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

grade: all
	$(GRADE) --kernel both --json $(BUILD)/results.json

# The benchmarks on both kernels, side by side: build/bench/figures.md,
# figures.csv and ratios.svg. BENCH_RUNS=3 measures three times and marks
# what differed (the determinism check); ACCEL=kvm measures cycles.
bench: all
	BENCH_RUNS=$(BENCH_RUNS) bash scripts/bench-table.sh $(BUILD)/bench

# `make bench`, then the table into docs/figures/bench.md and every marked
# block of the README and docs (the only way figures get there), and the
# chart into docs/figures/bench.svg.
figures: bench
	bash scripts/update-figures.sh $(BUILD)/bench/figures.md $(BUILD)/bench/ratios.svg

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
