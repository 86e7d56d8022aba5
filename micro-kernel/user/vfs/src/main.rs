//! The vfs server: file descriptors, open files, pipes and working
//! directories for every process.
//!
//! This is the monolithic kernel's `sys_file.rs` and `file.rs` as a server.
//! It keeps, per process id, what the monolithic kernel keeps in each
//! process (`tables.rs`), and the pipes with the requests waiting on them
//! (`pipes.rs`).
//!
//! | file        | what                                                        |
//! |-------------|-------------------------------------------------------------|
//! | `main.rs`   | the loop, who may ask, proc's requests, replies             |
//! | `calls.rs`  | the file calls of user programs, one function each          |
//! | `tables.rs` | processes, descriptor tables, open files (host-tested)      |
//! | `pipes.rs`  | pipes and parked requests (host-tested)                     |
//!
//! File-system work goes to the fs server as inode-level calls (in the
//! co-location build, feature `colocated-fs`, to the fs code linked into
//! this server: the same requests, handled by a function call); console
//! descriptors' reads and writes are answered with `Redirect`, so the
//! client's transport asks the console server itself and vfs never waits
//! for the console.
//!
//! ## Who may ask
//!
//! The caller is the sender's thread id, written by the kernel. proc tells
//! vfs which thread is which process (`ProcessCreated`, `ProcessExited`);
//! a thread vfs does not know gets `EPERM`. The process calls (`Process*`,
//! `Exec*`, `MapOpen`) are accepted from the proc thread only.
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

mod calls;

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use common::abi::errno::Errno;

use common::abi::proto::fs::{FsRequest, InodeInfo};
use common::abi::proto::reply;
use common::abi::proto::vfs::VfsRequest;
use common::abi::proto::{MAX_WORDS, Wire};
use common::file::check_path;
use common::fs::InodeKind;
use l4::rpc::Reply;
use l4::{ThreadId, println};
use vfs::pipes::{Completion, OwedReply, Pipes};
use vfs::tables::{FileKind, OpenFile, Pid, Tables};

/// Print every request and its answer on the kernel console.
const DEBUG: bool = false;

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

/// How a request ended: what to reply.
enum Outcome {
    /// Success with words and maybe bytes.
    Done(Words, Option<Vec<u8>>),
    /// Failure.
    Failed(Errno),
    /// Ask this server instead.
    Redirect(u64),
    /// No reply now: the request waits on a pipe.
    Parked,
}

impl From<Result<Words, Errno>> for Outcome {
    fn from(result: Result<Words, Errno>) -> Outcome {
        match result {
            Ok(words) => Outcome::Done(words, None),
            Err(errno) => Outcome::Failed(errno),
        }
    }
}

impl From<Completion> for Outcome {
    fn from(completion: Completion) -> Outcome {
        match completion {
            Completion::Data(bytes) => Outcome::Done(Words::default(), Some(bytes)),
            Completion::Wrote(count) => Outcome::Done(Words::of(&[count as u64]), None),
            Completion::Failed(errno) => Outcome::Failed(errno),
        }
    }
}

/// The server's state.
struct Vfs {
    tables: Tables,
    pipes: Pipes,
    #[cfg_attr(feature = "colocated-fs", allow(dead_code))] // (the fs code runs here then)
    fs: ThreadId,
    console: ThreadId,
    proc: ThreadId,
    /// Files proc holds open, to load a program (`ExecOpen`) or for a
    /// process's mmap (`MapOpen`): handle → inode.
    exec_files: BTreeMap<u64, u32>,
    next_exec_handle: u64,
    /// Replies owed to parked clients, sent before the current reply.
    owed: Vec<OwedReply>,
    /// The co-location build: the file system, run here.
    #[cfg(feature = "colocated-fs")]
    local_fs: core::cell::RefCell<Option<common::fs::Ext2<fs::disk_client::DiskClient>>>,
}

impl Vfs {
    /// Calls the fs server.
    #[cfg(not(feature = "colocated-fs"))]
    fn fs(&self, request: FsRequest<'_>) -> Result<Reply, Errno> {
        server_lib::call(self.fs, &request.to_wire())
    }

    /// Calls the fs server for a request whose reply carries bytes (a read,
    /// directory records): they come back in a vector of their length.
    #[cfg(not(feature = "colocated-fs"))]
    fn fs_bytes(&self, request: FsRequest<'_>, len: u64) -> Result<(Reply, Vec<u8>), Errno> {
        let mut bytes = alloc::vec![0u8; len as usize];
        let reply = server_lib::call_into(self.fs, &request.to_wire(), &mut bytes)?;
        bytes.truncate(reply.byte_count);
        Ok((reply, bytes))
    }

    /// The co-location build's `fs`: the same request, handled by the fs
    /// code linked into this server.
    #[cfg(feature = "colocated-fs")]
    fn fs(&self, request: FsRequest<'_>) -> Result<Reply, Errno> {
        self.fs_bytes(request, 0).map(|(reply, _)| reply)
    }

