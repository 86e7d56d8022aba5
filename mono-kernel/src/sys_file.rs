//! File system calls: open, read, write, close, dup, pipe, fstat, getdents,
//! and the namespace calls (mkdir, mknod, link, unlink, rename, chdir).
//!
//! Each one copies its arguments in from user memory, takes the
//! file-system lock for the shared ext2 code if it needs it, and turns the
//! shared code's answers into return values — or, for pipes and the
//! console, into sleeping until the shared code says the caller may proceed.
//!
//! The rules of the path calls (`open`, `chdir`, `mkdir`, `mknod`,
//! `unlink`, `link`, `rename`) are not written here: they are
//! `common::file`'s, shared with the micro-kernel's vfs server. This file
//! supplies what only a kernel can: the arguments copied in from user
//! memory, the process's working directory and descriptor table, and the
//! file system (`Ext2` itself implements `common::file::FileSystem`),
//! called under `fsys::lock()`.

use crate::console;
use crate::file::{self, File, FileKind};
use crate::fsys;
use crate::sched;
use crate::vm::{self, FaultRetry};
use alloc::rc::Rc;
use alloc::vec;
use alloc::vec::Vec;
use common::abi::errno::Errno;
use common::abi::fs::Stat;
use common::abi::syscall::MAX_PATH;
use common::file::OpenFlags;
use common::fs::FsError;
// LAB pipe BEGIN
use common::pipe::Blocked;
// LAB pipe STUB
// LAB pipe END
use common::pipe::{Mode, Pipe, PipeRead, PipeWrite};
use core::cell::RefCell;

/// Bytes moved per step of a file read or write (the bounce buffer).
const CHUNK: usize = 4096;

/// Copies a path argument in from user memory: `EFAULT` for a bad
/// pointer, `ENAMETOOLONG` if there is no NUL within `MAX_PATH + 1` bytes.
/// (The rest of the path rules, `common::file::check_path`, are applied by
/// the call's common function.)
fn user_path(addr: u64) -> Result<Vec<u8>, Errno> {
    let mut buf = [0u8; MAX_PATH + 1];
    let len = vm::copy_str_in(&sched::current(), addr, &mut buf)?;
    Ok(buf[..len].to_vec())
}

/// `copyout` into the current process (`vm::copy_out`: copy-on-write and
/// mmap pages are made first).
fn copy_out(addr: u64, bytes: &[u8]) -> Result<(), Errno> {
    vm::copy_out(&sched::current(), addr, bytes)
}

/// `copyin` from the current process.
fn copy_in(addr: u64, bytes: &mut [u8]) -> Result<(), Errno> {
    vm::copy_in(&sched::current(), addr, bytes)
}

/// The open file behind descriptor `fd` of the current process (`EBADF`).
pub fn file_of(fd: u64) -> Result<Rc<File>, Errno> {
    sched::current()
        .files
        .borrow()
        .get(fd)
        .cloned()
        .ok_or(Errno::EBADF)
}

/// Installs `file` at the lowest free descriptor. `EMFILE` if none is
/// free: then `file` is dropped, which closes it (after the table's borrow
/// has ended, as closing may take the fs lock or wake processes).
fn install(file: File) -> Result<u64, Errno> {
    let installed = sched::current().files.borrow_mut().insert(Rc::new(file));
    installed.map_err(|_file| Errno::EMFILE)
}

fn fs_error(error: FsError) -> Errno {
    error.errno()
}

/// `sync()`: commits the journal's running transaction (or, on an ext2
/// image, writes every dirty block back).
pub fn sync() -> Result<u64, Errno> {
    fsys::lock().fs().sync().map_err(fs_error)?;
    Ok(0)
}

/// `fsync(fd)`: the file's changes are on the disk when it returns. `EINVAL`
/// for a pipe or the console, as on Linux.
pub fn fsync(fd: u64) -> Result<u64, Errno> {
    let file = file_of(fd)?;
    let FileKind::Inode(ino) = file.kind else {
        return Err(Errno::EINVAL);
    };
    fsys::lock().fs().fsync(ino).map_err(fs_error)?;
    Ok(0)
}

