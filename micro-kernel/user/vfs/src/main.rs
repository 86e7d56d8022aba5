//! The vfs server: file descriptors, open files, pipes and working
//! directories for every process.
//!
//! This is the monolithic kernel's `sys_file.rs` and `file.rs` as a server.
//! It keeps, per process id, what the monolithic kernel keeps in each
//! process (`tables.rs`), and the pipes with the requests waiting on them
//! (`pipes.rs`). File-system work goes to the fs server as inode-level
//! calls; console descriptors are answered with `Redirect`, so the client
//! asks the console server itself and vfs never waits for the console.
//!
//! ## Who may ask
//!
//! The caller is the sender's thread id, written by the kernel. proc tells
//! vfs which thread is which process (`ProcessCreated`, `ProcessExited`);
//! a thread vfs does not know gets `EPERM`. The process calls (`Process*`,
//! `Exec*`) are accepted from the proc thread only.
//!
//! ## Where it waits
//!
//! It calls the fs server (which calls the disk server), never anyone else,
//! so its calls cannot deadlock. It never waits for a client: a read of an
//! empty pipe or a write to a full one is *parked* (no reply yet) and
//! answered when another client's request lets it proceed.

#![no_std]
#![no_main]

extern crate alloc;

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use common::abi::errno::Errno;
use common::abi::fs::{FileType, Stat, open_flags::*};
use common::abi::proto::fs::{FsRequest, InodeInfo};
use common::abi::proto::reply;
use common::abi::proto::vfs::{VfsRequest, stat_to_words};
use common::abi::proto::{MAX_WORDS, Wire};
use common::abi::syscall::MAX_PATH;
use common::fs::InodeKind;
use l4::{ThreadId, println};
use server_lib::Reply as FsReply;
use vfs::pipes::{self, Completion, Pipes};
use vfs::tables::{FileKind, OpenFile, Pid, Tables};

/// Print every request and its answer on the kernel console.
const DEBUG: bool = false;

/// The console's device major number (as in the monolithic kernel).
const CONSOLE_MAJOR: u32 = 1;

/// The words of a success reply (at most four), without a heap allocation.
#[derive(Debug, Clone, Copy, Default)]
struct Words {
    words: [u64; MAX_WORDS],
    count: usize,
}

impl Words {
    /// The given words (at most [`MAX_WORDS`]; more are a bug, and dropped).
    fn of(list: &[u64]) -> Words {
        let count = list.len().min(MAX_WORDS);
        let mut words = [0; MAX_WORDS];
        words[..count].copy_from_slice(&list[..count]);
        Words { words, count }
    }

    /// The words as a slice.
    fn as_slice(&self) -> &[u64] {
        &self.words[..self.count]
    }
}

/// How a request ended.
enum Answer {
    /// Success with words and maybe bytes.
    Done(Words, Option<Vec<u8>>),
    /// Failure.
    Failed(Errno),
    /// Ask this server instead.
    Redirect(u64),
    /// No reply now: the request waits on a pipe.
    Parked,
}

impl From<Result<Words, Errno>> for Answer {
    fn from(result: Result<Words, Errno>) -> Answer {
        match result {
            Ok(words) => Answer::Done(words, None),
            Err(errno) => Answer::Failed(errno),
        }
    }
}

impl From<Completion> for Answer {
    fn from(completion: Completion) -> Answer {
        match completion {
            Completion::Data(bytes) => Answer::Done(Words::default(), Some(bytes)),
            Completion::Wrote(count) => Answer::Done(Words::of(&[count as u64]), None),
            Completion::Failed(errno) => Answer::Failed(errno),
        }
    }
}

/// The server's state.
struct Vfs {
    tables: Tables,
    pipes: Pipes,
    fs: ThreadId,
    console: ThreadId,
    proc: ThreadId,
    /// Files proc has open for exec: handle → inode.
    exec_files: BTreeMap<u64, u32>,
    next_exec_handle: u64,
    /// Replies owed to parked clients, sent after the current reply.
    owed: Vec<pipes::Reply>,
}

