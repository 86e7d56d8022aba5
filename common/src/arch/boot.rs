//! The boot path both kernels share: from QEMU's PVH entry to Rust.
//!
//! QEMU's `-kernel` option reads our ELF file, loads its segments at their
//! physical addresses, finds the PVH note (ELF note "Xen", type 18, holding
//! the physical address of `_start32`) and jumps there with the CPU in 32-bit
//! protected mode, paging off, and `ebx` holding the physical address of a
//! `hvm_start_info` structure (see [`super::pvh`]).
//!
//! `_start32` then does what a boot loader would:
//! 1. turn on PAE, point CR3 at the boot page tables, set EFER.LME (long mode)
//!    and EFER.NXE (no-execute bit), and turn on paging — the CPU is now in
//!    64-bit mode's "compatibility" sub-mode;
//! 2. load a tiny GDT with a 64-bit code segment and far-jump into it;
//! 3. jump to the higher half, set up a stack, and call the kernel's
//!    `kernel_start(start_info_phys: u64) -> !`.
//!
//! The boot page tables map the first 1 GiB of physical memory twice, with
//! 2 MiB pages: at virtual 0 (identity, needed while the instruction pointer
//! is still low) and at `KERNEL_BASE` (the higher half, where the kernel is
//! linked). The identity map is removed by [`remove_identity_map`] once the
//! kernel runs in the higher half; the higher-half window stays, and it is
//! also how the kernel reaches any physical address below 1 GiB
//! (`virt = KERNEL_BASE + phys`). A third window maps device registers:
//! physical 3..4 GiB (the local APIC is at 0xFEE0_0000) at
//! [`super::DEVICE_WINDOW_BASE`], uncached.
//!
//! Hand-written on purpose: `_start32` runs in 32-bit mode with no stack and
//! no Rust yet, so it cannot call the `x86` crate's wrappers (compiled for
//! 64-bit mode), and the order of the CR4, CR3, EFER and CR0 writes *is* the
//! lesson. Once in Rust, the kernel reaches the same registers through
//! [`super::cpu`].
//!
//! Every kernel must define:
//! ```ignore
//! #[unsafe(no_mangle)]
//! extern "C" fn kernel_start(start_info_phys: u64) -> ! { ... }
//! ```

use core::arch::global_asm;

/// Size of the boot stack the kernel's first thread runs on.
pub const BOOT_STACK_SIZE: usize = 64 * 1024;

/// The stack `kernel_start` runs on. The alignment matters: the x86_64
/// calling convention promises every function a stack pointer that was
/// 16-byte aligned before the `call` that entered it, and compiled code
/// relies on that (a plain `[u8; N]` is only byte-aligned, and a kernel on a
/// misaligned stack can print garbage long before anything crashes).
#[repr(C, align(16))]
pub struct BootStack([u8; BOOT_STACK_SIZE]);

// The assembly below loads this stack's top into rsp.
#[unsafe(no_mangle)]
static mut BOOT_STACK: BootStack = BootStack([0; BOOT_STACK_SIZE]);

