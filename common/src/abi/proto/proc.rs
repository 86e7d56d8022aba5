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
//! | `Inject`  | component, fault, after, parameter (`abi::inject`) | server restarts so far (proc asks root) |
//! | `Mmap`    | length, prot \| flags << 32, fd, offset | the mapping's address (`mmap`'s hint is not sent: it is ignored) |
//! | `Munmap`  | address, length            | 0                                   |
//! | `Getppid` | —                          | the caller's parent's pid (lab `syscall`) |
//! | `Sysinfo` | `SysInfo` address          | 0; the `SysInfo` copied to the caller (lab `syscall`) |
//!
//! A reply is [`encode_reply`] of a `Result<u64, Errno>`, in the reply
//! convention of every server (`reply.rs`): `Done` with the value, or
//! `Failed` with the errno.

use super::{ProtoError, Wire, reply};
use crate::abi::errno::Errno;
use crate::abi::inject::InjectRequest;

super::operations! {
    /// The proc server's operations.
    pub enum ProcOp from 0x101 {
        Fork,
        Exec,
        Exit,
        Wait,
        Kill,
        Getpid,
        Sbrk,
        Freemem,
        Inject,
        Mmap,
        Munmap,
        // LAB syscall BEGIN
        Getppid,
        Sysinfo,
        // LAB syscall STUB
        // LAB syscall END
    }
}

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
    /// Arm a fault in a server, or count restarts (`crate::abi::inject`);
    /// proc passes it on to root.
    Inject(InjectRequest),
    /// Map `length` bytes (`common::abi::mmap`'s `prot` and `flags`; a file
    /// descriptor and offset unless `MAP_ANONYMOUS`). On the wire `prot`
    /// and `flags` share one word, so both are 32 bits, as in C.
    Mmap {
        length: u64,
        prot: u32,
        flags: u32,
        fd: u64,
        offset: u64,
    },
    /// Remove the mappings in `address..address + length`.
    Munmap { address: u64, length: u64 },
    // LAB syscall BEGIN
    /// The pid of the caller's parent.
    Getppid,
    /// Copy a `SysInfo` to `address` in the caller's memory.
    Sysinfo { address: u64 },
    // LAB syscall STUB
    // LAB syscall END
}

impl ProcRequest {
    /// The operation.
    pub fn op(&self) -> ProcOp {
        match self {
            ProcRequest::Fork { .. } => ProcOp::Fork,
            ProcRequest::Exec { .. } => ProcOp::Exec,
            ProcRequest::Exit { .. } => ProcOp::Exit,
            ProcRequest::Wait { .. } => ProcOp::Wait,
            ProcRequest::Kill { .. } => ProcOp::Kill,
            ProcRequest::Getpid => ProcOp::Getpid,
            ProcRequest::Sbrk { .. } => ProcOp::Sbrk,
            ProcRequest::Freemem => ProcOp::Freemem,
            ProcRequest::Inject(_) => ProcOp::Inject,
            ProcRequest::Mmap { .. } => ProcOp::Mmap,
            ProcRequest::Munmap { .. } => ProcOp::Munmap,
            // LAB syscall BEGIN
            ProcRequest::Getppid => ProcOp::Getppid,
            ProcRequest::Sysinfo { .. } => ProcOp::Sysinfo,
            // LAB syscall STUB
            // LAB syscall END
        }
    }

