//! The process server's protocol: what a user program asks `proc`
//! (`micro-kernel/user/proc/`), and the start-up block `proc` leaves on
//! every new program's stack.
//!
//! Every request is a *call*: the program sends and waits for the reply.
//! The caller is identified by the sender thread id the kernel delivers,
//! never by a field of the message. Pointers in requests (`Exec`'s path and
//! argv, `Wait`'s status) are addresses in the *caller's* address space:
//! `proc` is the pager of every user process, so it holds every page of the
//! caller's memory in its own address space and copies through them — the
//! microkernel's version of the monolithic kernel's `copyin`/`copyout`,
//! with the same `EFAULT` answers.
//!
//! | request   | words                      | reply (`Ok` value)                  |
//! |-----------|----------------------------|-------------------------------------|
//! | `Fork`    | resume rip, resume rsp     | child's pid (the child resumes at rip with rsp, `rdi` = 0) |
//! | `Exec`    | path address, argv address | none on success (the thread restarts in the new program) |
//! | `Exit`    | status                     | none (the process is gone)          |
//! | `Wait`    | status address (0: none)   | pid of a collected child            |
//! | `Kill`    | pid                        | 0                                   |
//! | `Getpid`  | —                          | pid                                 |
//! | `Sbrk`    | increment (i64)            | the old break                       |
//! | `Freemem` | —                          | free pages                          |
//! | `CheckRange` | address, length, write (0/1) | 0 if every byte is memory the caller may read (write, if asked); `EFAULT` otherwise |
//!
//! A reply is [`encode_reply`] of a `Result<u64, Errno>`, in the reply
//! convention of the other servers (`reply.rs`): `REPLY_OK` with the value,
//! or `REPLY_ERROR` with the errno.

use super::{ProtoError, Wire, reply};
use crate::abi::errno::Errno;

/// Request labels.
pub const FORK: u64 = 0x101;
pub const EXEC: u64 = 0x102;
pub const EXIT: u64 = 0x103;
pub const WAIT: u64 = 0x104;
pub const KILL: u64 = 0x105;
pub const GETPID: u64 = 0x106;
pub const SBRK: u64 = 0x107;
pub const FREEMEM: u64 = 0x108;
pub const CHECK_RANGE: u64 = 0x109;

/// A request to `proc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcRequest {
    /// Copy the caller. The child starts at `resume_rip` with stack pointer
    /// `resume_rsp` and `rdi = 0`; everything else it needs (callee-saved
    /// registers) the caller saved on that stack (see ulib's fork stub).
    Fork { resume_rip: u64, resume_rsp: u64 },
    /// Replace the caller's program by the file at `path` (NUL-terminated),
    /// with the NULL-terminated argument vector at `argv` (0: no arguments).
    Exec { path: u64, argv: u64 },
    /// End the caller with `status`.
    Exit { status: i32 },
    /// Collect an exited child; store its status at `status_address` unless 0.
    Wait { status_address: u64 },
    /// Terminate process `pid` (any value: unknown pids give `ESRCH`).
    Kill { pid: u64 },
    /// The caller's pid.
    Getpid,
    /// Move the program break by `increment` bytes.
    Sbrk { increment: i64 },
    /// The number of free pages.
    Freemem,
    /// Whether `len` bytes at `address` are the caller's memory, readable
    /// (and writable, if `write`): ulib's micro back end asks before it
    /// copies a system call's result into, or a message out of, a buffer
    /// it cannot vouch for (the monolithic kernel's `copy_out` check).
    CheckRange { address: u64, len: u64, write: bool },
}

