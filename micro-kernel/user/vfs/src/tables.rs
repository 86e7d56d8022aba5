//! Processes, descriptor tables and open file descriptions.
//!
//! The monolithic kernel keeps a descriptor table in each process and a
//! reference-counted `File` per open file description (`mono-kernel/src/
//! file.rs`). The vfs server keeps the same two levels, keyed by process id:
//!
//! ```text
//!  thread id ──▶ pid ──▶ Process { cwd, fds: FdTable<FileId> }
//!                                           │
//!                      files: FileId ──▶ OpenFile { kind, offset, refs, ... }
//! ```
//!
//! The descriptor table is the mono-kernel's, `common::file::FdTable`
//! (lowest free descriptor first, `MAX_OPEN_FILES` of them); only its
//! entries differ: an index into `files` here, an `Rc<File>` there.
//! `dup` and `fork` (a `ProcessCreated` with a parent) copy a `FileId`, so
//! the two descriptors share one `OpenFile` and its offset, as UNIX
//! requires. When the last descriptor referring to an `OpenFile` goes
//! (`close`, exit), [`Tables::close`] hands it back to the caller, who
//! closes the pipe end or releases the inode — the mono-kernel's
//! `Drop for File`. (An `OpenFile` is plain data with an explicit count,
//! not an `Rc`, so the whole state can be inspected by the host tests.)
//!
//! A working directory is held in the fs server (`OpenInode`) as long as
//! some process has it, as the mono-kernel's processes hold theirs, so a
//! directory another process removes is not freed, nor its number reused,
//! under a process inside it. The tables say when: a new process's `cwd`
//! from [`Tables::process_created`] is to be held, the old one from
//! [`Tables::set_cwd`] and an exited process's from
//! [`Tables::process_exited`] are to be released.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use common::abi::errno::Errno;
use common::file::FdTable;
use common::fs::ROOT_INO;
use common::pipe::Mode;

/// A process id (proc's numbering).
pub type Pid = u64;
/// An index into the table of open file descriptions.
pub type FileId = usize;
/// An index into the table of pipes (`pipes.rs`).
pub type PipeId = usize;

/// What an open file is (`common::file::FileKind`, pipes named by
/// [`PipeId`]). For an inode and for the console the fs server holds an
/// `OpenInode` reference; console reads and writes are served by the
/// console server (`Redirect`).
pub type FileKind = common::file::FileKind<PipeId>;

/// An open file description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenFile {
    /// What it refers to.
    pub kind: FileKind,
    /// Opened for reading.
    pub readable: bool,
    /// Opened for writing.
    pub writable: bool,
    /// Every write goes to the end.
    pub append: bool,
    /// The offset of the next read or write (inodes only).
    pub offset: u64,
    /// Whether a pipe read or write waits (`pipe2`'s `O_NONBLOCK`; pipe
    /// ends only).
    pub mode: Mode,
    /// Descriptors referring to it. Invariant: >= 1 while in the table.
    refs: u32,
}

impl OpenFile {
    /// A new description (not yet referred to by any descriptor).
    pub fn new(kind: FileKind, readable: bool, writable: bool) -> OpenFile {
        OpenFile {
            kind,
            readable,
            writable,
            append: false,
            offset: 0,
            mode: Mode::Blocking,
            refs: 0,
        }
    }
}

/// One process, as far as files go.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Process {
    /// The thread it runs as (requests from it are this process's).
    thread: u64,
    /// The working directory.
    cwd: u32,
    /// The descriptor table.
    fds: FdTable<FileId>,
}

/// What an exited process leaves to close: the open files whose last
/// descriptor went, and its working directory, to release.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Exited {
    /// Open files to close (pipe ends, inodes to release).
    pub files: Vec<OpenFile>,
    /// The working directory it held (`None` for an unknown pid).
    pub cwd: Option<u32>,
}