    /// Encodes the request.
    pub fn to_wire(&self) -> Wire<'static> {
        let inject_words;
        let mmap_words;
        let words: &[u64] = match *self {
            ProcRequest::Fork {
                resume_rip,
                resume_rsp,
            } => &[resume_rip, resume_rsp],
            ProcRequest::Exec { path, argv } => &[path, argv],
            ProcRequest::Exit { status } => &[status as i64 as u64],
            ProcRequest::Wait { status_address } => &[status_address],
            ProcRequest::Kill { pid } => &[pid],
            ProcRequest::Getpid | ProcRequest::Freemem => &[],
            ProcRequest::Sbrk { increment } => &[increment as u64],
            ProcRequest::Inject(request) => {
                inject_words = request.to_words();
                &inject_words
            }
            ProcRequest::Mmap {
                length,
                prot,
                flags,
                fd,
                offset,
            } => {
                mmap_words = [length, u64::from(prot) | u64::from(flags) << 32, fd, offset];
                &mmap_words
            }
            ProcRequest::Munmap { address, length } => {
                mmap_words = [address, length, 0, 0];
                &mmap_words[..2]
            }
            // LAB syscall BEGIN
            ProcRequest::Getppid => &[],
            ProcRequest::Sysinfo { address } => &[address],
            // LAB syscall STUB
            // LAB syscall END
        };
        Wire::new(self.op().label(), words)
    }

    /// Decodes a request from an untrusted client.
    pub fn from_wire(wire: &Wire) -> Result<ProcRequest, ProtoError> {
        Ok(match wire.operation(ProcOp::from_label)? {
            ProcOp::Fork => ProcRequest::Fork {
                resume_rip: wire.word(0)?,
                resume_rsp: wire.word(1)?,
            },
            ProcOp::Exec => ProcRequest::Exec {
                path: wire.word(0)?,
                argv: wire.word(1)?,
            },
            ProcOp::Exit => {
                let word = wire.word(0)?;
                let status = i32::try_from(word as i64).map_err(|_| ProtoError::BadValue(0))?;
                ProcRequest::Exit { status }
            }
            ProcOp::Wait => ProcRequest::Wait {
                status_address: wire.word(0)?,
            },
            ProcOp::Kill => ProcRequest::Kill { pid: wire.word(0)? },
            ProcOp::Getpid => ProcRequest::Getpid,
            ProcOp::Sbrk => ProcRequest::Sbrk {
                increment: wire.word(0)? as i64,
            },
            ProcOp::Freemem => ProcRequest::Freemem,
            ProcOp::Inject => {
                let words = [wire.word(0)?, wire.word(1)?, wire.word(2)?, wire.word(3)?];
                let request =
                    InjectRequest::from_words(words).map_err(|_| ProtoError::BadValue(0))?;
                ProcRequest::Inject(request)
            }
            ProcOp::Mmap => {
                let protections = wire.word(1)?;
                ProcRequest::Mmap {
                    length: wire.word(0)?,
                    prot: protections as u32,
                    flags: (protections >> 32) as u32,
                    fd: wire.word(2)?,
                    offset: wire.word(3)?,
                }
            }
            ProcOp::Munmap => ProcRequest::Munmap {
                address: wire.word(0)?,
                length: wire.word(1)?,
            },
            // LAB syscall BEGIN
            ProcOp::Getppid => ProcRequest::Getppid,
            ProcOp::Sysinfo => ProcRequest::Sysinfo {
                address: wire.word(0)?,
            },
            // LAB syscall STUB
            // LAB syscall END
        })
    }
}

/// Encodes a reply.
pub fn encode_reply(result: Result<u64, Errno>) -> Wire<'static> {
    match result {
        Ok(value) => reply::done(&[value]),
        Err(errno) => reply::failed(errno),
    }
}

/// The first word of the auxiliary block ("DIPTYCH!" would not fit the
/// point: an unlikely number, so a program started some other way — by
/// Linux, by the mono-kernel — is never mistaken for a micro one).
pub const AUX_MAGIC: u64 = 0xd1b7_c4a0_05e7_0001;

/// Words of the auxiliary block.
pub const AUX_WORDS: usize = 4;

/// The auxiliary block: right after the NULL that ends `argv` on a new
/// program's stack, `proc` writes `[AUX_MAGIC, proc, vfs, rtc]` — the
/// thread ids a program needs to reach the servers (docs/servers.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuxBlock {
    /// The process server.
    pub proc: u64,
    /// The file server (files, pipes, the console's descriptors).
    pub vfs: u64,
    /// The real-time clock's server (`time`).
    pub rtc: u64,
}

