//! Safe wrappers for `mmap` and `munmap`: memory that is zeros, or a
//! file's bytes, made page by page at the first touch.
//!
//! ```ignore
//! let page = ulib::mmap_anonymous(4096, PROT_READ | PROT_WRITE)?;   // zeros
//! let text = ulib::mmap_file(size, PROT_READ, fd, 0)?;              // the file
//! unsafe { ulib::munmap(page, 4096)? };
//! ```
//!
//! Both kernels support private mappings only: writes to a file's pages
//! stay in the process and never reach the file (`MAP_SHARED` is
//! `EINVAL`). The numbers are `common::abi::mmap`'s (Linux's); the rules
//! are in `docs/user-abi.md`.

use crate::file::Fd;
use crate::{Errno, sys};
pub use common::abi::mmap::{
    MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, PROT_EXEC, PROT_NONE, PROT_READ, PROT_WRITE,
};

/// `mmap` with every argument as the kernel sees it (tests pass bad ones on
/// purpose). The hint is ignored by both kernels.
pub fn mmap(
    hint: u64,
    length: u64,
    prot: u32,
    flags: u32,
    fd: i32,
    offset: u64,
) -> Result<*mut u8, Errno> {
    // SAFETY: mmap only adds memory: nothing the program uses changes.
    unsafe { sys::mmap(hint, length, prot, flags, fd, offset) }.map(|address| address as *mut u8)
}

/// Maps `length` bytes of zero-filled memory, private to this process.
pub fn mmap_anonymous(length: usize, prot: u32) -> Result<*mut u8, Errno> {
    mmap(0, length as u64, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
}

/// Maps `length` bytes of the file open as `fd`, from `offset` (a multiple
/// of 4096), privately: writes stay in this process. The file needs to
/// have been opened for reading; the mapping outlives `fd`'s `close`.
pub fn mmap_file(length: usize, prot: u32, fd: Fd, offset: u64) -> Result<*mut u8, Errno> {
    mmap(0, length as u64, prot, MAP_PRIVATE, fd.0, offset)
}

/// Removes the mappings of `address..address + length`: touching the pages
/// afterwards kills the process.
///
/// # Safety
/// Nothing may still use the memory removed.
pub unsafe fn munmap(address: *mut u8, length: usize) -> Result<(), Errno> {
    // SAFETY: forwarded to the caller.
    unsafe { sys::munmap(address as u64, length as u64) }.map(|_| ())
}
