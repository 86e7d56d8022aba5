//! Safe wrappers for the file system calls, and directory listing.
//!
//! A file descriptor is a small integer naming an open file, pipe or device
//! in the calling process; [`Fd`] wraps it so it cannot be confused with
//! other numbers. Descriptors are closed explicitly with [`close`] (they are
//! plain `Copy` values, like in C and xv6) — except the one inside a
//! [`ReadDir`], which the iterator owns and closes when it is dropped.

use crate::Errno;
use crate::cpath::CPath;
use crate::dirent::{DirentRecords, file_type_from_number};
use crate::sys;
use alloc::string::String;
use alloc::vec::Vec;
use common::abi::fs::open_flags::O_RDONLY;
use common::abi::fs::{FileType, Stat};

/// An open file descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Fd(pub i32);

impl Fd {
    /// Standard input: where programs read commands and data.
    pub const STDIN: Fd = Fd(0);
    /// Standard output: where `print!` writes.
    pub const STDOUT: Fd = Fd(1);
    /// Standard error: where `eprint!` writes messages.
    pub const STDERR: Fd = Fd(2);
}

/// Opens (or with `O_CREATE`, creates) the file at `path`.
pub fn open(path: &str, flags: u32) -> Result<Fd, Errno> {
    let path = CPath::new(path)?;
    // SAFETY: `path` is NUL-terminated and lives across the call.
    unsafe { sys::open(path.as_ptr(), flags) }.map(|fd| Fd(fd as i32))
}

/// Closes a file descriptor.
pub fn close(fd: Fd) -> Result<(), Errno> {
    sys::close(fd.0).map(|_| ())
}

/// Reads up to `buf.len()` bytes; returns how many (0 at end of file).
///
/// The count is never more than `buf.len()`, even if the operating system
/// misbehaved, so callers can slice `buf[..n]` without checking.
pub fn read(fd: Fd, buf: &mut [u8]) -> Result<usize, Errno> {
    // SAFETY: `buf` is valid for `buf.len()` bytes of writes.
    unsafe { sys::read(fd.0, buf.as_mut_ptr(), buf.len()) }.map(|n| clamp(n, buf.len()))
}

