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

use crate::{Answer, Vfs, Words};
use alloc::vec::Vec;
use common::abi::errno::Errno;
use common::abi::fs::Stat;
use common::abi::proto::fs::{FsRequest, InodeInfo};
use common::abi::proto::vfs::{VfsRequest, stat_to_words};
use common::file::{FileSystem, Found, OpenFlags};
use common::fs::Ino;
use l4::ThreadId;
use vfs::tables::{FileKind, OpenFile, Pid};

impl Vfs {
    /// The file calls of user programs.
    pub(crate) fn user_request(
        &mut self,
        from: ThreadId,
        pid: Pid,
        request: VfsRequest<'_>,
    ) -> Answer {
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
                    Answer::Done(Words::default(), None)
                }
                Err(errno) => Answer::Failed(errno),
            },
            Dup { fd } => self.tables.dup(pid, fd).map(|fd| Words::of(&[fd])).into(),
            Pipe => self.pipe(pid).into(),
            Fstat { fd } => self
                .fstat(pid, fd)
                .map(|stat| Words::of(&stat_to_words(&stat)))
                .into(),
            Getdents { fd, len } => self.getdents(pid, fd, len),
            Chdir { path } => self.chdir(pid, path).map(|()| Words::default()).into(),
            Mkdir { path } => self.mkdir(pid, path).map(|()| Words::default()).into(),
            Mknod { major, minor, path } => self
                .mknod(pid, major, minor, path)
                .map(|()| Words::default())
                .into(),
            Unlink { path } => self.unlink(pid, path).map(|()| Words::default()).into(),
            Link { paths, old_len } => self
                .link(pid, paths, old_len)
                .map(|()| Words::default())
                .into(),
            Rename { paths, old_len } => self
                .rename(pid, paths, old_len)
                .map(|()| Words::default())
                .into(),
            _ => Answer::Failed(Errno::EPERM),
        }
    }

    fn read(&mut self, from: ThreadId, pid: Pid, fd: u64, len: usize) -> Answer {
        let (id, file) = match self.tables.file(pid, fd) {
            Ok(found) => found,
            Err(errno) => return Answer::Failed(errno),
        };
        if !file.readable {
            return Answer::Failed(Errno::EBADF);
        }
        match file.kind {
            FileKind::Console(_) => Answer::Redirect(self.console.0),
            FileKind::Pipe { pipe, .. } => {
                let now = self.pipes.read(from.0, pid, pipe, len, &mut self.owed);
                now.map_or(Answer::Parked, Answer::from)
            }
            FileKind::Inode(ino) => {
                let offset = file.offset;
                match self.fs(FsRequest::Read {
                    ino,
                    offset,
                    len: len as u64,
                }) {
                    Ok(reply) => {
                        if let Some(file) = self.tables.file_mut(id) {
                            file.offset = offset + reply.bytes.len() as u64;
                        }
                        // Word 0 = 1: a file, where a full reply invites the
                        // client to read on (a pipe read returns once).
                        Answer::Done(Words::of(&[1]), Some(reply.bytes))
                    }
                    Err(errno) => Answer::Failed(errno),
                }
            }
        }
    }

    fn write(&mut self, from: ThreadId, pid: Pid, fd: u64, data: &[u8]) -> Answer {
        let (id, file) = match self.tables.file(pid, fd) {
            Ok(found) => found,
            Err(errno) => return Answer::Failed(errno),
        };
        if !file.writable {
            return Answer::Failed(Errno::EBADF);
        }
        match file.kind {
            FileKind::Console(_) => Answer::Redirect(self.console.0),
            FileKind::Pipe { pipe, .. } => {
                let now = self.pipes.write(from.0, pid, pipe, data, &mut self.owed);
                now.map_or(Answer::Parked, Answer::from)
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
                        Answer::Done(Words::of(&[written]), None)
                    }
                    Err(errno) => Answer::Failed(errno),
                }
            }
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

    /// `pipe()`: two descriptors, read end first.
    fn pipe(&mut self, pid: Pid) -> Result<Words, Errno> {
        let pipe = self.pipes.create();
        let reader = OpenFile::new(
            FileKind::Pipe {
                pipe,
                write_end: false,
            },
            true,
            false,
        );
        let writer = OpenFile::new(
            FileKind::Pipe {
                pipe,
                write_end: true,
            },
            false,
            true,
        );
        let read_fd = match self.tables.install(pid, reader) {
            Ok(fd) => fd,
            Err((errno, reader)) => {
                self.close_file(reader);
                self.close_file(writer);
                return Err(errno);
            }
        };
        match self.tables.install(pid, writer) {
            Ok(write_fd) => Ok(Words::of(&[read_fd, write_fd])),
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
            FileKind::Inode(ino) | FileKind::Console(ino) => {
                let reply = self.fs(FsRequest::Stat { ino })?;
                InodeInfo::from_wire(&reply.wire())
                    .map_err(|_| Errno::EIO)?
                    .to_stat()
            }
            FileKind::Pipe { pipe, .. } => common::file::pipe_stat(self.pipes.len(pipe)),
        })
    }

    fn getdents(&mut self, pid: Pid, fd: u64, len: u64) -> Answer {
        let (id, file) = match self.tables.file(pid, fd) {
            Ok(found) => found,
            Err(errno) => return Answer::Failed(errno),
        };
        let FileKind::Inode(dir) = file.kind else {
            return Answer::Failed(Errno::ENOTDIR);
        };
        match self.fs(FsRequest::ReadDir {
            dir,
            cursor: file.offset,
            len,
        }) {
            Ok(reply) => {
                let Ok(next) = reply.word(0) else {
                    return Answer::Failed(Errno::EIO);
                };
                if let Some(file) = self.tables.file_mut(id) {
                    file.offset = next;
                }
                Answer::Done(Words::default(), Some(reply.bytes))
            }
            Err(errno) => Answer::Failed(errno),
        }
    }

    /// `chdir(path)`.
    fn chdir(&mut self, pid: Pid, path: &[u8]) -> Result<(), Errno> {
        let cwd = common::file::chdir(&mut FsServer(self), self.tables.cwd(pid)?, path)?;
        self.tables.set_cwd(pid, cwd)
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

    /// `link(old, new)`: the message carries the two paths one after the
    /// other, the first `old_len` bytes being the old one.
    fn link(&mut self, pid: Pid, paths: &[u8], old_len: usize) -> Result<(), Errno> {
        let (old, new) = paths.split_at_checked(old_len).ok_or(Errno::EINVAL)?;
        common::file::link(&mut FsServer(self), self.tables.cwd(pid)?, old, new)
    }

    /// `rename(old, new)`: the paths travel as in `link`.
    fn rename(&mut self, pid: Pid, paths: &[u8], old_len: usize) -> Result<(), Errno> {
        let (old, new) = paths.split_at_checked(old_len).ok_or(Errno::EINVAL)?;
        common::file::rename(&mut FsServer(self), self.tables.cwd(pid)?, old, new)
    }
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
        // The two names travel one after the other in the message's bytes.
        let mut names = Vec::with_capacity(old_name.len() + new_name.len());
        names.extend_from_slice(old_name);
        names.extend_from_slice(new_name);
        self.call(FsRequest::Rename {
            old_dir,
            new_dir,
            names: &names,
            old_len: old_name.len(),
        })
    }
}