/// All processes and open files.
#[derive(Debug, Default)]
pub struct Tables {
    /// Open file descriptions; `None` slots are free.
    files: Vec<Option<OpenFile>>,
    /// Processes by pid.
    processes: BTreeMap<Pid, Process>,
    /// Which process each thread is. Invariant: `threads[t] == p` iff
    /// `processes[p].thread == t`.
    threads: BTreeMap<u64, Pid>,
}

impl Tables {
    /// No processes, no files.
    pub fn new() -> Tables {
        Tables::default()
    }

    /// The process thread `thread` belongs to.
    pub fn pid_of(&self, thread: u64) -> Option<Pid> {
        self.threads.get(&thread).copied()
    }

    /// `ProcessCreated`: `pid` runs as `thread`. A new process gets a copy of
    /// `parent`'s descriptors (sharing the open files) and its working
    /// directory, or, with `parent` 0, no descriptors and `/`; that working
    /// directory is returned, for the caller to hold. For a pid that exists
    /// already only the thread changes (a program that was replaced runs as
    /// a new thread), and nothing is to be held (`None`).
    ///
    /// Errors: `EINVAL` for pid 0, `ESRCH` for an unknown parent.
    pub fn process_created(
        &mut self,
        pid: Pid,
        thread: u64,
        parent: Pid,
    ) -> Result<Option<u32>, Errno> {
        if pid == 0 {
            return Err(Errno::EINVAL);
        }
        if let Some(process) = self.processes.get_mut(&pid) {
            let old = core::mem::replace(&mut process.thread, thread);
            self.threads.remove(&old);
            self.threads.insert(thread, pid);
            return Ok(None);
        }
        let process = if parent == 0 {
            Process {
                thread,
                cwd: ROOT_INO,
                fds: FdTable::new(),
            }
        } else {
            let parent = self.processes.get(&parent).ok_or(Errno::ESRCH)?;
            Process {
                thread,
                cwd: parent.cwd,
                fds: parent.fds.share(),
            }
        };
        for id in process.fds.iter() {
            if let Some(Some(file)) = self.files.get_mut(*id) {
                file.refs += 1;
            }
        }
        // A thread id names one process: a stale mapping (a thread id the
        // kernel reused) is forgotten.
        if let Some(stale) = self.threads.insert(thread, pid)
            && let Some(process) = self.processes.get_mut(&stale)
        {
            process.thread = 0;
        }
        let cwd = process.cwd;
        self.processes.insert(pid, process);
        Ok(Some(cwd))
    }

    /// `ProcessExited`: forgets `pid` and closes its descriptors; returns the
    /// open files whose last reference went and its working directory (the
    /// caller closes and releases them).
    pub fn process_exited(&mut self, pid: Pid) -> Exited {
        let Some(process) = self.processes.remove(&pid) else {
            return Exited::default();
        };
        if self.threads.get(&process.thread) == Some(&pid) {
            self.threads.remove(&process.thread);
        }
        let files = process
            .fds
            .iter()
            .filter_map(|&id| self.unref(id))
            .collect();
        Exited {
            files,
            cwd: Some(process.cwd),
        }
    }

    /// The working directory of `pid` (`EBADF` if unknown).
    pub fn cwd(&self, pid: Pid) -> Result<u32, Errno> {
        self.processes.get(&pid).map(|p| p.cwd).ok_or(Errno::EBADF)
    }

    /// Sets the working directory of `pid` (which the caller holds) and
    /// returns the old one (for the caller to release).
    pub fn set_cwd(&mut self, pid: Pid, cwd: u32) -> Result<u32, Errno> {
        self.processes
            .get_mut(&pid)
            .map(|p| core::mem::replace(&mut p.cwd, cwd))
            .ok_or(Errno::EBADF)
    }

    /// The open file behind descriptor `fd` of `pid` (`EBADF` if none).
    pub fn file(&self, pid: Pid, fd: u64) -> Result<(FileId, &OpenFile), Errno> {
        let id = self.file_id(pid, fd)?;
        match self.files.get(id) {
            Some(Some(file)) => Ok((id, file)),
            _ => Err(Errno::EBADF),
        }
    }

