//! The rules of the file calls, written once for both kernels.
//!
//! `open`, `chdir`, `mkdir`, `mknod`, `unlink`, `link` and `rename` obey the
//! same rules on both kernels: which flags are allowed, what an empty path
//! means, when `O_CREATE` creates, that a directory opened for writing is
//! `EISDIR`, which device is the console, when `O_TRUNC` truncates, that
//! `unlink` of a directory is `rmdir`... Those rules live here, once, as
//! plain functions. What differs between the kernels is only how they reach
//! the file system, so each supplies that as an implementation of one
//! trait, [`FileSystem`]:
//!
//! | the rules call                  | mono-kernel (`sys_file.rs`)                    | micro-kernel (vfs server, `calls.rs`) |
//! |---------------------------------|------------------------------------------------|---------------------------------------|
//! | [`FileSystem::lookup`]          | `Ext2::lookup` + `Ext2::stat`, under `fsys::lock()` | ⇒ fs `Lookup`                    |
//! | [`FileSystem::lookup_parent`]   | `Ext2::lookup_parent`                          | ⇒ fs `LookupParent`                   |
//! | [`FileSystem::create_file`] ... | `Ext2::create_file` ...                        | ⇒ fs `Create` ...                     |
//!
//! The mono-kernel's implementation is `Ext2` itself (in
//! `file_system.rs`); the vfs server's sends fs requests. A kernel then
//! turns what the rules return into its own objects: an `Rc<File>` in the
//! process's [`FdTable`] (mono), or an `OpenFile` in the vfs server's
//! tables (micro).
//!
//! ```text
//!   sys_file::open (mono)                      vfs calls.rs open (micro)
//!     OpenFlags::parse, copy the path in         OpenFlags::parse
//!        └──────────────┬────────────────────────────┘
//!                       ▼
//!   file::open(fs, descriptors, cwd, path, flags)     the rules (open.rs)
//!                       │ fs.lookup, fs.create_file, fs.truncate, fs.open_inode
//!        ┌──────────────┴────────────────────────────┐
//!   impl FileSystem for Ext2                     impl FileSystem for FsServer
//!   (direct calls, under the fs lock)            (IPC to the fs server)
//! ```
//!
//! ## Files of this module
//!
//! | file             | what                                                        |
//! |------------------|-------------------------------------------------------------|
//! | `file_system.rs` | [`FileSystem`], [`Found`], and `impl FileSystem for Ext2`   |
//! | `open.rs`        | [`OpenFlags`], [`open`], [`Opened`]                         |
//! | `names.rs`       | [`check_path`], [`chdir`], [`mkdir`], [`mknod`], [`unlink`], [`link`], [`rename`] |
//! | `fd_table.rs`    | [`FdTable`]: descriptor → open file, lowest free first     |
//! | `kind.rs`        | [`FileKind`]: what an open file is; [`pipe_stat`]          |
//! | `tests.rs`       | host tests of every rule, against a fake file system       |
//!
//! ## Sans-IO
//!
//! Nothing here waits or knows of processes, a scheduler or IPC: the
//! functions take the file system, the caller's working directory and
//! descriptor table as arguments and return what happened. A
//! [`FileSystem`] implementation may wait (the mono-kernel's sleeps on the
//! disk, the vfs server's waits for the fs server's reply) — the same one
//! exception the shared code makes for `BlockDevice`, and for the same
//! reason: the rules read as straight-line code.

mod fd_table;
mod file_system;
mod kind;
mod names;
mod open;
#[cfg(test)]
mod tests;

pub use fd_table::FdTable;
pub use file_system::{FileSystem, Found};
pub use kind::{FileKind, pipe_stat};
pub use names::{
    chdir, check_path, device_numbers, link, mkdir, mknod, readlink, rename, symlink, unlink,
};
pub use open::{OpenFlags, Opened, open};
