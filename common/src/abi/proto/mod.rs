//! The microkernel servers' protocols, as Rust types.
//!
//! Every request a client can send to a server is a Rust type defined once
//! here and used by both sides: servers calling each other *encode* it
//! (`to_wire`), the server's dispatch loop *decodes* it (`from_wire`). User
//! programs' requests are encoded by `ulib`'s micro back end, one short stub
//! per system call, following the tables in these files; the usertests
//! check both ends against each other on every run.
//!
//! ## Operations and labels
//!
//! Each protocol has one operation enum, declared with [`operations!`]: a
//! `#[repr(u64)]` enum whose values *are* the message labels, numbered from
//! the protocol's base (`0x101` proc, `0x200` disk, `0x300` fs, `0x400` vfs,
//! `0x500` rtc, `0xd1` root, `0` replies). So a label is `op.label()`, an incoming label is
//! `Op::from_label(label)`, and a tracer prints `op.name()`. Decoders match
//! on the enum, one named arm per operation and no catch-all, so adding an
//! operation is a compile error until every decoder handles it.
//!
//! ## The wire
//!
//! On the wire a message is a [`Wire`]: the label, up to [`MAX_WORDS`]
//! plain 64-bit words, and up to two *byte items* (a path, file data; two
//! for `link` and `rename`) that the kernel copies once from the sender's
//! memory into the receiver's receive area (`abi::micro`, "the message
//! tag"). The `l4` library's transport (`l4::rpc`) turns a [`Wire`] into
//! the kernel's registers and back. Decoding is where a server defends
//! itself: every field of a message from a client is untrusted, so
//! `from_wire` checks the label, the word count, every enum value and every
//! length, and returns a [`ProtoError`] instead of panicking. The server
//! answers a malformed message with an error reply and keeps serving.
//!
//! | file        | server            | what it carries                         |
//! |-------------|-------------------|-----------------------------------------|
//! | this file   | —                 | the wire format and [`operations!`]     |
//! | `reply.rs`  | every server      | replies: done, failed, redirect         |
//! | `root.rs`   | root              | the directory every server gets; `FreePages`; server memory layout |
//! | `proc.rs`   | proc              | fork, exec, exit, wait, kill, getpid, sbrk, freemem; the aux block |
//! | `disk.rs`   | disk              | read and write sectors                  |
//! | `fs.rs`     | fs                | inode-level ext2 operations             |
//! | `vfs.rs`    | vfs (and console) | file descriptors, pipes, cwd, exec loading; the console answers its `Read` and `Write` |
//! | `rtc.rs`    | rtc               | the date and time (seconds since the epoch) |

pub mod disk;
pub mod fs;
pub mod proc;
pub mod reply;
pub mod root;
pub mod rtc;
pub mod vfs;

use super::micro::MAX_BYTE_ITEMS;

/// The most bytes one message carries: the kernel's limit for its byte
/// items (`abi::micro::MAX_BUFFER_BYTES`). Reads and writes of more are split
/// by the client.
pub const MAX_TRANSFER: u64 = super::micro::MAX_BUFFER_BYTES;

/// The most plain words a protocol message carries (the other message
/// registers hold the byte items).
pub const MAX_WORDS: usize = 4;

