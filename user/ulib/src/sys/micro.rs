//! The `micro` back end: a system call becomes a call to a server of the
//! microkernel (`docs/servers.md`).
//!
//! Each call below is a short stub, as xv6's `usys.S` is for its kernel: it
//! puts the call's arguments into a message and sends it with the one
//! transport every client uses, `l4::rpc::call` (which also decodes the
//! reply into a value or an errno). The stub names memory, it does not
//! touch it: a buffer to send is a *byte item* and a path a *string item*
//! (the kernel copies them out of this process), a buffer to fill is the
//! call's *receive area* (the kernel copies the reply's bytes into it).
//! The kernel checks all of it, so a bad pointer is `EFAULT`, as on the
//! monolithic kernel; and a page that is merely not mapped yet (fresh heap,
//! copy-on-write after fork) is first mapped by this process's pager
//! (`common::abi::micro`, "memory a message names is checked").
//!
//! | calls                                               | go to                      |
//! |-----------------------------------------------------|----------------------------|
//! | fork, exit, wait, kill, exec, getpid, sbrk, freemem, mmap, munmap | the proc server (the pager) |
//! | the file calls                                      | the vfs server (which redirects a console descriptor's read and write to the console server) |
//! | sleep, uptime                                       | the kernel alone: a receive with a timeout, the clock |
//!
//! One message carries at most 4 KiB (`MAX_TRANSFER`), so `read` and
//! `write` of more go in pieces ([`in_pieces`]), as the monolithic kernel
//! moves them through its 4 KiB bounce buffer.
//!
//! **Start.** `proc` leaves an *aux block* right after the NULL that ends
//! `argv` on a new program's stack: `[AUX_MAGIC, proc, vfs]`, the servers'
//! thread ids (`common::abi::proto::proc::AuxBlock`). [`start`] reads it.
//!
//! **Fork.** The child must continue exactly where the parent called
//! `fork`, with `fork` returning 0. The kernel's `exchange_registers` can
//! set a new thread's `rip`, `rsp` and `rdi` only, so the fork stub saves
//! everything else that matters — the callee-saved registers `rbx`, `rbp`,
//! `r12`-`r15` — on the stack, and passes proc that stack pointer and the
//! address of a resume label. The child's memory is a copy-on-write copy of
//! the parent's, saved registers included; it starts at the label, pops
//! them, and returns 0.

use crate::Errno;
use common::abi::fs::{STAT_BYTES, Stat};
use common::abi::proto::MAX_TRANSFER;
use common::abi::proto::proc::{AUX_WORDS, AuxBlock, ProcOp};
use common::abi::proto::vfs::VfsOp;
use common::abi::syscall::{MAX_PATH, SysInfo};
use core::sync::atomic::{AtomicU64, Ordering};
use l4::rpc::{self, Reply};
use l4::{Message, ThreadId};

/// The servers' thread ids, from the aux block.
static PROC: AtomicU64 = AtomicU64::new(0);
static VFS: AtomicU64 = AtomicU64::new(0);

/// The most bytes of a path string item: a path with no NUL in its first
/// `MAX_PATH + 1` bytes arrives that long, and vfs refuses it
/// (`ENAMETOOLONG`).
const PATH_ITEM_MAX: u64 = MAX_PATH as u64 + 1;

/// Called once by `_start` before `main`: reads the aux block after argv's
/// NULL. A program started without one cannot reach any server; it says
/// so on the kernel console and ends.
// The signature is the back-end interface's (`sys/mod.rs`), shared with the
// mono back end, and `_start` is its only caller, with the kernel's argv.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
pub fn start(argc: usize, argv: *const *const u8) {
    // SAFETY: the process-start contract (docs/user-abi.md, docs/servers.md):
    // argv[argc] is NULL and the aux block's words follow it.
    let words = unsafe { core::slice::from_raw_parts(argv.add(argc + 1) as *const u64, AUX_WORDS) };
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
}

/// The thread ids of the proc and vfs servers, from the aux block. Not
/// part of the back-end interface (the mono back end has no servers): for
/// the few programs that talk to the servers themselves, such as the
/// message fuzzer (`programs/src/bin/msgfuzz.rs`).
pub fn server_threads() -> (u64, u64) {
    (PROC.load(Ordering::Relaxed), VFS.load(Ordering::Relaxed))
}

/// Calls proc: `op` with `words`; the reply's value.
fn proc(op: ProcOp, words: &[u64]) -> Result<u64, Errno> {
    let proc = ThreadId(PROC.load(Ordering::Relaxed));
    rpc::call(proc, &Message::new(op.label(), words))?.word(0)
}

/// A request to vfs: `op` with `words` (items are added by the caller).
fn vfs(op: VfsOp, words: &[u64]) -> Message {
    Message::new(op.label(), words)
}

