//! [`FdTable`]: a process's file descriptors.
//!
//! A file descriptor is an index into this table; the entry refers to an
//! *open file description* (POSIX's name), which `dup` and `fork` share
//! with its offset. The table is generic over what an entry is, because
//! the two kernels refer to open files differently:
//!
//! | kernel       | entry `T`            | sharing and closing                               |
//! |--------------|----------------------|---------------------------------------------------|
//! | mono-kernel  | `Rc<File>`           | `Rc` counts the references; the last drop closes  |
//! | vfs server   | `FileId` (an index)  | the vfs tables count references; the last `close` hands the file back |
//!
//! Either way the table's rules are the same: `open`, `dup` and `pipe` take
//! the **lowest free descriptor** (a shell redirects output by closing 1
//! and opening a file), a process has [`MAX_OPEN_FILES`] of them, and any
//! other number — negative, too large — is simply not open.

use crate::abi::fs::MAX_OPEN_FILES;

/// A process's file descriptors: `MAX_OPEN_FILES` slots, each empty or
/// holding an entry `T` that refers to an open file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FdTable<T> {
    slots: [Option<T>; MAX_OPEN_FILES],
}

impl<T> Default for FdTable<T> {
    fn default() -> FdTable<T> {
        FdTable::new()
    }
}

impl<T> FdTable<T> {
    /// No open descriptors.
    pub const fn new() -> FdTable<T> {
        FdTable {
            slots: [const { None }; MAX_OPEN_FILES],
        }
    }

    /// The entry of descriptor `fd`, if it is open. Any `u64` may be asked
    /// (a program passes what it likes); out of range is not open.
    pub fn get(&self, fd: u64) -> Option<&T> {
        self.slots.get(usize::try_from(fd).ok()?)?.as_ref()
    }

    /// Whether a descriptor is free (so `open` can check, before it
    /// changes anything, that it will be able to install the file).
    pub fn has_free(&self) -> bool {
        self.slots.iter().any(Option::is_none)
    }

    /// Installs `entry` at the lowest free descriptor and returns that
    /// descriptor; gives `entry` back if every descriptor is taken (the
    /// caller reports `EMFILE` and closes what it had opened).
    pub fn insert(&mut self, entry: T) -> Result<u64, T> {
        match self.slots.iter().position(Option::is_none) {
            Some(fd) => {
                self.slots[fd] = Some(entry);
                Ok(fd as u64)
            }
            None => Err(entry),
        }
    }

    /// Frees descriptor `fd` and returns its entry (`None` if it was not
    /// open). The caller closes the open file if this was its last
    /// reference — after letting go of any borrow of the table, as closing
    /// may wake other processes.
    pub fn remove(&mut self, fd: u64) -> Option<T> {
        self.slots.get_mut(usize::try_from(fd).ok()?)?.take()
    }

    /// The entries of the open descriptors, lowest descriptor first.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.slots.iter().flatten()
    }

    /// Frees every descriptor (`exit`) and returns the entries; the caller
    /// closes them.
    pub fn take_all(&mut self) -> [Option<T>; MAX_OPEN_FILES] {
        core::mem::replace(&mut self.slots, [const { None }; MAX_OPEN_FILES])
    }
}

impl<T: Clone> FdTable<T> {
    /// A table with the same entries (`fork`): with `Rc` entries the child
    /// shares every open file, offset included. (The vfs server, whose
    /// entries are plain indices, counts the new references itself.)
    pub fn share(&self) -> FdTable<T> {
        self.clone()
    }
}
