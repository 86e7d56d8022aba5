//! # server-lib — what the servers share
//!
//! The console, disk, fs, vfs and proc servers are each one thread in its
//! own address space, started by the root task. They all begin and serve
//! the same way, so that part is written once, here:
//!
//! - [`start`]: the heap (root backs `SERVER_HEAP_BASE..` with zero pages
//!   on demand), the receive buffer requests' bytes land in, and the
//!   [`Directory`] root sends first (who is who);
//! - [`Request`]: a received message, copied out of the receive buffer into
//!   an owned value (the next IPC overwrites the buffer); its bytes go into
//!   one recycled vector, so receiving costs no heap allocation;
//! - [`receive`], [`reply_and_receive`], [`reply`]: the server's side of
//!   IPC, in the [`Wire`] form of the protocol types of `common::abi::proto`;
//! - [`call`] and [`call_into`]: a call to another server, through the one
//!   transport every client uses (`l4::rpc`);
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
//!         let reply = handle(&request);          // a Wire: done, failed, ...
//!         request = server_lib::reply_and_receive(request.from, &reply);
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
use common::abi::micro::MAX_BYTE_ITEMS;
use common::abi::proto::root::{Directory, SERVER_HEAP_BASE, SERVER_HEAP_SIZE};
use common::abi::proto::{MAX_WORDS, Wire};
use core::cell::UnsafeCell;
use l4::rpc::Reply;
use l4::{Message, Received, ThreadId, Timeout};

/// The most bytes one message carries.
pub const BUFFER_BYTES: usize = 4096;

/// The receive buffer: the kernel copies a request's bytes here.
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
    // The shared code's trace points in this server record into the
    // kernel's trace (while tracing is on).
    l4::trace::install(name);
    // SAFETY: the heap region is reserved for this purpose in every server's
    // address space (see `common::abi::proto::root`); root backs it with
    // zero pages on demand, and nothing else uses it.
    unsafe { l4::init_heap(SERVER_HEAP_BASE, SERVER_HEAP_SIZE) };
    let buffer = RECEIVE_BUFFER.0.get() as u64;
    // SAFETY: the buffer is used only through `copy_bytes` right after an
    // IPC, never while a reference into it is alive. (The kernel maps its
    // page, through root, if it is not mapped yet.)
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
    words: [u64; MAX_WORDS],
    /// How many words came (`usize::MAX` if more than [`MAX_WORDS`]).
    word_count: usize,
    /// The byte items, one after the other (no allocation if there are none).
    bytes: Vec<u8>,
    /// Where each byte item lies in `bytes`: `(start, length)`.
    items: [(usize, usize); MAX_BYTE_ITEMS],
    /// How many byte items came.
    item_count: usize,
}

impl Request {
    /// Copies a received message out of the receive buffer. Byte items that
    /// do not lie inside the buffer (a confused kernel is not expected, but
    /// nothing here trusts an address) are dropped, so decoders refuse the
    /// message.
    fn from_received(received: &Received) -> Request {
        let count = received.tag.words() as usize;
        let mut words = [0; MAX_WORDS];
        let used = count.min(MAX_WORDS);
        words[..used].copy_from_slice(&received.mr[..used]);
        let mut request = Request {
            from: received.from,
            label: received.label(),
            words,
            word_count: if count > MAX_WORDS { usize::MAX } else { count },
            bytes: Vec::new(),
            items: [(0, 0); MAX_BYTE_ITEMS],
            item_count: 0,
        };
        let base = RECEIVE_BUFFER.0.get() as u64;
        for n in 0..received.tag.byte_items().min(MAX_BYTE_ITEMS) {
            let Some((address, length)) = received.byte_item(n) else {
                break;
            };
            let Some(landed) = received_bytes(address.wrapping_sub(base), length) else {
                break;
            };
            if request.item_count == 0 {
                request.bytes = SPARE_BYTES.take();
            }
            request.items[n] = (request.bytes.len(), landed.len());
            request.bytes.extend_from_slice(landed);
            request.item_count += 1;
        }
        request
    }

    /// The message as the protocol types decode it. A message with too many
    /// words shows as one with none (so every decoder refuses it).
    pub fn wire(&self) -> Wire<'_> {
        let count = if self.word_count > MAX_WORDS {
            0
        } else {
            self.word_count
        };
        let mut wire = Wire::new(self.label, &self.words[..count]);
        for &(start, length) in &self.items[..self.item_count] {
            wire = wire.with_bytes(&self.bytes[start..start + length]);
        }
        wire
    }

    /// Whether this is an interrupt message.
    pub fn irq(&self) -> Option<u8> {
        self.from.as_irq()
    }
}