/// Calls vfs with `request`.
fn call_vfs(request: Message) -> Result<Reply, Errno> {
    rpc::call(ThreadId(VFS.load(Ordering::Relaxed)), &request)
}

/// A descriptor or pid as a message word (negative ones sign-extended, so
/// the server answers `EBADF` or `ESRCH` as the monolithic kernel does).
fn word(value: i64) -> u64 {
    value as u64
}

/// `fork() -> pid` of the child in the parent, 0 in the child.
pub fn fork() -> Result<u64, Errno> {
    // SAFETY: the stub follows the C calling convention (see its comment).
    Errno::from_return(unsafe { fork_stub() })
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
    match proc(ProcOp::Fork, &[resume_rip, resume_rsp]) {
        Ok(pid) => pid as i64,
        Err(errno) => errno.as_return(),
    }
}

/// `exit(status)`: ends the process; never returns.
pub fn exit(status: i32) -> ! {
    let _ = proc(ProcOp::Exit, &[word(status as i64)]);
    // proc destroys this thread while it waits for the reply; nothing
    // else can happen.
    loop {
        core::hint::spin_loop();
    }
}

/// `wait(status) -> pid`: waits for a child to exit; proc (the pager, which
/// holds this process's memory) stores its exit status at `status` unless
/// it is null.
///
/// # Safety
/// `status` must be null or valid for a 4-byte write.
pub unsafe fn wait(status: *mut i32) -> Result<u64, Errno> {
    proc(ProcOp::Wait, &[status as u64])
}

/// `pipe(fds) -> 0`: stores the read end in `fds[0]`, the write end in
/// `fds[1]` (vfs replies with the two as bytes, into `fds`).
///
/// # Safety
/// `fds` must be valid for an 8-byte write.
pub unsafe fn pipe(fds: *mut [i32; 2]) -> Result<u64, Errno> {
    let reply = call_vfs(vfs(VfsOp::Pipe, &[]).with_receive_area(fds as u64, 8))?;
    if reply.byte_count != 8 {
        return Err(Errno::EIO);
    }
    Ok(0)
}

/// `pipe2(fds, flags) -> 0` (lab `pipe`): `pipe`, with flags for both
/// ends (`O_NONBLOCK`), which vfs checks and keeps in the open files.
///
/// # Safety
/// `fds` must be valid for an 8-byte write.
pub unsafe fn pipe2(fds: *mut [i32; 2], flags: u32) -> Result<u64, Errno> {
    // LAB pipe BEGIN
    let request = vfs(VfsOp::Pipe2, &[u64::from(flags)]).with_receive_area(fds as u64, 8);
    let reply = call_vfs(request)?;
    if reply.byte_count != 8 {
        return Err(Errno::EIO);
    }
    Ok(0)
    // LAB pipe STUB
    //~ let _ = (fds, flags);
    //~ Err(Errno::ENOSYS)
    // LAB pipe END
}

/// Moves `len` bytes in pieces of at most one message: `step(offset,
/// piece)` moves the `piece` bytes at `offset` and says how many it moved
/// and whether to go on. It stops at a short piece, as the monolithic
/// kernel's loops do; an error after some progress reports the progress (a
/// full disk, a pipe whose readers left).
fn in_pieces(
    len: usize,
    mut step: impl FnMut(u64, u64) -> Result<(usize, bool), Errno>,
) -> Result<u64, Errno> {
    let mut done = 0;
    loop {
        let piece = (len - done).min(MAX_TRANSFER as usize);
        match step(done as u64, piece as u64) {
            Ok((moved, go_on)) => {
                let moved = moved.min(piece);
                done += moved;
                if !go_on || moved < piece || done == len {
                    return Ok(done as u64);
                }
            }
            Err(_) if done > 0 => return Ok(done as u64),
            Err(errno) => return Err(errno),
        }
    }
}

/// `read(fd, buf, len) -> bytes read` (0 at end of file). vfs answers a
/// file's read with word 0 = 1: a full piece may have more behind it; a
/// pipe's or the console's read returns what came.
///
/// # Safety
/// `buf` must be valid for `len` bytes of writes.
pub unsafe fn read(fd: i32, buf: *mut u8, len: usize) -> Result<u64, Errno> {
    in_pieces(len, |offset, piece| {
        let into = (buf as u64).wrapping_add(offset);
        let request = vfs(VfsOp::Read, &[word(fd as i64), piece]).with_receive_area(into, piece);
        let reply = call_vfs(request)?;
        Ok((reply.byte_count, reply.word(0) == Ok(1)))
    })
}

