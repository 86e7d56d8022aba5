//! # server-lib — what the I/O servers share
//!
//! The console, disk, fs and vfs servers are each one thread in its own
//! address space, started by the root task. They all begin and serve the
//! same way, so that part is written once, here:
//!
//! - [`start`]: the heap (root backs `SERVER_HEAP_BASE..` with zero pages
//!   on demand), the receive buffer long messages land in, and the
//!   [`Directory`] root sends first (who is who);
//! - [`Request`]: a received message, copied out of the receive buffer into
//!   an owned value (the next IPC overwrites the buffer, and a server often
//!   makes a call of its own before it is done with a request); its bytes
//!   go into one recycled vector, so receiving costs no heap allocation;
//!   a few bytes travel in the message registers instead of a buffer item
//!   (`common::abi::proto::inline`: [`message`] packs, [`Request`] unpacks);
//! - [`receive`], [`reply_and_receive`], [`reply`], [`call`]: the IPC
//!   operations, in the
//!   [`Wire`] form the protocol types of `common::abi::proto` use;
//! - (the panic handler and the allocator are `l4`'s runtime: a server that
//!   panics prints why and stops its thread; its clients' calls then fail.)
//!
//! Root starts a server at its entry point with `rdi` = root's thread id
//! (`l4::server_entry!` passes it to `main`). A server's main loop is then:
//!
//! ```ignore
//! fn main(root: u64) -> ! {
//!     let directory = server_lib::start("disk", ThreadId(root));
//!     let mut request = server_lib::receive();
//!     loop {
//!         let answer = handle(&request);          // a Wire: ok, error, ...
//!         request = server_lib::reply_and_receive(request.from, &answer);
//!     }
//! }
//! l4::server_entry!(main);
//! ```
//!
//! (A reply is a send with timeout zero: the client is waiting in its
//! `call`. If it is gone, the reply fails and the server carries on.)
#![no_std]

extern crate alloc;

use alloc::vec::Vec;
use common::abi::errno::Errno;
use common::abi::proto::reply::{self, Answer};
use common::abi::proto::root::{Directory, SERVER_HEAP_BASE, SERVER_HEAP_SIZE};
use common::abi::proto::{MAX_WORDS, Wire, inline};
use core::cell::UnsafeCell;
use l4::{Message, Received, ThreadId, Timeout};

/// The most bytes one message carries.
pub const BUFFER_BYTES: usize = 4096;

/// The receive buffer: the kernel copies a message's bytes here.
#[repr(C, align(4096))]
struct ReceiveBuffer(UnsafeCell<[u8; BUFFER_BYTES]>);

// SAFETY: a server is one thread; the buffer is only touched by it and by
// the kernel during that thread's own IPC.
unsafe impl Sync for ReceiveBuffer {}

static RECEIVE_BUFFER: ReceiveBuffer = ReceiveBuffer(UnsafeCell::new([0; BUFFER_BYTES]));

/// This server's name, for messages (set by [`start`]).
static NAME: spin::Once<&'static str> = spin::Once::new();

/// This server's name (`"server"` before [`start`]).
pub fn name() -> &'static str {
    NAME.get().copied().unwrap_or("server")
}

/// Sets up the server: heap, receive buffer, and waits for the directory
/// from `root` (a closed receive: nobody else can pose as root). `name` is
/// only for messages.
pub fn start(name: &'static str, root: ThreadId) -> Directory {
    NAME.call_once(|| name);
    // SAFETY: the heap region is reserved for this purpose in every server's
    // address space (see `common::abi::proto::root`); root backs it with
    // zero pages on demand, and nothing else uses it.
    unsafe { l4::init_heap(SERVER_HEAP_BASE, SERVER_HEAP_SIZE) };
    let buffer = RECEIVE_BUFFER.0.get() as u64;
    // Touch the buffer so its page is mapped writable before the kernel
    // copies into it (the kernel checks, it does not fault pages in).
    // SAFETY: our own static, and no IPC is in progress.
    unsafe { (*RECEIVE_BUFFER.0.get())[0] = 0 };
    // SAFETY: the buffer is used only through `copy_bytes` right after an
    // IPC, never while a reference into it is alive.
    if let Err(error) = unsafe { l4::memory::set_receive_window(buffer, BUFFER_BYTES as u64, 0, 0) }
    {
        l4::println!("{name}: set_receive_window failed: {error:?}");
    }
    loop {
        let request = match l4::ipc::receive(root, Timeout::Never) {
            Ok(received) => Request::from_received(&received),
            Err(error) => {
                l4::println!("{name}: waiting for the directory failed: {error:?}");
                l4::ipc::sleep(10);
                continue;
            }
        };
        match Directory::from_wire(&request.wire()) {
            Ok(directory) => return directory,
            Err(error) => l4::println!(
                "{name}: expected the directory, got label {:#x} ({error:?})",
                request.label
            ),
        }
    }
}

