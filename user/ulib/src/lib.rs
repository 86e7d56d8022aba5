//! # ulib — Diptych's user library
//!
//! Every user program (`init`, `sh`, `cat`, `usertests`, ...) links this
//! library. It is the user-space half of the system-call contract described
//! in `docs/user-abi.md`:
//!
//! | module        | what it is                                                   |
//! |---------------|--------------------------------------------------------------|
//! | [`sys`]       | the back end: raw system calls (`mono`) or IPC (`micro`)     |
//! | [`process`]   | safe wrappers: fork, exit, wait, exec, kill, sbrk, sleep, ... |
//! | [`file`]      | safe wrappers: open, read, write, pipe, dup, fstat, ... and `read_dir` |
//! | [`mmap`]      | safe wrappers: `mmap` (zeros or a file's pages), `munmap`    |
//! | [`io`]        | `print!`/`println!`/`eprintln!`, reading lines               |
//! | [`fmtbuf`]    | the fixed buffer that turns one `print!` into one `write`    |
//! | [`cpath`]     | turning a Rust `&str` into the NUL-terminated path the kernel reads |
//! | [`dirent`]    | decoding the records `getdents` returns                      |
//! | [`cmdline`]   | the shell's command-line parser (pure, host-tested)          |
//! | [`regex`]     | grep's tiny regular-expression matcher (pure, host-tested)   |
//! | [`trace`]     | switching the kernel's trace on and off, reading its events  |
//! | `runtime`     | `_start`, the arguments, the panic handler (bare metal only) |
//! | `heap`        | the global allocator, grown with `sbrk` (bare metal only)    |
//!
//! A program looks like this:
//!
//! ```ignore
//! #![no_std]
//! #![no_main]
//! use ulib::{println, Args};
//!
//! fn main(args: Args) -> i32 {
//!     println!("hello from {}", args.get(0).unwrap_or("?"));
//!     0
//! }
//! ulib::entry!(main);
//! ```
//!
//! The pure parts (`cmdline`, `regex`, `fmtbuf`, `dirent`, `cpath`, `Args`
//! and `io::LineReader` over a fake source) have unit tests that run on the
//! host:
//! `cd user && cargo test -p ulib --target x86_64-unknown-linux-gnu --lib`.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

pub mod cmdline;
pub mod cpath;
pub mod dirent;
pub mod file;
pub mod fmtbuf;
pub mod io;
pub mod mmap;
pub mod process;
pub mod regex;
pub mod sys;
pub mod trace;

#[cfg(all(target_os = "none", not(test)))]
mod heap;
mod runtime;

pub use common::abi::errno::Errno;
pub use common::abi::fs::open_flags::{O_APPEND, O_CREATE, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY};
pub use common::abi::fs::pipe_flags::O_NONBLOCK;
pub use common::abi::fs::{CONSOLE_MAJOR, CONSOLE_MINOR, NULL_MAJOR};
pub use common::abi::fs::{FileType, Stat};
pub use common::abi::memory::USER_TOP;
pub use common::abi::syscall::{MAX_ARG_BYTES, MAX_ARGS, MAX_PATH, SysInfo};
// Every public item of the safe wrappers, without a list to keep in step:
// a new wrapper (`process::getppid`) is `ulib::getppid` as soon as it is
// written.
pub use file::*;
pub use mmap::{
    MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, PROT_EXEC, PROT_NONE, PROT_READ, PROT_WRITE,
    mmap_anonymous, mmap_file, munmap,
};
pub use process::*;
pub use runtime::Args;

/// The result of a system call: a value, or the error the kernel reported.
pub type SysResult<T> = Result<T, Errno>;