/// `write(fd, buf, len) -> bytes written`.
///
/// # Safety
/// `buf` must be valid for `len` bytes of reads.
pub unsafe fn write(fd: i32, buf: *const u8, len: usize) -> Result<u64, Errno> {
    in_pieces(len, |offset, piece| {
        let from = (buf as u64).wrapping_add(offset);
        let request = vfs(VfsOp::Write, &[word(fd as i64)]).with_bytes_at(from, piece);
        Ok((call_vfs(request)?.word(0)? as usize, true))
    })
}

/// `close(fd) -> 0`.
pub fn close(fd: i32) -> Result<u64, Errno> {
    call_vfs(vfs(VfsOp::Close, &[word(fd as i64)])).map(|_| 0)
}

/// `sync() -> 0`: vfs asks fs to commit its journal.
pub fn sync() -> Result<u64, Errno> {
    call_vfs(vfs(VfsOp::Sync, &[])).map(|_| 0)
}

/// `fsync(fd) -> 0`.
pub fn fsync(fd: i32) -> Result<u64, Errno> {
    call_vfs(vfs(VfsOp::Fsync, &[word(fd as i64)])).map(|_| 0)
}

/// `kill(pid) -> 0`.
pub fn kill(pid: i64) -> Result<u64, Errno> {
    proc(ProcOp::Kill, &[word(pid)])
}

/// `exec(path, argv)`: replaces the program; returns only on error. proc
/// reads the path and the arguments from this process's memory.
///
/// # Safety
/// `path` must point to a NUL-terminated string; `argv` to a null-terminated
/// array of pointers to NUL-terminated strings.
pub unsafe fn exec(path: *const u8, argv: *const *const u8) -> Result<u64, Errno> {
    proc(ProcOp::Exec, &[path as u64, argv as u64])
}

/// A vfs call whose argument is one path, as a string item.
fn path_call(op: VfsOp, words: &[u64], path: *const u8) -> Result<Reply, Errno> {
    call_vfs(vfs(op, words).with_string_at(path as u64, PATH_ITEM_MAX))
}

/// `open(path, flags) -> fd`.
///
/// # Safety
/// `path` must point to a NUL-terminated string.
pub unsafe fn open(path: *const u8, flags: u32) -> Result<u64, Errno> {
    path_call(VfsOp::Open, &[flags as u64], path)?.word(0)
}

/// `mknod(path, major, minor) -> 0`.
///
/// # Safety
/// `path` must point to a NUL-terminated string.
pub unsafe fn mknod(path: *const u8, major: u32, minor: u32) -> Result<u64, Errno> {
    path_call(VfsOp::Mknod, &[major as u64, minor as u64], path).map(|_| 0)
}

/// `unlink(path) -> 0`.
///
/// # Safety
/// `path` must point to a NUL-terminated string.
pub unsafe fn unlink(path: *const u8) -> Result<u64, Errno> {
    path_call(VfsOp::Unlink, &[], path).map(|_| 0)
}

/// `fstat(fd, stat) -> 0` (vfs replies with the `Stat`'s bytes, into `stat`).
///
/// # Safety
/// `stat` must be valid for a write of one [`Stat`].
pub unsafe fn fstat(fd: i32, stat: *mut Stat) -> Result<u64, Errno> {
    let request =
        vfs(VfsOp::Fstat, &[word(fd as i64)]).with_receive_area(stat as u64, STAT_BYTES as u64);
    if call_vfs(request)?.byte_count != STAT_BYTES {
        return Err(Errno::EIO);
    }
    Ok(0)
}

/// A vfs call whose arguments are two paths.
fn two_paths_call(op: VfsOp, old: *const u8, new: *const u8) -> Result<u64, Errno> {
    let request = vfs(op, &[])
        .with_string_at(old as u64, PATH_ITEM_MAX)
        .with_string_at(new as u64, PATH_ITEM_MAX);
    call_vfs(request).map(|_| 0)
}

/// `link(old, new) -> 0`.
///
/// # Safety
/// Both paths must point to NUL-terminated strings.
pub unsafe fn link(old: *const u8, new: *const u8) -> Result<u64, Errno> {
    two_paths_call(VfsOp::Link, old, new)
}

/// `symlink(target, path) -> 0` (lab `fs`): both as string items.
///
/// # Safety
/// `target` and `path` must point to NUL-terminated strings.
pub unsafe fn symlink(target: *const u8, path: *const u8) -> Result<u64, Errno> {
    // LAB fs BEGIN
    two_paths_call(VfsOp::Symlink, target, path)
    // LAB fs STUB
    //~ let _ = (target, path);
    //~ Err(Errno::ENOSYS)
    // LAB fs END
}

