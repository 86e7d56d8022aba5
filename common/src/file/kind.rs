//! What an open file is ([`FileKind`]), and what `fstat` says of a pipe.

use crate::abi::fs::{FileType, Stat};
use crate::fs::Ino;

/// What an open file is. `P` is how the kernel names a pipe: a shared
/// `Rc<RefCell<Pipe>>` in the mono-kernel, an index into the pipe table
/// (`PipeId`) in the vfs server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind<P> {
    /// A file or directory of the root file system. The file system holds
    /// an `open_inode` reference for it until the file is closed.
    Inode(Ino),
    /// One end of a pipe.
    Pipe {
        /// The pipe.
        pipe: P,
        /// Which end: the write end if true.
        write_end: bool,
    },
    /// The console device, opened through its inode (`/dev/console`; held
    /// with `open_inode` too). Reads and writes go to the console driver
    /// (mono) or the console server (micro), not to the file system.
    Console(Ino),
    /// The null device, opened through its inode (`/dev/null`; held with
    /// `open_inode` too): reads return end of file, writes are discarded,
    /// by the mono-kernel or the vfs server itself.
    Null(Ino),
}

/// What `fstat` reports for a pipe: kind [`FileType::Pipe`], the bytes now
/// in it as the size, one link; every other field 0.
pub fn pipe_stat(bytes_in_pipe: usize) -> Stat {
    Stat {
        kind: FileType::Pipe as u32,
        size: bytes_in_pipe as u64,
        nlink: 1,
        ..Stat::default()
    }
}
