//! The application binary interface shared by kernels, servers and `ulib`.
//!
//! One definition of every number that crosses a protection boundary, so the
//! user library and the kernel cannot disagree:
//! - [`syscall`]: the monolithic kernel's system-call numbers and register
//!   convention;
//! - [`errno`]: error codes returned by system calls and servers;
//! - [`exception`]: the names of the CPU exceptions, for fault messages;
//! - [`micro`]: the microkernel's system calls, message tags, error codes;
//! - [`proto`]: the microkernel servers' protocols, as types;
//! - [`fs`]: file-system types user programs see (`Stat`, open flags,
//!   directory entries, the descriptor limit, the console's device numbers);
//! - [`memory`]: the layout of a user address space (where user space ends,
//!   where the stack is, where `mmap` puts its mappings);
//! - [`mmap`]: `mmap`'s protections and flags;
//! - [`inject`]: fault injection (components, faults, the request).

pub mod errno;
pub mod exception;
pub mod fs;
pub mod inject;
pub mod memory;
pub mod micro;
pub mod mmap;
pub mod proto;
pub mod syscall;