/// Declares a protocol's operations: a `#[repr(u64)]` enum whose
/// discriminants are the message labels, numbered from `base`, with
///
/// - `label(self) -> u64`: the label a message of this operation carries;
/// - `from_label(u64) -> Option<Self>`: the operation a label names, if any;
/// - `name(self) -> &'static str`: the operation's name (for traces);
/// - `ALL`: every operation, in label order.
///
/// ```ignore
/// operations! {
///     /// The disk server's operations.
///     pub enum DiskOp from 0x200 { Info, ReadSectors, WriteSectors }
/// }
/// assert_eq!(DiskOp::ReadSectors.label(), 0x201);
/// ```
#[macro_export]
macro_rules! operations {
    (
        $(#[$meta:meta])*
        pub enum $name:ident from $base:literal {
            $(#[$first_meta:meta])* $first:ident
            $(, $(#[$rest_meta:meta])* $rest:ident)* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[repr(u64)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $(#[$first_meta])* $first = $base,
            $($(#[$rest_meta])* $rest,)*
        }

        impl $name {
            /// Every operation, in label order.
            pub const ALL: &'static [$name] = &[$name::$first, $($name::$rest),*];

            /// The label of a message of this operation.
            pub const fn label(self) -> u64 {
                self as u64
            }

            /// The operation `label` names, if any.
            pub fn from_label(label: u64) -> Option<$name> {
                let index = label.checked_sub($base)?;
                Self::ALL.get(usize::try_from(index).ok()?).copied()
            }

            /// The operation's name, as written in the enum.
            pub const fn name(self) -> &'static str {
                match self {
                    $name::$first => stringify!($first),
                    $($name::$rest => stringify!($rest),)*
                }
            }
        }
    };
}

pub use operations;

/// One message, as the protocol types see it: label, words, byte items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wire<'a> {
    /// Which operation (requests) or outcome (replies); protocol-specific.
    pub label: u64,
    /// The plain words; only the first `word_count` are meaningful.
    pub words: [u64; MAX_WORDS],
    /// How many of `words` are used.
    pub word_count: usize,
    /// The byte items; only the first `item_count` are meaningful.
    pub items: [&'a [u8]; MAX_BYTE_ITEMS],
    /// How many byte items the message has.
    pub item_count: usize,
}

impl<'a> Wire<'a> {
    /// A message with `label` and the given words (at most [`MAX_WORDS`];
    /// more are a programming error in the encoder and are dropped, which
    /// the decoders' round-trip tests catch).
    pub fn new(label: u64, words: &[u64]) -> Wire<'a> {
        let mut all = [0; MAX_WORDS];
        let count = words.len().min(MAX_WORDS);
        all[..count].copy_from_slice(&words[..count]);
        Wire {
            label,
            words: all,
            word_count: count,
            items: [&[]; MAX_BYTE_ITEMS],
            item_count: 0,
        }
    }

    /// The same message with `bytes` as one more byte item (a third is a
    /// programming error and is dropped).
    pub fn with_bytes(mut self, bytes: &'a [u8]) -> Wire<'a> {
        if self.item_count < MAX_BYTE_ITEMS {
            self.items[self.item_count] = bytes;
            self.item_count += 1;
        }
        self
    }

    /// The operation this message's label names, or `Err(UnknownLabel)`.
    pub fn operation<Op>(&self, from_label: fn(u64) -> Option<Op>) -> Result<Op, ProtoError> {
        from_label(self.label).ok_or(ProtoError::UnknownLabel(self.label))
    }

    /// Word `index`, or `Err(MissingWord)` if the message is too short.
    pub fn word(&self, index: usize) -> Result<u64, ProtoError> {
        if index < self.word_count {
            Ok(self.words[index])
        } else {
            Err(ProtoError::MissingWord(index))
        }
    }

    /// Word `index` as a 32-bit number (an inode number, a major or minor),
    /// `Err(BadValue)` if it does not fit.
    pub fn word_u32(&self, index: usize) -> Result<u32, ProtoError> {
        u32::try_from(self.word(index)?).map_err(|_| ProtoError::BadValue(index))
    }

    /// Word `index` as a boolean (0 or 1), `Err(BadValue)` otherwise.
    pub fn word_bool(&self, index: usize) -> Result<bool, ProtoError> {
        match self.word(index)? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(ProtoError::BadValue(index)),
        }
    }

    /// Word `index` as a byte count for one message, `Err(BadValue)` if it
    /// is over [`MAX_TRANSFER`].
    pub fn length(&self, index: usize) -> Result<u64, ProtoError> {
        let len = self.word(index)?;
        if len > MAX_TRANSFER {
            Err(ProtoError::BadValue(index))
        } else {
            Ok(len)
        }
    }

    /// The first byte item, or `Err(MissingBytes)` if the message has none.
    pub fn bytes(&self) -> Result<&'a [u8], ProtoError> {
        self.item(0)
    }

    /// Byte item `index`, or `Err(MissingBytes)` if the message has fewer.
    pub fn item(&self, index: usize) -> Result<&'a [u8], ProtoError> {
        if index < self.item_count {
            Ok(self.items[index])
        } else {
            Err(ProtoError::MissingBytes)
        }
    }
}

/// Why a message could not be decoded. Servers reply `EINVAL` (or
/// `ENOSYS` for an unknown label) and carry on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtoError {
    /// No operation has this label.
    UnknownLabel(u64),
    /// The message has fewer words than the operation needs.
    MissingWord(usize),
    /// The operation needs a byte item and none came.
    MissingBytes,
    /// A word holds a value the operation does not allow (word index).
    BadValue(usize),
}

impl ProtoError {
    /// The error a server replies with.
    pub fn errno(self) -> super::errno::Errno {
        match self {
            ProtoError::UnknownLabel(_) => super::errno::Errno::ENOSYS,
            _ => super::errno::Errno::EINVAL,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    operations! {
        /// A protocol for the tests.
        pub enum TestOp from 0x700 { First, Second, Third }
    }

    #[test]
    fn operations_are_numbered_from_the_base() {
        assert_eq!(TestOp::First.label(), 0x700);
        assert_eq!(TestOp::Third.label(), 0x702);
        assert_eq!(TestOp::from_label(0x701), Some(TestOp::Second));
        assert_eq!(TestOp::from_label(0x703), None);
        assert_eq!(TestOp::from_label(0x6ff), None);
        assert_eq!(TestOp::from_label(u64::MAX), None);
        assert_eq!(TestOp::Second.name(), "Second");
        assert_eq!(TestOp::ALL.len(), 3);
        let wire = Wire::new(0x7ff, &[]);
        assert_eq!(
            wire.operation(TestOp::from_label),
            Err(ProtoError::UnknownLabel(0x7ff))
        );
    }

    #[test]
    fn words_and_bytes_are_checked() {
        let wire = Wire::new(7, &[1, 2]).with_bytes(b"path");
        assert_eq!(wire.word(1), Ok(2));
        assert_eq!(wire.word(2), Err(ProtoError::MissingWord(2)));
        assert_eq!(wire.bytes(), Ok(&b"path"[..]));
        assert_eq!(wire.item(1), Err(ProtoError::MissingBytes));
        assert_eq!(Wire::new(7, &[]).bytes(), Err(ProtoError::MissingBytes));
        assert_eq!(Wire::new(1, &[1, 2, 3, 4, 5]).word_count, MAX_WORDS);
        let two = Wire::new(7, &[])
            .with_bytes(b"a")
            .with_bytes(b"b")
            .with_bytes(b"c");
        assert_eq!(
            (two.item(0), two.item(1), two.item_count),
            (Ok(&b"a"[..]), Ok(&b"b"[..]), 2)
        );
        assert_eq!(
            Wire::new(7, &[2]).word_bool(0),
            Err(ProtoError::BadValue(0))
        );
        assert_eq!(Wire::new(7, &[1]).word_bool(0), Ok(true));
    }
}
