//! The root task's protocol: the *directory* every server receives at start
//! (and again whenever a server was restarted), the requests root answers
//! after boot (`FreePages`, `CurrentDirectory`, `Inject`), the message that
//! arms an injected fault in a server (`Arm`), and the memory layout root
//! backs for the servers it pages.
//!
//! The root task (`micro-kernel/user/root/`) owns all free memory. It starts
//! the servers, sends each one a [`Directory`] (who is who), and then serves
//! their page faults with fresh zeroed frames — but only inside the address
//! ranges below ([`ServerRegion`]); a fault anywhere else is a server bug,
//! which root reports (`root: server failure: the <name> server crashed (...)`) and
//! survives: it starts a new copy of the server (`docs/fault-isolation.md`).
//!
//! ```text
//!  server address space (every server but proc)
//!  0x0000_0000_0040_0000  program image (text, rodata, data, bss)
//!  0x0000_0010_0000_0000  heap: SERVER_HEAP_SIZE bytes, zero pages on demand
//!  0x0000_0020_0000_0000  proc only: the frame pool (user memory)
//!  0x0000_0030_0000_0000  console only: the VGA text buffer (physical 0xB8000)
//!  0x0000_7000_0000_0000  stack top (SERVER_STACK_SIZE below it)
//! ```

use super::{ProtoError, Wire};
use crate::abi::inject::{InjectRequest, Injection};

super::operations! {
    /// The root task's protocol's operations.
    pub enum RootOp from 0x0d1 {
        /// The directory message (root → each server, at start, and again
        /// after a server was restarted).
        Directory,
        /// `FreePages` (proc → root): how many pages root can still give.
        FreePages,
        /// `CurrentDirectory` (any server → root): the directory as it is
        /// now, for a server whose call found a server gone.
        CurrentDirectory,
        /// `Inject` (proc → root): arm a fault in a server, or only ask
        /// how many restarts there were (`crate::abi::inject`).
        Inject,
        /// `Arm` (root → a server): the fault to take (four words, as
        /// `Inject`'s).
        Arm,
    }
}

/// Where a server's heap starts (zero pages on demand, from root).
pub const SERVER_HEAP_BASE: u64 = 0x0000_0010_0000_0000;
/// How big a server's heap may grow (64 MiB of address space; only touched
/// pages cost memory).
pub const SERVER_HEAP_SIZE: u64 = 64 << 20;
/// One past the highest byte of a server's stack.
pub const SERVER_STACK_TOP: u64 = 0x0000_7000_0000_0000;
/// Size of a server's stack region (only touched pages cost memory).
pub const SERVER_STACK_SIZE: u64 = 1 << 20;
/// Where proc's frame pool starts: every page of user memory is a page of
/// proc's own address space here (backed by root on first touch), mapped on
/// into user processes.
pub const PROC_POOL_BASE: u64 = 0x0000_0020_0000_0000;
/// The most pages proc's pool may hold (the rest of memory stays with root
/// for the servers, and the kernel's mapping database must have a node
/// for every mapping: see `docs/server-proc.md`).
pub const PROC_POOL_MAX_PAGES: u64 = 12 * 1024;

/// Where the console server finds the VGA text buffer (physical `0xB8000`,
/// one page: 80 x 25 cells of two bytes): root maps the device page there
/// when the console first touches it.
pub const CONSOLE_VGA_BASE: u64 = 0x0000_0030_0000_0000;
/// The physical address of the VGA text buffer.
pub const VGA_TEXT_PHYSICAL: u64 = 0xb_8000;

/// The regions of a server's address space root backs with zero pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerRegion {
    /// The heap.
    Heap,
    /// The stack.
    Stack,
    /// proc's frame pool.
    Pool,
}

/// Which zero-filled region `address` lies in, if any (`is_proc`: the
/// faulting server is proc, whose pool is also valid).
pub fn server_region(address: u64, is_proc: bool) -> Option<ServerRegion> {
    if (SERVER_HEAP_BASE..SERVER_HEAP_BASE + SERVER_HEAP_SIZE).contains(&address) {
        Some(ServerRegion::Heap)
    } else if (SERVER_STACK_TOP - SERVER_STACK_SIZE..SERVER_STACK_TOP).contains(&address) {
        Some(ServerRegion::Stack)
    } else if is_proc
        && (PROC_POOL_BASE..PROC_POOL_BASE + PROC_POOL_MAX_PAGES * 4096).contains(&address)
    {
        Some(ServerRegion::Pool)
    } else {
        None
    }
}

/// Who is who: the thread id (raw `ThreadId` value) of root and of every
/// server. Sent by root to each server as its first message, as bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Directory {
    pub root: u64,
    pub console: u64,
    pub disk: u64,
    pub fs: u64,
    pub vfs: u64,
    pub proc: u64,
    /// The real-time clock's server (lab `driver`).
    pub rtc: u64,
}