/// A received message, owned (copied out of the receive buffer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The sender (written by the kernel: unforgeable), or an interrupt.
    pub from: ThreadId,
    /// The label.
    pub label: u64,
    /// The words (at most [`MAX_WORDS`]; more make the message malformed).
    pub words: [u64; MAX_WORDS],
    /// How many words came (`usize::MAX` if more than [`MAX_WORDS`]).
    pub word_count: usize,
    /// The bytes, if the message had a buffer item.
    pub bytes: Option<Vec<u8>>,
}

impl Request {
    /// Copies a received message out of the receive buffer (its bytes
    /// into the spare vector, see [`SpareBytes`]).
    fn from_received(received: &Received) -> Request {
        Request::from_received_with(received, copy_bytes)
    }

    /// Copies a received message out of the receive buffer (or, for an
    /// inline message, out of its registers), its bytes with `copy`.
    fn from_received_with(received: &Received, copy: fn(&[u8]) -> Vec<u8>) -> Request {
        if inline::is_inline(received.label()) && received.tag.buffer_index().is_none() {
            return match inline::unpack(received.label(), received.words()) {
                Ok(unpacked) => Request {
                    from: received.from,
                    label: unpacked.label,
                    words: unpacked.words,
                    word_count: unpacked.word_count,
                    bytes: Some(copy(unpacked.bytes())),
                },
                // Malformed: shown as too many words, which every decoder refuses.
                Err(_) => Request {
                    from: received.from,
                    label: received.label(),
                    words: [0; MAX_WORDS],
                    word_count: usize::MAX,
                    bytes: None,
                },
            };
        }
        let count = received.tag.words() as usize;
        let mut words = [0; MAX_WORDS];
        let used = count.min(MAX_WORDS);
        words[..used].copy_from_slice(&received.mr[..used]);
        let bytes = received
            .buffer_length()
            .map(|length| copy(received_bytes(length as usize)));
        Request {
            from: received.from,
            label: received.label(),
            words,
            word_count: if count > MAX_WORDS { usize::MAX } else { count },
            bytes,
        }
    }

    /// The message as the protocol types decode it. A message with too many
    /// words shows as one with none (so every decoder refuses it).
    pub fn wire(&self) -> Wire<'_> {
        let count = if self.word_count > MAX_WORDS {
            0
        } else {
            self.word_count
        };
        let wire = Wire::new(self.label, &self.words[..count]);
        match &self.bytes {
            Some(bytes) => wire.with_bytes(bytes),
            None => wire,
        }
    }

    /// Whether this is an interrupt message.
    pub fn irq(&self) -> Option<u8> {
        self.from.as_irq()
    }
}

impl Drop for Request {
    /// Gives the bytes' memory back to [`SPARE_BYTES`], for the next request.
    fn drop(&mut self) {
        if let Some(bytes) = self.bytes.take() {
            SPARE_BYTES.put_back(bytes);
        }
    }
}

/// One spare byte vector of [`BUFFER_BYTES`] capacity, recycled from request
/// to request. A server handles one request at a time, so one spare usually
/// suffices: copying a message's bytes then costs no heap allocation (the
/// heap allocator walks a list of free blocks, which is far dearer than the
/// copy of a short message).
struct SpareBytes(UnsafeCell<Option<Vec<u8>>>);

// SAFETY: a server is one thread; only `take` and `put_back` touch the cell,
// and neither calls out while it holds a reference into it.
unsafe impl Sync for SpareBytes {}

static SPARE_BYTES: SpareBytes = SpareBytes(UnsafeCell::new(None));

impl SpareBytes {
    /// The spare vector (emptied), or a new one if it is in use.
    fn take(&self) -> Vec<u8> {
        // SAFETY: see the `Sync` impl: no other reference into the cell exists.
        let spare = unsafe { (*self.0.get()).take() };
        let mut bytes = spare.unwrap_or_else(|| Vec::with_capacity(BUFFER_BYTES));
        bytes.clear();
        bytes
    }

    /// Keeps `bytes` as the spare if there is none and it is full-sized
    /// (a vector handed on, e.g. as a [`Reply`]'s bytes, just goes).
    fn put_back(&self, bytes: Vec<u8>) {
        // SAFETY: see the `Sync` impl: no other reference into the cell exists.
        let spare = unsafe { &mut *self.0.get() };
        if spare.is_none() && bytes.capacity() == BUFFER_BYTES {
            *spare = Some(bytes);
        }
    }
}

/// The first `length` bytes of the receive buffer, which the kernel wrote
/// during the IPC that just returned. The slice must be dropped before the
/// next IPC (callers copy it at once).
fn received_bytes(length: usize) -> &'static [u8] {
    let length = length.min(BUFFER_BYTES);
    // SAFETY: the kernel wrote the buffer during the IPC that just returned;
    // no other reference to it exists, and the caller is done with the slice
    // before the next IPC starts.
    let buffer = unsafe { &*RECEIVE_BUFFER.0.get() };
    &buffer[..length]
}

