//! The file calls of user programs, one function each: the monolithic
//! kernel's `sys_file.rs` step by step, with its file-system work done by
//! IPC to the fs server (`Vfs::fs`) and its waiting done by parking
//! (`pipes.rs`).

use crate::{CONSOLE_MAJOR, Outcome, Vfs, Words, check_path, inode_info};
use common::abi::errno::Errno;
use common::abi::fs::{FileType, Stat, open_flags::*};
use common::abi::proto::fs::FsRequest;
use common::abi::proto::vfs::{VfsRequest, pipe_fds_to_bytes};
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
            Pipe => match self.pipe(pid) {
                Ok((read_fd, write_fd)) => Outcome::Done(
                    Words::default(),
                    Some(pipe_fds_to_bytes(read_fd, write_fd).to_vec()),
                ),
                Err(errno) => Outcome::Failed(errno),
            },
            Fstat { fd } => match self.fstat(pid, fd) {
                Ok(stat) => Outcome::Done(Words::default(), Some(stat.to_bytes().to_vec())),
                Err(errno) => Outcome::Failed(errno),
            },
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
            Link { old, new } => self.link(pid, old, new).map(|()| Words::default()).into(),
            Rename { old, new } => self.rename(pid, old, new).map(|()| Words::default()).into(),
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
            FileKind::Pipe { pipe, .. } => {
                let now = self.pipes.read(from.0, pid, pipe, len, &mut self.owed);
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
            FileKind::Pipe { pipe, .. } => {
                let now = self.pipes.write(from.0, pid, pipe, data, &mut self.owed);
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
                inode_info(&reply)?
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
    fn pipe(&mut self, pid: Pid) -> Result<(u64, u64), Errno> {
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
            FileKind::Inode(ino) | FileKind::Console(ino) => {
                let reply = self.fs(FsRequest::Stat { ino })?;
                inode_info(&reply)?.to_stat()
            }
            FileKind::Pipe { pipe, .. } => Stat {
                kind: FileType::Pipe as u32,
                size: self.pipes.len(pipe) as u64,
                nlink: 1,
                ..Stat::default()
            },
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

    fn link(&mut self, pid: Pid, old: &[u8], new: &[u8]) -> Result<(), Errno> {
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

    fn rename(&mut self, pid: Pid, old: &[u8], new: &[u8]) -> Result<(), Errno> {
        let old = check_path(old)?;
        let new = check_path(new)?;
        let cwd = self.tables.cwd(pid)?;
        let (old_dir, old_name) = self.lookup_parent(cwd, old)?;
        let (new_dir, new_name) = self.lookup_parent(cwd, new)?;
        let request = FsRequest::Rename {
            old_dir,
            new_dir,
            old_name,
            new_name,
        };
        self.fs(request).map(|_| ())
    }
}