/// `read(fd, buf, len)`.
pub fn read(fd: u64, buf: u64, len: u64) -> Result<u64, Errno> {
    let file = file_of(fd)?;
    if !file.readable {
        return Err(Errno::EBADF);
    }
    match &file.kind {
        FileKind::Console(_) => {
            let mut line = vec![0u8; (len as usize).min(CHUNK)];
            let n = console::read(&mut line)?;
            copy_out(buf, &line[..n])?;
            Ok(n as u64)
        }
        FileKind::Pipe { pipe, .. } => pipe_read(pipe, file.mode, buf, len),
        // The null device: always at end of file.
        FileKind::Null(_) => Ok(0),
        FileKind::Inode(ino) => {
            let mut done = 0u64;
            let mut chunk = vec![0u8; CHUNK.min(len as usize)];
            while done < len {
                let want = ((len - done) as usize).min(CHUNK);
                let offset = file.offset.get();
                let got = fsys::lock()
                    .fs()
                    .read(*ino, offset, &mut chunk[..want])
                    .map_err(fs_error)?;
                if got == 0 {
                    break;
                }
                copy_out(buf + done, &chunk[..got])?;
                file.offset.set(offset + got as u64);
                done += got as u64;
                if got < want {
                    break;
                }
            }
            Ok(done)
        }
    }
}

/// `write(fd, buf, len)`.
pub fn write(fd: u64, buf: u64, len: u64) -> Result<u64, Errno> {
    let file = file_of(fd)?;
    if !file.writable {
        return Err(Errno::EBADF);
    }
    match &file.kind {
        FileKind::Console(_) => {
            let mut chunk = vec![0u8; CHUNK.min(len as usize)];
            let mut done = 0u64;
            while done < len {
                let n = ((len - done) as usize).min(CHUNK);
                copy_in(buf + done, &mut chunk[..n])?;
                console::write(&chunk[..n]);
                done += n as u64;
            }
            Ok(done)
        }
        FileKind::Pipe { pipe, .. } => pipe_write(pipe, file.mode, buf, len),
        // The null device: every byte accepted, none kept (or even read).
        FileKind::Null(_) => Ok(len),
        FileKind::Inode(ino) => {
            let mut chunk = vec![0u8; CHUNK.min(len as usize)];
            let mut done = 0u64;
            while done < len {
                let n = ((len - done) as usize).min(CHUNK);
                copy_in(buf + done, &mut chunk[..n])?;
                let mut guard = fsys::lock();
                let fs = guard.fs();
                let offset = if file.append {
                    fs.stat(*ino).map_err(fs_error)?.size
                } else {
                    file.offset.get()
                };
                let wrote = fs
                    .write(*ino, offset, &chunk[..n])
                    .map_err(|e| if done > 0 { Errno::EAGAIN } else { fs_error(e) });
                let wrote = match wrote {
                    Ok(wrote) => wrote,
                    // A partial write still counts (disk full after some blocks).
                    Err(_) if done > 0 => break,
                    Err(error) => return Err(error),
                };
                file.offset.set(offset + wrote as u64);
                done += wrote as u64;
                if wrote < n {
                    break;
                }
            }
            Ok(done)
        }
    }
}

