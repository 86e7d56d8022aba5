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

crate::operations! {
    /// Every system call the monolithic kernel implements, numbered from 1
    /// in this order (the enum's values are the numbers; there is no
    /// second table to keep in step: `Sys::ALL`, `Sys::from_number` and
    /// `Sys::name` are derived from this list).
    pub enum Sys from 1 {
        /// `fork() -> pid` (0 in the child).
        Fork,
        /// `exit(status) -> !`.
        Exit,
        /// `wait(*mut i32 status) -> pid` of a child that exited.
        Wait,
        /// `pipe(*mut [i32; 2]) -> 0`.
        Pipe,
        /// `read(fd, buf, len) -> bytes read` (0 at end of file).
        Read,
        /// `kill(pid) -> 0`.
        Kill,
        /// `exec(path, argv) -> !` (returns only on error).
        Exec,
        /// `fstat(fd, *mut Stat) -> 0`.
        Fstat,
        /// `chdir(path) -> 0`.
        Chdir,
        /// `dup(fd) -> new fd`.
        Dup,
        /// `getpid() -> pid`.
        Getpid,
        /// `sbrk(increment) -> old break`.
        Sbrk,
        /// `sleep(ticks) -> 0` (a tick is 10 ms).
        Sleep,
        /// `uptime() -> ticks since boot`.
        Uptime,
        /// `open(path, flags) -> fd` (flags: [`super::fs::open_flags`]).
        Open,
        /// `write(fd, buf, len) -> bytes written`.
        Write,
        /// `mknod(path, major, minor) -> 0`.
        Mknod,
        /// `unlink(path) -> 0` (also removes empty directories).
        Unlink,
        /// `link(old, new) -> 0`.
        Link,
        /// `mkdir(path) -> 0`.
        Mkdir,
        /// `close(fd) -> 0`.
        Close,
        /// `rename(old, new) -> 0`.
        Rename,
        /// `getdents(fd, buf, len) -> bytes`: reads directory entries as a
        /// sequence of [`super::fs::DirentHeader`] + name records.
        Getdents,
        /// `freemem() -> free physical pages` (used by usertests' leak check).
        Freemem,
        /// `trace(op, a, b) -> ...`: switches tracing on and off and reads
        /// the recorded events ([`trace_ops`]).
        Trace,
        /// `sync() -> 0`: every change so far is on the disk (the journal's
        /// running transaction commits).
        Sync,
        /// `fsync(fd) -> 0`: the file's changes (and, as the transaction is
        /// shared, every change so far) are on the disk.
        Fsync,
        /// `mmap(hint, length, prot, flags, fd, offset) -> address`: maps
        /// zero-filled memory or a file's pages, privately, at an address
        /// the kernel chooses ([`super::mmap`], `common::mm::mmap`).
        Mmap,
        /// `munmap(address, length) -> 0`: removes mappings `mmap` made.
        Munmap,
        // LAB syscall BEGIN
        /// `getppid() -> pid` of the caller's parent (1, init, once the
        /// parent has exited).
        Getppid,
        /// `sysinfo(*mut SysInfo) -> 0`: free memory and the number of
        /// processes, copied out to the caller.
        Sysinfo,
        // LAB syscall STUB
        // LAB syscall END
        // LAB pipe BEGIN
        /// `pipe2(*mut [i32; 2], flags) -> 0`: `pipe` with flags
        /// ([`super::fs::pipe_flags`]); `O_NONBLOCK` makes both ends
        /// non-blocking (`common::pipe::Mode`).
        Pipe2,
        // LAB pipe STUB
        // LAB pipe END
        // LAB fs BEGIN
        /// `symlink(target, path) -> 0`: a symbolic link `path` whose
        /// contents are `target` (not looked up).
        Symlink,
        /// `readlink(path, buf, len) -> bytes`: the target of the symbolic
        /// link `path` (not followed), not NUL-terminated, cut at `len`.
        Readlink,
        // LAB fs STUB
        // LAB fs END
    }
}

/// What `sysinfo` copies out to the caller (lab `syscall`), the same on
/// both kernels: 16 bytes, two little-endian words.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SysInfo {
    /// Free physical memory, in bytes (the free pages that `freemem`
    /// counts, times 4096).
    pub freemem: u64,
    /// Processes in the process table, zombies included.
    pub nproc: u64,
}

impl SysInfo {
    /// Its size as the kernel copies it.
    pub const BYTES: usize = 16;

    /// The bytes the kernel copies out.
    pub fn to_bytes(&self) -> [u8; SysInfo::BYTES] {
        let mut bytes = [0; SysInfo::BYTES];
        bytes[..8].copy_from_slice(&self.freemem.to_le_bytes());
        bytes[8..].copy_from_slice(&self.nproc.to_le_bytes());
        bytes
    }
}

impl Sys {
    /// The number one past the largest system call.
    pub const COUNT: u64 = Sys::ALL.len() as u64 + 1;

    /// The call's number (what `rax` holds).
    pub const fn number(self) -> u64 {
        self.label()
    }

    /// Decodes a system-call number, or `None` if no such call exists.
    pub fn from_number(n: u64) -> Option<Sys> {
        Sys::from_label(n)
    }
}

/// The operations of the `trace` system call (its first argument), the
/// same on both kernels (the microkernel's is `abi::micro::Sys::Trace`).
pub mod trace_ops {
    /// `trace(ON, 0, 0) -> 0`: forget what was recorded, start recording.
    pub const ON: u64 = 1;
    /// `trace(OFF, 0, 0) -> events recorded`: stop recording.
    pub const OFF: u64 = 2;
    /// `trace(READ, buffer, length) -> events copied`: copies the recorded
    /// events (each [`EVENT_BYTES`] bytes, see [`crate::trace::Event`]'s
    /// wire form) from the first not yet read; 0 when all were read.
    pub const READ: u64 = 3;
    /// `trace(RECORD, kind, args pointer) -> 0` (microkernel servers only):
    /// adds one event of the caller's, at the time in `args[3]`.
    pub const RECORD: u64 = 4;
    /// Bytes of one event as `READ` copies it: time, place, thread, kind
    /// and three arguments, as eight little-endian words
    /// (`crate::trace::Event::to_words`).
    pub const EVENT_BYTES: usize = 64;
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

    #[test]
    fn sysinfo_is_two_little_endian_words() {
        let info = SysInfo {
            freemem: 0x1000,
            nproc: 3,
        };
        assert_eq!(core::mem::size_of::<SysInfo>(), SysInfo::BYTES);
        let bytes = info.to_bytes();
        assert_eq!(bytes[1], 0x10);
        assert_eq!(bytes[8], 3);
    }
}
