//! Open files: what a file descriptor refers to.
//!
//! A file descriptor is an index into the process's [`FdTable`]; the entry
//! is a shared reference to a [`File`] — an *open file description* in
//! POSIX terms. `dup` and `fork` share the same `File`, and with it the
//! offset, as UNIX requires (a shell's `(echo a; echo b) > f` depends on it).
//! When the last reference goes, [`Drop`] closes it: a pipe end is closed
//! (waking whoever waits on the other end), an inode is released (freeing it
//! if it was unlinked while open).

use crate::fsys;
use crate::proc::Channel;
use crate::sched;
use alloc::rc::Rc;
use common::fs::Ino;
use common::pipe::{Pipe, Wakeup};
use core::cell::{Cell, RefCell};

/// Open files per process.
pub const MAX_OPEN_FILES: usize = 16;

/// What an open file is.
pub enum FileKind {
    /// A file or directory on the root file system.
    Inode(Ino),
    /// One end of a pipe.
    Pipe {
        /// The shared pipe.
        pipe: Rc<RefCell<Pipe>>,
        /// Which end: the write end if true.
        write_end: bool,
    },
    /// The console device, opened through its inode (`/dev/console`).
    Console(Ino),
}

/// An open file description.
pub struct File {
    /// What it refers to.
    pub kind: FileKind,
    /// Opened for reading.
    pub readable: bool,
    /// Opened for writing.
    pub writable: bool,
    /// Every write goes to the end (`O_APPEND`).
    pub append: bool,
    /// The offset of the next read or write (inodes only).
    pub offset: Cell<u64>,
}

impl File {
    /// A new open file description.
    pub fn new(kind: FileKind, readable: bool, writable: bool) -> File {
        File {
            kind,
            readable,
            writable,
            append: false,
            offset: Cell::new(0),
        }
    }
}

/// The channel pipe readers sleep on.
pub fn pipe_readers(pipe: &Rc<RefCell<Pipe>>) -> Channel {
    Channel::of(&**pipe)
}

/// The channel pipe writers sleep on (one byte past the readers' channel).
pub fn pipe_writers(pipe: &Rc<RefCell<Pipe>>) -> Channel {
    pipe_readers(pipe).with_offset(1)
}

/// Turns the shared code's wakeup report into wakeups.
pub fn deliver(pipe: &Rc<RefCell<Pipe>>, wakeup: Wakeup) {
    if wakeup.readers {
        sched::wakeup(pipe_readers(pipe));
    }
    if wakeup.writers {
        sched::wakeup(pipe_writers(pipe));
    }
}

impl Drop for File {
    fn drop(&mut self) {
        match &self.kind {
            FileKind::Pipe { pipe, write_end } => {
                let closed = if *write_end {
                    pipe.borrow_mut().close_writer()
                } else {
                    pipe.borrow_mut().close_reader()
                };
                if let Ok(wakeup) = closed {
                    deliver(pipe, wakeup);
                }
            }
            FileKind::Inode(ino) | FileKind::Console(ino) => {
                let mut fs = fsys::lock();
                if let Err(error) = fs.fs().release_inode(*ino) {
                    common::kprintln!("close: releasing inode {ino}: {error}");
                }
            }
        }
    }
}

/// A process's open files, indexed by file descriptor.
pub struct FdTable {
    slots: [Option<Rc<File>>; MAX_OPEN_FILES],
}

impl FdTable {
    /// No open files.
    pub const fn new() -> FdTable {
        FdTable {
            slots: [const { None }; MAX_OPEN_FILES],
        }
    }

    /// The file behind `fd`, if it is open.
    pub fn get(&self, fd: u64) -> Option<Rc<File>> {
        self.slots.get(usize::try_from(fd).ok()?)?.clone()
    }

    /// Installs `file` at the lowest free descriptor; `None` if all are taken.
    pub fn insert(&mut self, file: Rc<File>) -> Option<usize> {
        let fd = self.slots.iter().position(Option::is_none)?;
        self.slots[fd] = Some(file);
        Some(fd)
    }

    /// Removes `fd` and returns its file (dropping it may close the file:
    /// callers drop it after releasing any borrow of the table).
    pub fn remove(&mut self, fd: u64) -> Option<Rc<File>> {
        self.slots.get_mut(usize::try_from(fd).ok()?)?.take()
    }

    /// A table sharing every open file with this one (`fork`).
    pub fn share(&self) -> FdTable {
        FdTable {
            slots: self.slots.clone(),
        }
    }

    /// Removes every file (exit); the caller drops them.
    pub fn take_all(&mut self) -> [Option<Rc<File>>; MAX_OPEN_FILES] {
        core::mem::replace(&mut self.slots, [const { None }; MAX_OPEN_FILES])
    }
}
