//! Single privileged x86_64 instructions, under names that say what they do.
//!
//! Most of these are one-line calls into the `x86` crate, so the rest of the
//! kernel reads without inline assembly. Each was checked against the crate's
//! source (v0.52): its `asm!` blocks claim *fewer* `options` than the
//! hand-written versions they replaced — no `nomem`, `nostack` or
//! `preserves_flags` on the control-register moves, `rdmsr`/`wrmsr`,
//! `sti`/`cli`, `in`/`out` — which only tells the compiler less, never
//! something false (`rdtsc` is core's `_rdtsc` intrinsic, the same
//! instruction). Two claim more: `x86::halt()` is `nomem` — see
//! [`enable_interrupts_and_halt`], which stays hand-written for that reason
//! and because `sti; hlt` must be a single `asm!` block — and
//! `x86::task::load_tr` is `nomem`, harmless where `gdt.rs` uses it.
//!
//! Also hand-written on purpose, elsewhere: the boot code (`boot.rs`: 32-bit
//! mode, no Rust yet) and the trap and `syscall` entry paths (`trap.rs`),
//! where the instructions themselves are the lesson.
//!
//! The crate's functions are all `unsafe` (most need ring 0); the wrappers
//! that cannot break memory safety are safe here, as they were before.

/// Reads CR2: the linear address that caused the last page fault.
pub fn read_cr2() -> u64 {
    // SAFETY: the kernels run in ring 0; reading CR2 has no side effects.
    unsafe { x86::controlregs::cr2() as u64 }
}

/// Reads CR3: the physical address of the current top-level page table.
pub fn read_cr3() -> u64 {
    // SAFETY: the kernels run in ring 0; reading CR3 has no side effects.
    unsafe { x86::controlregs::cr3() }
}

/// Switches to the address space whose PML4 is at physical address `pml4`.
///
/// # Safety
/// `pml4` must be a valid PML4 that maps the running kernel (code, stack and
/// data) at the same addresses as the current one.
pub unsafe fn write_cr3(pml4: u64) {
    // SAFETY: the caller guarantees the new tables map the kernel identically.
    // The crate's `mov cr3` is not `nomem`: it changes what every address
    // means, so the compiler must not move loads or stores across it.
    unsafe { x86::controlregs::cr3_write(pml4) };
}

/// Drops the TLB entry for the page containing `virt`.
pub fn invalidate_page(virt: u64) {
    // SAFETY: ring 0; `invlpg` only discards a cached translation. Like the
    // hand-written version, the crate's `invlpg` is not `nomem`, so the page
    // table store it follows cannot be moved after it.
    unsafe { x86::tlb::flush(virt as usize) };
}

/// Reads a model-specific register.
///
/// # Safety
/// `msr` must exist on this CPU, or the instruction faults.
pub unsafe fn read_msr(msr: u32) -> u64 {
    // SAFETY: the caller guarantees the MSR exists; the kernels run in ring 0.
    unsafe { x86::msr::rdmsr(msr) }
}

/// Writes a model-specific register.
///
/// # Safety
/// `msr` must exist and `value` must be valid for it; MSRs change how the CPU
/// behaves (system-call entry, segment bases, ...).
pub unsafe fn write_msr(msr: u32, value: u64) {
    // SAFETY: the caller guarantees the MSR and value are valid.
    unsafe { x86::msr::wrmsr(msr, value) };
}

/// The time-stamp counter. Under QEMU with `-icount shift=0` it counts guest
/// instructions, which makes benchmark figures deterministic.
pub fn rdtsc() -> u64 {
    // SAFETY: `rdtsc` only reads a counter (it faults only in ring 3 with
    // CR4.TSD set, which Diptych never sets). The crate uses core's `_rdtsc`
    // intrinsic: the same instruction.
    unsafe { x86::time::rdtsc() }
}

// The functions that let interrupts in must NOT be `nomem`: an interrupt
// handler may change any memory while interrupts are on, so the compiler must
// not keep values in registers across them. (With `nomem`, a loop like
// `while !flag { sti; hlt; cli }` waits forever: the compiler reads `flag`
// once.) The crate's `irq::enable`/`irq::disable` are a bare `asm!("sti")` /
// `asm!("cli")` with no options at all, so they are fine; its `x86::halt()`
// however IS `nomem`, which is why `enable_interrupts_and_halt` is not built
// from it.

/// Enables interrupts.
pub fn enable_interrupts() {
    // SAFETY: ring 0, and the IDT is installed before any kernel calls this.
    unsafe { x86::irq::enable() };
}

/// Disables interrupts.
pub fn disable_interrupts() {
    // SAFETY: ring 0; masking interrupts cannot break memory safety.
    unsafe { x86::irq::disable() };
}

/// Enables interrupts and halts until the next one arrives, atomically: an
/// interrupt that arrives between the two instructions still wakes the CPU
/// (`sti` takes effect only after the following instruction).
///
/// Hand-written on purpose: the atomicity is the lesson, and it holds only if
/// `hlt` is the very next instruction after `sti` — so both must be in one
/// `asm!` block. Calling `x86::irq::enable()` then `x86::halt()` would let the
/// compiler put instructions (or a `ret`) between them, and the crate's
/// `halt` is `nomem`, which is exactly the hang described above.
pub fn enable_interrupts_and_halt() {
    // SAFETY: as `enable_interrupts`; `hlt` just waits. Not `nomem`: the
    // interrupt handler that wakes us changes memory.
    unsafe { core::arch::asm!("sti; hlt", options(nostack)) };
}

/// Halts forever with interrupts off: the end of a fatal error.
pub fn halt_forever() -> ! {
    loop {
        // SAFETY: ring 0; stopping the CPU is always safe. `x86::halt` is
        // `nomem`, harmless here: nothing runs after it (an NMI wakes it only
        // to halt again), and `cli` before it is not `nomem`, so every store
        // made before the halt has been done.
        unsafe {
            x86::irq::disable();
            x86::halt();
        }
    }
}

/// Reads the frame pointer of the calling function (for backtraces).
///
/// `#[inline(always)]`, like the crate's `rbp()`: as a real call it would
/// return this function's own frame instead of the caller's.
#[inline(always)]
pub fn read_rbp() -> u64 {
    x86::bits64::registers::rbp()
}
