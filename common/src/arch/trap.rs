//! The one way into the kernel: the trap frame and the assembly entry paths.
//!
//! Whatever brings the CPU into the kernel — an exception, a device
//! interrupt, or the `syscall` instruction — the assembly below saves the
//! interrupted state in the same shape, a [`TrapFrame`] on the kernel stack,
//! and calls one Rust function with a pointer to it:
//!
//! - interrupts and exceptions call `trap_handler(&mut TrapFrame)`;
//! - `syscall` calls `syscall_handler(&mut TrapFrame)`.
//!
//! Each kernel defines both (`#[unsafe(no_mangle)] extern "C" fn ...`). When
//! the handler returns, the (possibly modified) frame is restored and the CPU
//! goes back to where it was — or to a different place, if the handler
//! changed `rip`/`rsp`, which is how `exec` starts a new program and how a new
//! process first enters user mode (via [`trap_return`]).
//!
//! Hand-written on purpose (the `x86` crate has nothing for it): the entry
//! and exit paths must decide every register and every stack slot themselves
//! before any Rust code may run, and they are the lesson. Only the MSR set-up
//! in [`init_syscall`] is ordinary Rust, through [`super::cpu`].
//!
//! xv6's `trapasm.S` is the model. The frame, from low to high addresses:
//!
//! ```text
//!   r15 r14 r13 r12 r11 r10 r9 r8 rbp rdi rsi rdx rcx rbx rax   pushed by us
//!   vector error_code                                          pushed by the stub
//!   rip cs rflags rsp ss                                       pushed by the CPU
//! ```
//!
//! ### The system-call path
//! `syscall` does not switch stacks: it leaves the user `rsp` in place, puts
//! the return address in `rcx` and the flags in `r11`. The entry code saves the
//! user stack pointer, loads the current thread's kernel stack
//! ([`set_kernel_stack`]) and pushes a frame of the same shape, so the rest of
//! the kernel never needs to know which way it was entered. It returns with
//! `sysretq` — unless the return address is not a canonical user address,
//! in which case `sysretq` would fault *in ring 0* with the user's stack (a
//! famous security bug), so it falls back to `iretq`.

use super::gdt;
use core::arch::global_asm;

/// The vector number recorded in frames built by the `syscall` entry.
pub const SYSCALL_VECTOR: u64 = 0x100;

/// The state of an interrupted context, as saved on the kernel stack.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct TrapFrame {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rbp: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rdx: u64,
    pub rcx: u64,
    pub rbx: u64,
    pub rax: u64,
    /// Which vector brought us here (0..=255), or [`SYSCALL_VECTOR`].
    pub vector: u64,
    /// The CPU's error code for exceptions that have one, otherwise 0.
    pub error_code: u64,
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

/// RFLAGS.IF: interrupts enabled.
pub const RFLAGS_INTERRUPTS: u64 = 1 << 9;
/// RFLAGS bit 1 is reserved and always set.
pub const RFLAGS_RESERVED: u64 = 1 << 1;

impl TrapFrame {
    /// True if the trap interrupted user mode (ring 3).
    pub fn from_user(&self) -> bool {
        self.cs & 3 == 3
    }

    /// A frame that enters user mode at `rip` with stack `rsp`, interrupts on.
    pub fn new_user(rip: u64, rsp: u64) -> TrapFrame {
        TrapFrame {
            rip,
            rsp,
            cs: u64::from(gdt::USER_CODE),
            ss: u64::from(gdt::USER_DATA),
            rflags: RFLAGS_INTERRUPTS | RFLAGS_RESERVED,
            ..TrapFrame::default()
        }
    }

    /// The system-call number and its six arguments (see `abi::syscall`).
    pub fn syscall_args(&self) -> (u64, [u64; 6]) {
        (
            self.rax,
            [self.rdi, self.rsi, self.rdx, self.r10, self.r8, self.r9],
        )
    }
}

/// Size of a trap frame on the stack.
pub const TRAP_FRAME_SIZE: usize = core::mem::size_of::<TrapFrame>();
const _: () = assert!(TRAP_FRAME_SIZE == 22 * 8);

/// The kernel stack the `syscall` entry switches to (the current thread's).
#[unsafe(no_mangle)]
static mut SYSCALL_KERNEL_RSP: u64 = 0;
/// Scratch slot where the `syscall` entry parks the user stack pointer.
#[unsafe(no_mangle)]
static mut SYSCALL_USER_RSP: u64 = 0;

/// Sets the kernel stack used when the *current* thread enters the kernel,
/// whether by interrupt (TSS.rsp0) or by `syscall`. Call on every switch.
pub fn set_kernel_stack(top: u64) {
    gdt::set_interrupt_stack(top);
    // SAFETY: single CPU, interrupts off in the kernel: the entry code, the
    // only reader, cannot run concurrently with this store.
    unsafe { SYSCALL_KERNEL_RSP = top };
}