impl ProcRequest {
    /// Encodes the request.
    pub fn to_wire(&self) -> Wire<'static> {
        match *self {
            ProcRequest::Fork {
                resume_rip,
                resume_rsp,
            } => Wire::new(FORK, &[resume_rip, resume_rsp]),
            ProcRequest::Exec { path, argv } => Wire::new(EXEC, &[path, argv]),
            ProcRequest::Exit { status } => Wire::new(EXIT, &[status as i64 as u64]),
            ProcRequest::Wait { status_address } => Wire::new(WAIT, &[status_address]),
            ProcRequest::Kill { pid } => Wire::new(KILL, &[pid]),
            ProcRequest::Getpid => Wire::new(GETPID, &[]),
            ProcRequest::Sbrk { increment } => Wire::new(SBRK, &[increment as u64]),
            ProcRequest::Freemem => Wire::new(FREEMEM, &[]),
            ProcRequest::CheckRange {
                address,
                len,
                write,
            } => Wire::new(CHECK_RANGE, &[address, len, write as u64]),
        }
    }

    /// Decodes a request from an untrusted client.
    pub fn from_wire(wire: &Wire) -> Result<ProcRequest, ProtoError> {
        Ok(match wire.label {
            FORK => ProcRequest::Fork {
                resume_rip: wire.word(0)?,
                resume_rsp: wire.word(1)?,
            },
            EXEC => ProcRequest::Exec {
                path: wire.word(0)?,
                argv: wire.word(1)?,
            },
            EXIT => {
                let word = wire.word(0)?;
                let status = i32::try_from(word as i64).map_err(|_| ProtoError::BadValue(0))?;
                ProcRequest::Exit { status }
            }
            WAIT => ProcRequest::Wait {
                status_address: wire.word(0)?,
            },
            KILL => ProcRequest::Kill { pid: wire.word(0)? },
            GETPID => ProcRequest::Getpid,
            SBRK => ProcRequest::Sbrk {
                increment: wire.word(0)? as i64,
            },
            FREEMEM => ProcRequest::Freemem,
            CHECK_RANGE => ProcRequest::CheckRange {
                address: wire.word(0)?,
                len: wire.word(1)?,
                write: match wire.word(2)? {
                    0 => false,
                    1 => true,
                    _ => return Err(ProtoError::BadValue(2)),
                },
            },
            other => return Err(ProtoError::UnknownLabel(other)),
        })
    }
}

/// Encodes a reply.
pub fn encode_reply(result: Result<u64, Errno>) -> Wire<'static> {
    match result {
        Ok(value) => reply::ok(&[value]),
        Err(errno) => reply::error(errno),
    }
}

/// Decodes a reply; anything malformed reads as `EIO`.
pub fn decode_reply(wire: &Wire) -> Result<u64, Errno> {
    reply::expect_done(*wire)?.word(0).map_err(|_| Errno::EIO)
}

/// The first word of the auxiliary block ("DIPTYCH!" would not fit the
/// point: an unlikely number, so a program started some other way — by
/// Linux, by the mono-kernel — is never mistaken for a micro one).
pub const AUX_MAGIC: u64 = 0xd1b7_c4a0_05e7_0001;

/// Words of the auxiliary block.
pub const AUX_WORDS: usize = 4;

/// The auxiliary block: right after the NULL that ends `argv` on a new
/// program's stack, `proc` writes `[AUX_MAGIC, proc, vfs, console]` — the
/// thread ids a program needs to reach the servers (docs/servers.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuxBlock {
    pub proc: u64,
    pub vfs: u64,
    pub console: u64,
}

impl AuxBlock {
    /// The words as they lie on the stack.
    pub fn to_words(&self) -> [u64; AUX_WORDS] {
        [AUX_MAGIC, self.proc, self.vfs, self.console]
    }

    /// Reads the block from the words after argv's NULL; `None` if the
    /// magic number is missing or an id is 0.
    pub fn from_words(words: &[u64]) -> Option<AuxBlock> {
        match *words {
            [AUX_MAGIC, proc, vfs, console, ..] if proc != 0 && vfs != 0 && console != 0 => {
                Some(AuxBlock { proc, vfs, console })
            }
            _ => None,
        }
    }
}

/// Where everything goes on a new program's stack (the layout of
/// docs/user-abi.md, plus the auxiliary block after argv's NULL):
///
/// ```text
///   stack_top ─▶ argument strings (last argument highest), NUL-terminated
///                (aligned down to 16)
///                AUX_MAGIC, proc, vfs, console     ← aux block
///                NULL
///                argv[argc-1] ... argv[0]
///   rsp ───────▶ argc
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackLayout {
    /// The initial stack pointer (points at argc, 16-byte aligned).
    pub rsp: u64,
    /// Where each argument string starts, in argument order.
    pub string_addresses: [u64; crate::abi::syscall::MAX_ARGS],
}

