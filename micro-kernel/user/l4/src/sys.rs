//! The raw system-call instruction, in the two shapes the kernel uses
//! (see the register table in `common/src/abi/micro.rs`).
//!
//! These are the only `asm!` blocks of the library. They are not `unsafe`
//! to call: the kernel checks every argument, and the calls that can change
//! this program's own memory or control flow are marked `unsafe` one level
//! up, where their meaning is known.

use common::abi::micro::Sys;
use core::arch::asm;

/// The registers of an IPC: `[to/from, tag, mr0..mr5]` plus `rax`.
#[derive(Debug, Clone, Copy, Default)]
pub struct IpcRegisters {
    /// Error code (0 on success).
    pub rax: u64,
    /// The sender's id.
    pub from: u64,
    /// The received tag.
    pub tag: u64,
    /// The received message registers.
    pub mr: [u64; 6],
}

/// `ipc(to, from, tag, timeouts, mr)`: the raw IPC system call.
#[inline(always)]
pub fn ipc(to: u64, from: u64, tag: u64, timeouts: u64, mr: [u64; 6]) -> IpcRegisters {
    let (rax, rdi, rdx, r8, r9, r12, r13, r14, r15);
    // SAFETY: `syscall` enters the kernel, which preserves every register
    // except the outputs listed here and rcx/r11 (destroyed by `syscall`).
    // The kernel may write this program's memory (a receive buffer or window
    // the program registered), so memory is not declared untouched.
    unsafe {
        asm!(
            "syscall",
            inlateout("rax") Sys::Ipc as u64 => rax,
            inlateout("rdi") to => rdi,
            in("rsi") from,
            inlateout("rdx") tag => rdx,
            in("r10") timeouts,
            inlateout("r8") mr[0] => r8,
            inlateout("r9") mr[1] => r9,
            inlateout("r12") mr[2] => r12,
            inlateout("r13") mr[3] => r13,
            inlateout("r14") mr[4] => r14,
            inlateout("r15") mr[5] => r15,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    IpcRegisters { rax, from: rdi, tag: rdx, mr: [r8, r9, r12, r13, r14, r15] }
}

/// Any other system call: eight argument words in, the error code and
/// seven result words out.
#[inline(always)]
pub fn call(number: Sys, args: [u64; 8]) -> (u64, [u64; 7]) {
    let (rax, out) = call_eight(number, args);
    (rax, [out[0], out[1], out[2], out[3], out[4], out[5], out[6]])
}

/// `exchange_registers`: as [`call`], and an eighth result word in `r13`
/// (the thread's running ticks), which only this call writes.
#[inline(always)]
pub fn call_exchange_registers(args: [u64; 8]) -> (u64, [u64; 8]) {
    call_eight(Sys::ExchangeRegisters, args)
}

/// The `syscall` of [`call`], with `r13` read back as an eighth result
/// (the other calls leave it as it was: the eighth argument).
#[inline(always)]
fn call_eight(number: Sys, args: [u64; 8]) -> (u64, [u64; 8]) {
    let (rax, o0, o1, o2, o3, o4, o5, o6, o7);
    // SAFETY: as in `ipc`; the kernel writes only the listed registers.
    unsafe {
        asm!(
            "syscall",
            inlateout("rax") number as u64 => rax,
            inlateout("rdi") args[0] => o0,
            inlateout("rsi") args[1] => o1,
            inlateout("rdx") args[2] => o2,
            inlateout("r10") args[3] => o3,
            inlateout("r8") args[4] => o4,
            inlateout("r9") args[5] => o5,
            inlateout("r12") args[6] => o6,
            inlateout("r13") args[7] => o7,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    (rax, [o0, o1, o2, o3, o4, o5, o6, o7])
}

/// A system call with an arbitrary number (for tests of bad calls).
#[inline(always)]
pub fn call_number(number: u64) -> u64 {
    let rax: u64;
    // SAFETY: as in `call`; unknown numbers only return an error.
    unsafe { asm!("syscall", inlateout("rax") number => rax, lateout("rcx") _, lateout("r11") _, options(nostack)) };
    rax
}
