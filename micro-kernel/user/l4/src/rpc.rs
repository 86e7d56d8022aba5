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
//! bad pointer; anything else is `EIO`.
//!
//! **A server that is gone.** `NoSuchThread` (the server was gone before
//! we called) and `Aborted` (it went while we waited: it crashed, or root's
//! watchdog ended it) mean that root may have started a new copy of it
//! under a new thread id (`docs/fault-isolation.md`). [`try_call`] reports
//! that as [`CallError::Gone`], naming the thread that is gone, so that a
//! caller who can find the new id asks again — servers do, through the
//! directory root keeps (`server_lib::call`). [`call`], the transport of
//! user programs, handles the one case a program can: when the server a
//! *redirect* named is gone (the console server restarted under a read
//! or write of the console), it asks the first server again, which
//! redirects to the new copy; while the first server still names the dead
//! one (root has not told it yet), it waits a tick and asks again, at most
//! [`REDIRECT_RETRIES`] times. The request may then run twice (a console
//! write the dead server had printed before it crashed is printed again);
//! a read that was waiting for a line simply waits again.

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

    /// The same reply with only its first `count` words (a client that
    /// has read words the server added at the end).
    pub fn truncated(&self, count: usize) -> Reply {
        Reply { word_count: self.word_count.min(count), ..*self }
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

/// Why a call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallError {
    /// The server answered with this error, or the kernel refused the call
    /// (`EFAULT` for memory that is not ours, `EIO` otherwise).
    Failed(Errno),
    /// The thread called — the server, or the one its redirect named —
    /// is gone (`NoSuchThread`, `Aborted`).
    Gone(ThreadId),
}

/// A reply as it came, for a client that needs a `Failed` reply's words
/// after the errno (vfs reads where the fs server's journal stands from
/// them): `Ok` for `Done`, `Err((errno, reply))` for `Failed`.
pub type Answer = Result<Reply, (Errno, Reply)>;

/// Sends `request` to `server` and waits for its reply, which it returns
/// whole ([`Answer`]); no redirect is followed (`EIO`, as an unknown
/// reply is); a server that is gone is [`CallError::Gone`].
pub fn try_call_answer(server: ThreadId, request: &Message) -> Result<Answer, CallError> {
    let received = ipc::call(server, request).map_err(|error| match error {
        Error::NoSuchThread | Error::Aborted => CallError::Gone(server),
        other => CallError::Failed(errno_of_kernel_error(other)),
    })?;
    let reply = Reply::from_received(&received);
    match ReplyKind::from_label(received.label()) {
        Some(ReplyKind::Done) => Ok(Ok(reply)),
        Some(ReplyKind::Failed) => Ok(Err((errno_of(received.words()), reply))),
        Some(ReplyKind::Redirect) | None => Err(CallError::Failed(Errno::EIO)),
    }
}

/// How many times [`call`] asks again when a redirect names a server that
/// is gone (a tick apart, after the first).
pub const REDIRECT_RETRIES: u32 = 100;

/// Sends `request` to `server`, waits for its reply and decodes it (see the
/// module documentation), following one redirect; a server that is gone
/// is [`CallError::Gone`].
pub fn try_call(server: ThreadId, request: &Message) -> Result<Reply, CallError> {
    let mut to = server;
    let mut redirected = false;
    loop {
        let received = ipc::call(to, request).map_err(|error| match error {
            Error::NoSuchThread | Error::Aborted => CallError::Gone(to),
            other => CallError::Failed(errno_of_kernel_error(other)),
        })?;
        match ReplyKind::from_label(received.label()) {
            Some(ReplyKind::Done) => return Ok(Reply::from_received(&received)),
            Some(ReplyKind::Failed) => return Err(CallError::Failed(errno_of(received.words()))),
            Some(ReplyKind::Redirect) if !redirected => {
                let target = received.words().first().ok_or(CallError::Failed(Errno::EIO))?;
                to = ThreadId(*target);
                redirected = true;
            }
            Some(ReplyKind::Redirect) | None => return Err(CallError::Failed(Errno::EIO)),
        }
    }
}

/// Sends `request` to `server`, waits for its reply and decodes it (see the
/// module documentation): the transport of user programs. A redirect
/// whose target is gone is asked again from `server`; `server` itself
/// gone is `EIO`.
pub fn call(server: ThreadId, request: &Message) -> Result<Reply, Errno> {
    let mut dead_target = None;
    for attempt in 0..=REDIRECT_RETRIES {
        match try_call(server, request) {
            Ok(reply) => return Ok(reply),
            Err(CallError::Failed(errno)) => return Err(errno),
            Err(CallError::Gone(target)) if target != server => {
                // The same dead target again: the first server has not
                // heard of the new copy yet.
                if attempt > 0 && dead_target == Some(target) {
                    ipc::sleep(1);
                }
                dead_target = Some(target);
            }
            Err(CallError::Gone(_)) => return Err(Errno::EIO),
        }
    }
    Err(Errno::EIO)
}

/// The errno for a failed IPC.
fn errno_of_kernel_error(error: Error) -> Errno {
    match error {
        Error::BadAddress => Errno::EFAULT,
        _ => Errno::EIO,
    }
}