    /// The co-location build's `fs_bytes`.
    #[cfg(feature = "colocated-fs")]
    fn fs_bytes(&self, request: FsRequest<'_>, len: u64) -> Result<(Reply, Vec<u8>), Errno> {
        let mut file_system = self.local_fs.borrow_mut();
        let Some(file_system) = file_system.as_mut() else {
            return Err(Errno::EIO);
        };
        let mut bytes = Vec::new();
        let answer = fs::handler::handle(file_system, &request.to_wire(), &mut bytes);
        let reply = Reply::from_wire(&answer)?;
        bytes.truncate(reply.byte_count.min(len as usize));
        Ok((reply, bytes))
    }

    /// The co-location build: whether the file system's journal has a
    /// transaction running (then the loop waits with a timeout, as the fs
    /// server does, and ticks its commit clock).
    #[cfg(feature = "colocated-fs")]
    fn commit_pending(&self) -> bool {
        self.local_fs
            .borrow()
            .as_ref()
            .is_some_and(|fs| fs.commit_pending())
    }

    /// The co-location build: the journal's commit clock, when no request
    /// came for a while.
    #[cfg(feature = "colocated-fs")]
    fn tick(&self) {
        if let Some(fs) = self.local_fs.borrow_mut().as_mut()
            && let Err(error) = fs.tick(fs::handler::now_ms())
        {
            println!("fs: committing the journal failed: {error}");
        }
    }

