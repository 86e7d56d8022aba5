//! # server-lib — what the servers share
//!
//! The console, disk, fs, vfs, proc and rtc servers are each one thread in its
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
//! - [`call`] and [`call_into`]: a call to another server, named by its
//!   part ([`Server::Fs`]), through the one transport every client uses
//!   (`l4::rpc`);
//! - the **directory** (who is who), kept here and kept up to date: root
//!   sends it again whenever it restarted a server, the receive functions
//!   take that message out of the stream of requests, and a call that
//!   finds its server gone asks root for the current one
//!   ([`refresh_directory`]) and tries once more with the new copy — so
//!   a server restarted by root (`docs/fault-isolation.md`) is a transparent
//!   retry for its clients, never a hang; [`sender_is`] checks who is
//!   calling against the same directory;
//! - [`inject`]: faults on purpose, armed by root, fired at a request;
//! - (the panic handler and the allocator are `l4`'s runtime: a server that
//!   panics prints why and raises an exception, which root, its exception
//!   handler, reports as a crash.)
//!
//! Root starts a server at its entry point with `rdi` = root's thread id
//! (`l4::server_entry!` passes it to `main`). A server's main loop is then:
//!
//! ```ignore
//! fn main(root: u64) -> ! {
//!     server_lib::start("disk", ThreadId(root));
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

pub mod inject;

use alloc::vec::Vec;
use common::abi::errno::Errno;
use common::abi::micro::MAX_BYTE_ITEMS;
use common::abi::proto::root::{
    Arm, DIRECTORY_BYTES, Directory, RootOp, RootRequest, SERVER_HEAP_BASE, SERVER_HEAP_SIZE,
};
use common::abi::proto::{MAX_WORDS, Wire};
use core::cell::{Cell, UnsafeCell};
use l4::rpc::{Answer, CallError, Reply};
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

/// The directory as this server last heard it (root's own id never
/// changes).
struct DirectoryCell(Cell<Directory>);

// SAFETY: a server is one thread; only it touches the cell.
unsafe impl Sync for DirectoryCell {}

static DIRECTORY: DirectoryCell = DirectoryCell(Cell::new(Directory {
    root: 0,
    console: 0,
    disk: 0,
    fs: 0,
    vfs: 0,
    proc: 0,
    rtc: 0,
}));

/// A part of the system, named by what it does rather than by the thread
/// id it has now (which changes when root restarts it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Server {
    Root,
    Console,
    Disk,
    Fs,
    Vfs,
    Proc,
}

impl Server {
    /// Its thread id in `directory`.
    fn in_directory(self, directory: &Directory) -> ThreadId {
        ThreadId(match self {
            Server::Root => directory.root,
            Server::Console => directory.console,
            Server::Disk => directory.disk,
            Server::Fs => directory.fs,
            Server::Vfs => directory.vfs,
            Server::Proc => directory.proc,
        })
    }
}

/// The directory as this server knows it now.
pub fn directory() -> Directory {
    DIRECTORY.0.get()
}

/// The thread `server` runs as, as far as this server knows.
pub fn id(server: Server) -> ThreadId {
    server.in_directory(&directory())
}

/// Asks root for the directory as it is now (after a restart, a server
/// has a new thread id) and keeps it. `false` if root did not answer
/// with one.
pub fn refresh_directory() -> bool {
    let mut bytes = [0u8; DIRECTORY_BYTES];
    let request = Message::from_wire(&RootRequest::CurrentDirectory.to_wire())
        .with_receive_area(bytes.as_mut_ptr() as u64, bytes.len() as u64);
    let root = id(Server::Root);
    let Ok(reply) = l4::rpc::try_call(root, &request) else {
        return false;
    };
    if reply.byte_count != DIRECTORY_BYTES {
        return false;
    }
    match Directory::from_wire(&Directory::to_wire(&bytes)) {
        Ok(current) if current.root == root.0 => {
            DIRECTORY.0.set(current);
            true
        }
        _ => false,
    }
}

