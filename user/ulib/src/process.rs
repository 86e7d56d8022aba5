//! Safe wrappers for the process system calls.
//!
//! fork, exit, wait, exec, kill, getpid, sbrk, sleep, uptime, freemem, and
//! `rdtsc` for benchmarks. Each returns `Result<_, Errno>` with the kernel's
//! error; the raw calls are in [`crate::sys`].

use crate::Errno;
use crate::cpath::CPath;
use crate::sys;
use alloc::vec::Vec;
use common::abi::inject::{InjectRequest, Injection};
use common::abi::syscall::{MAX_ARG_BYTES, MAX_ARGS, SysInfo};

/// A process identifier.
pub type Pid = u32;

/// The exit status `wait` reports for a process the kernel killed (because
/// of `kill`, or a fault such as touching unmapped memory).
pub const KILLED_STATUS: i32 = -1;

/// What `fork` returns, seen from each side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForkResult {
    /// We are the new process.
    Child,
    /// We are the original process; this is the child's pid.
    Parent(Pid),
}

/// Creates a copy of the calling process.
pub fn fork() -> Result<ForkResult, Errno> {
    match sys::fork()? {
        0 => Ok(ForkResult::Child),
        pid => Ok(ForkResult::Parent(pid as Pid)),
    }
}

/// Ends the calling process with `status`, which its parent's `wait` sees.
pub fn exit(status: i32) -> ! {
    sys::exit(status)
}

/// Waits for a child to exit; returns its pid and exit status.
/// Fails with `ECHILD` if the process has no children.
pub fn wait() -> Result<(Pid, i32), Errno> {
    let mut status: i32 = 0;
    // SAFETY: `status` is a live, writable i32.
    let pid = unsafe { sys::wait(&mut status) }?;
    Ok((pid as Pid, status))
}

/// Asks the kernel to kill process `pid`.
pub fn kill(pid: Pid) -> Result<(), Errno> {
    sys::kill(pid as i64).map(|_| ())
}

/// Replaces the calling program with the one at `path`, passing `argv`.
///
/// Returns only if it failed, so the return value is the error itself.
/// Fails with `E2BIG` before asking the kernel if there are more than
/// [`MAX_ARGS`] arguments or more than [`MAX_ARG_BYTES`] bytes of them.
pub fn exec(path: &str, argv: &[&str]) -> Errno {
    let path = match CPath::new(path) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let total: usize = argv.iter().map(|a| a.len() + 1).sum();
    if argv.len() > MAX_ARGS || total > MAX_ARG_BYTES {
        return Errno::E2BIG;
    }
    if argv.iter().any(|a| a.as_bytes().contains(&0)) {
        return Errno::EINVAL;
    }
    // All argument strings, each followed by a NUL, in one allocation, and
    // the array of pointers to them, ending with a null pointer. Memory may
    // be nearly exhausted (exec is how a big process starts something
    // small), so allocation failure is reported as ENOMEM, not a panic.
    let mut strings: Vec<u8> = Vec::new();
    let mut pointers: Vec<*const u8> = Vec::new();
    if strings.try_reserve_exact(total).is_err()
        || pointers.try_reserve_exact(argv.len() + 1).is_err()
    {
        return Errno::ENOMEM;
    }
    for a in argv {
        strings.extend_from_slice(a.as_bytes());
        strings.push(0);
    }
    // `strings` is not modified after this point, so the pointers stay valid.
    let mut offset = 0;
    for a in argv {
        pointers.push(strings[offset..].as_ptr());
        offset += a.len() + 1;
    }
    pointers.push(core::ptr::null());
    // SAFETY: `path` is NUL-terminated; `pointers` is a null-terminated array
    // of pointers into `strings`, each at the start of a NUL-terminated
    // string; both live until after the call.
    match unsafe { sys::exec(path.as_ptr(), pointers.as_ptr()) } {
        Ok(_) => Errno::EIO, // exec does not return on success
        Err(e) => e,
    }
}

/// The calling process's pid.
pub fn getpid() -> Result<Pid, Errno> {
    sys::getpid().map(|pid| pid as Pid)
}

/// The pid of the calling process's parent (1, init, once the parent has
/// exited).
pub fn getppid() -> Result<Pid, Errno> {
    sys::getppid().map(|pid| pid as Pid)
}

/// Free memory and the number of processes.
pub fn sysinfo() -> Result<SysInfo, Errno> {
    let mut info = SysInfo::default();
    // SAFETY: `info` is a live SysInfo, valid for the write.
    unsafe { sys::sysinfo(&mut info) }?;
    Ok(info)
}

/// Grows the heap by `increment` bytes (shrinks it if negative); returns the
/// old break, i.e. the start of the new memory when growing.
///
/// Most programs never call this: the heap allocator does. A program that
/// shrinks the break below memory the allocator handed out breaks it.
///
/// # Safety
/// When shrinking, nothing may still use the memory given back.
pub unsafe fn sbrk(increment: isize) -> Result<*mut u8, Errno> {
    // SAFETY: forwarded to the caller.
    unsafe { sys::sbrk(increment) }.map(|old| old as *mut u8)
}

/// Sleeps for `ticks` clock ticks (a tick is 10 ms).
pub fn sleep(ticks: u64) -> Result<(), Errno> {
    sys::sleep(ticks).map(|_| ())
}

/// Clock ticks since boot.
pub fn uptime() -> Result<u64, Errno> {
    sys::uptime()
}

/// Seconds since 1970-01-01 00:00:00 UTC, from the real-time clock
/// (`common::time::DateTime::from_unix_seconds` makes it a date).
pub fn time() -> Result<u64, Errno> {
    sys::time()
}

/// The number of free physical pages (for leak checks).
pub fn freemem() -> Result<u64, Errno> {
    sys::freemem()
}

/// Injects a fault on purpose (`docs/fault-isolation.md`): on the
/// micro-kernel root arms it in a server, which it restarts after the
/// crash; on the mono-kernel only `Fault::SharedBadPointer` exists, and it
/// stops the kernel. Returns the number of server restarts so far (0 on the
/// mono-kernel). `EPERM` unless the kernel was booted with `inject`.
pub fn inject(injection: Injection) -> Result<u64, Errno> {
    sys::inject(InjectRequest::Inject(injection).to_words())
}

/// The number of server restarts since boot (always 0 on the mono-kernel);
/// `EPERM` unless the kernel was booted with `inject`.
pub fn restarts() -> Result<u64, Errno> {
    sys::inject(InjectRequest::Query.to_words())
}

/// Reads the processor's time-stamp counter (for benchmarks).
pub fn rdtsc() -> u64 {
    let low: u32;
    let high: u32;
    // SAFETY: rdtsc only reads the time-stamp counter into edx:eax; it is
    // allowed in user mode (CR4.TSD is clear).
    unsafe {
        core::arch::asm!("rdtsc", out("eax") low, out("edx") high, options(nomem, nostack));
    }
    ((high as u64) << 32) | low as u64
}