global_asm!(
    r#"
    /* ---- The PVH note: tells QEMU where the 32-bit entry point is. ---- */
    .section .note.Xen, "a"
    .p2align 2
    .long 4                 /* name size: "Xen\0" */
    .long 8                 /* descriptor size: one 64-bit address */
    .long 18                /* XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz "Xen"
    .p2align 2
    .quad _start32

    /* ---- Boot page tables (identity + higher half, 2 MiB pages) ---- */
    .section .boot.data, "aw"
    .p2align 12
    .global boot_pml4
boot_pml4:
    .quad boot_pdpt_low + 0x3        /* entry 0: identity map, present + writable */
    .fill 510, 8, 0
    .quad boot_pdpt_high + 0x3       /* entry 511: the top 512 GiB */
boot_pdpt_low:
    .quad boot_pd + 0x3              /* 0 .. 1 GiB */
    .fill 511, 8, 0
boot_pdpt_high:
    .fill 510, 8, 0
    .quad boot_pd + 0x3              /* entry 510: 0xffffffff80000000 .. +1 GiB */
    .quad boot_pd_devices + 0x3      /* entry 511: physical 3..4 GiB, devices */
boot_pd:
    .set page, 0
    .rept 512
    .quad (page << 21) + 0x83        /* present + writable + 2 MiB page */
    .set page, page + 1
    .endr
boot_pd_devices:
    .set page, 0
    .rept 512                        /* ... + cache disable + write-through */
    .quad 0xC0000000 + (page << 21) + 0x9B
    .set page, page + 1
    .endr

    /* A GDT just good enough to enter 64-bit mode; arch::gdt installs the real one. */
    .p2align 3
boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff         /* 0x08: 64-bit kernel code */
    .quad 0x00cf92000000ffff         /* 0x10: kernel data */
boot_gdt_end:
boot_gdt_pointer:
    .word boot_gdt_end - boot_gdt - 1
    .long boot_gdt

    /* ---- 32-bit entry: paging off, ebx = hvm_start_info physical address ---- */
    .section .boot.text, "ax"
    .code32
    .global _start32
_start32:
    cli
    mov %ebx, %esi                    /* keep start_info in esi */

    mov %cr4, %eax
    or $(1 << 5), %eax                /* CR4.PAE */
    mov %eax, %cr4

    mov $boot_pml4, %eax
    mov %eax, %cr3

    mov $0xC0000080, %ecx             /* EFER */
    rdmsr
    or $((1 << 8) | (1 << 11)), %eax  /* EFER.LME | EFER.NXE */
    wrmsr

    mov %cr0, %eax
    or $((1 << 31) | (1 << 16) | 1), %eax  /* CR0.PG | CR0.WP | CR0.PE */
    mov %eax, %cr0

    lgdt boot_gdt_pointer
    ljmp $0x08, $start64_low

    .code64
start64_low:
    movabs $start64_high, %rax
    jmp *%rax

    /* ---- 64-bit, higher half ---- */
    .section .text.boot64, "ax"
start64_high:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    xor %ax, %ax
    mov %ax, %fs
    mov %ax, %gs

    movabs $BOOT_STACK, %rsp
    add ${stack_size}, %rsp
    xor %ebp, %ebp                    /* end of the frame-pointer chain */
    mov %esi, %edi                    /* argument: start_info physical address */
    call kernel_start
1:  hlt
    jmp 1b
    "#,
    stack_size = const BOOT_STACK_SIZE,
    options(att_syntax)
);

unsafe extern "C" {
    /// The boot PML4 (physical = virtual address, in the low boot segment).
    static boot_pml4: u8;
}

/// Physical address of the boot page tables' top level (the PML4).
pub fn boot_pml4_phys() -> u64 {
    // Taking the address of an extern static is safe; only reading it is not.
    core::ptr::addr_of!(boot_pml4) as u64
}

/// Removes the identity map of the first 1 GiB, leaving only the higher half.
///
/// Call once the kernel runs in the higher half (it does from `kernel_start`
/// on). Afterwards virtual addresses below `KERNEL_BASE` fault, so a null or
/// small stray pointer in the kernel page-faults instead of reading memory.
pub fn remove_identity_map() {
    let pml4 = super::phys_to_virt(boot_pml4_phys()) as *mut u64;
    // SAFETY: the boot PML4 is a 4 KiB table reachable through the higher-half
    // window; entry 0 holds the identity map, which nothing uses any more
    // (the code, stack and data all run at higher-half addresses).
    unsafe {
        pml4.write_volatile(0);
        super::cpu::write_cr3(boot_pml4_phys());
    }
}

/// The first steps both kernels take in `kernel_start`, in this order: the
/// console (so anything after can report), the identity map removed, the
/// GDT and TSS, the IDT, the `syscall` MSRs; then the PVH start info is read.
/// If QEMU did not boot us through PVH there is no memory map to go on, so
/// that is reported and QEMU stopped.
///
/// # Safety
/// `start_info_phys` must be the value QEMU passed in `ebx` at the PVH
/// entry (`kernel_start`'s argument), called once, before anything else.
pub unsafe fn bring_up_cpu(start_info_phys: u64) -> super::pvh::BootInfo {
    super::kconsole::init();
    remove_identity_map();
    super::gdt::init();
    super::idt::init();
    super::trap::init_syscall();
    // SAFETY: the caller passes the untouched PVH start-info address.
    match unsafe { super::pvh::BootInfo::read(start_info_phys) } {
        Ok(info) => info,
        Err(error) => {
            crate::kprintln!("boot: cannot read the PVH start info: {error:?}");
            super::qemu::exit(super::qemu::ExitCode::Failure);
        }
    }
}