impl StackLayout {
    /// Plans the stack for arguments of the given lengths (without NULs)
    /// below `stack_top`, or `None` if they need more than `limit` bytes.
    pub fn plan(stack_top: u64, lengths: &[usize], limit: u64) -> Option<StackLayout> {
        if lengths.len() > crate::abi::syscall::MAX_ARGS {
            return None;
        }
        let strings: u64 = lengths.iter().map(|&length| length as u64 + 1).sum();
        let words = (1 + lengths.len() + 1 + AUX_WORDS) as u64 * 8;
        if strings + words + 64 > limit {
            return None;
        }
        let mut string_addresses = [0u64; crate::abi::syscall::MAX_ARGS];
        let mut cursor = stack_top;
        for (address, &length) in string_addresses.iter_mut().zip(lengths) {
            cursor -= length as u64 + 1;
            *address = cursor;
        }
        Some(StackLayout {
            rsp: (cursor - words) & !0xf,
            string_addresses,
        })
    }

    /// The words from `rsp` upwards: argc, argv[..], NULL, the aux block.
    pub fn words(&self, argc: usize, aux: &AuxBlock, out: &mut [u64]) -> usize {
        let mut at = 0;
        out[at] = argc as u64;
        at += 1;
        for &address in &self.string_addresses[..argc] {
            out[at] = address;
            at += 1;
        }
        out[at] = 0;
        at += 1;
        for word in aux.to_words() {
            out[at] = word;
            at += 1;
        }
        at
    }
}

pub use crate::abi::exception::exception_name;

/// The cause of a user page fault, from the access bits of the kernel's
/// page-fault message (`abi::micro::fault_access`), printed the way the
/// monolithic kernel prints the CPU's error code: `not-present, write, user`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaultCause(pub u64);

impl core::fmt::Display for FaultCause {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        use crate::abi::micro::fault_access::{EXECUTE, PRESENT, WRITE};
        let present = if self.0 & PRESENT != 0 {
            "protection violation"
        } else {
            "not-present"
        };
        let access = if self.0 & EXECUTE != 0 {
            "instruction fetch"
        } else if self.0 & WRITE != 0 {
            "write"
        } else {
            "read"
        };
        write!(f, "{present}, {access}, user")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip() {
        let all = [
            ProcRequest::Fork {
                resume_rip: 0x401000,
                resume_rsp: 0x7fff_efff_ff00,
            },
            ProcRequest::Exec {
                path: 0x1000,
                argv: 0,
            },
            ProcRequest::Exit { status: -1 },
            ProcRequest::Exit { status: i32::MIN },
            ProcRequest::Wait {
                status_address: 0x5000,
            },
            ProcRequest::Kill { pid: u64::MAX },
            ProcRequest::Getpid,
            ProcRequest::Sbrk { increment: -4096 },
            ProcRequest::Sbrk {
                increment: i64::MIN,
            },
            ProcRequest::Freemem,
            ProcRequest::CheckRange {
                address: 0x40_0000,
                len: 4096,
                write: true,
            },
        ];
        for request in all {
            assert_eq!(ProcRequest::from_wire(&request.to_wire()), Ok(request));
        }
    }

    #[test]
    fn malformed_requests_are_refused() {
        assert_eq!(
            ProcRequest::from_wire(&Wire::new(0x1ff, &[])),
            Err(ProtoError::UnknownLabel(0x1ff))
        );
        assert_eq!(
            ProcRequest::from_wire(&Wire::new(FORK, &[1])),
            Err(ProtoError::MissingWord(1))
        );
        assert_eq!(
            ProcRequest::from_wire(&Wire::new(WAIT, &[])),
            Err(ProtoError::MissingWord(0))
        );
        assert_eq!(
            ProcRequest::from_wire(&Wire::new(CHECK_RANGE, &[0x1000, 1, 2])),
            Err(ProtoError::BadValue(2))
        );
        assert_eq!(
            ProcRequest::from_wire(&Wire::new(EXIT, &[1 << 40])),
            Err(ProtoError::BadValue(0)),
            "a status that is not an i32"
        );
    }

