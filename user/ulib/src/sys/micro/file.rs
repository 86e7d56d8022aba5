//! The `micro` back end, file half: every file call is IPC to the vfs
//! server (and, for console descriptors, to the console server).
//!
//! A call builds the request type of `common::abi::proto::vfs`, sends it
//! with `l4::ipc::call`, and decodes the reply (`proto::reply`). What the
//! monolithic kernel does in one system call may take several messages
//! here, because one message carries at most 4096 bytes:
//!
//! - `read` asks for at most 4096 bytes at a time; for a file it goes on
//!   while replies come back full (as the monolithic kernel's loop does),
//!   for a pipe or the console one reply is the answer;
//! - `write` sends at most 4096 bytes at a time straight from the caller's
//!   buffer (the kernel copies them once, checking the pages: a bad buffer
//!   is `EFAULT`), and stops early only if a piece was written short;
//! - paths are read here (up to the NUL, at most `MAX_PATH` bytes) and
//!   sent as the message's bytes.
//!
//! **Short messages.** Bytes that fit in the message registers beside the
//! words (a one-byte pipe write, a short line) travel in them, both ways
//! (`common::abi::proto::inline`): the kernel then copies no buffer, and a
//! call can take its IPC fast path. A reply's inline bytes are put into
//! the receive buffer, where a buffer item's would have landed.
//!
//! **Redirect.** vfs answers a `Read` or `Write` of a console descriptor
//! with `Redirect { console }`; the same request then goes to the console
//! server, which parks a reader until a line is typed. vfs thus never
//! waits for the console. This code remembers the answer per descriptor
//! ([`ConsoleFds`]), so later reads (writes) of it go to the console
//! directly: one message instead of two. That is sound because only this
//! process changes its own descriptor table, always through this code:
//! `close` forgets the descriptor, and `open`, `dup` and `pipe` forget the
//! descriptors they hand out. (A forked child inherits the memory and the
//! table together; `exec` starts with nothing remembered.)
//!
//! **Pointers.** The monolithic kernel checks every user pointer against
//! the page tables, and answers `EFAULT` for a bad one. Here the kernel
//! checks the buffers a message carries, but only against the pages that
//! are mapped *now* — and the memory of a process is mapped lazily by its
//! pager, proc. So before this code reads or writes a buffer it cannot
//! vouch for, it asks proc (`CheckRange`), which knows the process's
//! address map: `EFAULT` for memory the process does not have (or may not
//! write), as the monolithic kernel would say. A buffer on the stack, between
//! the stack pointer and the top of the stack, needs no question. Then the
//! buffer's pages are touched, so the pager maps them before the kernel
//! copies from them.

use super::{console_thread, proc_thread, receive_buffer, touch_receive_buffer, vfs_thread};
use crate::Errno;
use common::abi::fs::Stat;
use common::abi::proto::console::ConsoleRequest;
use common::abi::proto::proc::{ProcRequest, decode_reply};
use common::abi::proto::reply::{self, Answer};
use common::abi::proto::vfs::{self, VfsRequest};
use common::abi::proto::{MAX_WORDS, Wire, inline};
use common::abi::syscall::MAX_PATH;
use core::sync::atomic::{AtomicU32, Ordering};
use l4::{Message, ThreadId};

/// The most bytes one message carries.
const CHUNK: usize = 4096;

/// The lowest address a buffer may start at (page 0 is never mapped).
const LOWEST_USER_ADDRESS: u64 = 4096;
/// One past the highest user address (`docs/memory.md`).
const USER_TOP: u64 = 0x0000_7fff_ffff_f000;
/// One past the top of a process's stack (proc's layout,
/// `micro-kernel/user/proc/src/memory.rs`): everything between the stack
/// pointer and here is the process's own writable stack.
const STACK_TOP: u64 = 0x0000_7fff_f000_0000;
/// The page size.
const PAGE: u64 = 4096;

/// What a buffer is used for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    /// It is read (data to send, a path).
    Read,
    /// It is written (a result).
    Write,
}