/// A count from the kernel, limited to the buffer it describes.
fn clamp(count: u64, len: usize) -> usize {
    usize::try_from(count).map_or(len, |n| n.min(len))
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
pub fn read_full(fd: Fd, buf: &mut [u8]) -> Result<usize, Errno> {
    let mut done = 0;
    while done < buf.len() {
        let n = read(fd, &mut buf[done..])?;
        if n == 0 {
            break;
        }
        done += n;
    }
    Ok(done)
}

/// Writes up to `buf.len()` bytes; returns how many were written (never
/// more than `buf.len()`).
pub fn write(fd: Fd, buf: &[u8]) -> Result<usize, Errno> {
    // SAFETY: `buf` is valid for `buf.len()` bytes of reads.
    unsafe { sys::write(fd.0, buf.as_ptr(), buf.len()) }.map(|n| clamp(n, buf.len()))
}

/// Writes all of `buf`, calling `write` as often as needed. A `write` that
/// makes no progress is reported as `EIO`.
pub fn write_all(fd: Fd, mut buf: &[u8]) -> Result<(), Errno> {
    while !buf.is_empty() {
        let n = write(fd, buf)?;
        if n == 0 {
            return Err(Errno::EIO);
        }
        buf = &buf[n..];
    }
    Ok(())
}

/// Creates a pipe; returns `(read end, write end)`.
pub fn pipe() -> Result<(Fd, Fd), Errno> {
    let mut fds = [-1i32; 2];
    // SAFETY: `fds` is a live, writable [i32; 2].
    unsafe { sys::pipe(&mut fds) }?;
    Ok((Fd(fds[0]), Fd(fds[1])))
}

/// Creates a pipe whose ends have `flags` (lab `pipe`): with
/// [`O_NONBLOCK`](crate::O_NONBLOCK), a read of the empty pipe or a write
/// to the full pipe fails with `EAGAIN` instead of waiting. Returns `(read
/// end, write end)`.
pub fn pipe2(flags: u32) -> Result<(Fd, Fd), Errno> {
    let mut fds = [-1i32; 2];
    // SAFETY: `fds` is a live, writable [i32; 2].
    unsafe { sys::pipe2(&mut fds, flags) }?;
    Ok((Fd(fds[0]), Fd(fds[1])))
}

/// Makes every change so far durable: when it returns, a power cut loses
/// nothing (the file system's journal has committed).
pub fn sync() -> Result<(), Errno> {
    sys::sync().map(|_| ())
}

/// Makes the changes to `fd`'s file durable (with an ext3 journal: every
/// change so far, as the transaction is shared).
pub fn fsync(fd: Fd) -> Result<(), Errno> {
    sys::fsync(fd.0).map(|_| ())
}

/// Duplicates `fd` into the lowest free descriptor, which it returns.
pub fn dup(fd: Fd) -> Result<Fd, Errno> {
    sys::dup(fd.0).map(|new| Fd(new as i32))
}

/// Information about an open file.
pub fn fstat(fd: Fd) -> Result<Stat, Errno> {
    let mut st = Stat::default();
    // SAFETY: `st` is a live, writable Stat.
    unsafe { sys::fstat(fd.0, &mut st) }?;
    Ok(st)
}

/// Information about the file at `path` (opens it, `fstat`s, closes it).
pub fn stat(path: &str) -> Result<Stat, Errno> {
    let fd = open(path, O_RDONLY)?;
    let result = fstat(fd);
    let _ = close(fd);
    result
}

/// Creates a device file with the given major and minor numbers.
pub fn mknod(path: &str, major: u32, minor: u32) -> Result<(), Errno> {
    let path = CPath::new(path)?;
    // SAFETY: `path` is NUL-terminated and lives across the call.
    unsafe { sys::mknod(path.as_ptr(), major, minor) }.map(|_| ())
}

/// Removes a name (a file, or an empty directory).
pub fn unlink(path: &str) -> Result<(), Errno> {
    let path = CPath::new(path)?;
    // SAFETY: `path` is NUL-terminated and lives across the call.
    unsafe { sys::unlink(path.as_ptr()) }.map(|_| ())
}

/// Creates a second name `new` for the file `old`.
pub fn link(old: &str, new: &str) -> Result<(), Errno> {
    let (old, new) = (CPath::new(old)?, CPath::new(new)?);
    // SAFETY: both paths are NUL-terminated and live across the call.
    unsafe { sys::link(old.as_ptr(), new.as_ptr()) }.map(|_| ())
}

/// Creates a symbolic link `path` whose contents are `target` (lab `fs`).
/// The target is not looked up: it may name nothing (yet).
pub fn symlink(target: &str, path: &str) -> Result<(), Errno> {
    let (target, path) = (CPath::new(target)?, CPath::new(path)?);
    // SAFETY: both paths are NUL-terminated and live across the call.
    unsafe { sys::symlink(target.as_ptr(), path.as_ptr()) }.map(|_| ())
}

/// Reads the target of the symbolic link `path` (not followed) into
/// `buf`; returns its length, cut at `buf.len()` (lab `fs`). `EINVAL` if
/// `path` is not a symbolic link.
pub fn readlink(path: &str, buf: &mut [u8]) -> Result<usize, Errno> {
    let path = CPath::new(path)?;
    // SAFETY: `path` is NUL-terminated; `buf` is a live, writable slice.
    unsafe { sys::readlink(path.as_ptr(), buf.as_mut_ptr(), buf.len()) }.map(|n| n as usize)
}

/// Creates a directory.
pub fn mkdir(path: &str) -> Result<(), Errno> {
    let path = CPath::new(path)?;
    // SAFETY: `path` is NUL-terminated and lives across the call.
    unsafe { sys::mkdir(path.as_ptr()) }.map(|_| ())
}

/// Changes the current directory.
pub fn chdir(path: &str) -> Result<(), Errno> {
    let path = CPath::new(path)?;
    // SAFETY: `path` is NUL-terminated and lives across the call.
    unsafe { sys::chdir(path.as_ptr()) }.map(|_| ())
}

/// Renames `old` to `new` (replacing `new` if it is a file).
pub fn rename(old: &str, new: &str) -> Result<(), Errno> {
    let (old, new) = (CPath::new(old)?, CPath::new(new)?);
    // SAFETY: both paths are NUL-terminated and live across the call.
    unsafe { sys::rename(old.as_ptr(), new.as_ptr()) }.map(|_| ())
}

/// Reads directory records from `fd` into `buf`; returns the number of
/// bytes filled (0 when the directory has no more entries). Decode them with
/// [`DirentRecords`]; most programs use [`read_dir`] instead.
pub fn getdents(fd: Fd, buf: &mut [u8]) -> Result<usize, Errno> {
    // SAFETY: `buf` is valid for `buf.len()` bytes of writes.
    unsafe { sys::getdents(fd.0, buf.as_mut_ptr(), buf.len()) }.map(|n| clamp(n, buf.len()))
}

/// One entry of a directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    /// Inode number.
    pub ino: u32,
    /// The type, if the kernel reported one.
    pub kind: Option<FileType>,
    /// The name (non-UTF-8 bytes replaced by U+FFFD).
    pub name: String,
}