/// Programs the MSRs that make the `syscall` instruction enter
/// `syscall_entry`. Call once after `gdt::init`.
pub fn init_syscall() {
    // The MSR numbers (0xC000_0080..=0xC000_0084) under the SDM's names.
    use x86::msr::{
        IA32_EFER as EFER, IA32_FMASK as FMASK, IA32_LSTAR as LSTAR, IA32_STAR as STAR,
    };
    unsafe extern "C" {
        fn syscall_entry();
    }
    // SAFETY: these MSRs exist on every x86_64 CPU. STAR's selector fields
    // follow the GDT layout in gdt.rs: `syscall` loads CS=0x08, SS=0x10;
    // `sysretq` loads CS=0x10+16 (user code), SS=0x10+8 (user data), RPL 3.
    unsafe {
        super::cpu::write_msr(EFER, super::cpu::read_msr(EFER) | 1); // EFER.SCE
        super::cpu::write_msr(STAR, (0x10u64 << 48) | (u64::from(gdt::KERNEL_CODE) << 32));
        super::cpu::write_msr(LSTAR, syscall_entry as *const () as u64);
        // Clear IF (no interrupts until we are on the kernel stack), DF and TF.
        super::cpu::write_msr(FMASK, RFLAGS_INTERRUPTS | (1 << 10) | (1 << 8));
    }
}

unsafe extern "C" {
    /// Restores the trap frame at `rsp` and returns from the trap (`iretq`).
    /// A new thread's kernel stack is built so that its first switch lands here.
    pub fn trap_return();
    /// The 256 interrupt stubs, 16 bytes apart (see `idt.rs`).
    pub static trap_stubs: [u8; 256 * 16];
}

global_asm!(
    r#"
    .section .text.trap, "ax"
    /* The fifteen general-purpose registers, in TrapFrame order (rax is
       pushed first, so it ends up at the highest address). */
    .macro save_registers
        push %rax
        push %rbx
        push %rcx
        push %rdx
        push %rsi
        push %rdi
        push %rbp
        push %r8
        push %r9
        push %r10
        push %r11
        push %r12
        push %r13
        push %r14
        push %r15
    .endm
    .macro restore_registers
        pop %r15
        pop %r14
        pop %r13
        pop %r12
        pop %r11
        pop %r10
        pop %r9
        pop %r8
        pop %rbp
        pop %rdi
        pop %rsi
        pop %rdx
        pop %rcx
        pop %rbx
        pop %rax
    .endm

    .p2align 4
    .global trap_stubs
trap_stubs:
    .set vector, 0
    .rept 256
    .p2align 4
    /* The CPU pushes an error code for these vectors only; push 0 for the rest
       so every frame has the same shape. */
    .if (vector == 8) | ((vector >= 10) & (vector <= 14)) | (vector == 17) | (vector == 21) | (vector == 29) | (vector == 30)
    .else
    pushq $0
    .endif
    pushq $vector
    jmp trap_common
    .set vector, vector + 1
    .endr

trap_common:
    save_registers
    mov %rsp, %rdi          /* argument: &mut TrapFrame */
    cld
    call trap_handler

    .global trap_return
trap_return:
    restore_registers
    add $16, %rsp           /* vector and error code */
    iretq

    .global syscall_entry
syscall_entry:
    /* rcx = user rip, r11 = user rflags, rsp = user stack, IF = 0 */
    mov %rsp, SYSCALL_USER_RSP(%rip)
    mov SYSCALL_KERNEL_RSP(%rip), %rsp
    pushq ${user_ss}
    pushq SYSCALL_USER_RSP(%rip)
    push %r11
    pushq ${user_cs}
    push %rcx
    pushq $0                /* error code */
    pushq ${syscall_vector}
    save_registers
    mov %rsp, %rdi          /* (no cld: FMASK cleared DF on entry) */
    call syscall_handler

    /* Return with sysretq only to a canonical user address; else iretq. */
    mov {rip_offset}(%rsp), %rcx
    shr $47, %rcx
    jnz trap_return
    restore_registers
    add $16, %rsp           /* vector and error code */
    mov 0(%rsp), %rcx       /* rip */
    mov 16(%rsp), %r11      /* rflags */
    mov 24(%rsp), %rsp      /* user stack */
    sysretq
    "#,
    user_ss = const gdt::USER_DATA as u64,
    user_cs = const gdt::USER_CODE as u64,
    syscall_vector = const SYSCALL_VECTOR,
    rip_offset = const 17 * 8,
    options(att_syntax)
);
