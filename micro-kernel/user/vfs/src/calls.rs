//! The file calls of user programs, one function each: the monolithic
//! kernel's `sys_file.rs` step by step, with its file-system work done by
//! IPC to the fs server (`Vfs::fs`) and its waiting done by parking
//! (`pipes.rs`).
//!
//! The rules of the path calls (`open`, `chdir`, `mkdir`, `mknod`,
//! `unlink`, `link`, `rename`) are `common::file`'s, the very functions
//! the mono-kernel calls. What this file supplies is the environment: the
//! caller's working directory and descriptor table from `tables.rs`, and
//! the file system as [`FsServer`], which implements
//! `common::file::FileSystem` with requests to the fs server.

use crate::{Outcome, Vfs, Words, inode_info};
use common::abi::errno::Errno;
use common::abi::fs::Stat;
use common::abi::proto::fs::{FsRequest, InodeInfo};
use common::abi::proto::vfs::{VfsRequest, pipe_fds_to_bytes};
use common::file::{FileSystem, Found, OpenFlags};
use common::fs::Ino;
use common::pipe::Mode;
use l4::ThreadId;
use vfs::tables::{FileKind, OpenFile, Pid};

impl Vfs {
    /// The file calls of user programs.
    pub(crate) fn user_request(
        &mut self,
        from: ThreadId,
        pid: Pid,
        request: VfsRequest<'_>,
    ) -> Outcome {
        use VfsRequest::*;
        match request {
            Read { fd, len } => self.read(from, pid, fd, len as usize),
            Write { fd, data } => self.write(from, pid, fd, data),
            Open { flags, path } => self
                .open(pid, flags, path)
                .map(|fd| Words::of(&[fd]))
                .into(),
            Close { fd } => match self.tables.close(pid, fd) {
                Ok(last) => {
                    if let Some(file) = last {
                        self.close_file(file);
                    }
                    Outcome::Done(Words::default(), None)
                }
                Err(errno) => Outcome::Failed(errno),
            },
            Dup { fd } => self.tables.dup(pid, fd).map(|fd| Words::of(&[fd])).into(),
            Pipe => self.pipe(pid, Mode::Blocking),
            // LAB pipe BEGIN
            Pipe2 { flags } => match Mode::from_pipe2_flags(flags.into()) {
                Ok(mode) => self.pipe(pid, mode),
                Err(errno) => Outcome::Failed(errno),
            },
            // LAB pipe STUB
            // LAB pipe END
            Fstat { fd } => match self.fstat(pid, fd) {
                Ok(stat) => Outcome::Done(Words::default(), Some(stat.to_bytes().to_vec())),
                Err(errno) => Outcome::Failed(errno),
            },
            Getdents { fd, len } => self.getdents(pid, fd, len),
            Chdir { path } => self.chdir(pid, path).map(|()| Words::default()).into(),
            Mkdir { path } => self.mkdir(pid, path).map(|()| Words::default()).into(),
            Mknod { major, minor, path } => self
                .mknod(pid, major, minor, path)
                .map(|()| Words::default())
                .into(),
            Unlink { path } => self.unlink(pid, path).map(|()| Words::default()).into(),
            Link { old, new } => self.link(pid, old, new).map(|()| Words::default()).into(),
            Rename { old, new } => self.rename(pid, old, new).map(|()| Words::default()).into(),
            Sync => self.fs(FsRequest::Sync).map(|_| Words::default()).into(),
            Fsync { fd } => self.fsync(pid, fd).map(|()| Words::default()).into(),
            // LAB fs BEGIN
            Symlink { target, path } => self
                .symlink(pid, target, path)
                .map(|()| Words::default())
                .into(),
            Readlink { len, path } => match self.readlink(pid, len, path) {
                Ok(target) => Outcome::Done(Words::default(), Some(target)),
                Err(errno) => Outcome::Failed(errno),
            },
            // LAB fs STUB
            // LAB fs END
            _ => Outcome::Failed(Errno::EPERM),
        }
    }