/// Bytes of an encoded directory (seven little-endian u64).
pub const DIRECTORY_BYTES: usize = 56;

impl Directory {
    /// The ids in wire order.
    fn ids(&self) -> [u64; 7] {
        [
            self.root,
            self.console,
            self.disk,
            self.fs,
            self.vfs,
            self.proc,
            self.rtc,
        ]
    }

    /// Encodes the directory as the bytes of the message's buffer.
    pub fn to_bytes(&self) -> [u8; DIRECTORY_BYTES] {
        let mut bytes = [0u8; DIRECTORY_BYTES];
        for (chunk, id) in bytes.chunks_exact_mut(8).zip(self.ids()) {
            chunk.copy_from_slice(&id.to_le_bytes());
        }
        bytes
    }

    /// The message root sends (`bytes` must be the result of [`Directory::to_bytes`]).
    pub fn to_wire<'a>(bytes: &'a [u8; DIRECTORY_BYTES]) -> Wire<'a> {
        Wire::new(RootOp::Directory.label(), &[]).with_bytes(bytes)
    }

    /// Decodes the directory message; every id must be non-zero.
    pub fn from_wire(wire: &Wire) -> Result<Directory, ProtoError> {
        if wire.operation(RootOp::from_label)? != RootOp::Directory {
            return Err(ProtoError::UnknownLabel(wire.label));
        }
        let bytes = wire.bytes()?;
        if bytes.len() != DIRECTORY_BYTES {
            return Err(ProtoError::MissingBytes);
        }
        let mut ids = [0u64; 7];
        for (index, (id, chunk)) in ids.iter_mut().zip(bytes.chunks_exact(8)).enumerate() {
            *id = u64::from_le_bytes(chunk.try_into().expect("chunks of 8"));
            if *id == 0 {
                return Err(ProtoError::BadValue(index));
            }
        }
        let [root, console, disk, fs, vfs, proc, rtc] = ids;
        Ok(Directory {
            root,
            console,
            disk,
            fs,
            vfs,
            proc,
            rtc,
        })
    }
}

/// Requests root answers after boot (besides page faults, which the kernel
/// sends on a server's behalf).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootRequest {
    /// How many pages of free memory root still holds. Reply: `[count]`.
    FreePages,
    /// The directory as it is now. Reply: `Done` with the directory's
    /// bytes ([`Directory::to_bytes`]).
    CurrentDirectory,
    /// From proc only: arm a fault (or only count restarts). Reply:
    /// `[restarts so far]`, or `EPERM` (injection is off), `EINVAL`,
    /// `ESRCH` (the server is not running).
    Inject(InjectRequest),
}

impl RootRequest {
    /// Encodes the request.
    pub fn to_wire(&self) -> Wire<'static> {
        match self {
            RootRequest::FreePages => Wire::new(RootOp::FreePages.label(), &[]),
            RootRequest::CurrentDirectory => Wire::new(RootOp::CurrentDirectory.label(), &[]),
            RootRequest::Inject(request) => Wire::new(RootOp::Inject.label(), &request.to_words()),
        }
    }

    /// Decodes a request.
    pub fn from_wire(wire: &Wire) -> Result<RootRequest, ProtoError> {
        match wire.operation(RootOp::from_label)? {
            RootOp::FreePages => Ok(RootRequest::FreePages),
            RootOp::CurrentDirectory => Ok(RootRequest::CurrentDirectory),
            RootOp::Inject => {
                let request = InjectRequest::from_words(four_words(wire)?)
                    .map_err(|_| ProtoError::BadValue(0))?;
                Ok(RootRequest::Inject(request))
            }
            // Root sends these; it never receives one.
            RootOp::Directory | RootOp::Arm => Err(ProtoError::UnknownLabel(wire.label)),
        }
    }
}

/// The four words of an `Inject` or `Arm` message.
fn four_words(wire: &Wire) -> Result<[u64; 4], ProtoError> {
    Ok([wire.word(0)?, wire.word(1)?, wire.word(2)?, wire.word(3)?])
}

/// Root's message that arms a fault in a server (`server_lib::inject`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arm(pub Injection);

impl Arm {
    /// The words of the message (label [`RootOp::Arm`]).
    pub fn to_words(&self) -> [u64; 4] {
        InjectRequest::Inject(self.0).to_words()
    }

