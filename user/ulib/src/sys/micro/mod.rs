//! The `micro` back end: a system call becomes an IPC call to a server of
//! the microkernel (docs/servers.md).
//!
//! | calls                                             | go to                     |
//! |---------------------------------------------------|---------------------------|
//! | fork, exit, wait, kill, exec, getpid, sbrk, freemem | `proc` (this file)      |
//! | sleep, uptime                                     | the kernel alone: a receive with a timeout, the clock |
//! | every file call                                   | `vfs`, or `console` after a redirect (`file.rs`) |
//!
//! **Start.** `proc` leaves an *aux block* right after the NULL that ends
//! `argv` on a new program's stack: `[AUX_MAGIC, proc, vfs, console]`, the
//! servers' thread ids (`common::abi::proto::proc::AuxBlock`). [`start`]
//! reads it, and names this thread's *receive buffer*: one page the kernel
//! copies the bytes of replies into (file data, directory records).
//!
//! **Fork.** The child must continue exactly where the parent called
//! `fork`, with `fork` returning 0. The kernel's `exchange_registers` can
//! set a new thread's `rip`, `rsp` and `rdi` only, so the fork stub saves
//! everything else that matters — the callee-saved registers `rbx`, `rbp`,
//! `r12`-`r15` — on the stack, and passes proc that stack pointer and the
//! address of a resume label. The child's memory is a copy-on-write copy of
//! the parent's, saved registers included; it starts at the label, pops
//! them, and returns 0.
//!
//! **Copy-on-write and the receive buffer.** The kernel copies reply bytes
//! into the receive buffer without taking page faults (it checks that the
//! page is mapped writable). After a fork the page is shared read-only, so
//! a caller first writes to it ([`receive_buffer`] and
//! [`touch_receive_buffer`]): the write faults, proc gives this process
//! its own copy, and the kernel's copy succeeds.

mod file;
pub use file::*;

use crate::Errno;
use common::abi::proto::Wire;
use common::abi::proto::proc::{AuxBlock, ProcRequest, decode_reply};
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicU64, Ordering};
use l4::{Message, ThreadId};

/// The servers' thread ids, from the aux block.
static PROC: AtomicU64 = AtomicU64::new(0);
static VFS: AtomicU64 = AtomicU64::new(0);
static CONSOLE: AtomicU64 = AtomicU64::new(0);

/// The bytes of a receive buffer.
pub(crate) const RECEIVE_BUFFER_BYTES: usize = 4096;

/// The page replies' bytes are copied into.
#[repr(C, align(4096))]
struct ReceiveBuffer(UnsafeCell<[u8; RECEIVE_BUFFER_BYTES]>);

// SAFETY: a user process has one thread; the buffer is touched only by it
// and, during that thread's own IPC, by the kernel.
unsafe impl Sync for ReceiveBuffer {}

static RECEIVE_BUFFER: ReceiveBuffer = ReceiveBuffer(UnsafeCell::new([0; RECEIVE_BUFFER_BYTES]));

/// The proc server's thread.
pub(crate) fn proc_thread() -> ThreadId {
    ThreadId(PROC.load(Ordering::Relaxed))
}

/// The vfs server's thread.
pub(crate) fn vfs_thread() -> ThreadId {
    ThreadId(VFS.load(Ordering::Relaxed))
}

/// The console server's thread.
pub(crate) fn console_thread() -> ThreadId {
    ThreadId(CONSOLE.load(Ordering::Relaxed))
}

/// The receive buffer. A caller writes to it before each call that
/// receives bytes (see the module documentation), and reads the bytes of
/// the reply from it right after the call.
pub(crate) fn receive_buffer() -> &'static mut [u8; RECEIVE_BUFFER_BYTES] {
    // SAFETY: one thread per process, and callers use the buffer only
    // between their own IPCs (the kernel writes it only during them).
    unsafe { &mut *RECEIVE_BUFFER.0.get() }
}

/// Writes to the receive buffer, so that its page is private and mapped
/// writable before the kernel copies into it.
pub(crate) fn touch_receive_buffer() {
    let buffer = RECEIVE_BUFFER.0.get() as *mut u8;
    // SAFETY: our own static; a volatile write so it is not optimised away.
    unsafe { buffer.write_volatile(buffer.read_volatile()) };
}

/// Names the receive buffer for this thread (at start, and in a fork child,
/// whose thread is new).
fn set_receive_buffer() {
    touch_receive_buffer();
    // SAFETY: the buffer is used only as described on `receive_buffer`.
    let _ = unsafe {
        l4::memory::set_receive_window(
            RECEIVE_BUFFER.0.get() as u64,
            RECEIVE_BUFFER_BYTES as u64,
            0,
            0,
        )
    };
}

/// Called once by `_start` before `main`: reads the aux block after argv's
/// NULL and sets up the receive buffer. A program started without an aux
/// block cannot reach any server; it says so on the kernel console and ends.
// The signature is the back-end interface's (`sys/mod.rs`), shared with the
// mono back end, and `_start` is its only caller, with the kernel's argv.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
pub fn start(argc: usize, argv: *const *const u8) {
    // SAFETY: the process-start contract (docs/user-abi.md, docs/servers.md):
    // argv[argc] is NULL and the aux block's four words follow it.
    let words = unsafe { core::slice::from_raw_parts(argv.add(argc + 1) as *const u64, 4) };
    let Some(aux) = AuxBlock::from_words(words) else {
        let _ =
            l4::print::debug_print("ulib: no aux block on the stack: cannot reach the servers\n");
        let (me, _) = l4::task::whoami();
        let _ = l4::task::thread_destroy(me);
        loop {
            core::hint::spin_loop();
        }
    };
    PROC.store(aux.proc, Ordering::Relaxed);
    VFS.store(aux.vfs, Ordering::Relaxed);
    CONSOLE.store(aux.console, Ordering::Relaxed);
    set_receive_buffer();
}