/// A path argument, checked as the monolithic kernel's `user_path`.
fn check_path(path: &[u8]) -> Result<&[u8], Errno> {
    if path.is_empty() {
        Err(Errno::ENOENT)
    } else if path.len() > MAX_PATH {
        Err(Errno::ENAMETOOLONG)
    } else {
        Ok(path)
    }
}

impl Vfs {
    /// Calls the fs server.
    fn fs(&self, request: FsRequest<'_>) -> Result<FsReply, Errno> {
        server_lib::call(self.fs, &request.to_wire())
    }

    /// `Lookup`: the inode `path` names from `cwd`.
    fn lookup(&self, cwd: u32, path: &[u8]) -> Result<InodeInfo, Errno> {
        let reply = self.fs(FsRequest::Lookup { cwd, path })?;
        InodeInfo::from_wire(&reply.wire()).map_err(|_| Errno::EIO)
    }

    /// `LookupParent`: the directory holding the last name of `path`, and
    /// that name (a piece of `path`).
    fn lookup_parent<'p>(&self, cwd: u32, path: &'p [u8]) -> Result<(u32, &'p [u8]), Errno> {
        let reply = self.fs(FsRequest::LookupParent { cwd, path })?;
        let dir = u32::try_from(reply.word(0)?).map_err(|_| Errno::EIO)?;
        let (offset, len) = (reply.word(1)? as usize, reply.word(2)? as usize);
        let name = path
            .get(offset..offset.saturating_add(len))
            .ok_or(Errno::EIO)?;
        Ok((dir, name))
    }

    /// Closes an open file whose last descriptor went.
    fn close_file(&mut self, file: OpenFile) {
        match file.kind {
            FileKind::Inode(ino) | FileKind::Console(ino) => {
                if let Err(error) = self.fs(FsRequest::ReleaseInode { ino }) {
                    println!("vfs: releasing inode {ino}: {}", error.message());
                }
            }
            FileKind::Pipe { pipe, write_end } => {
                let replies = self.pipes.close_end(pipe, write_end);
                self.owed.extend(replies);
            }
        }
    }

    /// One request from `from`.
    fn handle(&mut self, from: ThreadId, wire: &Wire<'_>) -> Answer {
        let request = match VfsRequest::from_wire(wire) {
            Ok(request) => request,
            Err(problem) => return Answer::Failed(problem.errno()),
        };
        use VfsRequest::*;
        match request {
            ProcessCreated { .. }
            | ProcessExited { .. }
            | ExecOpen { .. }
            | ExecRead { .. }
            | ExecClose { .. } => {
                if from != self.proc {
                    return Answer::Failed(Errno::EPERM);
                }
                self.proc_request(request)
            }
            _ => match self.tables.pid_of(from.0) {
                None => Answer::Failed(Errno::EPERM),
                Some(pid) => self.user_request(from, pid, request),
            },
        }
    }

    /// The requests only proc may send.
    fn proc_request(&mut self, request: VfsRequest<'_>) -> Answer {
        use VfsRequest::*;
        match request {
            ProcessCreated {
                pid,
                thread,
                parent,
            } => self
                .tables
                .process_created(pid, thread, parent)
                .map(|()| Words::default())
                .into(),
            ProcessExited { pid } => {
                self.pipes.drop_parked_of(pid);
                for file in self.tables.process_exited(pid) {
                    self.close_file(file);
                }
                Answer::Done(Words::default(), None)
            }
            ExecOpen { pid, path } => self.exec_open(pid, path).into(),
            ExecRead {
                handle,
                offset,
                len,
            } => {
                let Some(&ino) = self.exec_files.get(&handle) else {
                    return Answer::Failed(Errno::EBADF);
                };
                match self.fs(FsRequest::Read { ino, offset, len }) {
                    Ok(reply) => Answer::Done(Words::default(), Some(reply.bytes)),
                    Err(errno) => Answer::Failed(errno),
                }
            }
            ExecClose { handle } => match self.exec_files.remove(&handle) {
                Some(ino) => self
                    .fs(FsRequest::ReleaseInode { ino })
                    .map(|_| Words::default())
                    .into(),
                None => Answer::Failed(Errno::EBADF),
            },
            _ => Answer::Failed(Errno::EPERM),
        }
    }

    /// `ExecOpen`: as the monolithic kernel's `exec::load` starts.
    fn exec_open(&mut self, pid: Pid, path: &[u8]) -> Result<Words, Errno> {
        let path = check_path(path)?;
        let cwd = self.tables.cwd(pid).map_err(|_| Errno::ESRCH)?;
        let info = self.lookup(cwd, path)?;
        if info.kind != InodeKind::File {
            return Err(Errno::EACCES);
        }
        self.fs(FsRequest::OpenInode { ino: info.ino })?;
        let handle = self.next_exec_handle;
        self.next_exec_handle += 1;
        self.exec_files.insert(handle, info.ino);
        Ok(Words::of(&[handle, info.size]))
    }

    /// The file calls of user programs.
    fn user_request(&mut self, from: ThreadId, pid: Pid, request: VfsRequest<'_>) -> Answer {
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
                let (now, replies) = self.pipes.read(from.0, pid, pipe, len);
                self.owed.extend(replies);
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
                let (now, replies) = self.pipes.write(from.0, pid, pipe, data);
                self.owed.extend(replies);
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

/// The reply message for an answer (`None` for a parked request).
fn reply_wire(answer: &Answer) -> Option<Wire<'_>> {
    Some(match answer {
        Answer::Done(words, None) => reply::ok(words.as_slice()),
        Answer::Done(words, Some(bytes)) => reply::ok_with_bytes(words.as_slice(), bytes),
        Answer::Failed(errno) => reply::error(*errno),
        Answer::Redirect(server) => Wire::new(reply::REPLY_REDIRECT, &[*server]),
        Answer::Parked => return None,
    })
}