/// Reads from a pipe, sleeping while it is empty and has writers (unless
/// the end is non-blocking: then `EAGAIN`, `Mode::when_blocked`).
fn pipe_read(pipe: &Rc<RefCell<Pipe>>, mode: Mode, buf: u64, len: u64) -> Result<u64, Errno> {
    let proc = sched::current();
    let mut retry = FaultRetry::default();
    loop {
        let copied = {
            let vm = proc.vm.borrow();
            let vm = vm.as_ref().ok_or(Errno::EFAULT)?;
            pipe.borrow_mut().read_with(len as usize, |offset, chunk| {
                vm.try_copy_out(buf + offset as u64, chunk)
            })
        };
        // A page that must be made first (copy-on-write, mmap): the pipe is
        // unchanged (check, then commit), so make it and read again.
        let outcome = match copied {
            Ok(outcome) => outcome,
            Err(fault) => {
                retry.resolve(&proc, fault, true)?;
                continue;
            }
        };
        file::deliver(pipe, outcome.wakeup());
        match outcome {
            PipeRead::Read(n) => return Ok(n as u64),
            PipeRead::EndOfFile => return Ok(0),
            PipeRead::WouldBlock => {
                // LAB pipe BEGIN
                if let Blocked::Return(result) = mode.when_blocked(0) {
                    return result.map(|n| n as u64);
                }
                // LAB pipe STUB
                //~ let _ = mode;
                // LAB pipe END
                if proc.killed.get() {
                    return Err(Errno::EINTR);
                }
                sched::sleep(file::pipe_readers(pipe));
            }
        }
    }
}

/// Writes all of `len` bytes to a pipe, sleeping while it is full.
/// Returns fewer only if the readers go away midway (then `EPIPE` if
/// nothing was written), or if the end is non-blocking and the pipe is
/// full (then `EAGAIN` if nothing was written, `Mode::when_blocked`).
fn pipe_write(pipe: &Rc<RefCell<Pipe>>, mode: Mode, buf: u64, len: u64) -> Result<u64, Errno> {
    let proc = sched::current();
    let mut done = 0u64;
    let mut retry = FaultRetry::default();
    while done < len {
        let copied = {
            let vm = proc.vm.borrow();
            let vm = vm.as_ref().ok_or(Errno::EFAULT)?;
            let start = buf + done;
            pipe.borrow_mut()
                .write_with((len - done) as usize, |offset, chunk| {
                    vm.try_copy_in(start + offset as u64, chunk)
                })
        };
        let outcome = match copied {
            Ok(outcome) => outcome,
            // Nothing of this piece was written: make the page, try again.
            Err(fault) => {
                retry.resolve(&proc, fault, false)?;
                continue;
            }
        };
        file::deliver(pipe, outcome.wakeup());
        match outcome {
            PipeWrite::Wrote(n) => done += n as u64,
            PipeWrite::BrokenPipe => {
                return if done > 0 {
                    Ok(done)
                } else {
                    Err(Errno::EPIPE)
                };
            }
            PipeWrite::WouldBlock => {
                // LAB pipe BEGIN
                if let Blocked::Return(result) = mode.when_blocked(done as usize) {
                    return result.map(|n| n as u64);
                }
                // LAB pipe STUB
                //~ let _ = mode;
                // LAB pipe END
                if proc.killed.get() {
                    return if done > 0 {
                        Ok(done)
                    } else {
                        Err(Errno::EINTR)
                    };
                }
                sched::sleep(file::pipe_writers(pipe));
            }
        }
    }
    Ok(done)
}

/// `close(fd)`.
pub fn close(fd: u64) -> Result<u64, Errno> {
    let file = sched::current()
        .files
        .borrow_mut()
        .remove(fd)
        .ok_or(Errno::EBADF)?;
    drop(file); // may close a pipe end or release an inode
    Ok(0)
}

/// `dup(fd)`: a second descriptor for the same open file.
pub fn dup(fd: u64) -> Result<u64, Errno> {
    let file = file_of(fd)?;
    let installed = sched::current().files.borrow_mut().insert(file);
    installed.map_err(|_file| Errno::EMFILE)
}

/// `pipe(fds)`: stores the read and write descriptors at `fds`.
pub fn pipe(fds_addr: u64) -> Result<u64, Errno> {
    make_pipe(fds_addr, Mode::Blocking)
}