    fn read(&mut self, from: ThreadId, pid: Pid, fd: u64, len: usize) -> Outcome {
        let (id, file) = match self.tables.file(pid, fd) {
            Ok(found) => found,
            Err(errno) => return Outcome::Failed(errno),
        };
        if !file.readable {
            return Outcome::Failed(Errno::EBADF);
        }
        match file.kind {
            FileKind::Console(_) => Outcome::Redirect(self.console.0),
            // The null device: always at end of file (no bytes; word 0 is
            // 0, so the client does not read on).
            FileKind::Null(_) => Outcome::Done(Words::default(), None),
            FileKind::Pipe { pipe, .. } => {
                let now = self
                    .pipes
                    .read(from.0, pid, pipe, len, file.mode, &mut self.owed);
                now.map_or(Outcome::Parked, Outcome::from)
            }
            FileKind::Inode(ino) => {
                let offset = file.offset;
                let request = FsRequest::Read {
                    ino,
                    offset,
                    len: len as u64,
                };
                match self.fs_bytes(request, len as u64) {
                    Ok((_, bytes)) => {
                        if let Some(file) = self.tables.file_mut(id) {
                            file.offset = offset + bytes.len() as u64;
                        }
                        // Word 0 = 1: a file, where a full reply invites the
                        // client to read on (a pipe read returns once).
                        Outcome::Done(Words::of(&[1]), Some(bytes))
                    }
                    Err(errno) => Outcome::Failed(errno),
                }
            }
        }
    }

    fn write(&mut self, from: ThreadId, pid: Pid, fd: u64, data: &[u8]) -> Outcome {
        let (id, file) = match self.tables.file(pid, fd) {
            Ok(found) => found,
            Err(errno) => return Outcome::Failed(errno),
        };
        if !file.writable {
            return Outcome::Failed(Errno::EBADF);
        }
        match file.kind {
            FileKind::Console(_) => Outcome::Redirect(self.console.0),
            // The null device: every byte accepted, none kept.
            FileKind::Null(_) => Outcome::Done(Words::of(&[data.len() as u64]), None),
            FileKind::Pipe { pipe, .. } => {
                let now = self
                    .pipes
                    .write(from.0, pid, pipe, data, file.mode, &mut self.owed);
                now.map_or(Outcome::Parked, Outcome::from)
            }
            FileKind::Inode(ino) => {
                let request = FsRequest::Write {
                    ino,
                    offset: file.offset,
                    append: file.append,
                    data,
                };
                let result = self
                    .fs(request)
                    .and_then(|reply| Ok((reply.word(0)?, reply.word(1)?)));
                match result {
                    Ok((written, offset)) => {
                        if let Some(file) = self.tables.file_mut(id) {
                            file.offset = offset + written;
                        }
                        Outcome::Done(Words::of(&[written]), None)
                    }
                    Err(errno) => Outcome::Failed(errno),
                }
            }
        }
    }

    /// `fsync(fd)`: the fs server commits its journal. `EINVAL` for a pipe
    /// or the console, as on the monolithic kernel.
    fn fsync(&mut self, pid: Pid, fd: u64) -> Result<(), Errno> {
        let (_, file) = self.tables.file(pid, fd)?;
        match file.kind {
            FileKind::Inode(ino) => self.fs(FsRequest::Fsync { ino }).map(|_| ()),
            _ => Err(Errno::EINVAL),
        }
    }

    /// `open(path, flags)`: the rules are `common::file::open`, as in the
    /// mono-kernel's `sys_file::open`; this installs what it opened.
    fn open(&mut self, pid: Pid, flags: u32, path: &[u8]) -> Result<u64, Errno> {
        let flags = OpenFlags::parse(flags.into())?;
        let cwd = self.tables.cwd(pid)?;
        let descriptors = self.tables.descriptors(pid)?;
        let opened = common::file::open(&mut FsServer(self), descriptors, cwd, path, flags)?;
        let mut open_file = OpenFile::new(opened.kind(), opened.readable, opened.writable);
        open_file.append = opened.append;
        self.tables
            .install(pid, open_file)
            .map_err(|(errno, open_file)| {
                self.close_file(open_file);
                errno
            })
    }

    /// `pipe()` (and `pipe2`): the two descriptors, read end first, as
    /// the reply's bytes.
    fn pipe(&mut self, pid: Pid, mode: Mode) -> Outcome {
        match self.make_pipe(pid, mode) {
            Ok((read_fd, write_fd)) => Outcome::Done(
                Words::default(),
                Some(pipe_fds_to_bytes(read_fd, write_fd).to_vec()),
            ),
            Err(errno) => Outcome::Failed(errno),
        }
    }

