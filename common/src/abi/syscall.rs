//! System-call numbers of the monolithic kernel, and the register convention.
//!
//! A user program executes `syscall` with
//!
//! | register | holds                                   |
//! |----------|-----------------------------------------|
//! | `rax`    | the system-call number (below)          |
//! | `rdi`, `rsi`, `rdx`, `r10`, `r8`, `r9` | arguments 0..6 |
//!
//! (`rcx` and `r11` are taken by the `syscall` instruction itself, which is
//! why the fourth argument travels in `r10`, as on Linux.) The result comes
//! back in `rax`: a value `>= 0` on success, or `-errno` (see
//! [`super::errno::Errno`]) on failure.
//!
//! The numbering follows xv6's so a student can compare with its `syscall.h`.

/// Every system call the monolithic kernel implements.
#[repr(u64)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sys {
    /// `fork() -> pid` (0 in the child).
    Fork = 1,
    /// `exit(status) -> !`.
    Exit = 2,
    /// `wait(*mut i32 status) -> pid` of a child that exited.
    Wait = 3,
    /// `pipe(*mut [i32; 2]) -> 0`.
    Pipe = 4,
    /// `read(fd, buf, len) -> bytes read` (0 at end of file).
    Read = 5,
    /// `kill(pid) -> 0`.
    Kill = 6,
    /// `exec(path, argv) -> !` (returns only on error).
    Exec = 7,
    /// `fstat(fd, *mut Stat) -> 0`.
    Fstat = 8,
    /// `chdir(path) -> 0`.
    Chdir = 9,
    /// `dup(fd) -> new fd`.
    Dup = 10,
    /// `getpid() -> pid`.
    Getpid = 11,
    /// `sbrk(increment) -> old break`.
    Sbrk = 12,
    /// `sleep(ticks) -> 0` (a tick is 10 ms).
    Sleep = 13,
    /// `uptime() -> ticks since boot`.
    Uptime = 14,
    /// `open(path, flags) -> fd` (flags: [`super::fs::OpenFlags`]).
    Open = 15,
    /// `write(fd, buf, len) -> bytes written`.
    Write = 16,
    /// `mknod(path, major, minor) -> 0`.
    Mknod = 17,
    /// `unlink(path) -> 0` (also removes empty directories).
    Unlink = 18,
    /// `link(old, new) -> 0`.
    Link = 19,
    /// `mkdir(path) -> 0`.
    Mkdir = 20,
    /// `close(fd) -> 0`.
    Close = 21,
    /// `rename(old, new) -> 0`.
    Rename = 22,
    /// `getdents(fd, buf, len) -> bytes`: reads directory entries as a
    /// sequence of [`super::fs::DirentHeader`] + name records.
    Getdents = 23,
    /// `freemem() -> free physical pages` (used by usertests' leak check).
    Freemem = 24,
    /// `rdtsc-stamped trace control` — reserved for the tracing tools.
    Trace = 25,
    /// `sync() -> 0`: every change so far is on the disk (the journal's
    /// running transaction commits).
    Sync = 26,
    /// `fsync(fd) -> 0`: the file's changes (and, as the transaction is
    /// shared, every change so far) are on the disk.
    Fsync = 27,
}

impl Sys {
    /// The number one past the largest system call.
    pub const COUNT: u64 = 28;

    /// Decodes a system-call number, or `None` if no such call exists.
    pub fn from_number(n: u64) -> Option<Sys> {
        use Sys::*;
        const ALL: [Sys; 27] = [
            Fork, Exit, Wait, Pipe, Read, Kill, Exec, Fstat, Chdir, Dup, Getpid, Sbrk, Sleep,
            Uptime, Open, Write, Mknod, Unlink, Link, Mkdir, Close, Rename, Getdents, Freemem,
            Trace, Sync, Fsync,
        ];
        ALL.iter().copied().find(|s| *s as u64 == n)
    }
}

/// Largest number of arguments `exec` passes to a program.
pub const MAX_ARGS: usize = 32;
/// Largest total size in bytes of the argument strings `exec` copies.
pub const MAX_ARG_BYTES: usize = 4096;
/// Largest path a system call accepts, in bytes (without the terminating
/// NUL). A single name may be up to 255 bytes (ext2's limit); a path of
/// several names may be longer.
pub const MAX_PATH: usize = 1023;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip() {
        for n in 0..Sys::COUNT + 5 {
            if let Some(s) = Sys::from_number(n) {
                assert_eq!(s as u64, n);
            }
        }
        assert_eq!(Sys::from_number(0), None);
        assert_eq!(Sys::from_number(11), Some(Sys::Getpid));
        assert_eq!(Sys::from_number(Sys::COUNT), None);
    }
}