/// Checks that `len` bytes at `address` are memory of this process it may
/// access as `access`, as the monolithic kernel's `copy_in`/`copy_out`
/// would: `EFAULT` if not. Then, for a buffer to be read, touches its
/// pages so they are mapped before the kernel copies from them.
fn check_range(address: u64, len: usize, access: Access) -> Result<(), Errno> {
    if len == 0 {
        return Ok(());
    }
    let end = match address.checked_add(len as u64) {
        Some(end) if address >= LOWEST_USER_ADDRESS && end <= USER_TOP => end,
        _ => return Err(Errno::EFAULT),
    };
    let stack_pointer: u64;
    // SAFETY: reads the stack pointer; no memory is touched.
    unsafe {
        core::arch::asm!("mov {}, rsp", out(reg) stack_pointer, options(nomem, nostack, preserves_flags))
    };
    let on_our_stack = address >= stack_pointer && end <= STACK_TOP;
    if !on_our_stack {
        let request = ProcRequest::CheckRange {
            address,
            len: len as u64,
            write: access == Access::Write,
        };
        let wire = request.to_wire();
        let message = Message::new(wire.label, &wire.words[..wire.word_count]);
        let reply = l4::ipc::call(proc_thread(), &message).map_err(|_| Errno::EIO)?;
        decode_reply(&Wire::new(reply.label(), reply.words()))?;
    }
    if access == Access::Read {
        let mut page = address & !(PAGE - 1);
        while page < end {
            let byte = page.max(address) as *const u8;
            // SAFETY: proc said (or the stack rule shows) the page is ours
            // and readable; reading it makes the pager map it.
            let _ = unsafe { byte.read_volatile() };
            page += PAGE;
        }
    }
    Ok(())
}

/// The descriptors vfs has redirected to the console, for reading and for
/// writing (one bit per descriptor; vfs checked the access mode before it
/// redirected).
struct ConsoleFds {
    read: AtomicU32,
    write: AtomicU32,
}

static CONSOLE_FDS: ConsoleFds = ConsoleFds {
    read: AtomicU32::new(0),
    write: AtomicU32::new(0),
};

impl ConsoleFds {
    /// The bit of `fd`, if it has one (descriptors 0..32).
    fn bit(fd: i32) -> Option<u32> {
        u32::try_from(fd)
            .ok()
            .filter(|&fd| fd < 32)
            .map(|fd| 1 << fd)
    }

    /// The bits for reading (`reading`) or for writing.
    fn bits(&self, reading: bool) -> &AtomicU32 {
        if reading { &self.read } else { &self.write }
    }

    /// Whether vfs redirected `fd` for reading (`reading`) or writing.
    fn is_console(&self, fd: i32, reading: bool) -> bool {
        let bits = self.bits(reading).load(Ordering::Relaxed);
        Self::bit(fd).is_some_and(|bit| bits & bit != 0)
    }

    /// vfs redirected `fd` for reading (`reading`) or writing.
    fn remember(&self, fd: i32, reading: bool) {
        if let Some(bit) = Self::bit(fd) {
            self.bits(reading).fetch_or(bit, Ordering::Relaxed);
        }
    }

    /// `fd` names something new (or nothing): forget it.
    fn forget(&self, fd: i64) {
        if let Some(bit) = i32::try_from(fd).ok().and_then(Self::bit) {
            self.read.fetch_and(!bit, Ordering::Relaxed);
            self.write.fetch_and(!bit, Ordering::Relaxed);
        }
    }
}

/// A reply: label, words and (copied out of the receive buffer) bytes.
struct Reply {
    label: u64,
    words: [u64; MAX_WORDS],
    word_count: usize,
    byte_count: usize,
}

impl Reply {
    /// The reply as a wire message (its bytes are in the receive buffer).
    fn wire(&self) -> Wire<'static> {
        let wire = Wire::new(self.label, &self.words[..self.word_count]);
        let buffer: &'static [u8] = &receive_buffer()[..self.byte_count];
        wire.with_bytes(buffer)
    }
}

/// Sends `request` to `server` and waits for the reply. Kernel errors: a
/// bad buffer is `EFAULT`, anything else (a dead server) `EIO`.
fn call(server: ThreadId, request: &Wire<'_>) -> Result<Reply, Errno> {
    let message = match inline::pack(request) {
        // A few bytes: in the registers (see the module documentation).
        Some(packed) => Message::new(packed.label, &packed.registers[..packed.count]),
        None => {
            let message = Message::new(request.label, &request.words[..request.word_count]);
            match request.bytes {
                Some(bytes) => message.with_buffer(bytes).ok_or(Errno::EINVAL)?,
                None => message,
            }
        }
    };
    // Write to the receive buffer first, so its page is our own writable
    // copy before the kernel copies the reply into it (after a fork it is
    // shared copy-on-write, and the kernel does not resolve that).
    touch_receive_buffer();
    let received = l4::ipc::call(server, &message).map_err(|error| match error {
        l4::Error::BadAddress => Errno::EFAULT,
        _ => Errno::EIO,
    })?;
    if inline::is_inline(received.label()) && received.tag.buffer_index().is_none() {
        // The bytes came in the registers: put them where a buffer item's
        // would have landed, so readers of a reply need not care.
        let unpacked =
            inline::unpack(received.label(), received.words()).map_err(|_| Errno::EIO)?;
        let bytes = unpacked.bytes();
        receive_buffer()[..bytes.len()].copy_from_slice(bytes);
        return Ok(Reply {
            label: unpacked.label,
            words: unpacked.words,
            word_count: unpacked.word_count,
            byte_count: bytes.len(),
        });
    }
    let word_count = (received.tag.words() as usize).min(MAX_WORDS);
    let mut words = [0; MAX_WORDS];
    words[..word_count].copy_from_slice(&received.mr[..word_count]);
    let byte_count = received.buffer_length().unwrap_or(0).min(CHUNK as u64) as usize;
    Ok(Reply {
        label: received.label(),
        words,
        word_count,
        byte_count,
    })
}

