//! Messages and the four IPC operations (all one system call in the kernel).
//!
//! ```ignore
//! // client (clients of servers use `l4::rpc::call`, which decodes the reply)
//! let reply = l4::ipc::call(server, &Message::new(VfsOp::Dup.label(), &[fd]))?;
//! // server
//! let mut request = l4::ipc::receive(ThreadId::ANY, Timeout::Never)?;
//! loop {
//!     let answer = handle(&request);
//!     request = l4::ipc::reply_and_receive(request.from, &answer)?;
//! }
//! ```

use crate::sys;
use common::abi::micro::{
    Error, MESSAGE_REGISTERS, Phase, STRING, TAG_WORDS_MASK, TIMEOUT_NEVER, TIMEOUT_ZERO, Tag, ThreadId, timeouts,
};
use common::abi::proto::Wire;

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
///
/// Build it in item order — words, byte items, map item, receive area:
///
/// ```ignore
/// let read = Message::new(VfsOp::Read.label(), &[fd, len]).with_receive_area(buf, len);
/// let open = Message::new(VfsOp::Open.label(), &[flags]).with_string_at(path, MAX_PATH + 1);
/// ```
///
/// A message with more than fits in the six registers, or items out of
/// order, gets an invalid tag: the kernel refuses it (`InvalidArgument`).
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

    /// The message for a protocol [`Wire`]: its label, words and byte items
    /// (bytes of this thread's memory, which the kernel copies).
    pub fn from_wire(wire: &Wire<'_>) -> Message {
        let mut message = Message::new(wire.label, &wire.words[..wire.word_count]);
        for bytes in &wire.items[..wire.item_count] {
            message = message.with_bytes(bytes);
        }
        message
    }

    /// Adds `bytes` (of this thread's memory) as a byte item.
    pub fn with_bytes(self, bytes: &[u8]) -> Message {
        self.with_bytes_at(bytes.as_ptr() as u64, bytes.len() as u64)
    }

    /// Adds a byte item of `length` bytes at `address` in this thread's
    /// memory. Nothing here reads them: the kernel checks every page (a bad
    /// address fails the IPC with `BadAddress`) and copies them.
    pub fn with_bytes_at(self, address: u64, length: u64) -> Message {
        self.push_byte_item(address, length)
    }

    /// Adds the NUL-terminated string at `address` as a byte item: the
    /// kernel copies up to the NUL (not included), at most `max` bytes.
    pub fn with_string_at(self, address: u64, max: u64) -> Message {
        self.push_byte_item(address, max | STRING)
    }

    fn push_byte_item(mut self, address: u64, length_word: u64) -> Message {
        let at = self.tag.registers_used() as usize;
        if self.tag.has_map() || self.tag.has_receive_area() || at + 2 > MESSAGE_REGISTERS {
            return self.invalid();
        }
        self.mr[at] = address;
        self.mr[at + 1] = length_word;
        self.tag = self.tag.with_byte_item();
        self
    }

    /// Adds a map item; `grant` moves the pages instead of sharing them.
    pub fn with_map(mut self, item: crate::MapItem, grant: bool) -> Message {
        let at = self.tag.registers_used() as usize;
        if self.tag.has_map() || self.tag.has_receive_area() || at + 2 > MESSAGE_REGISTERS {
            return self.invalid();
        }
        [self.mr[at], self.mr[at + 1]] = item.encode();
        self.tag = self.tag.with_map(grant);
        self
    }

    /// Names the *receive area* of this IPC: the byte items of the message
    /// this thread receives in return (a reply) land in the `length` bytes
    /// at `address`, which the kernel checks are this thread's writable
    /// memory before anything is sent.
    pub fn with_receive_area(mut self, address: u64, length: u64) -> Message {
        let at = self.tag.registers_used() as usize;
        if self.tag.has_receive_area() || at + 2 > MESSAGE_REGISTERS {
            return self.invalid();
        }
        self.mr[at] = address;
        self.mr[at + 1] = length;
        self.tag = self.tag.with_receive_area();
        self
    }

    /// The same message with a tag the kernel refuses (too many registers).
    fn invalid(mut self) -> Message {
        self.tag = Tag(self.tag.0 | TAG_WORDS_MASK);
        self
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
    /// The data words (none if the tag claims more than there are).
    pub fn words(&self) -> &[u64] {
        self.mr.get(..self.tag.words() as usize).unwrap_or(&[])
    }
    /// Byte item `n`: where its bytes landed in this thread's receive area
    /// (or receive buffer), and how many there are.
    pub fn byte_item(&self, n: usize) -> Option<(u64, u64)> {
        self.tag.byte_item_index(n).map(|i| (self.mr[i], self.mr[i + 1]))
    }
    /// How many bytes arrived in all (every byte item's length).
    pub fn byte_count(&self) -> u64 {
        (0..self.tag.byte_items()).filter_map(|n| self.byte_item(n)).map(|(_, length)| length).sum()
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
    ipc_with_phase(to, from, message, send, receive).map_err(|(error, _)| error)
}

/// [`ipc`], saying in which phase an error happened: `Phase::Receive`
/// means the send phase (if any) completed — the message was delivered —
/// and only the receive failed; `Phase::Send`, that nothing was sent.
pub fn ipc_with_phase(
    to: ThreadId,
    from: ThreadId,
    message: &Message,
    send: Timeout,
    receive: Timeout,
) -> Result<Received, (Error, Phase)> {
    let result = sys::ipc(to.0, from.0, message.tag.0, timeouts(send.raw(), receive.raw()), message.mr);
    Phase::check(result.rax)?;
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