    /// The open file `id`, to change its offset.
    pub fn file_mut(&mut self, id: FileId) -> Option<&mut OpenFile> {
        self.files.get_mut(id).and_then(Option::as_mut)
    }

    fn file_id(&self, pid: Pid, fd: u64) -> Result<FileId, Errno> {
        let process = self.processes.get(&pid).ok_or(Errno::EBADF)?;
        process.fds.get(fd).copied().ok_or(Errno::EBADF)
    }

    /// The descriptor table of `pid` (`EBADF` if unknown), for
    /// `common::file::open` to check, before it changes anything, that a
    /// descriptor is free.
    pub fn descriptors(&self, pid: Pid) -> Result<&FdTable<FileId>, Errno> {
        self.processes.get(&pid).map(|p| &p.fds).ok_or(Errno::EBADF)
    }

    /// Installs `file` at the lowest free descriptor of `pid`. Errors:
    /// `EMFILE` (the table is full: `file` is given back), `EBADF`.
    pub fn install(&mut self, pid: Pid, mut file: OpenFile) -> Result<u64, (Errno, OpenFile)> {
        let Some(process) = self.processes.get_mut(&pid) else {
            return Err((Errno::EBADF, file));
        };
        // The slot the file will take: a free one, or a new one at the end.
        let id = self
            .files
            .iter()
            .position(Option::is_none)
            .unwrap_or(self.files.len());
        let Ok(fd) = process.fds.insert(id) else {
            return Err((Errno::EMFILE, file));
        };
        file.refs = 1;
        if id == self.files.len() {
            self.files.push(Some(file));
        } else {
            self.files[id] = Some(file);
        }
        Ok(fd)
    }

    /// `dup(fd)`: the lowest free descriptor, sharing the open file.
    pub fn dup(&mut self, pid: Pid, fd: u64) -> Result<u64, Errno> {
        let id = self.file_id(pid, fd)?;
        let process = self.processes.get_mut(&pid).ok_or(Errno::EBADF)?;
        let new = process.fds.insert(id).map_err(|_id| Errno::EMFILE)?;
        if let Some(Some(file)) = self.files.get_mut(id) {
            file.refs += 1;
        }
        Ok(new)
    }

    /// `close(fd)`: frees the descriptor; returns the open file if that was
    /// its last reference (the caller closes it).
    pub fn close(&mut self, pid: Pid, fd: u64) -> Result<Option<OpenFile>, Errno> {
        let process = self.processes.get_mut(&pid).ok_or(Errno::EBADF)?;
        let id = process.fds.remove(fd).ok_or(Errno::EBADF)?;
        Ok(self.unref(id))
    }

    /// Drops one reference to `id`; returns the file if it was the last.
    fn unref(&mut self, id: FileId) -> Option<OpenFile> {
        let slot = self.files.get_mut(id)?;
        let file = slot.as_mut()?;
        file.refs -= 1;
        if file.refs == 0 { slot.take() } else { None }
    }