fn main(root: u64) -> ! {
    let directory = server_lib::start("vfs", ThreadId(root));
    let mut vfs = Vfs {
        tables: Tables::new(),
        pipes: Pipes::new(),
        fs: ThreadId(directory.fs),
        console: ThreadId(directory.console),
        proc: ThreadId(directory.proc),
        exec_files: BTreeMap::new(),
        next_exec_handle: 1,
        owed: Vec::new(),
    };
    let mut request = server_lib::receive();
    loop {
        if request.irq().is_some() {
            request = server_lib::receive(); // no interrupt is attached to vfs
            continue;
        }
        let answer = vfs.handle(request.from, &request.wire());
        if DEBUG {
            let outcome = match &answer {
                Answer::Done(words, bytes) => {
                    alloc::format!("ok {words:?} {:?}", bytes.as_ref().map(Vec::len))
                }
                Answer::Failed(errno) => alloc::format!("{errno:?}"),
                Answer::Redirect(_) => alloc::string::String::from("redirect"),
                Answer::Parked => alloc::string::String::from("parked"),
            };
            println!(
                "vfs: {:#x} from {:#x} -> {outcome}",
                request.label, request.from.0
            );
        }
        // Parked clients this request let proceed are answered first.
        for owed in core::mem::take(&mut vfs.owed) {
            let answer = Answer::from(owed.completion);
            if let Some(wire) = reply_wire(&answer) {
                let _ = server_lib::reply(ThreadId(owed.client), &wire);
            }
        }
        let next = match reply_wire(&answer) {
            Some(wire) => server_lib::reply_and_receive(request.from, &wire),
            None => server_lib::receive(),
        };
        request = next;
    }
}

l4::server_entry!(main);
