//! The context switch: from one kernel stack to another.
//!
//! Every process has its own kernel stack. A process that gives up the CPU
//! (it sleeps, yields, or exits) calls [`switch_context`], which pushes the
//! callee-saved registers on its kernel stack, saves the stack pointer, loads
//! the scheduler's stack pointer and pops *its* registers — so `ret` returns
//! into the scheduler, exactly where the scheduler last switched away. The
//! caller-saved registers need no saving: the Rust compiler already assumes
//! a function call destroys them. (This is xv6's `swtch.S`.)
//!
//! A new process has never run, so its kernel stack is *built* to look as if
//! it had called `switch_context` from the start of `trap_return`: popping six
//! zero registers and returning lands in `trap_return`, which restores the
//! process's trap frame and enters user mode. See [`initial_kernel_stack`].

use common::arch::trap::{TrapFrame, trap_return};
use core::arch::global_asm;

unsafe extern "C" {
    /// Saves the callee-saved registers on the current stack, stores the
    /// stack pointer in `*save_rsp`, switches to `load_rsp` and returns into
    /// whatever context saved it.
    ///
    /// # Safety
    /// `load_rsp` must be a stack pointer saved by `switch_context` (or built
    /// by [`initial_kernel_stack`]) whose stack is still alive.
    pub fn switch_context(save_rsp: *mut u64, load_rsp: u64);
}

global_asm!(
    r#"
    .global switch_context
switch_context:
    push rbp
    push rbx
    push r12
    push r13
    push r14
    push r15
    mov [rdi], rsp
    mov rsp, rsi
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbx
    pop rbp
    ret
    "#
);

/// Number of registers `switch_context` pushes.
const SAVED_REGISTERS: usize = 6;

/// Prepares the top of a new kernel stack (`stack`, 16-byte aligned) so that
/// switching to it enters user mode with `frame`. Returns the stack pointer
/// to switch to.
pub fn initial_kernel_stack(stack: &mut [u64], frame: &TrapFrame) -> u64 {
    let frame_words = core::mem::size_of::<TrapFrame>() / 8;
    let top = stack.len();
    let frame_start = top - frame_words;
    // SAFETY: TrapFrame is `repr(C)` and made of u64 fields only, so it can be
    // viewed as `frame_words` u64 values.
    let words = unsafe {
        core::slice::from_raw_parts(frame as *const TrapFrame as *const u64, frame_words)
    };
    stack[frame_start..top].copy_from_slice(words);
    // Below the frame: the return address `trap_return`, then six zeroed
    // callee-saved registers for `switch_context` to pop.
    let return_slot = frame_start - 1;
    stack[return_slot] = trap_return as *const () as u64;
    let first_register = return_slot - SAVED_REGISTERS;
    stack[first_register..return_slot].fill(0);
    &stack[first_register] as *const u64 as u64
}