impl AuxBlock {
    /// The words as they lie on the stack.
    pub fn to_words(&self) -> [u64; AUX_WORDS] {
        [AUX_MAGIC, self.proc, self.vfs, self.rtc]
    }

    /// Reads the block from the words after argv's NULL; `None` if the
    /// magic number is missing or an id is 0.
    pub fn from_words(words: &[u64]) -> Option<AuxBlock> {
        match *words {
            [AUX_MAGIC, proc, vfs, rtc, ..] if proc != 0 && vfs != 0 && rtc != 0 => {
                Some(AuxBlock { proc, vfs, rtc })
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
///                AUX_MAGIC, proc, vfs, rtc         ← aux block
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
            ProcRequest::Inject(InjectRequest::Query),
            ProcRequest::Inject(InjectRequest::Inject(crate::abi::inject::Injection {
                component: crate::abi::inject::Component::Fs,
                fault: crate::abi::inject::Fault::BadPointer,
                after: 2,
                parameter: 0x18,
            })),
            ProcRequest::Mmap {
                length: 8192,
                prot: 3,
                flags: u32::MAX,
                fd: u64::MAX,
                offset: 4096,
            },
            ProcRequest::Munmap {
                address: 0x7000_0000_0000,
                length: 1,
            },
        ];
        for request in all {
            assert_eq!(ProcRequest::from_wire(&request.to_wire()), Ok(request));
        }
    }

    // LAB syscall BEGIN
    #[test]
    fn lab_syscall_requests_round_trip() {
        for request in [
            ProcRequest::Getppid,
            ProcRequest::Sysinfo { address: 0x5000 },
        ] {
            assert_eq!(ProcRequest::from_wire(&request.to_wire()), Ok(request));
        }
        assert_eq!(
            ProcRequest::from_wire(&Wire::new(ProcOp::Sysinfo.label(), &[])),
            Err(ProtoError::MissingWord(0)),
            "sysinfo without its address"
        );
    }
    // LAB syscall STUB
    // LAB syscall END

    #[test]
    fn malformed_requests_are_refused() {
        assert_eq!(
            ProcRequest::from_wire(&Wire::new(0x1ff, &[])),
            Err(ProtoError::UnknownLabel(0x1ff))
        );
        assert_eq!(
            ProcRequest::from_wire(&Wire::new(ProcOp::Fork.label(), &[1])),
            Err(ProtoError::MissingWord(1))
        );
        assert_eq!(
            ProcRequest::from_wire(&Wire::new(ProcOp::Wait.label(), &[])),
            Err(ProtoError::MissingWord(0))
        );
        assert_eq!(
            ProcRequest::from_wire(&Wire::new(ProcOp::Exit.label(), &[1 << 40])),
            Err(ProtoError::BadValue(0)),
            "a status that is not an i32"
        );
        assert_eq!(
            ProcRequest::from_wire(&Wire::new(ProcOp::Inject.label(), &[3, 99, 1, 0])),
            Err(ProtoError::BadValue(0)),
            "an unknown fault"
        );
        assert_eq!(
            ProcRequest::from_wire(&Wire::new(ProcOp::Mmap.label(), &[1, 2, 3])),
            Err(ProtoError::MissingWord(3))
        );
    }

    #[test]
    fn replies_carry_the_value_or_the_errno() {
        assert_eq!(encode_reply(Ok(42)).word(0), Ok(42));
        let failed = encode_reply(Err(Errno::ECHILD));
        assert_eq!(
            reply::errno_of(&failed.words[..failed.word_count]),
            Errno::ECHILD
        );
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
            rtc: 7,
        };
        assert_eq!(AuxBlock::from_words(&aux.to_words()), Some(aux));
        assert_eq!(AuxBlock::from_words(&[0, 5, 6, 7]), None);
        assert_eq!(AuxBlock::from_words(&[AUX_MAGIC, 5, 0, 7]), None);
        assert_eq!(AuxBlock::from_words(&[AUX_MAGIC, 5, 6, 0]), None);
        assert_eq!(AuxBlock::from_words(&[AUX_MAGIC, 5, 6]), None);
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
            rtc: 3,
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