/// What a vfs request came to.
enum Outcome {
    /// Done: the reply.
    Done(Reply),
    /// Ask the console server instead.
    Console,
}

/// Calls vfs; an error reply becomes `Err`.
fn vfs_call(request: &VfsRequest<'_>) -> Result<Outcome, Errno> {
    let reply = call(vfs_thread(), &request.to_wire())?;
    match reply::check_reply(reply.wire())? {
        Answer::Done(_) => Ok(Outcome::Done(reply)),
        Answer::Redirect(_) => Ok(Outcome::Console),
    }
}

/// Calls vfs for a request that is never redirected.
fn vfs_done(request: &VfsRequest<'_>) -> Result<Reply, Errno> {
    match vfs_call(request)? {
        Outcome::Done(reply) => Ok(reply),
        Outcome::Console => Err(Errno::EIO),
    }
}

/// Calls the console server.
fn console_call(request: &ConsoleRequest<'_>) -> Result<Reply, Errno> {
    let reply = call(console_thread(), &request.to_wire())?;
    reply::expect_done(reply.wire())?;
    Ok(reply)
}

/// Word `index` of a reply (`EIO` if the server sent too few).
fn word(reply: &Reply, index: usize) -> Result<u64, Errno> {
    reply.wire().word(index).map_err(|_| Errno::EIO)
}

/// Reads the NUL-terminated path at `path` into `buffer`: `EFAULT` for an
/// impossible pointer, `ENAMETOOLONG` without a NUL in `MAX_PATH + 1` bytes.
///
/// # Safety
/// `path` must be readable up to its NUL or `MAX_PATH + 1` bytes.
unsafe fn path_argument(path: *const u8, buffer: &mut [u8; MAX_PATH + 1]) -> Result<usize, Errno> {
    let start = path as u64;
    for (index, slot) in buffer.iter_mut().enumerate() {
        let address = start.wrapping_add(index as u64);
        // Check each page before the first byte read from it.
        if index == 0 || address.is_multiple_of(PAGE) {
            let to_page_end = PAGE - address % PAGE;
            check_range(address, to_page_end as usize, Access::Read)?;
        }
        // SAFETY: the page holding this byte was checked above.
        let byte = unsafe { (address as *const u8).read() };
        if byte == 0 {
            return Ok(index);
        }
        *slot = byte;
    }
    Err(Errno::ENAMETOOLONG)
}

/// A descriptor as the wire carries it (negative ones sign-extended, so
/// vfs answers `EBADF` as the monolithic kernel does).
fn fd_word(fd: i32) -> u64 {
    fd as i64 as u64
}

/// `read(fd, buf, len) -> bytes read` (0 at end of file).
///
/// # Safety
/// `buf` must be valid for `len` bytes of writes.
pub unsafe fn read(fd: i32, buf: *mut u8, len: usize) -> Result<u64, Errno> {
    check_range(buf as u64, len, Access::Write)?;
    let mut done = 0usize;
    loop {
        let want = (len - done).min(CHUNK);
        let console_read = ConsoleRequest::Read { len: want as u64 };
        let answer = if CONSOLE_FDS.is_console(fd, true) {
            Ok(Outcome::Console)
        } else {
            vfs_call(&VfsRequest::Read {
                fd: fd_word(fd),
                len: want as u64,
            })
        };
        let (reply, read_on) = match answer {
            Ok(Outcome::Done(reply)) => {
                let read_on = word(&reply, 0) == Ok(1);
                (reply, read_on)
            }
            Ok(Outcome::Console) => {
                CONSOLE_FDS.remember(fd, true);
                (console_call(&console_read)?, false)
            }
            Err(_) if done > 0 => return Ok(done as u64),
            Err(error) => return Err(error),
        };
        let got = reply.byte_count.min(want);
        // SAFETY: buf..buf+len is the caller's writable buffer (contract),
        // done + got <= len; the source is our receive buffer.
        unsafe { core::ptr::copy_nonoverlapping(receive_buffer().as_ptr(), buf.add(done), got) };
        done += got;
        if !read_on || got < want || done == len {
            return Ok(done as u64);
        }
    }
}