/// Calls proc with `request` and decodes its reply.
fn proc_call(request: ProcRequest) -> Result<u64, Errno> {
    let wire = request.to_wire();
    let message = Message::new(wire.label, &wire.words[..wire.word_count]);
    match l4::ipc::call(proc_thread(), &message) {
        Ok(reply) => decode_reply(&Wire::new(reply.label(), reply.words())),
        Err(_) => Err(Errno::EIO),
    }
}

/// `fork() -> pid` of the child in the parent, 0 in the child.
pub fn fork() -> Result<u64, Errno> {
    // SAFETY: the stub follows the C calling convention (see its comment).
    let raw = unsafe { fork_stub() };
    if raw == 0 {
        // The child: a new thread, without a receive buffer yet.
        set_receive_buffer();
    }
    Errno::from_return(raw)
}

/// Saves the callee-saved registers, asks proc to fork (passing this stack
/// pointer and the resume label), restores them and returns proc's answer
/// (a pid, or `-errno`). The child starts at label 2 with the same stack
/// pointer, restores the same registers from its copy of the stack, and
/// returns 0.
///
/// Stack at the call to `fork_call` (16-byte aligned, as the ABI wants:
/// the return address plus six pushes plus 8 bytes of padding):
/// `[rsp] padding, [rsp+8] r15, r14, r13, r12, rbx, [rsp+48] rbp, [rsp+56] return address`.
#[unsafe(naked)]
unsafe extern "C" fn fork_stub() -> i64 {
    core::arch::naked_asm!(
        "push rbp",
        "push rbx",
        "push r12",
        "push r13",
        "push r14",
        "push r15",
        "sub rsp, 8",
        "mov rdi, rsp",
        "lea rsi, [rip + 2f]",
        "call {fork_call}",
        "jmp 3f",
        "2:",
        "xor eax, eax",
        "3:",
        "add rsp, 8",
        "pop r15",
        "pop r14",
        "pop r13",
        "pop r12",
        "pop rbx",
        "pop rbp",
        "ret",
        fork_call = sym fork_call,
    )
}

/// The Rust half of the fork stub: the call to proc.
extern "C" fn fork_call(resume_rsp: u64, resume_rip: u64) -> i64 {
    match proc_call(ProcRequest::Fork {
        resume_rip,
        resume_rsp,
    }) {
        Ok(pid) => pid as i64,
        Err(errno) => errno.as_return(),
    }
}

/// `exit(status)`: ends the process; never returns.
pub fn exit(status: i32) -> ! {
    let _ = proc_call(ProcRequest::Exit { status });
    // proc destroys this thread while it waits for the reply; nothing
    // else can happen.
    loop {
        core::hint::spin_loop();
    }
}

/// `wait(status) -> pid`: waits for a child to exit; proc stores its exit
/// status at `status` unless it is null.
///
/// # Safety
/// `status` must be null or valid for a 4-byte write.
pub unsafe fn wait(status: *mut i32) -> Result<u64, Errno> {
    proc_call(ProcRequest::Wait {
        status_address: status as u64,
    })
}

/// `kill(pid) -> 0`.
pub fn kill(pid: i64) -> Result<u64, Errno> {
    proc_call(ProcRequest::Kill { pid: pid as u64 })
}

/// `exec(path, argv)`: replaces the program; returns only on error. proc
/// reads the path and the arguments from this process's memory.
///
/// # Safety
/// `path` must point to a NUL-terminated string; `argv` to a null-terminated
/// array of pointers to NUL-terminated strings.
pub unsafe fn exec(path: *const u8, argv: *const *const u8) -> Result<u64, Errno> {
    proc_call(ProcRequest::Exec {
        path: path as u64,
        argv: argv as u64,
    })
}

/// `getpid() -> pid`.
pub fn getpid() -> Result<u64, Errno> {
    proc_call(ProcRequest::Getpid)
}

/// `sbrk(increment) -> old break`.
///
/// # Safety
/// Shrinking unmaps memory: nothing may still refer to it.
pub unsafe fn sbrk(increment: isize) -> Result<u64, Errno> {
    proc_call(ProcRequest::Sbrk {
        increment: increment as i64,
    })
}

/// `sleep(ticks) -> 0`: a receive nobody can satisfy, with a timeout.
pub fn sleep(ticks: u64) -> Result<u64, Errno> {
    if ticks > 0 {
        l4::ipc::sleep(ticks.min(u32::MAX as u64 - 1) as u32);
    }
    Ok(0)
}

/// `uptime() -> ticks since boot`: the kernel's clock.
pub fn uptime() -> Result<u64, Errno> {
    Ok(l4::task::system_clock())
}

/// `freemem() -> number of free pages`.
pub fn freemem() -> Result<u64, Errno> {
    proc_call(ProcRequest::Freemem)
}