    /// `Lookup`: the inode `path` names from `cwd`.
    fn lookup(&self, cwd: u32, path: &[u8]) -> Result<InodeInfo, Errno> {
        let reply = self.fs(FsRequest::Lookup { cwd, path })?;
        inode_info(&reply)
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

    /// Drops a reference to inode `ino` that vfs holds in the fs server (an
    /// open file's, a working directory's). An error would be a bug in the
    /// bookkeeping; it is reported, not fatal.
    fn release_inode(&self, ino: u32) {
        if let Err(error) = self.fs(FsRequest::ReleaseInode { ino }) {
            println!("vfs: releasing inode {ino}: {}", error.message());
        }
    }

    /// Closes an open file whose last descriptor went.
    fn close_file(&mut self, file: OpenFile) {
        match file.kind {
            FileKind::Inode(ino) | FileKind::Console(ino) | FileKind::Null(ino) => {
                self.release_inode(ino)
            }
            FileKind::Pipe { pipe, write_end } => {
                self.pipes.close_end(pipe, write_end, &mut self.owed);
            }
        }
    }

    /// One request from `from`.
    fn handle(&mut self, from: ThreadId, wire: &Wire<'_>) -> Outcome {
        let request = match VfsRequest::from_wire(wire) {
            Ok(request) => request,
            Err(problem) => return Outcome::Failed(problem.errno()),
        };
        use VfsRequest::*;
        match request {
            ProcessCreated { .. }
            | ProcessExited { .. }
            | ExecOpen { .. }
            | ExecRead { .. }
            | ExecClose { .. }
            | MapOpen { .. } => {
                if from != self.proc {
                    return Outcome::Failed(Errno::EPERM);
                }
                self.proc_request(request)
            }
            _ => match self.tables.pid_of(from.0) {
                None => Outcome::Failed(Errno::EPERM),
                Some(pid) => self.user_request(from, pid, request),
            },
        }
    }

    /// The requests only proc may send.
    fn proc_request(&mut self, request: VfsRequest<'_>) -> Outcome {
        use VfsRequest::*;
        match request {
            ProcessCreated {
                pid,
                thread,
                parent,
            } => match self.tables.process_created(pid, thread, parent) {
                // A new process holds its working directory, as on the
                // mono-kernel (`tables.rs`); if it cannot, it is not made.
                Ok(Some(cwd)) => match self.fs(FsRequest::OpenInode { ino: cwd }) {
                    Ok(_) => Outcome::Done(Words::default(), None),
                    Err(errno) => {
                        for file in self.tables.process_exited(pid).files {
                            self.close_file(file);
                        }
                        Outcome::Failed(errno)
                    }
                },
                Ok(None) => Outcome::Done(Words::default(), None),
                Err(errno) => Outcome::Failed(errno),
            },
            ProcessExited { pid } => {
                self.pipes.drop_parked_of(pid);
                let exited = self.tables.process_exited(pid);
                for file in exited.files {
                    self.close_file(file);
                }
                if let Some(cwd) = exited.cwd {
                    self.release_inode(cwd);
                }
                Outcome::Done(Words::default(), None)
            }
            ExecOpen { pid, path } => self.exec_open(pid, path).into(),
            ExecRead {
                handle,
                offset,
                len,
            } => {
                let Some(&ino) = self.exec_files.get(&handle) else {
                    return Outcome::Failed(Errno::EBADF);
                };
                match self.fs_bytes(FsRequest::Read { ino, offset, len }, len) {
                    Ok((_, bytes)) => Outcome::Done(Words::default(), Some(bytes)),
                    Err(errno) => Outcome::Failed(errno),
                }
            }
            MapOpen { pid, fd } => self.map_open(pid, fd).into(),
            ExecClose { handle } => match self.exec_files.remove(&handle) {
                Some(ino) => self
                    .fs(FsRequest::ReleaseInode { ino })
                    .map(|_| Words::default())
                    .into(),
                None => Outcome::Failed(Errno::EBADF),
            },
            _ => Outcome::Failed(Errno::EPERM),
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
}

impl Vfs {
    /// `MapOpen`: the file behind process `pid`'s descriptor `fd`, held
    /// open (as `ExecOpen` holds a program) for as long as proc maps it,
    /// whatever becomes of the descriptor. The checks are the mono-kernel's
    /// (`common::mm::mmap::check_file`): `EBADF`, `ENODEV`, `EACCES`.
    fn map_open(&mut self, pid: Pid, fd: u64) -> Result<Words, Errno> {
        let (_, file) = self.tables.file(pid, fd)?;
        let readable = file.readable;
        let FileKind::Inode(ino) = file.kind else {
            return Err(Errno::ENODEV); // a pipe, the console, /dev/null
        };
        let info = inode_info(&self.fs(FsRequest::Stat { ino })?)?;
        common::mm::mmap::check_file(info.kind == InodeKind::File, readable)?;
        self.fs(FsRequest::OpenInode { ino })?;
        let handle = self.next_exec_handle;
        self.next_exec_handle += 1;
        self.exec_files.insert(handle, ino);
        Ok(Words::of(&[handle, info.size]))
    }
}

/// The words of `Lookup`'s or `Stat`'s reply, decoded.
fn inode_info(reply: &Reply) -> Result<InodeInfo, Errno> {
    InodeInfo::from_wire(&Wire::new(0, reply.words())).map_err(|_| Errno::EIO)
}

/// The reply message for an outcome (`None` for a parked request).
fn reply_wire(outcome: &Outcome) -> Option<Wire<'_>> {
    Some(match outcome {
        Outcome::Done(words, None) => reply::done(words.as_slice()),
        Outcome::Done(words, Some(bytes)) => reply::done_with_bytes(words.as_slice(), bytes),
        Outcome::Failed(errno) => reply::failed(*errno),
        Outcome::Redirect(server) => reply::redirect(*server),
        Outcome::Parked => return None,
    })
}

/// Gives the bytes of an outcome that has been sent back to `pipes`, for
/// the next pipe read.
fn recycle(pipes: &mut Pipes, outcome: Outcome) {
    if let Outcome::Done(_, Some(bytes)) = outcome {
        pipes.recycle(bytes);
    }
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
        #[cfg(feature = "colocated-fs")]
        local_fs: core::cell::RefCell::new(fs::mount(ThreadId(directory.disk))),
    };
    let mut request = server_lib::receive();
    loop {
        if request.irq().is_some() {
            request = server_lib::receive(); // no interrupt is attached to vfs
            continue;
        }
        let outcome = vfs.handle(request.from, &request.wire());
        if DEBUG {
            let said = match &outcome {
                Outcome::Done(words, bytes) => {
                    alloc::format!("done {words:?} {:?}", bytes.as_ref().map(Vec::len))
                }
                Outcome::Failed(errno) => alloc::format!("{errno:?}"),
                Outcome::Redirect(_) => alloc::string::String::from("redirect"),
                Outcome::Parked => alloc::string::String::from("parked"),
            };
            println!(
                "vfs: {:#x} from {:#x} -> {said}",
                request.label, request.from.0
            );
        }
        // Parked clients this request let proceed are answered first.
        // (Drained, not taken: the list keeps its memory for the next request.)
        for owed in vfs.owed.drain(..) {
            let owed_outcome = Outcome::from(owed.completion);
            if let Some(wire) = reply_wire(&owed_outcome) {
                let _ = server_lib::reply(ThreadId(owed.client), &wire);
            }
            recycle(&mut vfs.pipes, owed_outcome);
        }
        #[cfg(not(feature = "colocated-fs"))]
        let next = match reply_wire(&outcome) {
            Some(wire) => server_lib::reply_and_receive(request.from, &wire),
            None => server_lib::receive(),
        };
        #[cfg(feature = "colocated-fs")]
        let next = match reply_wire(&outcome) {
            // No transaction running: as above, one reply-and-receive.
            Some(wire) if !vfs.commit_pending() => {
                server_lib::reply_and_receive(request.from, &wire)
            }
            wire => {
                // While the journal has a transaction running, wait with a
                // timeout and tick its clock, as the fs server does.
                let ticks = fs::COMMIT_POLL_TICKS;
                let mut next = match wire {
                    Some(wire) => server_lib::reply_and_receive_for(request.from, &wire, ticks),
                    None => server_lib::receive_for(ticks),
                };
                loop {
                    if let Some(next) = next {
                        break next;
                    }
                    vfs.tick();
                    if !vfs.commit_pending() {
                        break server_lib::receive();
                    }
                    next = server_lib::receive_for(ticks);
                }
            }
        };
        recycle(&mut vfs.pipes, outcome);
        request = next;
    }
}

l4::server_entry!(main);