/// Whether `from` is `server` (the kernel writes a request's sender: it
/// cannot be forged). A sender that is not who the directory says may be
/// a new copy root started: the directory is asked for once more.
pub fn sender_is(server: Server, from: ThreadId) -> bool {
    if id(server) == from {
        return true;
    }
    refresh_directory() && id(server) == from
}

/// Sets up the server: heap, receive buffer, and waits for the directory
/// from `root` (a closed receive: nobody else can pose as root). `name` is
/// only for messages. The directory is kept ([`directory`], [`id`]) and
/// also returned.
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
            Ok(directory) if directory.root == root.0 => {
                DIRECTORY.0.set(directory);
                return directory;
            }
            Ok(_) => l4::println!("{name}: a directory that does not name root"),
            Err(error) => l4::println!(
                "{name}: expected the directory, got label {:#x} ({error:?})",
                request.label
            ),
        }
    }
}

/// A message from root in the stream of requests: a new directory, or a
/// fault to arm. Returns whether it was one (and was taken care of).
fn from_root(request: &Request) -> bool {
    if request.from != id(Server::Root) {
        return false;
    }
    let wire = request.wire();
    match RootOp::from_label(request.label) {
        Some(RootOp::Directory) => match Directory::from_wire(&wire) {
            Ok(directory) if directory.root == request.from.0 => DIRECTORY.0.set(directory),
            _ => l4::println!("{}: a malformed directory from root", name()),
        },
        Some(RootOp::Arm) => match Arm::from_wire(&wire) {
            Ok(Arm(injection)) => inject::arm(injection, name()),
            Err(error) => l4::println!("{}: a malformed fault from root: {error:?}", name()),
        },
        // Root sends nothing else; a stray message is dropped.
        _ => l4::println!(
            "{}: unexpected label {:#x} from root",
            name(),
            request.label
        ),
    }
    true
}

/// For a server that receives with `l4::ipc` itself (proc): whether
/// `received` was root's message (a new directory, a fault to arm), which
/// is then taken care of.
pub fn from_root_message(received: &Received) -> bool {
    received.from == id(Server::Root) && from_root(&Request::from_received(received))
}

/// What the receive functions do with each message before the server
/// sees it: root's messages are taken out (`None`), a client's request is
/// counted for an armed fault (which may fire here).
fn screen(request: Request) -> Option<Request> {
    if from_root(&request) {
        return None;
    }
    if request.irq().is_none() {
        inject::on_request(name());
    }
    Some(request)
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
            Ok(received) => {
                if let Some(request) = screen(Request::from_received(&received)) {
                    return request;
                }
            }
            // A sender whose bytes the kernel could not copy makes the
            // receive fail too; the server just waits for the next message.
            Err(error) => l4::println!("{}: receive failed: {error:?}", name()),
        }
    }
}

/// Waits at most `ticks` timer ticks (10 ms) for the next message from
/// anyone; `None` if none came.
pub fn receive_for(ticks: u32) -> Option<Request> {
    loop {
        match l4::ipc::receive(ThreadId::ANY, Timeout::Ticks(ticks)) {
            Ok(received) => {
                if let Some(request) = screen(Request::from_received(&received)) {
                    return Some(request);
                }
            }
            Err(_) => return None,
        }
    }
}