    /// A new pipe, its two ends of mode `mode` installed: two descriptors,
    /// read end first; on an error nothing is left behind.
    fn make_pipe(&mut self, pid: Pid, mode: Mode) -> Result<(u64, u64), Errno> {
        let pipe = self.pipes.create();
        let end = |write_end| {
            let mut file = OpenFile::new(FileKind::Pipe { pipe, write_end }, !write_end, write_end);
            file.mode = mode;
            file
        };
        let reader = end(false);
        let writer = end(true);
        let read_fd = match self.tables.install(pid, reader) {
            Ok(fd) => fd,
            Err((errno, reader)) => {
                self.close_file(reader);
                self.close_file(writer);
                return Err(errno);
            }
        };
        match self.tables.install(pid, writer) {
            Ok(write_fd) => Ok((read_fd, write_fd)),
            Err((errno, writer)) => {
                self.close_file(writer);
                if let Ok(Some(reader)) = self.tables.close(pid, read_fd) {
                    self.close_file(reader);
                }
                Err(errno)
            }
        }
    }

    fn fstat(&mut self, pid: Pid, fd: u64) -> Result<Stat, Errno> {
        let (_, file) = self.tables.file(pid, fd)?;
        Ok(match file.kind {
            FileKind::Inode(ino) | FileKind::Console(ino) | FileKind::Null(ino) => {
                let reply = self.fs(FsRequest::Stat { ino })?;
                inode_info(&reply)?.to_stat()
            }
            FileKind::Pipe { pipe, .. } => common::file::pipe_stat(self.pipes.len(pipe)),
        })
    }

    fn getdents(&mut self, pid: Pid, fd: u64, len: u64) -> Outcome {
        let (id, file) = match self.tables.file(pid, fd) {
            Ok(found) => found,
            Err(errno) => return Outcome::Failed(errno),
        };
        let FileKind::Inode(dir) = file.kind else {
            return Outcome::Failed(Errno::ENOTDIR);
        };
        let request = FsRequest::ReadDir {
            dir,
            cursor: file.offset,
            len,
        };
        match self.fs_bytes(request, len) {
            Ok((reply, bytes)) => {
                let Ok(next) = reply.word(0) else {
                    return Outcome::Failed(Errno::EIO);
                };
                if let Some(file) = self.tables.file_mut(id) {
                    file.offset = next;
                }
                Outcome::Done(Words::default(), Some(bytes))
            }
            Err(errno) => Outcome::Failed(errno),
        }
    }

    /// `chdir(path)`: the new working directory is held in the fs server
    /// and the old one released, as the mono-kernel's `sys_file::chdir`
    /// does (`tables.rs`).
    fn chdir(&mut self, pid: Pid, path: &[u8]) -> Result<(), Errno> {
        let cwd = common::file::chdir(&mut FsServer(self), self.tables.cwd(pid)?, path)?;
        self.fs(FsRequest::OpenInode { ino: cwd })?;
        match self.tables.set_cwd(pid, cwd) {
            Ok(old) => {
                self.release_inode(old);
                Ok(())
            }
            Err(errno) => {
                self.release_inode(cwd);
                Err(errno)
            }
        }
    }

    /// `mkdir(path)`.
    fn mkdir(&mut self, pid: Pid, path: &[u8]) -> Result<(), Errno> {
        common::file::mkdir(&mut FsServer(self), self.tables.cwd(pid)?, path)
    }

    /// `mknod(path, major, minor)` (the protocol's decoder has checked that
    /// the numbers fit 32 bits, `common::file::device_numbers`' rule).
    fn mknod(&mut self, pid: Pid, major: u32, minor: u32, path: &[u8]) -> Result<(), Errno> {
        let cwd = self.tables.cwd(pid)?;
        common::file::mknod(&mut FsServer(self), cwd, path, major, minor)
    }

    /// `unlink(path)`: a name, or an empty directory.
    fn unlink(&mut self, pid: Pid, path: &[u8]) -> Result<(), Errno> {
        common::file::unlink(&mut FsServer(self), self.tables.cwd(pid)?, path)
    }

    /// `link(old, new)`.
    fn link(&mut self, pid: Pid, old: &[u8], new: &[u8]) -> Result<(), Errno> {
        common::file::link(&mut FsServer(self), self.tables.cwd(pid)?, old, new)
    }

    /// `rename(old, new)`.
    fn rename(&mut self, pid: Pid, old: &[u8], new: &[u8]) -> Result<(), Errno> {
        common::file::rename(&mut FsServer(self), self.tables.cwd(pid)?, old, new)
    }