/// `readlink(path, buf, len) -> bytes` (lab `fs`): vfs replies with the
/// target's bytes, into `buf`.
///
/// # Safety
/// `path` must point to a NUL-terminated string; `buf` must be valid for
/// `len` bytes of writes.
pub unsafe fn readlink(path: *const u8, buf: *mut u8, len: usize) -> Result<u64, Errno> {
    // LAB fs BEGIN
    let len = len.min(MAX_TRANSFER as usize) as u64;
    let request = vfs(VfsOp::Readlink, &[len])
        .with_string_at(path as u64, PATH_ITEM_MAX)
        .with_receive_area(buf as u64, len);
    Ok(call_vfs(request)?.byte_count as u64)
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
    path_call(VfsOp::Mkdir, &[], path).map(|_| 0)
}

/// `chdir(path) -> 0`.
///
/// # Safety
/// `path` must point to a NUL-terminated string.
pub unsafe fn chdir(path: *const u8) -> Result<u64, Errno> {
    path_call(VfsOp::Chdir, &[], path).map(|_| 0)
}

/// `dup(fd) -> new fd`.
pub fn dup(fd: i32) -> Result<u64, Errno> {
    call_vfs(vfs(VfsOp::Dup, &[word(fd as i64)]))?.word(0)
}

/// `getpid() -> pid`.
pub fn getpid() -> Result<u64, Errno> {
    proc(ProcOp::Getpid, &[])
}

/// `getppid() -> pid` of the parent (lab `syscall`).
pub fn getppid() -> Result<u64, Errno> {
    // LAB syscall BEGIN
    proc(ProcOp::Getppid, &[])
    // LAB syscall STUB
    //~ Err(Errno::ENOSYS)
    // LAB syscall END
}

/// `sysinfo(*mut SysInfo) -> 0` (lab `syscall`): proc copies the
/// [`SysInfo`] into our memory, as it does `wait`'s status.
///
/// # Safety
/// `info` must be valid for a write of one [`SysInfo`].
pub unsafe fn sysinfo(info: *mut SysInfo) -> Result<u64, Errno> {
    // LAB syscall BEGIN
    proc(ProcOp::Sysinfo, &[info as u64])
    // LAB syscall STUB
    //~ let _ = info;
    //~ Err(Errno::ENOSYS)
    // LAB syscall END
}

/// `sbrk(increment) -> old break`.
///
/// # Safety
/// Shrinking unmaps memory: nothing may still refer to it.
pub unsafe fn sbrk(increment: isize) -> Result<u64, Errno> {
    proc(ProcOp::Sbrk, &[increment as i64 as u64])
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

/// `rename(old, new) -> 0`.
///
/// # Safety
/// Both paths must point to NUL-terminated strings.
pub unsafe fn rename(old: *const u8, new: *const u8) -> Result<u64, Errno> {
    two_paths_call(VfsOp::Rename, old, new)
}

/// `getdents(fd, buf, len) -> bytes` of directory records (0 at the end;
/// at most one message's worth per call).
///
/// # Safety
/// `buf` must be valid for `len` bytes of writes.
pub unsafe fn getdents(fd: i32, buf: *mut u8, len: usize) -> Result<u64, Errno> {
    let len = (len as u64).min(MAX_TRANSFER);
    let request = vfs(VfsOp::Getdents, &[word(fd as i64), len]).with_receive_area(buf as u64, len);
    Ok(call_vfs(request)?.byte_count as u64)
}

/// `trace(op, a, b)`: tracing control (`common::abi::syscall::trace_ops`),
/// a system call of the microkernel itself (its trace ring holds the
/// kernel's and the servers' events).
///
/// # Safety
/// For `READ`, `a` must be valid for `b` bytes of writes.
pub unsafe fn trace(op: u64, a: u64, b: u64) -> Result<u64, Errno> {
    l4::trace::control(op, a, b).map_err(|error| match error {
        l4::Error::BadAddress => Errno::EFAULT,
        _ => Errno::EINVAL,
    })
}

/// `freemem() -> number of free pages`.
pub fn freemem() -> Result<u64, Errno> {
    proc(ProcOp::Freemem, &[])
}

/// `mmap(hint, length, prot, flags, fd, offset) -> address`: proc, the
/// pager, records the mapping and makes its pages at their first touch.
/// The hint is not sent (both kernels ignore it); `prot` and `flags`
/// share a word.
///
/// # Safety
/// The new memory is the caller's to manage; nothing else is changed.
pub unsafe fn mmap(
    _hint: u64,
    length: u64,
    prot: u32,
    flags: u32,
    fd: i32,
    offset: u64,
) -> Result<u64, Errno> {
    let protections = u64::from(prot) | u64::from(flags) << 32;
    proc(
        ProcOp::Mmap,
        &[length, protections, word(fd as i64), offset],
    )
}

/// `munmap(address, length) -> 0`.
///
/// # Safety
/// Nothing may still use the memory removed.
pub unsafe fn munmap(address: u64, length: u64) -> Result<u64, Errno> {
    proc(ProcOp::Munmap, &[address, length])
}
