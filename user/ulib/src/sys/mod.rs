//! The back-end interface: how a system call reaches the operating system.
//!
//! Diptych runs the same user programs on two kernels. Everything above this
//! module (the safe wrappers in [`crate::process`] and [`crate::file`],
//! printing, the heap) is written once; only this module differs:
//!
//! | feature | module      | a call becomes                                   |
//! |---------|-------------|--------------------------------------------------|
//! | `mono`  | `mono.rs`   | the `syscall` instruction into the monolithic kernel |
//! | `micro` | `micro.rs`  | a call to a microkernel server (proc, vfs)        |
//!
//! The interface is deliberately *raw*: pointers, lengths and integers, the
//! way the kernel sees them, so that a back end is a thin translation and so
//! that `usertests` can pass bad pointers and bad numbers on purpose (to check
//! that the operating system rejects them with an error instead of
//! crashing). Programs use the safe wrappers instead.
//!
//! Every back end provides exactly these functions (all return the kernel's
//! answer decoded with [`Errno::from_return`](crate::Errno::from_return)):
//!
//! ```text
//! start(argc, argv)   called once by `_start` before `main` (set-up)
//! fork() -> pid (0 in the child)            exit(status) -> !
//! wait(*mut i32) -> pid                      pipe(*mut [i32; 2]) -> 0
//! read(fd, *mut u8, len) -> n                write(fd, *const u8, len) -> n
//! close(fd) -> 0                             kill(pid) -> 0
//! exec(*const u8 path, *const *const u8 argv) (returns only on error)
//! open(*const u8 path, flags) -> fd          mknod(path, major, minor) -> 0
//! unlink(path) -> 0                          fstat(fd, *mut Stat) -> 0
//! link(old, new) -> 0                        mkdir(path) -> 0
//! chdir(path) -> 0                           dup(fd) -> fd
//! getpid() -> pid                            sbrk(increment) -> old break
//! sleep(ticks) -> 0                          uptime() -> ticks
//! rename(old, new) -> 0                      getdents(fd, *mut u8, len) -> n
//! freemem() -> free pages                    trace(op, a, b) -> value
//! inject([component, fault, after, parameter]) -> server restarts
//! ```
//!
//! Paths are pointers to NUL-terminated byte strings. See `docs/user-abi.md`.

#[cfg(all(feature = "mono", not(feature = "micro")))]
mod mono;
#[cfg(all(feature = "mono", not(feature = "micro")))]
pub use mono::*;

#[cfg(feature = "micro")]
mod micro;
#[cfg(feature = "micro")]
pub use micro::*;

#[cfg(not(any(feature = "mono", feature = "micro")))]
compile_error!("ulib needs a back end: enable the `mono` feature (the default) or `micro`.");