/// An iterator over the entries of a directory (see [`read_dir`]).
pub struct ReadDir {
    /// The open directory; closed when the iterator is dropped.
    fd: Fd,
    /// Records from the last `getdents`, decoded and waiting to be handed out.
    pending: Vec<DirEntry>,
    /// Set when `getdents` has returned 0 or an error.
    finished: bool,
}

/// Opens the directory at `path` for listing.
pub fn read_dir(path: &str) -> Result<ReadDir, Errno> {
    let fd = open(path, O_RDONLY)?;
    match fstat(fd) {
        Ok(st) if file_type_from_number(st.kind) == Some(FileType::Dir) => {}
        Ok(_) => {
            let _ = close(fd);
            return Err(Errno::ENOTDIR);
        }
        Err(e) => {
            let _ = close(fd);
            return Err(e);
        }
    }
    Ok(ReadDir {
        fd,
        pending: Vec::new(),
        finished: false,
    })
}

impl ReadDir {
    /// Refills `pending` with one `getdents` worth of entries.
    fn refill(&mut self) -> Result<(), Errno> {
        let mut buf = [0u8; 1024];
        let n = getdents(self.fd, &mut buf)?;
        if n == 0 {
            self.finished = true;
            return Ok(());
        }
        let mut batch = Vec::new();
        for record in DirentRecords::new(&buf[..n]) {
            let record = record?;
            batch.push(DirEntry {
                ino: record.ino,
                kind: record.file_type(),
                name: String::from_utf8_lossy(record.name).into_owned(),
            });
        }
        // Hand entries out in directory order: pop() takes from the end.
        batch.reverse();
        self.pending = batch;
        Ok(())
    }
}

impl Iterator for ReadDir {
    type Item = Result<DirEntry, Errno>;

    fn next(&mut self) -> Option<Self::Item> {
        while self.pending.is_empty() && !self.finished {
            if let Err(e) = self.refill() {
                self.finished = true;
                return Some(Err(e));
            }
        }
        self.pending.pop().map(Ok)
    }
}

impl Drop for ReadDir {
    fn drop(&mut self) {
        let _ = close(self.fd);
    }
}

/// Removes `name` (in the current directory) and, if it is a directory,
/// everything in it, like `rm -r`. Works from inside each directory, so
/// paths stay short however deep the tree is. Errors are ignored: this is
/// for cleaning up (the usertests' and the fuzzer's scratch trees).
pub fn remove_tree(name: &str) {
    let is_dir = stat(name).is_ok_and(|st| st.kind == FileType::Dir as u32);
    if is_dir && chdir(name).is_ok() {
        let mut children = Vec::new();
        if let Ok(entries) = read_dir(".") {
            for entry in entries.flatten() {
                if entry.name != "." && entry.name != ".." {
                    children.push(entry.name);
                }
            }
        }
        for child in &children {
            remove_tree(child);
        }
        let _ = chdir("..");
    }
    let _ = unlink(name);
}