// LAB pipe BEGIN
/// `pipe2(fds, flags)`: `pipe` whose ends have the mode `flags` ask for
/// (`EINVAL` for an unknown flag, before anything is made).
pub fn pipe2(fds_addr: u64, flags: u64) -> Result<u64, Errno> {
    make_pipe(fds_addr, Mode::from_pipe2_flags(flags)?)
}
// LAB pipe STUB
// LAB pipe END

/// A new pipe, its two ends of mode `mode` installed and their descriptors
/// stored at `fds_addr`; on an error nothing is left behind.
fn make_pipe(fds_addr: u64, mode: Mode) -> Result<u64, Errno> {
    let pipe = Rc::new(RefCell::new(Pipe::new()));
    let end = |pipe, write_end| {
        let mut file = File::new(FileKind::Pipe { pipe, write_end }, !write_end, write_end);
        file.mode = mode;
        file
    };
    let reader = install(end(pipe.clone(), false))?;
    let writer = match install(end(pipe, true)) {
        Ok(fd) => fd,
        Err(error) => {
            let _ = close(reader);
            return Err(error);
        }
    };
    let mut fds = [0u8; 8];
    fds[..4].copy_from_slice(&(reader as i32).to_le_bytes());
    fds[4..].copy_from_slice(&(writer as i32).to_le_bytes());
    if let Err(error) = copy_out(fds_addr, &fds) {
        let _ = close(reader);
        let _ = close(writer);
        return Err(error);
    }
    Ok(0)
}

/// `open(path, flags)`: the flags are checked before the path is read
/// (`EINVAL` wins over `EFAULT`); the rules are `common::file::open`.
pub fn open(path_addr: u64, flags: u64) -> Result<u64, Errno> {
    // The path first, then the flags: the microkernel's kernel copies the
    // path before vfs ever sees the flags, and both kernels must give a bad
    // path with bad flags the same answer (EFAULT).
    let path = user_path(path_addr)?;
    let flags = OpenFlags::parse(flags)?;
    let proc = sched::current();
    let opened = {
        let mut guard = fsys::lock();
        // The table is only read, to see that a descriptor is free; nothing
        // else touches this process's table while it waits for the disk.
        let descriptors = proc.files.borrow();
        common::file::open(guard.fs(), &descriptors, proc.cwd.get(), &path, flags)?
    };
    let mut file = File::new(opened.kind(), opened.readable, opened.writable);
    file.append = opened.append;
    install(file)
}

/// `fstat(fd, stat_ptr)`.
pub fn fstat(fd: u64, stat_addr: u64) -> Result<u64, Errno> {
    let file = file_of(fd)?;
    let stat = match &file.kind {
        FileKind::Inode(ino) | FileKind::Console(ino) | FileKind::Null(ino) => {
            fsys::lock().fs().stat(*ino).map_err(fs_error)?.to_stat(0)
        }
        FileKind::Pipe { pipe, .. } => common::file::pipe_stat(pipe.borrow().len()),
    };
    // SAFETY: Stat is `repr(C)` plain data with no padding-dependent
    // meaning; viewing it as bytes to copy it out is sound.
    let bytes = unsafe {
        core::slice::from_raw_parts(
            &stat as *const Stat as *const u8,
            core::mem::size_of::<Stat>(),
        )
    };
    copy_out(stat_addr, bytes)?;
    Ok(0)
}

/// `getdents(fd, buf, len)`: fills `buf` with directory records; returns
/// the bytes used, 0 at the end of the directory.
pub fn getdents(fd: u64, buf: u64, len: u64) -> Result<u64, Errno> {
    let file = file_of(fd)?;
    let FileKind::Inode(ino) = file.kind else {
        return Err(Errno::ENOTDIR);
    };
    let len = (len as usize).min(CHUNK);
    let mut out = Vec::with_capacity(len);
    let mut guard = fsys::lock();
    let fs = guard.fs();
    let next = fs.read_dir_records(ino, file.offset.get(), len, &mut out)?;
    file.offset.set(next);
    drop(guard);
    copy_out(buf, &out)?;
    Ok(out.len() as u64)
}