/// `write(fd, buf, len) -> bytes written`.
///
/// # Safety
/// `buf` must be valid for `len` bytes of reads.
pub unsafe fn write(fd: i32, buf: *const u8, len: usize) -> Result<u64, Errno> {
    check_range(buf as u64, len, Access::Read)?;
    let mut done = 0usize;
    let mut to_console = CONSOLE_FDS.is_console(fd, false);
    loop {
        let piece_len = (len - done).min(CHUNK);
        let piece: &[u8] = if piece_len == 0 {
            &receive_buffer()[..0]
        } else {
            // SAFETY: the caller guarantees `len` readable bytes at `buf`;
            // the kernel checks the pages again while copying them.
            unsafe { core::slice::from_raw_parts(buf.add(done), piece_len) }
        };
        let result = if to_console {
            console_call(&ConsoleRequest::Write { data: piece })
        } else {
            match vfs_call(&VfsRequest::Write {
                fd: fd_word(fd),
                data: piece,
            }) {
                Ok(Outcome::Done(reply)) => Ok(reply),
                Ok(Outcome::Console) => {
                    to_console = true;
                    CONSOLE_FDS.remember(fd, false);
                    console_call(&ConsoleRequest::Write { data: piece })
                }
                Err(error) => Err(error),
            }
        };
        let wrote = match result.and_then(|reply| word(&reply, 0)) {
            Ok(wrote) => (wrote as usize).min(piece_len),
            // A failure after some progress still reports the progress
            // (a full disk, a pipe whose readers left).
            Err(_) if done > 0 => return Ok(done as u64),
            Err(error) => return Err(error),
        };
        done += wrote;
        if wrote < piece_len || done == len {
            return Ok(done as u64);
        }
    }
}

/// `close(fd) -> 0`.
pub fn close(fd: i32) -> Result<u64, Errno> {
    CONSOLE_FDS.forget(fd.into());
    vfs_done(&VfsRequest::Close { fd: fd_word(fd) }).map(|_| 0)
}

/// A call that returns a new descriptor: whatever was remembered about
/// that number is forgotten.
fn new_fd(result: Result<u64, Errno>) -> Result<u64, Errno> {
    if let Ok(fd) = result {
        CONSOLE_FDS.forget(fd as i64);
    }
    result
}

/// `dup(fd) -> new fd`.
pub fn dup(fd: i32) -> Result<u64, Errno> {
    new_fd(word(&vfs_done(&VfsRequest::Dup { fd: fd_word(fd) })?, 0))
}

/// `pipe(fds) -> 0`: stores the read end in `fds[0]`, the write end in `fds[1]`.
///
/// # Safety
/// `fds` must be valid for an 8-byte write.
pub unsafe fn pipe(fds: *mut [i32; 2]) -> Result<u64, Errno> {
    // Checked first: a refused pointer must leave no descriptors behind.
    check_range(fds as u64, 8, Access::Write)?;
    let reply = vfs_done(&VfsRequest::Pipe)?;
    let (read_end, write_end) = (new_fd(word(&reply, 0))?, new_fd(word(&reply, 1))?);
    // SAFETY: the caller guarantees 8 writable bytes at `fds`.
    unsafe { fds.write_unaligned([read_end as i32, write_end as i32]) };
    Ok(0)
}

/// `open(path, flags) -> fd`.
///
/// # Safety
/// `path` must point to a NUL-terminated string.
pub unsafe fn open(path: *const u8, flags: u32) -> Result<u64, Errno> {
    let mut buffer = [0u8; MAX_PATH + 1];
    // SAFETY: forwarded to the caller.
    let length = unsafe { path_argument(path, &mut buffer)? };
    new_fd(word(
        &vfs_done(&VfsRequest::Open {
            flags,
            path: &buffer[..length],
        })?,
        0,
    ))
}

/// A call whose only argument is a path.
///
/// # Safety
/// `path` must point to a NUL-terminated string.
unsafe fn path_call(
    path: *const u8,
    request: impl FnOnce(&[u8]) -> VfsRequest<'_>,
) -> Result<u64, Errno> {
    let mut buffer = [0u8; MAX_PATH + 1];
    // SAFETY: forwarded to the caller.
    let length = unsafe { path_argument(path, &mut buffer)? };
    vfs_done(&request(&buffer[..length])).map(|_| 0)
}

