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
pub mod process;
pub mod regex;
pub mod sys;
pub mod trace;

#[cfg(all(target_os = "none", not(test)))]
mod heap;
mod runtime;

pub use common::abi::errno::Errno;
pub use common::abi::fs::open_flags::{O_APPEND, O_CREATE, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY};
pub use common::abi::fs::{CONSOLE_MAJOR, CONSOLE_MINOR, NULL_MAJOR};
pub use common::abi::fs::{FileType, Stat};
pub use common::abi::inject::{Component, Fault, Injection};
pub use common::abi::memory::USER_TOP;
pub use common::abi::syscall::{MAX_ARG_BYTES, MAX_ARGS, MAX_PATH};
pub use common::inject::BAD_POINTER;
pub use file::{
    Fd, chdir, close, dup, fstat, fsync, getdents, link, mkdir, mknod, open, pipe, read, read_dir,
    read_full, rename, stat, sync, unlink, write, write_all,
};
pub use process::{
    ForkResult, KILLED_STATUS, Pid, exec, exit, fork, freemem, getpid, inject, kill, rdtsc,
    restarts, sbrk, sleep, uptime, wait,
};
pub use runtime::Args;

/// The result of a system call: a value, or the error the kernel reported.
pub type SysResult<T> = Result<T, Errno>;