    // LAB fs BEGIN
    /// `symlink(target, path)`.
    fn symlink(&mut self, pid: Pid, target: &[u8], path: &[u8]) -> Result<(), Errno> {
        common::file::symlink(&mut FsServer(self), self.tables.cwd(pid)?, target, path)
    }

    /// `readlink(path, len)`: the link's target (its contents, read like a
    /// file's), at most `len` bytes.
    fn readlink(&mut self, pid: Pid, len: u64, path: &[u8]) -> Result<alloc::vec::Vec<u8>, Errno> {
        let link = common::file::readlink(&mut FsServer(self), self.tables.cwd(pid)?, path)?;
        let request = FsRequest::Read {
            ino: link,
            offset: 0,
            len,
        };
        Ok(self.fs_bytes(request, len)?.1)
    }
    // LAB fs STUB
    // LAB fs END
}

/// The file system as `common::file`'s rules see it, on the micro-kernel:
/// each operation is one request to the fs server, which runs the same
/// `Ext2` method the mono-kernel calls directly (and syncs after changes).
struct FsServer<'v>(&'v Vfs);

impl FsServer<'_> {
    /// Sends a request that answers with nothing but success or an error.
    fn call(&self, request: FsRequest<'_>) -> Result<(), Errno> {
        self.0.fs(request).map(|_| ())
    }
}

impl FileSystem for FsServer<'_> {
    fn lookup(&mut self, cwd: Ino, path: &[u8]) -> Result<Found, Errno> {
        let info: InodeInfo = self.0.lookup(cwd, path)?;
        Ok(Found {
            ino: info.ino,
            kind: info.kind,
            major: info.major,
        })
    }

    fn lookup_parent<'p>(&mut self, cwd: Ino, path: &'p [u8]) -> Result<(Ino, &'p [u8]), Errno> {
        self.0.lookup_parent(cwd, path)
    }

    fn lookup_link(&mut self, cwd: Ino, path: &[u8]) -> Result<Found, Errno> {
        // LAB fs BEGIN
        let info = inode_info(&self.0.fs(FsRequest::LookupLink { cwd, path })?)?;
        Ok(Found {
            ino: info.ino,
            kind: info.kind,
            major: info.major,
        })
        // LAB fs STUB
        //~ // Until links are followed, a lookup is a lookup of the link.
        //~ self.lookup(cwd, path)
        // LAB fs END
    }

    fn symlink(&mut self, dir: Ino, name: &[u8], target: &[u8]) -> Result<(), Errno> {
        // LAB fs BEGIN
        self.call(FsRequest::Symlink { dir, name, target })
        // LAB fs STUB
        //~ let _ = (dir, name, target);
        //~ Err(Errno::ENOSYS)
        // LAB fs END
    }

    fn create_file(&mut self, dir: Ino, name: &[u8]) -> Result<Ino, Errno> {
        let ino = self.0.fs(FsRequest::Create { dir, name })?.word(0)?;
        Ino::try_from(ino).map_err(|_| Errno::EIO)
    }

    fn truncate(&mut self, ino: Ino, size: u64) -> Result<(), Errno> {
        self.call(FsRequest::Truncate { ino, size })
    }

    fn open_inode(&mut self, ino: Ino) -> Result<(), Errno> {
        self.call(FsRequest::OpenInode { ino })
    }

    fn mkdir(&mut self, dir: Ino, name: &[u8]) -> Result<(), Errno> {
        self.call(FsRequest::Mkdir { dir, name })
    }

    fn mknod(&mut self, dir: Ino, name: &[u8], major: u32, minor: u32) -> Result<(), Errno> {
        self.call(FsRequest::Mknod {
            dir,
            major,
            minor,
            name,
        })
    }

    fn link(&mut self, dir: Ino, name: &[u8], target: Ino) -> Result<(), Errno> {
        self.call(FsRequest::Link { dir, target, name })
    }

    fn unlink(&mut self, dir: Ino, name: &[u8]) -> Result<(), Errno> {
        self.call(FsRequest::Unlink { dir, name })
    }

    fn rmdir(&mut self, dir: Ino, name: &[u8]) -> Result<(), Errno> {
        self.call(FsRequest::Rmdir { dir, name })
    }

    fn rename(
        &mut self,
        old_dir: Ino,
        old_name: &[u8],
        new_dir: Ino,
        new_name: &[u8],
    ) -> Result<(), Errno> {
        self.call(FsRequest::Rename {
            old_dir,
            new_dir,
            old_name,
            new_name,
        })
    }
}