/// Copies `bytes` into the spare vector (a new one if it is in use).
fn copy_bytes(bytes: &[u8]) -> Vec<u8> {
    let mut copy = SPARE_BYTES.take();
    copy.extend_from_slice(bytes);
    copy
}

/// Copies `bytes` into a vector of their length.
fn copy_bytes_exactly(bytes: &[u8]) -> Vec<u8> {
    bytes.to_vec()
}

/// Reads one byte of every page of `bytes`. The kernel copies a message's
/// bytes only from pages that are mapped (it does not take page faults
/// for us); a page root has not backed yet (a constant never read, fresh
/// heap) is mapped by this read, through root, our pager.
fn touch(bytes: &[u8]) {
    const PAGE: usize = 4096;
    let start = bytes.as_ptr() as usize;
    let mut offset = 0;
    while offset < bytes.len() {
        // SAFETY: `offset < bytes.len()`: a byte of the slice.
        let _ = unsafe { core::ptr::read_volatile(bytes.as_ptr().add(offset)) };
        offset += PAGE - (start + offset) % PAGE;
    }
}

/// The l4 message for `wire`: its bytes, if any, in the registers when
/// they fit (`common::abi::proto::inline`), else as a buffer item whose
/// pages are made present first (see [`touch`]).
pub fn message(wire: &Wire<'_>) -> Message {
    if let Some(packed) = inline::pack(wire) {
        return Message::new(packed.label, &packed.registers[..packed.count]);
    }
    if let Some(bytes) = wire.bytes {
        touch(bytes);
    }
    let message = Message::new(wire.label, &wire.words[..wire.word_count]);
    match wire.bytes {
        // With at most MAX_WORDS (4) words the buffer item always fits.
        Some(bytes) => message.with_buffer(bytes).unwrap_or(message),
        None => message,
    }
}

/// Waits for the next message from anyone.
pub fn receive() -> Request {
    loop {
        match l4::ipc::receive(ThreadId::ANY, Timeout::Never) {
            Ok(received) => return Request::from_received(&received),
            // A sender whose buffer the kernel could not copy makes the
            // receive fail too; the server just waits for the next message.
            Err(error) => l4::println!("{}: receive failed: {error:?}", name()),
        }
    }
}

/// Replies to `client` and waits for the next message, in one system call
/// (the kernel's fast path: L4's reply-and-receive). If the client is gone,
/// the reply is dropped and the server just waits.
pub fn reply_and_receive(client: ThreadId, answer: &Wire<'_>) -> Request {
    match l4::ipc::reply_and_receive(client, &message(answer)) {
        Ok(received) => Request::from_received(&received),
        // The reply failed (the client is gone), or the receive did (a
        // sender's buffer could not be copied): either way, wait anew.
        Err(_) => receive(),
    }
}

/// Replies to `client`, which must be waiting in its call. A client that is
/// gone (killed, or not waiting) is ignored: the error is returned for
/// callers that care.
pub fn reply(client: ThreadId, answer: &Wire<'_>) -> Result<(), l4::Error> {
    l4::ipc::send(client, &message(answer), Timeout::Zero)
}

/// Acknowledges interrupt `irq` (unmasks the line again).
pub fn acknowledge(irq: u8) {
    if let Err(error) = l4::device::acknowledge(irq) {
        l4::println!("{}: acknowledging IRQ {irq} failed: {error:?}", name());
    }
}

/// A reply from another server, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The words of the success reply.
    pub words: [u64; MAX_WORDS],
    /// How many words.
    pub word_count: usize,
    /// The bytes, if any.
    pub bytes: Vec<u8>,
}

impl Reply {
    /// Word `index`, or `EIO` if the reply is too short (a confused server).
    pub fn word(&self, index: usize) -> Result<u64, Errno> {
        if index < self.word_count {
            Ok(self.words[index])
        } else {
            Err(Errno::EIO)
        }
    }

    /// The reply as a wire message (for decoders like `InodeInfo::from_wire`).
    pub fn wire(&self) -> Wire<'_> {
        Wire::new(reply::REPLY_OK, &self.words[..self.word_count]).with_bytes(&self.bytes)
    }
}

/// Calls `server` with `request` and waits for its reply: `Ok` with the
/// success reply, or the error it answered (`EIO` if the server is gone or
/// the reply is malformed).
pub fn call(server: ThreadId, request: &Wire<'_>) -> Result<Reply, Errno> {
    let received = l4::ipc::call(server, &message(request)).map_err(|_| Errno::EIO)?;
    // The reply keeps its bytes (not recycled): a vector of their length.
    let mut owned = Request::from_received_with(&received, copy_bytes_exactly);
    match reply::check_reply(owned.wire())? {
        Answer::Done(_) => Ok(Reply {
            words: owned.words,
            word_count: owned.word_count.min(MAX_WORDS),
            bytes: owned.bytes.take().unwrap_or_default(),
        }),
        Answer::Redirect(_) => Err(Errno::EIO),
    }
}
