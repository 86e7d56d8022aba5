//! The microkernel servers' protocols, as Rust types.
//!
//! Every request a client can send to a server, and every reply, is a Rust
//! type defined once here and used by both sides: the client stubs in
//! `ulib`'s micro back end (and servers calling each other) *encode* it, the
//! server's dispatch loop *decodes* it. So a student reads one definition per
//! operation, and the two sides cannot disagree about the layout.
//!
//! On the wire a message is a [`Wire`]: a 48-bit *label* naming the
//! operation, up to [`MAX_WORDS`] plain 64-bit words, and optionally one byte
//! buffer (a path, file data) that the kernel copies once from the sender's
//! memory into the receiver's receive buffer (the `BUF` item of
//! `abi::micro`). Decoding is where a server defends itself: every field of a
//! message from a client is untrusted, so `from_wire` checks the label, the
//! word count, every enum value and every length, and returns a
//! [`ProtoError`] instead of panicking. The server answers a malformed
//! message with an error reply and keeps serving.
//!
//! | file        | server            | what it carries                         |
//! |-------------|-------------------|-----------------------------------------|
//! | this file   | —                 | the wire format shared by all protocols |
//! | `inline.rs` | —                 | short bytes carried in the registers (the transport's) |
//! | `root.rs`   | root              | the directory every server gets; `FreePages`; server memory layout |
//! | `proc.rs`   | proc              | fork, exec, exit, wait, kill, getpid, sbrk, freemem; the aux block |
//! | `reply.rs`  | console, disk, fs, vfs | the I/O servers' replies: ok, error, redirect |
//! | `console.rs`| console           | read a line, write text                 |
//! | `disk.rs`   | disk              | read and write sectors                  |
//! | `fs.rs`     | fs                | inode-level ext2 operations             |
//! | `vfs.rs`    | vfs               | file descriptors, pipes, cwd, exec loading |
//! (each protocol file adds its row when it is written)

pub mod proc;
pub mod root;

pub mod console;
pub mod disk;
pub mod fs;
pub mod inline;
pub mod reply;
pub mod vfs;

/// The most bytes one message carries: the kernel's limit for a buffer
/// item (`abi::micro::MAX_BUFFER_BYTES`). Reads and writes of more are split
/// by the client.
pub const MAX_TRANSFER: u64 = super::micro::MAX_BUFFER_BYTES;

/// The most plain words a message carries (the other two message
/// registers are taken by the buffer item, if any).
pub const MAX_WORDS: usize = 4;

/// One message, as it crosses the kernel: label, words, optional bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wire<'a> {
    /// Which operation (requests) or outcome (replies); protocol-specific.
    pub label: u64,
    /// The plain words; only the first `word_count` are meaningful.
    pub words: [u64; MAX_WORDS],
    /// How many of `words` are used.
    pub word_count: usize,
    /// The byte buffer, if the message has one.
    pub bytes: Option<&'a [u8]>,
}

impl<'a> Wire<'a> {
    /// A message with `label` and the given words (at most [`MAX_WORDS`];
    /// extra words are a programming error in the encoder and are dropped
    /// by the length check in [`Wire::new`]'s callers' tests).
    pub fn new(label: u64, words: &[u64]) -> Wire<'a> {
        let mut all = [0; MAX_WORDS];
        let count = words.len().min(MAX_WORDS);
        all[..count].copy_from_slice(&words[..count]);
        Wire {
            label,
            words: all,
            word_count: count,
            bytes: None,
        }
    }

    /// The same message carrying `bytes` as its buffer.
    pub fn with_bytes(mut self, bytes: &'a [u8]) -> Wire<'a> {
        self.bytes = Some(bytes);
        self
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

    /// The buffer, or `Err(MissingBytes)` if the message has none.
    pub fn bytes(&self) -> Result<&'a [u8], ProtoError> {
        self.bytes.ok_or(ProtoError::MissingBytes)
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
    /// The operation needs a byte buffer and none came.
    MissingBytes,
    /// A word holds a value the operation does not allow (word index).
    BadValue(usize),
    /// An inline message (`inline.rs`) whose header does not match its
    /// registers.
    BadInline,
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

    #[test]
    fn words_and_bytes_are_checked() {
        let wire = Wire::new(7, &[1, 2]).with_bytes(b"path");
        assert_eq!(wire.word(1), Ok(2));
        assert_eq!(wire.word(2), Err(ProtoError::MissingWord(2)));
        assert_eq!(wire.bytes(), Ok(&b"path"[..]));
        assert_eq!(Wire::new(7, &[]).bytes(), Err(ProtoError::MissingBytes));
        assert_eq!(Wire::new(1, &[1, 2, 3, 4, 5]).word_count, MAX_WORDS);
    }
}