/// `chdir(path)`: the new working directory is held (`Ext2::open_inode`)
/// and the old one released, so a directory that is some process's working
/// directory is never freed (nor its number reused) under it, even if
/// another process removes it.
pub fn chdir(path_addr: u64) -> Result<u64, Errno> {
    let path = user_path(path_addr)?;
    let proc = sched::current();
    let mut guard = fsys::lock();
    let fs = guard.fs();
    let cwd = common::file::chdir(fs, proc.cwd.get(), &path)?;
    fs.open_inode(cwd).map_err(fs_error)?;
    let old = proc.cwd.replace(cwd);
    if let Err(error) = fs.release_inode(old) {
        common::kprintln!("chdir: releasing inode {old}: {error}");
    }
    Ok(0)
}

/// `mkdir(path)`.
pub fn mkdir(path_addr: u64) -> Result<u64, Errno> {
    let path = user_path(path_addr)?;
    let cwd = sched::current().cwd.get();
    common::file::mkdir(fsys::lock().fs(), cwd, &path)?;
    Ok(0)
}

/// `mknod(path, major, minor)`: creates a character device. The numbers
/// are checked before the path is read.
pub fn mknod(path_addr: u64, major: u64, minor: u64) -> Result<u64, Errno> {
    let (major, minor) = common::file::device_numbers(major, minor)?;
    let path = user_path(path_addr)?;
    let cwd = sched::current().cwd.get();
    common::file::mknod(fsys::lock().fs(), cwd, &path, major, minor)?;
    Ok(0)
}

/// `unlink(path)`: removes a name; an empty directory is removed too.
pub fn unlink(path_addr: u64) -> Result<u64, Errno> {
    let path = user_path(path_addr)?;
    let cwd = sched::current().cwd.get();
    common::file::unlink(fsys::lock().fs(), cwd, &path)?;
    Ok(0)
}

/// `link(old, new)`.
pub fn link(old_addr: u64, new_addr: u64) -> Result<u64, Errno> {
    let old = user_path(old_addr)?;
    let new = user_path(new_addr)?;
    let cwd = sched::current().cwd.get();
    common::file::link(fsys::lock().fs(), cwd, &old, &new)?;
    Ok(0)
}

/// `rename(old, new)`.
pub fn rename(old_addr: u64, new_addr: u64) -> Result<u64, Errno> {
    let old = user_path(old_addr)?;
    let new = user_path(new_addr)?;
    let cwd = sched::current().cwd.get();
    common::file::rename(fsys::lock().fs(), cwd, &old, &new)?;
    Ok(0)
}

// LAB fs BEGIN
/// `symlink(target, path)`: the rules are `common::file::symlink`.
pub fn symlink(target_addr: u64, path_addr: u64) -> Result<u64, Errno> {
    let target = user_path(target_addr)?;
    let path = user_path(path_addr)?;
    let cwd = sched::current().cwd.get();
    common::file::symlink(fsys::lock().fs(), cwd, &target, &path)?;
    Ok(0)
}

/// `readlink(path, buf, len)`: copies out the target of the symbolic link
/// `path` (its contents), at most `len` bytes; returns how many.
pub fn readlink(path_addr: u64, buf: u64, len: u64) -> Result<u64, Errno> {
    let path = user_path(path_addr)?;
    let cwd = sched::current().cwd.get();
    let mut target = vec![0u8; (len as usize).min(CHUNK)];
    let n = {
        let mut guard = fsys::lock();
        let fs = guard.fs();
        let link = common::file::readlink(fs, cwd, &path)?;
        fs.read(link, 0, &mut target).map_err(fs_error)?
    };
    copy_out(buf, &target[..n])?;
    Ok(n as u64)
}
// LAB fs STUB
// LAB fs END