/// `mknod(path, major, minor) -> 0`.
///
/// # Safety
/// `path` must point to a NUL-terminated string.
pub unsafe fn mknod(path: *const u8, major: u32, minor: u32) -> Result<u64, Errno> {
    // SAFETY: forwarded to the caller.
    unsafe { path_call(path, |path| VfsRequest::Mknod { major, minor, path }) }
}

/// `unlink(path) -> 0`.
///
/// # Safety
/// `path` must point to a NUL-terminated string.
pub unsafe fn unlink(path: *const u8) -> Result<u64, Errno> {
    // SAFETY: forwarded to the caller.
    unsafe { path_call(path, |path| VfsRequest::Unlink { path }) }
}

/// `mkdir(path) -> 0`.
///
/// # Safety
/// `path` must point to a NUL-terminated string.
pub unsafe fn mkdir(path: *const u8) -> Result<u64, Errno> {
    // SAFETY: forwarded to the caller.
    unsafe { path_call(path, |path| VfsRequest::Mkdir { path }) }
}

/// `chdir(path) -> 0`.
///
/// # Safety
/// `path` must point to a NUL-terminated string.
pub unsafe fn chdir(path: *const u8) -> Result<u64, Errno> {
    // SAFETY: forwarded to the caller.
    unsafe { path_call(path, |path| VfsRequest::Chdir { path }) }
}

/// A call with two paths, sent as one buffer (old ++ new).
///
/// # Safety
/// Both paths must point to NUL-terminated strings.
unsafe fn two_paths(
    old: *const u8,
    new: *const u8,
    request: impl FnOnce(&[u8], usize) -> VfsRequest<'_>,
) -> Result<u64, Errno> {
    let mut old_buffer = [0u8; MAX_PATH + 1];
    let mut new_buffer = [0u8; MAX_PATH + 1];
    // SAFETY: forwarded to the caller.
    let old_len = unsafe { path_argument(old, &mut old_buffer)? };
    // SAFETY: forwarded to the caller.
    let new_len = unsafe { path_argument(new, &mut new_buffer)? };
    let mut paths = [0u8; 2 * MAX_PATH];
    paths[..old_len].copy_from_slice(&old_buffer[..old_len]);
    paths[old_len..old_len + new_len].copy_from_slice(&new_buffer[..new_len]);
    vfs_done(&request(&paths[..old_len + new_len], old_len)).map(|_| 0)
}

/// `link(old, new) -> 0`.
///
/// # Safety
/// Both paths must point to NUL-terminated strings.
pub unsafe fn link(old: *const u8, new: *const u8) -> Result<u64, Errno> {
    // SAFETY: forwarded to the caller.
    unsafe {
        two_paths(old, new, |paths, old_len| VfsRequest::Link {
            paths,
            old_len,
        })
    }
}

/// `rename(old, new) -> 0`.
///
/// # Safety
/// Both paths must point to NUL-terminated strings.
pub unsafe fn rename(old: *const u8, new: *const u8) -> Result<u64, Errno> {
    // SAFETY: forwarded to the caller.
    unsafe {
        two_paths(old, new, |paths, old_len| VfsRequest::Rename {
            paths,
            old_len,
        })
    }
}

/// `fstat(fd, stat) -> 0`.
///
/// # Safety
/// `stat` must be valid for a write of one [`Stat`].
pub unsafe fn fstat(fd: i32, stat: *mut Stat) -> Result<u64, Errno> {
    check_range(stat as u64, core::mem::size_of::<Stat>(), Access::Write)?;
    let reply = vfs_done(&VfsRequest::Fstat { fd: fd_word(fd) })?;
    let value = vfs::stat_from_wire(&reply.wire()).map_err(|_| Errno::EIO)?;
    // SAFETY: the caller guarantees `stat` is writable.
    unsafe { stat.write_unaligned(value) };
    Ok(0)
}

/// `getdents(fd, buf, len) -> bytes` of directory records (0 at the end).
///
/// # Safety
/// `buf` must be valid for `len` bytes of writes.
pub unsafe fn getdents(fd: i32, buf: *mut u8, len: usize) -> Result<u64, Errno> {
    let len = len.min(CHUNK);
    let reply = vfs_done(&VfsRequest::Getdents {
        fd: fd_word(fd),
        len: len as u64,
    })?;
    let got = reply.byte_count.min(len);
    check_range(buf as u64, got, Access::Write)?;
    // SAFETY: `buf` is writable for `len >= got` bytes (contract).
    unsafe { core::ptr::copy_nonoverlapping(receive_buffer().as_ptr(), buf, got) };
    Ok(got as u64)
}
