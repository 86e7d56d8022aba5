//! The `mono` back end: system calls into the monolithic kernel.
//!
//! A call puts its number in `rax` and up to six arguments in `rdi`, `rsi`,
//! `rdx`, `r10`, `r8`, `r9`, then executes `syscall` (the convention is
//! defined once, in `common::abi::syscall`). The kernel answers in `rax`: a
//! value `>= 0`, or `-errno`.
//!
//! The `syscall` instruction itself overwrites `rcx` (with the return
//! address) and `r11` (with the flags). We also tell the compiler that the
//! argument registers may come back changed, so ulib stays correct even if
//! the kernel uses them as scratch; the kernel must preserve `rbx`, `rbp`,
//! `rsp` and `r12`-`r15`. No `nomem` option is given: the kernel may read and
//! write our memory (that is what `read` does), so the compiler must not keep
//! values cached in registers across a call.

use crate::Errno;
use common::abi::fs::Stat;
use common::abi::syscall::{Sys, SysInfo};
use core::arch::asm;

/// Executes one system call with six arguments and returns the raw `rax`.
///
/// # Safety
/// Pointer arguments must be valid for what the call does with them (or the
/// caller must accept that the kernel rejects them, or that the process is
/// killed): the kernel writes through pointers given to calls like `read`.
#[inline(always)]
unsafe fn syscall6(number: Sys, args: [u64; 6]) -> i64 {
    let ret: i64;
    // SAFETY: `syscall` transfers control to the kernel, which returns to the
    // next instruction with the result in rax. All registers the kernel or
    // the instruction may change are declared as outputs; memory effects are
    // the caller's responsibility (see this function's contract).
    unsafe {
        asm!(
            "syscall",
            inlateout("rax") number as u64 => ret,
            inlateout("rdi") args[0] => _,
            inlateout("rsi") args[1] => _,
            inlateout("rdx") args[2] => _,
            inlateout("r10") args[3] => _,
            inlateout("r8") args[4] => _,
            inlateout("r9") args[5] => _,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    ret
}

/// Executes one system call with up to three arguments and returns the
/// raw `rax`. Only the registers the call uses are loaded: a call reads no
/// argument it does not take, so zeroing the other registers would be
/// wasted instructions on every call (on `getpid`, 6 of about 110).
///
/// # Safety
/// As for [`syscall6`].
#[inline(always)]
unsafe fn syscall3(number: Sys, a0: u64, a1: u64, a2: u64) -> i64 {
    let ret: i64;
    // SAFETY: as in `syscall6`; `r10`, `r8` and `r9` are not arguments here
    // but are declared changed all the same.
    unsafe {
        asm!(
            "syscall",
            inlateout("rax") number as u64 => ret,
            inlateout("rdi") a0 => _,
            inlateout("rsi") a1 => _,
            inlateout("rdx") a2 => _,
            lateout("r10") _,
            lateout("r8") _,
            lateout("r9") _,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    ret
}

/// A system call with up to three arguments, decoded into a `Result`.
///
/// # Safety
/// As for [`syscall6`].
#[inline(always)]
unsafe fn call(number: Sys, a0: u64, a1: u64, a2: u64) -> Result<u64, Errno> {
    // SAFETY: forwarded to the caller.
    Errno::from_return(unsafe { syscall3(number, a0, a1, a2) })
}

/// A system call that takes no arguments (`getpid`, `fork`, ...): nothing
/// but the number is loaded.
#[inline(always)]
fn call0(number: Sys) -> Result<u64, Errno> {
    let ret: i64;
    // SAFETY: as in `syscall6`; a call without arguments takes no pointers,
    // so it cannot touch our memory through one.
    unsafe {
        asm!(
            "syscall",
            inlateout("rax") number as u64 => ret,
            lateout("rdi") _,
            lateout("rsi") _,
            lateout("rdx") _,
            lateout("r10") _,
            lateout("r8") _,
            lateout("r9") _,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    Errno::from_return(ret)
}

/// Sign-extends a file descriptor or pid into a register value, so that a
/// negative number (a deliberately bad argument) reaches the kernel as one.
fn reg(value: i64) -> u64 {
    value as u64
}

/// Called once by `_start` before `main`. The monolithic kernel needs no
/// set-up: system calls work from the first instruction. (An IPC back end
/// would find its servers here.)
pub fn start(_argc: usize, _argv: *const *const u8) {}

/// `fork() -> pid` of the child in the parent, 0 in the child.
pub fn fork() -> Result<u64, Errno> {
    call0(Sys::Fork)
}

/// `exit(status)`: ends the process; never returns.
pub fn exit(status: i32) -> ! {
    // SAFETY: exit takes no pointers.
    unsafe {
        syscall6(Sys::Exit, [reg(status as i64), 0, 0, 0, 0, 0]);
    }
    // The kernel never returns from exit; if it did, spinning is the only
    // safe thing left to do.
    loop {
        core::hint::spin_loop();
    }
}

/// `wait(status) -> pid`: waits for a child to exit; stores its exit status
/// at `status` unless `status` is null.
///
/// # Safety
/// `status` must be null or valid for a 4-byte write.
pub unsafe fn wait(status: *mut i32) -> Result<u64, Errno> {
    // SAFETY: forwarded to the caller.
    unsafe { call(Sys::Wait, status as u64, 0, 0) }
}

/// `pipe(fds) -> 0`: stores the read end in `fds[0]`, the write end in `fds[1]`.
///
/// # Safety
/// `fds` must be valid for an 8-byte write.
pub unsafe fn pipe(fds: *mut [i32; 2]) -> Result<u64, Errno> {
    // SAFETY: forwarded to the caller.
    unsafe { call(Sys::Pipe, fds as u64, 0, 0) }
}

/// `pipe2(fds, flags) -> 0` (lab `pipe`): `pipe`, with flags for both
/// ends (`O_NONBLOCK`).
///
/// # Safety
/// `fds` must be valid for an 8-byte write.
pub unsafe fn pipe2(fds: *mut [i32; 2], flags: u32) -> Result<u64, Errno> {
    // LAB pipe BEGIN
    // SAFETY: forwarded to the caller.
    unsafe { call(Sys::Pipe2, fds as u64, u64::from(flags), 0) }
    // LAB pipe STUB
    //~ let _ = (fds, flags);
    //~ Err(Errno::ENOSYS)
    // LAB pipe END
}

/// `read(fd, buf, len) -> bytes read` (0 at end of file).
///
/// # Safety
/// `buf` must be valid for `len` bytes of writes.
pub unsafe fn read(fd: i32, buf: *mut u8, len: usize) -> Result<u64, Errno> {
    // SAFETY: forwarded to the caller.
    unsafe { call(Sys::Read, reg(fd as i64), buf as u64, len as u64) }
}

/// `write(fd, buf, len) -> bytes written`.
///
/// # Safety
/// `buf` must be valid for `len` bytes of reads.
pub unsafe fn write(fd: i32, buf: *const u8, len: usize) -> Result<u64, Errno> {
    // SAFETY: forwarded to the caller.
    unsafe { call(Sys::Write, reg(fd as i64), buf as u64, len as u64) }
}

/// `close(fd) -> 0`.
pub fn close(fd: i32) -> Result<u64, Errno> {
    // SAFETY: close takes no pointers.
    unsafe { call(Sys::Close, reg(fd as i64), 0, 0) }
}

/// `sync() -> 0`.
pub fn sync() -> Result<u64, Errno> {
    call0(Sys::Sync)
}

/// `fsync(fd) -> 0`.
pub fn fsync(fd: i32) -> Result<u64, Errno> {
    // SAFETY: fsync takes no pointers.
    unsafe { call(Sys::Fsync, reg(fd as i64), 0, 0) }
}

/// `kill(pid) -> 0`.
pub fn kill(pid: i64) -> Result<u64, Errno> {
    // SAFETY: kill takes no pointers.
    unsafe { call(Sys::Kill, reg(pid), 0, 0) }
}

/// `exec(path, argv)`: replaces the program; returns only on error.
///
/// # Safety
/// `path` must point to a NUL-terminated string; `argv` to a null-terminated
/// array of pointers to NUL-terminated strings.
pub unsafe fn exec(path: *const u8, argv: *const *const u8) -> Result<u64, Errno> {
    // SAFETY: forwarded to the caller.
    unsafe { call(Sys::Exec, path as u64, argv as u64, 0) }
}

/// `open(path, flags) -> fd`.
///
/// # Safety
/// `path` must point to a NUL-terminated string.
pub unsafe fn open(path: *const u8, flags: u32) -> Result<u64, Errno> {
    // SAFETY: forwarded to the caller.
    unsafe { call(Sys::Open, path as u64, flags as u64, 0) }
}

/// `mknod(path, major, minor) -> 0`: creates a device file.
///
/// # Safety
/// `path` must point to a NUL-terminated string.
pub unsafe fn mknod(path: *const u8, major: u32, minor: u32) -> Result<u64, Errno> {
    // SAFETY: forwarded to the caller.
    unsafe { call(Sys::Mknod, path as u64, major as u64, minor as u64) }
}

/// `unlink(path) -> 0`.
///
/// # Safety
/// `path` must point to a NUL-terminated string.
pub unsafe fn unlink(path: *const u8) -> Result<u64, Errno> {
    // SAFETY: forwarded to the caller.
    unsafe { call(Sys::Unlink, path as u64, 0, 0) }
}

/// `fstat(fd, stat) -> 0`.
///
/// # Safety
/// `stat` must be valid for a write of one [`Stat`].
pub unsafe fn fstat(fd: i32, stat: *mut Stat) -> Result<u64, Errno> {
    // SAFETY: forwarded to the caller.
    unsafe { call(Sys::Fstat, reg(fd as i64), stat as u64, 0) }
}

/// `link(old, new) -> 0`.
///
/// # Safety
/// Both paths must point to NUL-terminated strings.
pub unsafe fn link(old: *const u8, new: *const u8) -> Result<u64, Errno> {
    // SAFETY: forwarded to the caller.
    unsafe { call(Sys::Link, old as u64, new as u64, 0) }
}

/// `symlink(target, path) -> 0` (lab `fs`).
///
/// # Safety
/// `target` and `path` must point to NUL-terminated strings.
pub unsafe fn symlink(target: *const u8, path: *const u8) -> Result<u64, Errno> {
    // LAB fs BEGIN
    // SAFETY: forwarded to the caller.
    unsafe { call(Sys::Symlink, target as u64, path as u64, 0) }
    // LAB fs STUB
    //~ let _ = (target, path);
    //~ Err(Errno::ENOSYS)
    // LAB fs END
}

/// `readlink(path, buf, len) -> bytes` (lab `fs`).
///
/// # Safety
/// `path` must point to a NUL-terminated string; `buf` must be valid for
/// `len` bytes of writes.
pub unsafe fn readlink(path: *const u8, buf: *mut u8, len: usize) -> Result<u64, Errno> {
    // LAB fs BEGIN
    // SAFETY: forwarded to the caller.
    unsafe { call(Sys::Readlink, path as u64, buf as u64, len as u64) }
    // LAB fs STUB
    //~ let _ = (path, buf, len);
    //~ Err(Errno::ENOSYS)
    // LAB fs END
}

/// `mkdir(path) -> 0`.
///
/// # Safety
/// `path` must point to a NUL-terminated string.
pub unsafe fn mkdir(path: *const u8) -> Result<u64, Errno> {
    // SAFETY: forwarded to the caller.
    unsafe { call(Sys::Mkdir, path as u64, 0, 0) }
}

/// `chdir(path) -> 0`.
///
/// # Safety
/// `path` must point to a NUL-terminated string.
pub unsafe fn chdir(path: *const u8) -> Result<u64, Errno> {
    // SAFETY: forwarded to the caller.
    unsafe { call(Sys::Chdir, path as u64, 0, 0) }
}

/// `dup(fd) -> new fd` (the lowest free one).
pub fn dup(fd: i32) -> Result<u64, Errno> {
    // SAFETY: dup takes no pointers.
    unsafe { call(Sys::Dup, reg(fd as i64), 0, 0) }
}

/// `getpid() -> pid`.
pub fn getpid() -> Result<u64, Errno> {
    call0(Sys::Getpid)
}

/// `getppid() -> pid` of the parent (lab `syscall`).
pub fn getppid() -> Result<u64, Errno> {
    // LAB syscall BEGIN
    call0(Sys::Getppid)
    // LAB syscall STUB
    //~ Err(Errno::ENOSYS)
    // LAB syscall END
}

/// `sysinfo(*mut SysInfo) -> 0` (lab `syscall`).
///
/// # Safety
/// `info` must be valid for a write of one [`SysInfo`].
pub unsafe fn sysinfo(info: *mut SysInfo) -> Result<u64, Errno> {
    // LAB syscall BEGIN
    // SAFETY: forwarded to the caller.
    unsafe { call(Sys::Sysinfo, info as u64, 0, 0) }
    // LAB syscall STUB
    //~ let _ = info;
    //~ Err(Errno::ENOSYS)
    // LAB syscall END
}

/// `time() -> seconds since 1970-01-01 UTC`, from the real-time clock
/// (lab `driver`).
pub fn time() -> Result<u64, Errno> {
    // LAB driver BEGIN
    call0(Sys::Time)
    // LAB driver STUB
    //~ Err(Errno::ENOSYS)
    // LAB driver END
}

/// `sbrk(increment) -> old break`: grows (or, negative, shrinks) the heap.
///
/// # Safety
/// Shrinking unmaps memory: nothing may still refer to it.
pub unsafe fn sbrk(increment: isize) -> Result<u64, Errno> {
    // SAFETY: forwarded to the caller.
    unsafe { call(Sys::Sbrk, increment as i64 as u64, 0, 0) }
}

/// `sleep(ticks) -> 0`.
pub fn sleep(ticks: u64) -> Result<u64, Errno> {
    // SAFETY: sleep takes no pointers.
    unsafe { call(Sys::Sleep, ticks, 0, 0) }
}

/// `uptime() -> ticks since boot`.
pub fn uptime() -> Result<u64, Errno> {
    call0(Sys::Uptime)
}

/// `rename(old, new) -> 0`.
///
/// # Safety
/// Both paths must point to NUL-terminated strings.
pub unsafe fn rename(old: *const u8, new: *const u8) -> Result<u64, Errno> {
    // SAFETY: forwarded to the caller.
    unsafe { call(Sys::Rename, old as u64, new as u64, 0) }
}

/// `getdents(fd, buf, len) -> bytes` of directory records (0 at the end).
///
/// # Safety
/// `buf` must be valid for `len` bytes of writes.
pub unsafe fn getdents(fd: i32, buf: *mut u8, len: usize) -> Result<u64, Errno> {
    // SAFETY: forwarded to the caller.
    unsafe { call(Sys::Getdents, reg(fd as i64), buf as u64, len as u64) }
}

/// `freemem() -> number of free physical pages`.
pub fn freemem() -> Result<u64, Errno> {
    call0(Sys::Freemem)
}

/// `inject(component, fault, after, parameter) -> restarts`: a fault on
/// purpose (`common::abi::inject`; `EPERM` unless the kernel was booted
/// with `inject`).
pub fn inject(words: [u64; 4]) -> Result<u64, Errno> {
    let [component, fault, after, parameter] = words;
    // SAFETY: inject takes no pointers.
    Errno::from_return(unsafe { syscall6(Sys::Inject, [component, fault, after, parameter, 0, 0]) })
}

/// `mmap(hint, length, prot, flags, fd, offset) -> address`: the one call
/// with six arguments (`common::abi::mmap` has the numbers).
///
/// # Safety
/// The new memory is the caller's to manage; nothing else is changed.
pub unsafe fn mmap(
    hint: u64,
    length: u64,
    prot: u32,
    flags: u32,
    fd: i32,
    offset: u64,
) -> Result<u64, Errno> {
    let args = [
        hint,
        length,
        u64::from(prot),
        u64::from(flags),
        reg(fd as i64),
        offset,
    ];
    // SAFETY: forwarded to the caller.
    Errno::from_return(unsafe { syscall6(Sys::Mmap, args) })
}

/// `munmap(address, length) -> 0`.
///
/// # Safety
/// Nothing may still use the memory removed.
pub unsafe fn munmap(address: u64, length: u64) -> Result<u64, Errno> {
    // SAFETY: forwarded to the caller.
    unsafe { call(Sys::Munmap, address, length, 0) }
}

/// `trace(op, a, b)`: tracing control (`common::abi::syscall::trace_ops`).
///
/// # Safety
/// For `READ`, `a` must be valid for `b` bytes of writes.
pub unsafe fn trace(op: u64, a: u64, b: u64) -> Result<u64, Errno> {
    // SAFETY: forwarded to the caller.
    unsafe { call(Sys::Trace, op, a, b) }
}