/// Replies to `client` and waits for the next message, in one system call
/// (the kernel's fast path: L4's reply-and-receive). If the client is gone,
/// the reply is dropped and the server just waits.
pub fn reply_and_receive(client: ThreadId, reply: &Wire<'_>) -> Request {
    match l4::ipc::reply_and_receive(client, &Message::from_wire(reply)) {
        Ok(received) => match screen(Request::from_received(&received)) {
            Some(request) => request,
            None => receive(),
        },
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
        Ok(received) => match screen(Request::from_received(&received)) {
            Some(request) => Some(request),
            None => receive_for(ticks),
        },
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

/// Calls `server` with `request` and waits for its reply: the words of
/// the success reply, or the error it answered (`EIO` if the reply is
/// malformed). If the server is gone, the directory is asked again and,
/// if root has started a new copy, the request goes to it once more
/// (which may repeat work the old copy did: the servers' requests are
/// made so that doing one twice does no harm, `docs/fault-isolation.md`);
/// gone for good is `EIO`.
pub fn call(server: Server, request: &Wire<'_>) -> Result<Reply, Errno> {
    call_message(server, &Message::from_wire(request), &mut || {})
}

/// Like [`call`], for a request whose reply carries bytes: they land in
/// `into` (`Reply::byte_count` says how many; a reply with more bytes than
/// `into` holds fails with `EIO`).
pub fn call_into(server: Server, request: &Wire<'_>, into: &mut [u8]) -> Result<Reply, Errno> {
    call_message(server, &with_area(request, into), &mut || {})
}

/// Like [`call`] (with `into` like [`call_into`]), and if the request must
/// go to a new copy of the server, `reconnect` runs first: it tells the new
/// copy what the old one knew about this client (vfs re-opens its files in
/// a new fs).
pub fn call_reconnecting(
    server: Server,
    request: &Wire<'_>,
    into: Option<&mut [u8]>,
    reconnect: &mut dyn FnMut(),
) -> Result<Reply, Errno> {
    let message = match into {
        Some(into) => with_area(request, into),
        None => Message::from_wire(request),
    };
    call_message(server, &message, reconnect)
}

/// Like [`call_reconnecting`], with the reply kept whole
/// (`l4::rpc::Answer`: a `Failed` reply's words after the errno too).
pub fn call_answer_reconnecting(
    server: Server,
    request: &Wire<'_>,
    into: Option<&mut [u8]>,
    reconnect: &mut dyn FnMut(),
) -> Result<Answer, Errno> {
    let message = match into {
        Some(into) => with_area(request, into),
        None => Message::from_wire(request),
    };
    let to = id(server);
    match l4::rpc::try_call_answer(to, &message) {
        Ok(answer) => Ok(answer),
        Err(CallError::Failed(errno)) => Err(errno),
        Err(CallError::Gone(_)) => {
            if !refresh_directory() || id(server) == to {
                return Err(Errno::EIO);
            }
            reconnect();
            l4::rpc::try_call_answer(id(server), &message).map_err(|error| match error {
                CallError::Failed(errno) => errno,
                CallError::Gone(_) => Errno::EIO,
            })
        }
    }
}

/// The message of `request`, with `into` as its receive area.
fn with_area(request: &Wire<'_>, into: &mut [u8]) -> Message {
    Message::from_wire(request).with_receive_area(into.as_mut_ptr() as u64, into.len() as u64)
}

/// The call, and the one retry with a restarted server.
fn call_message(
    server: Server,
    message: &Message,
    reconnect: &mut dyn FnMut(),
) -> Result<Reply, Errno> {
    let to = id(server);
    match l4::rpc::try_call(to, message) {
        Ok(reply) => Ok(reply),
        Err(CallError::Failed(errno)) => Err(errno),
        Err(CallError::Gone(_)) => {
            if !refresh_directory() || id(server) == to {
                return Err(Errno::EIO);
            }
            reconnect();
            l4::rpc::try_call(id(server), message).map_err(|error| match error {
                CallError::Failed(errno) => errno,
                CallError::Gone(_) => Errno::EIO,
            })
        }
    }
}

/// Acknowledges interrupt `irq` (unmasks the line again).
pub fn acknowledge(irq: u8) {
    if let Err(error) = l4::device::acknowledge(irq) {
        l4::println!("{}: acknowledging IRQ {irq} failed: {error:?}", name());
    }
}
