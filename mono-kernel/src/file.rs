//! Open files: what a file descriptor refers to.
//!
//! A file descriptor is an index into the process's [`FdTable`] (the shared
//! `common::file::FdTable`, whose entries here are `Rc<File>`); the entry is
//! a shared reference to a [`File`] — an *open file description* in POSIX
//! terms. `dup` and `fork` share the same `File`, and with it the offset, as
//! UNIX requires (a shell's `(echo a; echo b) > f` depends on it). When the
//! last reference goes, [`Drop`] closes it: a pipe end is closed (waking
//! whoever waits on the other end), an inode is released (freeing it if it
//! was unlinked while open).

use crate::fsys;
use crate::proc::Channel;
use crate::sched;
use alloc::rc::Rc;
use common::pipe::{Mode, Pipe, Wakeup};
use core::cell::{Cell, RefCell};

/// What an open file is: an inode, a pipe end (the pipe shared by `Rc`
/// between its two ends), or the console (`common::file::FileKind`).
pub type FileKind = common::file::FileKind<Rc<RefCell<Pipe>>>;

/// A process's open files, indexed by file descriptor: the lowest free
/// descriptor first, `MAX_OPEN_FILES` of them (`common::file::FdTable`).
pub type FdTable = common::file::FdTable<Rc<File>>;

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
    /// Whether a pipe read or write waits (`pipe2`'s `O_NONBLOCK`; pipe
    /// ends only, and shared by `dup` and `fork` with the open file).
    pub mode: Mode,
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
            mode: Mode::Blocking,
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

/// Turns the shared code's wakeup report into wakeups. (`#[inline]`: it is
/// on every pipe read and write, and left unmarked, whether the compiler
/// inlines it changes with unrelated edits to the kernel.)
#[inline]
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
            FileKind::Inode(ino) | FileKind::Console(ino) | FileKind::Null(ino) => {
                let mut fs = fsys::lock();
                if let Err(error) = fs.fs().release_inode(*ino) {
                    common::kprintln!("close: releasing inode {ino}: {error}");
                }
            }
        }
    }
}
