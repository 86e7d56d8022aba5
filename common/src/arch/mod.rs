//! x86_64 support both kernels share: boot, CPU registers, GDT/TSS, IDT, the
//! trap and system-call entry paths, and the fatal-exception report.
//!
//! Everything here is bare-metal only (`target_os = "none"`). The two kernels
//! differ in what they *do* with a trap — the monolithic kernel runs a system
//! call or a driver, the microkernel turns it into an IPC message — but the
//! way the CPU gets from user mode into Rust and back is the same, so it is
//! written once:
//!
//! | file        | what it is                                                  |
//! |-------------|-------------------------------------------------------------|
//! | `boot.rs`   | PVH entry, boot page tables, long mode, higher half         |
//! | `pvh.rs`    | reading QEMU's `hvm_start_info` (memory map, command line)  |
//! | `cpu.rs`    | control registers, MSRs, `rdtsc`, `hlt`, interrupt flag     |
//! | `gdt.rs`    | segments, the TSS and its I/O-permission bitmap             |
//! | `idt.rs`    | the interrupt descriptor table                              |
//! | `kconsole.rs` | the kernel console (`kprint!`): UART + VGA                |
//! | `interrupts.rs` | PICs, the 100 Hz tick, the boot interrupt self-test     |
//! | `lapic.rs`  | the local APIC, set to pass PIC interrupts through          |
//! | `trap.rs`   | `TrapFrame`, the one assembly entry path, `syscall` entry   |
//! | `report.rs` | the report printed when the kernel itself faults            |
//! | `qemu.rs`   | leaving QEMU with an exit status (`isa-debug-exit`)         |
//!
//! Single instructions with nothing to teach beyond their name (`mov cr3`,
//! `rdmsr`, `invlpg`, `lgdt`, `lidt`, `ltr`, `in`/`out`, ...) come from the
//! `x86` crate; what is written here in assembly is written so on purpose
//! (boot, trap and `syscall` entry, `sti; hlt`), and says why.
//!
//! Uniprocessor: Diptych runs on one CPU, and the kernels run with interrupts
//! disabled (they are taken in user mode and in the idle loop). That keeps
//! the kernels free of spin locks, at the price of a non-preemptible kernel —
//! the same trade xv6 made before it went multiprocessor.

pub mod boot;
pub mod cpu;
pub mod gdt;
pub mod idt;
pub mod interrupts;
pub mod kconsole;
pub mod lapic;
pub mod pvh;
pub mod qemu;
pub mod report;
pub mod trap;

/// Where the boot page tables map physical address 0 in the higher half.
pub const KERNEL_BASE: u64 = 0xffff_ffff_8000_0000;

/// The higher-half window covers this much physical memory (see `boot.rs`).
pub const DIRECT_MAP_SIZE: u64 = 1 << 30;

/// Where the boot page tables map physical 3..4 GiB (device registers).
pub const DEVICE_WINDOW_BASE: u64 = 0xffff_ffff_c000_0000;
/// The first physical address of the device window.
pub const DEVICE_WINDOW_PHYS: u64 = 0xC000_0000;

/// The kernel-virtual address of physical address `phys` (below 1 GiB).
pub fn phys_to_virt(phys: u64) -> u64 {
    debug_assert!(phys < DIRECT_MAP_SIZE);
    KERNEL_BASE + phys
}

/// The physical address behind a higher-half kernel address.
pub fn virt_to_phys(virt: u64) -> u64 {
    debug_assert!(virt >= KERNEL_BASE);
    virt - KERNEL_BASE
}
