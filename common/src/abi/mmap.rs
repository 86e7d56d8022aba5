//! The numbers of `mmap` and `munmap`: protections and flags.
//!
//! The values are Linux's, so a C programmer recognises them. What each
//! kernel does with them is one set of rules, `common::mm::mmap`
//! (`MmapArgs::check`). What a program may rely on:
//!
//! | supported | meaning |
//! |---|---|
//! | `MAP_PRIVATE \| MAP_ANONYMOUS` | zero-filled memory, private to the process (copy-on-write after `fork`) |
//! | `MAP_PRIVATE` with a file descriptor | the file's bytes, read page by page at the first touch; writes stay private (never written back) |
//! | `MAP_SHARED`, `MAP_FIXED`, any other flag | refused with `EINVAL` |
//!
//! The address argument is a hint, and both kernels ignore it (as Linux
//! may): a mapping goes wherever there is room in `MMAP_BASE..MMAP_TOP`
//! (`common::abi::memory`).

/// Pages may not be accessed at all.
pub const PROT_NONE: u32 = 0x0;
/// Pages may be read.
pub const PROT_READ: u32 = 0x1;
/// Pages may be written (on x86_64 a writable page is readable too).
pub const PROT_WRITE: u32 = 0x2;
/// Pages may be executed.
pub const PROT_EXEC: u32 = 0x4;
/// Every protection bit; others are refused with `EINVAL`.
pub const PROT_KNOWN: u32 = PROT_READ | PROT_WRITE | PROT_EXEC;

/// Changes are shared with other mappings of the file and written back
/// (not supported: `EINVAL`).
pub const MAP_SHARED: u32 = 0x01;
/// Changes are private to the process: copy-on-write.
pub const MAP_PRIVATE: u32 = 0x02;
/// Place the mapping exactly at the address given (not supported: `EINVAL`).
pub const MAP_FIXED: u32 = 0x10;
/// Not backed by a file: zero-filled (the descriptor and offset are ignored).
pub const MAP_ANONYMOUS: u32 = 0x20;
/// Every flag `mmap` understands (some only to refuse them).
pub const MAP_KNOWN: u32 = MAP_SHARED | MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS;

/// The value `mmap` returns on failure in C (`(void *) -1`); Diptych's
/// `ulib` returns an `Errno` instead, so programs never see it.
pub const MAP_FAILED: u64 = u64::MAX;

/// The most mappings a process may have at once (`ENOMEM` beyond, also
/// for an `munmap` that would split one mapping in two): the kernels keep
/// them in a list, which must not grow without bound.
pub const MAX_MAPPINGS: usize = 64;
