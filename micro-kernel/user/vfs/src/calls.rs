//! The file calls of user programs, one function each: the monolithic
//! kernel's `sys_file.rs` step by step, with its file-system work done by
//! IPC to the fs server (`Vfs::fs`) and its waiting done by parking
//! (`pipes.rs`).

use crate::{Answer, CONSOLE_MAJOR, Vfs, Words, check_path};
use alloc::vec::Vec;
use common::abi::errno::Errno;
use common::abi::fs::{FileType, Stat, open_flags::*};
use common::abi::proto::fs::{FsRequest, InodeInfo};
use common::abi::proto::vfs::{VfsRequest, stat_to_words};
use common::fs::InodeKind;
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
            Mkdir { path } => self
                .at_parent(pid, path, |vfs, dir, name| {
                    vfs.fs(FsRequest::Mkdir { dir, name }).map(|_| ())
                })
                .map(|()| Words::default())
                .into(),
            Mknod { major, minor, path } => self
                .at_parent(pid, path, |vfs, dir, name| {
                    vfs.fs(FsRequest::Mknod {
                        dir,
                        major,
                        minor,
                        name,
                    })
                    .map(|_| ())
                })
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

    /// `open(path, flags)`, step by step as `sys_file::open`.
    fn open(&mut self, pid: Pid, flags: u32, path: &[u8]) -> Result<u64, Errno> {
        if flags & !O_KNOWN != 0 || flags & O_ACCMODE == O_ACCMODE {
            return Err(Errno::EINVAL);
        }
        let path = check_path(path)?;
        let cwd = self.tables.cwd(pid)?;
        if !self.tables.has_free_fd(pid)? {
            return Err(Errno::EMFILE);
        }
        let (readable, writable) = match flags & O_ACCMODE {
            O_RDONLY => (true, false),
            O_WRONLY => (false, true),
            _ => (true, true),
        };
        let info = match self.lookup(cwd, path) {
            Ok(info) => info,
            Err(Errno::ENOENT) if flags & O_CREATE != 0 => {
                let (dir, name) = self.lookup_parent(cwd, path)?;
                let ino = self.fs(FsRequest::Create { dir, name })?.word(0)?;
                let ino = u32::try_from(ino).map_err(|_| Errno::EIO)?;
                let reply = self.fs(FsRequest::Stat { ino })?;
                InodeInfo::from_wire(&reply.wire()).map_err(|_| Errno::EIO)?
            }
            Err(errno) => return Err(errno),
        };
        let kind = match info.kind {
            InodeKind::Dir if writable => return Err(Errno::EISDIR),
            InodeKind::CharDevice if info.major == CONSOLE_MAJOR => FileKind::Console(info.ino),
            InodeKind::CharDevice | InodeKind::BlockDevice | InodeKind::Fifo => {
                return Err(Errno::ENODEV);
            }
            _ => FileKind::Inode(info.ino),
        };
        if flags & O_TRUNC != 0 && writable && info.kind == InodeKind::File {
            self.fs(FsRequest::Truncate {
                ino: info.ino,
                size: 0,
            })?;
        }
        self.fs(FsRequest::OpenInode { ino: info.ino })?;
        let mut file = OpenFile::new(kind, readable, writable);
        file.append = flags & O_APPEND != 0;
        self.tables.install(pid, file).map_err(|(errno, file)| {
            self.close_file(file);
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
            FileKind::Pipe { pipe, .. } => Stat {
                kind: FileType::Pipe as u32,
                size: self.pipes.len(pipe) as u64,
                nlink: 1,
                ..Stat::default()
            },
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

    fn chdir(&mut self, pid: Pid, path: &[u8]) -> Result<(), Errno> {
        let path = check_path(path)?;
        let info = self.lookup(self.tables.cwd(pid)?, path)?;
        if info.kind != InodeKind::Dir {
            return Err(Errno::ENOTDIR);
        }
        self.tables.set_cwd(pid, info.ino)
    }

    /// Runs `operation` on the directory and last name of `path`.
    fn at_parent(
        &mut self,
        pid: Pid,
        path: &[u8],
        operation: impl FnOnce(&mut Vfs, u32, &[u8]) -> Result<(), Errno>,
    ) -> Result<(), Errno> {
        let path = check_path(path)?;
        let (dir, name) = self.lookup_parent(self.tables.cwd(pid)?, path)?;
        operation(self, dir, name)
    }

    /// `unlink(path)`: a name, or an empty directory.
    fn unlink(&mut self, pid: Pid, path: &[u8]) -> Result<(), Errno> {
        self.at_parent(pid, path, |vfs, dir, name| {
            let target = vfs.lookup(dir, name)?;
            if target.kind == InodeKind::Dir {
                vfs.fs(FsRequest::Rmdir { dir, name }).map(|_| ())
            } else {
                vfs.fs(FsRequest::Unlink { dir, name }).map(|_| ())
            }
        })
    }

    fn link(&mut self, pid: Pid, paths: &[u8], old_len: usize) -> Result<(), Errno> {
        let (old, new) = paths.split_at_checked(old_len).ok_or(Errno::EINVAL)?;
        let old = check_path(old)?;
        let new = check_path(new)?;
        let cwd = self.tables.cwd(pid)?;
        let target = self.lookup(cwd, old)?;
        let (dir, name) = self.lookup_parent(cwd, new)?;
        self.fs(FsRequest::Link {
            dir,
            target: target.ino,
            name,
        })
        .map(|_| ())
    }

    fn rename(&mut self, pid: Pid, paths: &[u8], old_len: usize) -> Result<(), Errno> {
        let (old, new) = paths.split_at_checked(old_len).ok_or(Errno::EINVAL)?;
        let old = check_path(old)?;
        let new = check_path(new)?;
        let cwd = self.tables.cwd(pid)?;
        let (old_dir, old_name) = self.lookup_parent(cwd, old)?;
        let (new_dir, new_name) = self.lookup_parent(cwd, new)?;
        let mut names = Vec::with_capacity(old_name.len() + new_name.len());
        names.extend_from_slice(old_name);
        names.extend_from_slice(new_name);
        let request = FsRequest::Rename {
            old_dir,
            new_dir,
            names: &names,
            old_len: old_name.len(),
        };
        self.fs(request).map(|_| ())
    }
}