impl Drop for Request {
    /// Gives the bytes' memory back to [`SPARE_BYTES`], for the next request.
    fn drop(&mut self) {
        let bytes = core::mem::take(&mut self.bytes);
        if bytes.capacity() > 0 {
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

    /// Keeps `bytes` as the spare if there is none and it is full-sized.
    fn put_back(&self, bytes: Vec<u8>) {
        // SAFETY: see the `Sync` impl: no other reference into the cell exists.
        let spare = unsafe { &mut *self.0.get() };
        if spare.is_none() && bytes.capacity() == BUFFER_BYTES {
            *spare = Some(bytes);
        }
    }
}

/// The `length` bytes at `offset` in the receive buffer, which the kernel
/// wrote during the IPC that just returned (`None` if they would not lie
/// inside it). The slice must be dropped before the next IPC (callers
/// copy it at once).
fn received_bytes(offset: u64, length: u64) -> Option<&'static [u8]> {
    let end = offset.checked_add(length)?;
    if end > BUFFER_BYTES as u64 {
        return None;
    }
    // SAFETY: the kernel wrote the buffer during the IPC that just returned;
    // no other reference to it exists, and the caller is done with the slice
    // before the next IPC starts.
    let buffer = unsafe { &*RECEIVE_BUFFER.0.get() };
    Some(&buffer[offset as usize..end as usize])
}

/// Waits for the next message from anyone.
pub fn receive() -> Request {
    loop {
        match l4::ipc::receive(ThreadId::ANY, Timeout::Never) {
            Ok(received) => return Request::from_received(&received),
            // A sender whose bytes the kernel could not copy makes the
            // receive fail too; the server just waits for the next message.
            Err(error) => l4::println!("{}: receive failed: {error:?}", name()),
        }
    }
}

/// Waits at most `ticks` timer ticks (10 ms) for the next message from
/// anyone; `None` if none came.
pub fn receive_for(ticks: u32) -> Option<Request> {
    match l4::ipc::receive(ThreadId::ANY, Timeout::Ticks(ticks)) {
        Ok(received) => Some(Request::from_received(&received)),
        Err(_) => None,
    }
}

/// Replies to `client` and waits for the next message, in one system call
/// (the kernel's fast path: L4's reply-and-receive). If the client is gone,
/// the reply is dropped and the server just waits.
pub fn reply_and_receive(client: ThreadId, reply: &Wire<'_>) -> Request {
    match l4::ipc::reply_and_receive(client, &Message::from_wire(reply)) {
        Ok(received) => Request::from_received(&received),
        // The reply failed (the client is gone), or the receive did (a
        // sender's bytes could not be copied): either way, wait anew.
        Err(_) => receive(),
    }
}

/// Like [`reply_and_receive`], but waits at most `ticks` timer ticks for
/// the next message: `None` if none came (a server with something to do
/// by a deadline, like the journal's commit, waits this way).
pub fn reply_and_receive_for(client: ThreadId, reply: &Wire<'_>, ticks: u32) -> Option<Request> {
    let reply = Message::from_wire(reply);
    match l4::ipc::ipc(
        client,
        ThreadId::ANY,
        &reply,
        Timeout::Zero,
        Timeout::Ticks(ticks),
    ) {
        Ok(received) => Some(Request::from_received(&received)),
        Err(l4::Error::ReceiveTimeout) => None,
        // The reply failed (the client is gone), or the receive did (a
        // sender's bytes could not be copied): wait anew.
        Err(_) => receive_for(ticks),
    }
}

/// Replies to `client`, which must be waiting in its call. A client that is
/// gone (killed, or not waiting) is ignored: the error is returned for
/// callers that care.
pub fn reply(client: ThreadId, reply: &Wire<'_>) -> Result<(), l4::Error> {
    l4::ipc::send(client, &Message::from_wire(reply), Timeout::Zero)
}

/// Acknowledges interrupt `irq` (unmasks the line again).
pub fn acknowledge(irq: u8) {
    if let Err(error) = l4::device::acknowledge(irq) {
        l4::println!("{}: acknowledging IRQ {irq} failed: {error:?}", name());
    }
}

/// Calls `server` with `request` and waits for its reply (`l4::rpc::call`):
/// the words of the success reply, or the error it answered (`EIO` if the
/// server is gone or the reply is malformed).
pub fn call(server: ThreadId, request: &Wire<'_>) -> Result<Reply, Errno> {
    l4::rpc::call(server, &Message::from_wire(request))
}

/// Like [`call`], for a request whose reply carries bytes: they land in
/// `into` (`Reply::byte_count` says how many; a reply with more bytes than
/// `into` holds fails with `EIO`).
pub fn call_into(server: ThreadId, request: &Wire<'_>, into: &mut [u8]) -> Result<Reply, Errno> {
    let message =
        Message::from_wire(request).with_receive_area(into.as_mut_ptr() as u64, into.len() as u64);
    l4::rpc::call(server, &message)
}