    /// Decodes the message (root is trusted, but a message is still checked).
    pub fn from_wire(wire: &Wire) -> Result<Arm, ProtoError> {
        if wire.operation(RootOp::from_label)? != RootOp::Arm {
            return Err(ProtoError::UnknownLabel(wire.label));
        }
        match InjectRequest::from_words(four_words(wire)?) {
            Ok(InjectRequest::Inject(injection)) => Ok(Arm(injection)),
            _ => Err(ProtoError::BadValue(0)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_round_trips() {
        let directory = Directory {
            root: 1,
            console: 2,
            disk: 3,
            fs: 4,
            vfs: 5,
            proc: 0x1_0006,
            rtc: 7,
        };
        let bytes = directory.to_bytes();
        assert_eq!(
            Directory::from_wire(&Directory::to_wire(&bytes)),
            Ok(directory)
        );
    }

    #[test]
    fn bad_directories_are_refused() {
        let bytes = Directory {
            root: 1,
            console: 2,
            disk: 3,
            fs: 4,
            vfs: 5,
            proc: 6,
            rtc: 7,
        }
        .to_bytes();
        assert_eq!(
            Directory::from_wire(&Wire::new(RootOp::Directory.label(), &[])),
            Err(ProtoError::MissingBytes)
        );
        assert_eq!(
            Directory::from_wire(
                &Wire::new(RootOp::Directory.label(), &[]).with_bytes(&bytes[..48])
            ),
            Err(ProtoError::MissingBytes)
        );
        assert_eq!(
            Directory::from_wire(&Wire::new(RootOp::FreePages.label(), &[]).with_bytes(&bytes)),
            Err(ProtoError::UnknownLabel(RootOp::FreePages.label()))
        );
        let zero_disk = Directory {
            disk: 0,
            ..Directory::from_wire(&Directory::to_wire(&bytes)).unwrap()
        }
        .to_bytes();
        assert_eq!(
            Directory::from_wire(&Directory::to_wire(&zero_disk)),
            Err(ProtoError::BadValue(2))
        );
    }

    #[test]
    fn requests_round_trip_and_unknown_labels_are_refused() {
        assert_eq!(
            RootRequest::from_wire(&RootRequest::FreePages.to_wire()),
            Ok(RootRequest::FreePages)
        );
        assert_eq!(
            RootRequest::from_wire(&Wire::new(0x999, &[])),
            Err(ProtoError::UnknownLabel(0x999))
        );
        for request in [
            RootRequest::CurrentDirectory,
            RootRequest::Inject(InjectRequest::Query),
        ] {
            assert_eq!(RootRequest::from_wire(&request.to_wire()), Ok(request));
        }
        // Messages root sends are not requests to it.
        assert_eq!(
            RootRequest::from_wire(&Wire::new(RootOp::Arm.label(), &[3, 2, 1, 0])),
            Err(ProtoError::UnknownLabel(RootOp::Arm.label()))
        );
        // A bad injection is refused, and so is a short one.
        assert_eq!(
            RootRequest::from_wire(&Wire::new(RootOp::Inject.label(), &[9, 2, 1, 0])),
            Err(ProtoError::BadValue(0))
        );
        assert_eq!(
            RootRequest::from_wire(&Wire::new(RootOp::Inject.label(), &[3, 2, 1])),
            Err(ProtoError::MissingWord(3))
        );
    }

    #[test]
    fn arm_messages_round_trip() {
        use crate::abi::inject::{Component, Fault};
        let arm = Arm(Injection {
            component: Component::Disk,
            fault: Fault::StackBitFlip,
            after: 7,
            parameter: 33,
        });
        let wire = Wire::new(RootOp::Arm.label(), &arm.to_words());
        assert_eq!(Arm::from_wire(&wire), Ok(arm));
        let query = Wire::new(RootOp::Arm.label(), &[0, 0, 0, 0]);
        assert_eq!(Arm::from_wire(&query), Err(ProtoError::BadValue(0)));
    }

    #[test]
    fn server_regions_are_bounded() {
        assert_eq!(
            server_region(SERVER_HEAP_BASE, false),
            Some(ServerRegion::Heap)
        );
        assert_eq!(
            server_region(SERVER_HEAP_BASE + SERVER_HEAP_SIZE, false),
            None
        );
        assert_eq!(
            server_region(SERVER_STACK_TOP - 1, false),
            Some(ServerRegion::Stack)
        );
        assert_eq!(server_region(SERVER_STACK_TOP, false), None);
        assert_eq!(
            server_region(SERVER_STACK_TOP - SERVER_STACK_SIZE - 1, false),
            None
        );
        assert_eq!(
            server_region(PROC_POOL_BASE, false),
            None,
            "only proc has a pool"
        );
        assert_eq!(
            server_region(PROC_POOL_BASE, true),
            Some(ServerRegion::Pool)
        );
        assert_eq!(
            server_region(PROC_POOL_BASE + PROC_POOL_MAX_PAGES * 4096, true),
            None
        );
        assert_eq!(server_region(0, true), None);
    }
}
