//! The message transport: how every client in the system calls a server.
//!
//! A *remote procedure call* here is one L4 `call` (send the request and
//! wait for the reply, atomically) and the reply convention of
//! `common::abi::proto::reply`. User programs (through `ulib`'s micro back
//! end) and servers calling each other (through `server-lib`) use this one
//! function, so there is one place that says what a reply means:
//!
//! - `Done`: the words are the results; result *bytes* were copied by the
//!   kernel into the receive area the request named (`Reply::byte_count`
//!   says how many);
//! - `Failed`: `Err(errno)`;
//! - `Redirect`: the request goes, unchanged, to the server the reply
//!   names (vfs answers a console descriptor's `Read` or `Write` so; the
//!   console server then replies to us directly). At most once;
//! - anything else (an unknown label, a missing error code): `Err(EIO)`.
//!
//! Kernel errors become errnos too: `BadAddress` — a byte item or receive
//! area that is not this thread's memory (`abi::micro`, "memory a message
//! names is checked") — is `EFAULT`, the monolithic kernel's answer for a
//! bad pointer; anything else (the server is gone) is `EIO`.

use crate::ipc::{self, Message, Received};
use common::abi::errno::Errno;
use common::abi::micro::{Error, ThreadId};
use common::abi::proto::reply::{ReplyKind, errno_of};
use common::abi::proto::{MAX_WORDS, Wire};

/// A successful reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reply {
    words: [u64; MAX_WORDS],
    word_count: usize,
    /// Bytes the kernel copied into the request's receive area.
    pub byte_count: usize,
}

impl Reply {
    /// Word `index` of the reply, `EIO` if the server sent fewer.
    pub fn word(&self, index: usize) -> Result<u64, Errno> {
        self.words().get(index).copied().ok_or(Errno::EIO)
    }

    /// The reply's words.
    pub fn words(&self) -> &[u64] {
        &self.words[..self.word_count]
    }

    /// A reply that came as a function's result instead of a message (the
    /// co-location build runs the fs code inside vfs): decoded by the same
    /// convention as [`call`]'s, its bytes already where the caller wanted
    /// them. (`Redirect` is not for in-process replies: `EIO`.)
    pub fn from_wire(wire: &Wire<'_>) -> Result<Reply, Errno> {
        match ReplyKind::from_label(wire.label) {
            Some(ReplyKind::Done) => {
                let word_count = wire.word_count.min(MAX_WORDS);
                let byte_count = wire.items[..wire.item_count].iter().map(|item| item.len()).sum();
                Ok(Reply { words: wire.words, word_count, byte_count })
            }
            Some(ReplyKind::Failed) => Err(errno_of(&wire.words[..wire.word_count.min(MAX_WORDS)])),
            Some(ReplyKind::Redirect) | None => Err(Errno::EIO),
        }
    }

    fn from_received(received: &Received) -> Reply {
        let words = received.words();
        let word_count = words.len().min(MAX_WORDS);
        let mut copy = [0; MAX_WORDS];
        copy[..word_count].copy_from_slice(&words[..word_count]);
        Reply { words: copy, word_count, byte_count: received.byte_count() as usize }
    }
}

/// Sends `request` to `server`, waits for its reply and decodes it (see the
/// module documentation).
pub fn call(server: ThreadId, request: &Message) -> Result<Reply, Errno> {
    let mut to = server;
    let mut redirected = false;
    loop {
        let received = ipc::call(to, request).map_err(errno_of_kernel_error)?;
        match ReplyKind::from_label(received.label()) {
            Some(ReplyKind::Done) => return Ok(Reply::from_received(&received)),
            Some(ReplyKind::Failed) => return Err(errno_of(received.words())),
            Some(ReplyKind::Redirect) if !redirected => {
                to = ThreadId(*received.words().first().ok_or(Errno::EIO)?);
                redirected = true;
            }
            Some(ReplyKind::Redirect) | None => return Err(Errno::EIO),
        }
    }
}

/// The errno for a failed IPC.
fn errno_of_kernel_error(error: Error) -> Errno {
    match error {
        Error::BadAddress => Errno::EFAULT,
        _ => Errno::EIO,
    }
}