    #[test]
    fn replies_round_trip_and_garbage_is_eio() {
        assert_eq!(decode_reply(&encode_reply(Ok(42))), Ok(42));
        assert_eq!(
            decode_reply(&encode_reply(Err(Errno::ECHILD))),
            Err(Errno::ECHILD)
        );
        assert_eq!(
            decode_reply(&Wire::new(reply::REPLY_ERROR, &[9999])),
            Err(Errno::EIO)
        );
        assert_eq!(
            decode_reply(&Wire::new(reply::REPLY_OK, &[])),
            Err(Errno::EIO)
        );
        assert_eq!(
            decode_reply(&Wire::new(reply::REPLY_REDIRECT, &[5])),
            Err(Errno::EIO)
        );
        assert_eq!(decode_reply(&Wire::new(77, &[1])), Err(Errno::EIO));
    }

    #[test]
    fn fault_causes_read_like_the_mono_kernel() {
        use crate::abi::micro::fault_access::{EXECUTE, PRESENT, WRITE};
        extern crate alloc;
        use alloc::format;
        assert_eq!(format!("{}", FaultCause(0)), "not-present, read, user");
        assert_eq!(
            format!("{}", FaultCause(PRESENT | WRITE)),
            "protection violation, write, user"
        );
        assert_eq!(
            format!("{}", FaultCause(EXECUTE)),
            "not-present, instruction fetch, user"
        );
        assert_eq!(exception_name(14), ("#PF", "page fault"));
        assert_eq!(exception_name(99).0, "#??");
    }

    #[test]
    fn aux_block_round_trips_and_needs_its_magic() {
        let aux = AuxBlock {
            proc: 5,
            vfs: 6,
            console: 7,
        };
        assert_eq!(AuxBlock::from_words(&aux.to_words()), Some(aux));
        assert_eq!(AuxBlock::from_words(&[0, 5, 6, 7]), None);
        assert_eq!(AuxBlock::from_words(&[AUX_MAGIC, 5, 0, 7]), None);
        assert_eq!(AuxBlock::from_words(&[AUX_MAGIC, 5]), None);
    }

    #[test]
    fn stack_layout_matches_the_abi() {
        let top = crate::abi::memory::USER_STACK_TOP;
        let layout = StackLayout::plan(top, &[4, 0, 2], 32 * 1024).unwrap();
        // Strings: "abcd\0" at top-5, "\0" at top-6, "xy\0" at top-9.
        assert_eq!(&layout.string_addresses[..3], &[top - 5, top - 6, top - 9]);
        assert_eq!(layout.rsp % 16, 0);
        let aux = AuxBlock {
            proc: 1,
            vfs: 2,
            console: 3,
        };
        let mut words = [0u64; 64];
        let count = layout.words(3, &aux, &mut words);
        assert_eq!(count, 1 + 3 + 1 + AUX_WORDS);
        assert_eq!(words[0], 3);
        assert_eq!(words[4], 0, "argv ends with NULL");
        assert_eq!(
            AuxBlock::from_words(&words[5..count]),
            Some(aux),
            "aux block right after NULL"
        );
        assert!(
            layout.rsp + 8 * count as u64 <= top - 9,
            "words stay below the strings"
        );
    }

    #[test]
    fn stack_layout_refuses_too_much() {
        assert_eq!(StackLayout::plan(0x10000, &[5000], 4096).map(|_| ()), None);
        let many = [1usize; crate::abi::syscall::MAX_ARGS + 1];
        assert_eq!(
            StackLayout::plan(0x10000, &many, 32 * 1024).map(|_| ()),
            None
        );
        assert!(StackLayout::plan(0x10000, &[4096 - 1], 32 * 1024).is_some());
        assert!(
            StackLayout::plan(0x10000, &[4096 - 1], 4096).is_none(),
            "the words count too"
        );
    }
}
