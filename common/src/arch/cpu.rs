//! Thin wrappers around single privileged x86_64 instructions.
//!
//! Each function is one instruction (or two), named for what it does, so the
//! rest of the kernel reads without inline assembly.

use core::arch::asm;

/// Reads CR2: the linear address that caused the last page fault.
pub fn read_cr2() -> u64 {
    let value: u64;
    // SAFETY: reading CR2 has no side effects.
    unsafe { asm!("mov {}, cr2", out(reg) value, options(nomem, nostack, preserves_flags)) };
    value
}

/// Reads CR3: the physical address of the current top-level page table.
pub fn read_cr3() -> u64 {
    let value: u64;
    // SAFETY: reading CR3 has no side effects.
    unsafe { asm!("mov {}, cr3", out(reg) value, options(nomem, nostack, preserves_flags)) };
    value
}

/// Switches to the address space whose PML4 is at physical address `pml4`.
///
/// # Safety
/// `pml4` must be a valid PML4 that maps the running kernel (code, stack and
/// data) at the same addresses as the current one.
pub unsafe fn write_cr3(pml4: u64) {
    // SAFETY: the caller guarantees the new tables map the kernel identically.
    unsafe { asm!("mov cr3, {}", in(reg) pml4, options(nostack, preserves_flags)) };
}

/// Drops the TLB entry for the page containing `virt`.
pub fn invalidate_page(virt: u64) {
    // SAFETY: `invlpg` only discards a cached translation.
    unsafe { asm!("invlpg [{}]", in(reg) virt, options(nostack, preserves_flags)) };
}

/// Reads a model-specific register.
///
/// # Safety
/// `msr` must exist on this CPU, or the instruction faults.
pub unsafe fn read_msr(msr: u32) -> u64 {
    let (low, high): (u32, u32);
    // SAFETY: the caller guarantees the MSR exists.
    unsafe {
        asm!("rdmsr", in("ecx") msr, out("eax") low, out("edx") high, options(nomem, nostack, preserves_flags))
    };
    (u64::from(high) << 32) | u64::from(low)
}

/// Writes a model-specific register.
///
/// # Safety
/// `msr` must exist and `value` must be valid for it; MSRs change how the CPU
/// behaves (system-call entry, segment bases, ...).
pub unsafe fn write_msr(msr: u32, value: u64) {
    // SAFETY: the caller guarantees the MSR and value are valid.
    unsafe {
        asm!("wrmsr", in("ecx") msr, in("eax") value as u32, in("edx") (value >> 32) as u32, options(nostack, preserves_flags))
    };
}

/// The time-stamp counter. Under QEMU with `-icount shift=0` it counts guest
/// instructions, which makes benchmark figures deterministic.
pub fn rdtsc() -> u64 {
    let (low, high): (u32, u32);
    // SAFETY: `rdtsc` only reads a counter.
    unsafe {
        asm!("rdtsc", out("eax") low, out("edx") high, options(nomem, nostack, preserves_flags))
    };
    (u64::from(high) << 32) | u64::from(low)
}

// The three functions that let interrupts in deliberately do NOT say
// `nomem`: an interrupt handler may change any memory while interrupts are
// on, so the compiler must not keep values in registers across them.
// (With `nomem`, a loop like `while !flag { sti; hlt; cli }` waits forever:
// the compiler reads `flag` once.)

/// Enables interrupts.
pub fn enable_interrupts() {
    // SAFETY: the IDT is installed before any kernel calls this.
    unsafe { asm!("sti", options(nostack)) };
}

/// Disables interrupts.
pub fn disable_interrupts() {
    // SAFETY: masking interrupts cannot break memory safety.
    unsafe { asm!("cli", options(nostack)) };
}

/// Enables interrupts and halts until the next one arrives, atomically: an
/// interrupt that arrives between the two instructions still wakes the CPU
/// (`sti` takes effect only after the following instruction).
pub fn enable_interrupts_and_halt() {
    // SAFETY: as `enable_interrupts`; `hlt` just waits.
    unsafe { asm!("sti; hlt", options(nostack)) };
}

/// Halts forever with interrupts off: the end of a fatal error.
pub fn halt_forever() -> ! {
    loop {
        // SAFETY: stopping the CPU is always safe.
        unsafe { asm!("cli; hlt", options(nomem, nostack)) };
    }
}

/// Reads the frame pointer of the calling function (for backtraces).
#[inline(always)]
pub fn read_rbp() -> u64 {
    let value: u64;
    // SAFETY: reading a register has no side effects.
    unsafe { asm!("mov {}, rbp", out(reg) value, options(nomem, nostack, preserves_flags)) };
    value
}