    /// Number of open file descriptions (for tests and leak checks).
    pub fn open_files(&self) -> usize {
        self.files.iter().flatten().count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::abi::fs::MAX_OPEN_FILES;

    fn inode(ino: u32) -> OpenFile {
        OpenFile::new(FileKind::Inode(ino), true, true)
    }

    #[test]
    fn descriptors_are_lowest_free_and_shared_by_dup() {
        let mut tables = Tables::new();
        tables.process_created(1, 100, 0).unwrap();
        assert_eq!(tables.pid_of(100), Some(1));
        assert_eq!(tables.install(1, inode(12)), Ok(0));
        assert_eq!(tables.install(1, inode(13)), Ok(1));
        assert_eq!(tables.dup(1, 0), Ok(2));
        let (id, _) = tables.file(1, 2).unwrap();
        tables.file_mut(id).unwrap().offset = 77;
        assert_eq!(
            tables.file(1, 0).unwrap().1.offset,
            77,
            "dup shares the offset"
        );
        assert_eq!(tables.close(1, 0), Ok(None), "fd 2 still refers to it");
        assert_eq!(
            tables.install(1, inode(14)),
            Ok(0),
            "lowest free descriptor"
        );
        let last = tables.close(1, 2).unwrap().expect("last reference");
        assert_eq!(last.kind, FileKind::Inode(12));
        assert_eq!(tables.close(1, 2), Err(Errno::EBADF));
        assert_eq!(tables.file(1, u64::MAX).err(), Some(Errno::EBADF));
        assert_eq!(tables.file(1, 16).err(), Some(Errno::EBADF));
        assert_eq!(
            tables.file(2, 0).err(),
            Some(Errno::EBADF),
            "unknown process"
        );
    }

    #[test]
    fn fork_shares_open_files_and_exit_closes_the_last_reference() {
        let mut tables = Tables::new();
        assert_eq!(tables.process_created(1, 100, 0), Ok(Some(ROOT_INO)));
        tables.install(1, inode(12)).unwrap();
        assert_eq!(
            tables.set_cwd(1, 30),
            Ok(ROOT_INO),
            "the old one to release"
        );
        assert_eq!(
            tables.process_created(2, 200, 1),
            Ok(Some(30)),
            "the parent's working directory, for the child to hold"
        );
        assert_eq!(tables.pid_of(200), Some(2));
        let (id, _) = tables.file(2, 0).unwrap();
        tables.file_mut(id).unwrap().offset = 5;
        assert_eq!(
            tables.file(1, 0).unwrap().1.offset,
            5,
            "fork shares the offset"
        );
        let exited = tables.process_exited(1);
        assert!(exited.files.is_empty(), "the child still holds it");
        assert_eq!(exited.cwd, Some(30));
        assert_eq!(tables.pid_of(100), None);
        let exited = tables.process_exited(2);
        assert_eq!((exited.files.len(), exited.cwd), (1, Some(30)));
        assert_eq!(tables.open_files(), 0);
        assert_eq!(tables.process_exited(2), Exited::default(), "gone already");
        assert_eq!(tables.process_created(3, 300, 9), Err(Errno::ESRCH));
        assert_eq!(tables.process_created(0, 300, 0), Err(Errno::EINVAL));
    }

    #[test]
    fn the_table_fills_up_with_emfile() {
        let mut tables = Tables::new();
        tables.process_created(1, 100, 0).unwrap();
        for fd in 0..MAX_OPEN_FILES as u64 {
            assert_eq!(tables.install(1, inode(20)), Ok(fd));
        }
        assert_eq!(tables.descriptors(1).map(FdTable::has_free), Ok(false));
        assert_eq!(tables.descriptors(2).err(), Some(Errno::EBADF));
        assert!(matches!(
            tables.install(1, inode(21)),
            Err((Errno::EMFILE, _))
        ));
        assert_eq!(tables.dup(1, 0), Err(Errno::EMFILE));
        assert_eq!(tables.process_exited(1).files.len(), MAX_OPEN_FILES);
    }

    #[test]
    fn a_new_thread_for_a_known_pid_keeps_its_files() {
        let mut tables = Tables::new();
        tables.process_created(1, 100, 0).unwrap();
        tables.install(1, inode(12)).unwrap();
        tables.set_cwd(1, 40).unwrap();
        assert_eq!(
            tables.process_created(1, 101, 0),
            Ok(None),
            "nothing new to hold"
        );
        assert_eq!(tables.pid_of(100), None);
        assert_eq!(tables.pid_of(101), Some(1));
        assert!(tables.file(1, 0).is_ok());
        assert_eq!(tables.cwd(1), Ok(40));
    }
}
