//! Messages and the four IPC operations (all one system call in the kernel).
//!
//! ```ignore
//! // client
//! let reply = l4::ipc::call(server, &Message::new(READ, &[fd, len]))?;
//! // server
//! let mut request = l4::ipc::receive(ThreadId::ANY, Timeout::Never)?;
//! loop {
//!     let answer = handle(&request);
//!     request = l4::ipc::reply_and_receive(request.from, &answer)?;
//! }
//! ```

use crate::sys;
use common::abi::micro::{Error, MESSAGE_REGISTERS, TIMEOUT_NEVER, TIMEOUT_ZERO, Tag, ThreadId, timeouts};

/// How long a phase of an IPC may wait for its partner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timeout {
    /// Do not wait: fail with a timeout error if the partner is not ready.
    Zero,
    /// Wait as long as it takes.
    Never,
    /// Wait at most this many timer ticks (10 ms each).
    Ticks(u32),
}

impl Timeout {
    /// The ABI encoding.
    pub const fn raw(self) -> u32 {
        match self {
            Timeout::Zero => TIMEOUT_ZERO,
            Timeout::Never => TIMEOUT_NEVER,
            // Clamp so that a relative timeout never means "never".
            Timeout::Ticks(ticks) => {
                if ticks == TIMEOUT_NEVER {
                    TIMEOUT_NEVER - 1
                } else {
                    ticks
                }
            }
        }
    }
}

/// A message to send: a tag and the six message registers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Message {
    pub tag: Tag,
    pub mr: [u64; MESSAGE_REGISTERS],
}

impl Message {
    /// A message with `label` and up to six data words (extra words are dropped).
    pub fn new(label: u64, words: &[u64]) -> Message {
        let count = words.len().min(MESSAGE_REGISTERS);
        let mut mr = [0; MESSAGE_REGISTERS];
        mr[..count].copy_from_slice(&words[..count]);
        Message { tag: Tag::new(label, count as u64), mr }
    }

    /// Adds a long-message buffer item (after the words). The kernel copies
    /// the bytes into the receiver's receive buffer during the IPC.
    /// Returns `None` if the registers are full.
    pub fn with_buffer(self, bytes: &[u8]) -> Option<Message> {
        self.with_raw_buffer(bytes.as_ptr() as u64, bytes.len() as u64)
    }

    /// Adds a buffer item from a raw pointer and length (for tests that
    /// pass bad ones on purpose).
    pub fn with_raw_buffer(mut self, pointer: u64, length: u64) -> Option<Message> {
        let at = self.tag.registers_used() as usize;
        if self.tag.has_buffer() || self.tag.has_map() || at + 2 > MESSAGE_REGISTERS {
            return None;
        }
        self.mr[at] = pointer;
        self.mr[at + 1] = length;
        self.tag = self.tag.with_buffer();
        Some(self)
    }

    /// Adds a map item (after the words and buffer item); `grant` moves the
    /// pages instead of sharing them. Returns `None` if the registers are full.
    pub fn with_map(mut self, item: crate::MapItem, grant: bool) -> Option<Message> {
        let at = self.tag.registers_used() as usize;
        if self.tag.has_map() || at + 2 > MESSAGE_REGISTERS {
            return None;
        }
        [self.mr[at], self.mr[at + 1]] = item.encode();
        self.tag = self.tag.with_map(grant);
        Some(self)
    }
}

/// A received message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Received {
    /// Who sent it: a thread id written by the kernel (unforgeable), or an
    /// interrupt's pseudo-thread id.
    pub from: ThreadId,
    /// The tag as sent (label, word count, items).
    pub tag: Tag,
    /// The message registers; items are rewritten for the receiver (see
    /// `common::abi::micro`).
    pub mr: [u64; MESSAGE_REGISTERS],
}

impl Received {
    /// The protocol label.
    pub fn label(&self) -> u64 {
        self.tag.label()
    }
    /// The data words.
    pub fn words(&self) -> &[u64] {
        &self.mr[..self.tag.words() as usize]
    }
    /// For a buffer item: how many bytes landed in the receive buffer.
    pub fn buffer_length(&self) -> Option<u64> {
        self.tag.buffer_index().map(|i| self.mr[i + 1])
    }
    /// For a map item: the first page that was mapped here and the count.
    pub fn mapped(&self) -> Option<(u64, u64)> {
        self.tag.map_index().map(|i| (self.mr[i] & !0xfff, self.mr[i + 1]))
    }
}

/// The general IPC: send `message` to `to` (unless NIL), then receive from
/// `from` (unless NIL; ANY accepts anyone), each phase with its timeout.
pub fn ipc(
    to: ThreadId,
    from: ThreadId,
    message: &Message,
    send: Timeout,
    receive: Timeout,
) -> Result<Received, Error> {
    let result = sys::ipc(to.0, from.0, message.tag.0, timeouts(send.raw(), receive.raw()), message.mr);
    Error::check(result.rax)?;
    Ok(Received { from: ThreadId(result.from), tag: Tag(result.tag), mr: result.mr })
}

/// Sends `message` to `to`, waiting at most `timeout` for it to receive.
pub fn send(to: ThreadId, message: &Message, timeout: Timeout) -> Result<(), Error> {
    ipc(to, ThreadId::NIL, message, timeout, Timeout::Zero).map(|_| ())
}

/// Receives a message from `from` (a thread, an interrupt, or `ThreadId::ANY`).
pub fn receive(from: ThreadId, timeout: Timeout) -> Result<Received, Error> {
    ipc(ThreadId::NIL, from, &Message::default(), Timeout::Zero, timeout)
}

/// Sends `message` to `to` and waits for its reply, atomically (the reply
/// cannot be missed, and nobody else's message is taken instead).
pub fn call(to: ThreadId, message: &Message) -> Result<Received, Error> {
    ipc(to, to, message, Timeout::Never, Timeout::Never)
}

/// A server's loop step: replies to `client` (which must be waiting: the
/// reply is never blocked on) and waits for the next request from anyone.
pub fn reply_and_receive(client: ThreadId, reply: &Message) -> Result<Received, Error> {
    ipc(client, ThreadId::ANY, reply, Timeout::Zero, Timeout::Never)
}

/// Sleeps for `ticks` timer ticks: a receive from oneself, which nobody can
/// satisfy, with a relative timeout.
pub fn sleep(ticks: u32) {
    let me = crate::task::whoami().0;
    let _ = receive(me, Timeout::Ticks(ticks));
}
