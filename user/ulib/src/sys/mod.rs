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
//! mmap(hint, length, prot, flags, fd, offset) -> address
//! munmap(address, length) -> 0
//! getppid() -> pid                           sysinfo(*mut SysInfo) -> 0
//! pipe2(*mut [i32; 2], flags) -> 0
//! symlink(target, path) -> 0                 readlink(path, *mut u8, len) -> n
//! ```
//!
//! A function one back end has and the other lacks fails the build of the
//! other (its wrapper calls `sys::NAME`), and fails a host test sooner
//! (`back_ends_define_the_same_calls` below), which names it.
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

#[cfg(test)]
mod tests {
    use alloc::collections::BTreeSet;
    use alloc::string::String;
    use alloc::vec::Vec;

    /// The `pub fn` (and `pub unsafe fn`) names in a back end's source.
    fn calls(source: &str) -> BTreeSet<String> {
        source
            .lines()
            .filter_map(|line| {
                let rest = line
                    .strip_prefix("pub fn ")
                    .or_else(|| line.strip_prefix("pub unsafe fn "))?;
                Some(rest.split(['(', '<']).next()?.trim().into())
            })
            .collect()
    }

    #[test]
    fn back_ends_define_the_same_calls() {
        let mono = calls(include_str!("mono.rs"));
        let micro = calls(include_str!("micro.rs"));
        assert!(mono.contains("getpid") && micro.contains("getpid"));
        let only_mono: Vec<&String> = mono.difference(&micro).collect();
        let only_micro: Vec<&String> = micro.difference(&mono).collect();
        assert!(
            only_mono.is_empty() && only_micro.is_empty(),
            "each back end must define every call: sys/micro.rs lacks {only_mono:?}, \
             sys/mono.rs lacks {only_micro:?}"
        );
    }
}
