//! IPC, the slow path: synchronous rendezvous between two threads.
//!
//! One system call does it all, as in L4: an optional *send phase* to `to`
//! followed by an optional *receive phase* from `from` (a thread, an
//! interrupt's pseudo-thread, or ANY). So
//!
//! | operation          | to       | from    | note                                   |
//! |--------------------|----------|---------|----------------------------------------|
//! | send               | T        | NIL     |                                        |
//! | receive            | NIL      | T / ANY |                                        |
//! | call               | S        | S       | the receive starts the moment the send completes |
//! | reply and receive  | client   | ANY     | send timeout zero: the client is waiting |
//!
//! A phase completes only when both sides are there. If the partner is not
//! ready, the caller blocks (up to its timeout): a sender waits in the
//! receiver's *send queue* (FIFO, so receive-from-any serves senders in the
//! order they came), a receiver waits with `partner` = whom it accepts.
//! Whoever arrives second performs the [`transfer`]: message registers,
//! the long-message buffer (copied once, through the kernel window, after
//! checking both page tables) and map items (`map.rs`). The sender's id is
//! written by the kernel, never by the sender, so it cannot be forged.
//!
//! The common case — a short call or reply-and-receive to a thread that is
//! already waiting — never reaches this file: `fastpath.rs` handles it.
//! `docs/ipc-path.md` follows an IPC through both paths.

use crate::global::Kernel;
use crate::map;
use crate::sched;
use crate::slot::{SpaceSlot, ThreadSlot};
use crate::space;
use crate::thread::{self, IpcKind, Message, NO_SLOT, ThreadState};
use crate::timeout;
use common::abi::micro::{
    Error, MAX_BUFFER_BYTES, MAX_MAP_PAGES, TIMEOUT_ZERO, Tag, ThreadId, label, receive_timeout, rights, send_timeout,
};
use common::drivers::pic::IRQ_LINES;
use common::mm::addr::phys_to_kernel_virt;
use common::mm::{PAGE_SIZE, UserRange, VirtAddr};

/// The `ipc` system call of the running thread `slot`, from its registers.
pub fn sys_ipc(k: &mut Kernel, slot: ThreadSlot) {
    let f = thread::frame(slot);
    let to = ThreadId(f.rdi);
    let from = ThreadId(f.rsi);
    let times = f.r10;
    let message = Message { tag: Tag(f.rdx), mr: [f.r8, f.r9, f.r12, f.r13, f.r14, f.r15] };
    k.threads.get(slot).ipc_kind = IpcKind::Normal;
    let checked =
        check_receive_spec(k, from).and_then(|()| if to == ThreadId::NIL { Ok(()) } else { check_message(&message) });
    // Success unless something below says otherwise (a completed receive
    // also writes 0; a blocked phase is finished by the partner).
    thread::frame(slot).rax = 0;
    if let Err(error) = checked.and_then(|()| start(k, slot, to, message, times, from)) {
        thread::frame(slot).rax = error.code();
    }
}

/// Runs an IPC for thread `slot`: send `message` to `to` (unless NIL), then
/// receive from `from` (unless NIL). Returns an error only if the IPC failed
/// before the thread blocked or received; what happens later is reported
/// into the thread's registers by whoever completes it.
pub fn start(
    k: &mut Kernel,
    slot: ThreadSlot,
    to: ThreadId,
    message: Message,
    times: u64,
    from: ThreadId,
) -> Result<(), Error> {
    if to != ThreadId::NIL {
        let sent = send(k, slot, to, message, send_timeout(times), from, receive_timeout(times))?;
        if !sent {
            return Ok(()); // blocked in `to`'s send queue; the receiver finishes the job
        }
    }
    if from != ThreadId::NIL {
        receive(k, slot, from, receive_timeout(times));
    }
    Ok(())
}

/// Checks a receive-from spec: NIL, ANY, an IRQ line, or a live thread.
fn check_receive_spec(k: &Kernel, from: ThreadId) -> Result<(), Error> {
    match from {
        ThreadId::NIL | ThreadId::ANY => Ok(()),
        id if id.as_irq().is_some_and(|irq| irq < IRQ_LINES) => Ok(()),
        id if k.threads.lookup(id).is_some() => Ok(()),
        _ => Err(Error::NoSuchThread),
    }
}

/// Checks everything about a message that does not depend on the receiver.
pub fn check_message(message: &Message) -> Result<(), Error> {
    let tag = message.tag;
    if !tag.is_valid() {
        return Err(Error::InvalidArgument);
    }
    if let Some(i) = tag.buffer_index() {
        let (pointer, length) = (message.mr[i], message.mr[i + 1]);
        if length > MAX_BUFFER_BYTES {
            return Err(Error::MessageTooLong);
        }
        UserRange::new(pointer, length).map_err(|_| Error::BadAddress)?;
    }
    if let Some(i) = tag.map_index() {
        let item = map::MapItem::decode(message.mr[i], message.mr[i + 1]);
        if item.rights & !rights::ALL != 0 || item.count == 0 || item.count > MAX_MAP_PAGES {
            return Err(Error::InvalidArgument);
        }
        UserRange::new(item.page, item.count * PAGE_SIZE).map_err(|_| Error::BadAddress)?;
    }
    Ok(())
}

/// The send phase. `Ok(true)`: delivered; `Ok(false)`: the sender blocked.
fn send(
    k: &mut Kernel,
    slot: ThreadSlot,
    to: ThreadId,
    message: Message,
    timeout: u32,
    then_receive: ThreadId,
    then_receive_timeout: u32,
) -> Result<bool, Error> {
    if let Some(irq) = to.as_irq() {
        crate::irq::acknowledge(k, slot, irq)?;
        return Ok(true);
    }
    let dest = k.threads.lookup(to).ok_or(Error::NoSuchThread)?;
    let me = k.threads.id(slot);
    let receiver = k.threads.get(dest);
    if receiver.state == ThreadState::ReceiveBlocked && (receiver.partner == ThreadId::ANY || receiver.partner == me) {
        let result = transfer(k, slot, &message, dest);
        match result {
            Ok(()) => resume(k, dest),
            Err(error) => fail(k, dest, error),
        }
        return result.map(|()| true);
    }
    if timeout == TIMEOUT_ZERO {
        return Err(Error::SendTimeout);
    }
    let deadline = timeout::deadline(k, timeout);
    let sender = k.threads.get(slot);
    sender.state = ThreadState::SendBlocked;
    sender.partner = to;
    sender.out = message;
    sender.then_receive = then_receive;
    sender.then_receive_timeout = then_receive_timeout;
    sender.deadline = deadline;
    sender.sender_next = NO_SLOT;
    let tail = k.threads.get(dest).senders_tail;
    if tail == NO_SLOT {
        k.threads.get(dest).senders_head = slot;
    } else {
        k.threads.get(tail).sender_next = slot;
    }
    k.threads.get(dest).senders_tail = slot;
    sched::unready(k, slot);
    Ok(false)
}

/// The receive phase of thread `slot` (running, or just done sending).
/// Completes at once if a message is there, else blocks (or times out).
pub fn receive(k: &mut Kernel, slot: ThreadSlot, from: ThreadId, timeout: u32) {
    if (from == ThreadId::ANY || from.as_irq().is_some())
        && let Some(irq) = crate::irq::take_pending(k, slot, from)
    {
        deliver_interrupt(k, slot, irq);
        resume(k, slot);
        return;
    }
    if let Some(sender) = take_sender(k, slot, from) {
        let message = k.threads.get(sender).out;
        let result = transfer(k, sender, &message, slot);
        match result {
            Ok(()) => resume(k, slot),
            Err(error) => fail(k, slot, error),
        }
        finish_send(k, sender, result);
        return;
    }
    if timeout == TIMEOUT_ZERO {
        fail(k, slot, Error::ReceiveTimeout);
        return;
    }
    let deadline = timeout::deadline(k, timeout);
    let thread = k.threads.get(slot);
    thread.state = ThreadState::ReceiveBlocked;
    thread.partner = from;
    thread.deadline = deadline;
    if k.sched.current == slot {
        k.sched.need_resched = true;
    }
}

/// A blocked sender's message was taken (or failed): on to its receive
/// phase, or back to running.
fn finish_send(k: &mut Kernel, sender: ThreadSlot, result: Result<(), Error>) {
    if let Err(error) = result {
        fail(k, sender, error);
        return;
    }
    let thread = k.threads.get(sender);
    let (then_receive, timeout) = (thread.then_receive, thread.then_receive_timeout);
    if then_receive == ThreadId::NIL {
        if thread.ipc_kind == IpcKind::Normal {
            thread::frame(sender).rax = 0;
        }
        resume(k, sender);
    } else {
        receive(k, sender, then_receive, timeout);
    }
}

/// Takes the first thread in `slot`'s send queue that `from` accepts.
fn take_sender(k: &mut Kernel, slot: ThreadSlot, from: ThreadId) -> Option<ThreadSlot> {
    let mut previous = NO_SLOT;
    let mut at = k.threads.get(slot).senders_head;
    while at != NO_SLOT {
        let next = k.threads.get(at).sender_next;
        if from == ThreadId::ANY || k.threads.id(at) == from {
            unlink_sender(k, slot, previous, at);
            return Some(at);
        }
        previous = at;
        at = next;
    }
    None
}

/// Removes `at` (whose predecessor is `previous`) from `owner`'s send queue.
fn unlink_sender(k: &mut Kernel, owner: ThreadSlot, previous: ThreadSlot, at: ThreadSlot) {
    let next = k.threads.get(at).sender_next;
    if previous == NO_SLOT {
        k.threads.get(owner).senders_head = next;
    } else {
        k.threads.get(previous).sender_next = next;
    }
    if k.threads.get(owner).senders_tail == at {
        k.threads.get(owner).senders_tail = previous;
    }
    k.threads.get(at).sender_next = NO_SLOT;
}

/// A thread whose IPC has completed continues: made ready if it was
/// blocked; the running thread just carries on.
fn resume(k: &mut Kernel, slot: ThreadSlot) {
    let thread = k.threads.get(slot);
    thread.ipc_kind = IpcKind::Normal;
    thread.deadline = 0;
    if thread.state != ThreadState::Running {
        sched::make_ready(k, slot);
    }
}

/// A thread's IPC failed with `error`. A thread in its own IPC sees the
/// error in `rax`; a thread in a fault IPC simply retries the instruction
/// (which faults again and asks its pager anew).
fn fail(k: &mut Kernel, slot: ThreadSlot, error: Error) {
    if k.threads.get(slot).ipc_kind == IpcKind::Normal {
        thread::frame(slot).rax = error.code();
    }
    resume(k, slot);
}

/// Cancels the blocked IPC of `slot` with `error` (timeout, partner gone,
/// thread halted): takes it out of any send queue and wakes it.
pub fn abort(k: &mut Kernel, slot: ThreadSlot, error: Error) {
    let thread = *k.threads.get(slot);
    if thread.state == ThreadState::SendBlocked
        && let Some(owner) = k.threads.lookup(thread.partner)
    {
        let mut previous = NO_SLOT;
        let mut at = k.threads.get(owner).senders_head;
        while at != NO_SLOT && at != slot {
            previous = at;
            at = k.threads.get(at).sender_next;
        }
        if at == slot {
            unlink_sender(k, owner, previous, slot);
        }
    }
    fail(k, slot, error);
}

/// Writes an interrupt message into `slot`'s registers.
pub fn deliver_interrupt(k: &mut Kernel, slot: ThreadSlot, irq: u8) {
    let _ = k;
    let f = thread::frame(slot);
    f.rax = 0;
    f.rdi = ThreadId::irq(irq).0;
    f.rdx = Tag::new(label::INTERRUPT, 1).0;
    f.r8 = irq as u64;
}

/// Moves `message` from `sender` to `receiver` (which is waiting for it):
/// checks everything first, then copies the buffer, maps the pages and
/// writes the receiver's registers. On error nothing has changed: every
/// check comes before the point of no return, and after it nothing fails.
fn transfer(k: &mut Kernel, sender: ThreadSlot, message: &Message, receiver: ThreadSlot) -> Result<(), Error> {
    let tag = message.tag;
    let kind = k.threads.get(receiver).ipc_kind;
    // Registers the message does not use are cleared, so nothing of the
    // sender's leaks to the receiver.
    let mut out = [0; 6];
    let used = tag.registers_used() as usize;
    out[..used].copy_from_slice(&message.mr[..used]);

    // Check: everything that can go wrong, changing nothing.
    if kind == IpcKind::Exception && tag.words() >= 2 {
        let (rip, rsp) = (message.mr[0], message.mr[1]);
        UserRange::new(rip, 1).and(UserRange::new(rsp, 0)).map_err(|_| Error::InvalidArgument)?;
    }
    let buffer = match tag.buffer_index() {
        Some(i) => Some((i, check_buffer_copy(k, sender, message.mr[i], message.mr[i + 1], receiver)?)),
        None => None,
    };
    // The map item last: its plan holds page tables reserved for the
    // commit, which a later error would have to give back.
    let map_plan = match tag.map_index() {
        Some(i) => {
            let item = map::MapItem::decode(message.mr[i], message.mr[i + 1]);
            Some((i, map::check(k, sender, &item, receiver, tag.is_grant())?))
        }
        None => None,
    };

    // ---- point of no return ----
    // Commit: nothing below can fail. The buffer's pages were checked
    // (and nothing changes them before the copy); the map plan holds every
    // node and page table its commit needs (`mapping.rs`).
    if let Some((i, copy)) = buffer {
        copy_buffer(k, &copy);
        out[i] = copy.destination;
        out[i + 1] = copy.length;
    }
    if let Some((i, plan)) = map_plan {
        let (first, count) = map::commit(k, plan);
        out[i] = first;
        out[i + 1] = count;
    }
    let sender_id = k.threads.id(sender);
    let f = thread::frame(receiver);
    match kind {
        IpcKind::Normal => {
            f.rax = 0;
            f.rdi = sender_id.0;
            f.rdx = tag.0;
            [f.r8, f.r9, f.r12, f.r13, f.r14, f.r15] = out;
        }
        IpcKind::PageFault { .. } => {}
        IpcKind::Exception => {
            if tag.words() >= 2 {
                f.rip = out[0];
                f.rsp = out[1];
            }
        }
    }
    Ok(())
}

/// A checked long-message copy.
struct BufferCopy {
    source_space: SpaceSlot,
    source: u64,
    destination_space: SpaceSlot,
    destination: u64,
    length: u64,
}

/// Checks a long-message copy of `length` bytes at `source` in `sender` into
/// `receiver`'s receive buffer: it must fit, and every page on both sides
/// must be mapped for user access (writable on the receiving side).
fn check_buffer_copy(
    k: &mut Kernel,
    sender: ThreadSlot,
    source: u64,
    length: u64,
    receiver: ThreadSlot,
) -> Result<BufferCopy, Error> {
    let source_space = k.threads.get(sender).space;
    let target = k.threads.get(receiver);
    let (destination, capacity) = match target.ipc_kind {
        IpcKind::Normal => (target.receive_buffer, target.receive_buffer_len),
        _ => (0, 0),
    };
    if length > capacity.min(MAX_BUFFER_BYTES) {
        return Err(Error::MessageTooLong);
    }
    let copy = BufferCopy { source_space, source, destination_space: target.space, destination, length };
    let mut offset = 0;
    while offset < length {
        let (_, _, chunk) = chunk_at(k, &copy, offset).ok_or(Error::BadAddress)?;
        offset += chunk;
    }
    Ok(copy)
}

/// The kernel-window addresses of the source and destination bytes at
/// `offset` into a copy, and how many bytes until either crosses a page.
/// `None` if a page is not mapped with the needed access.
fn chunk_at(k: &mut Kernel, copy: &BufferCopy, offset: u64) -> Option<(u64, u64, u64)> {
    let source = user_byte(k, copy.source_space, copy.source + offset, false)?;
    let destination = user_byte(k, copy.destination_space, copy.destination + offset, true)?;
    let to_page_end = |address: u64| PAGE_SIZE - address % PAGE_SIZE;
    let chunk =
        (copy.length - offset).min(to_page_end(copy.source + offset)).min(to_page_end(copy.destination + offset));
    Some((source, destination, chunk))
}

/// The kernel-window address of user byte `address` in `space`, if mapped
/// for user access (and writable, if `write`).
fn user_byte(k: &mut Kernel, space: SpaceSlot, address: u64, write: bool) -> Option<u64> {
    use common::mm::PageTableFlags as F;
    let va = VirtAddr::try_new(address).ok()?;
    let mapping = k.spaces.tables(space).effective_access(&mut space::window(), va)?;
    if !mapping.flags.contains(F::USER) || (write && !mapping.flags.contains(F::WRITABLE)) {
        return None;
    }
    let physical = mapping.frame.start_address().checked_add(va.page_offset())?;
    Some(phys_to_kernel_virt(physical).ok()?.as_u64())
}

/// Performs a checked copy.
fn copy_buffer(k: &mut Kernel, copy: &BufferCopy) {
    let mut offset = 0;
    while offset < copy.length {
        let Some((source, destination, chunk)) = chunk_at(k, copy, offset) else {
            return;
        };
        // SAFETY: both ranges are inside single frames reached through the
        // kernel window (checked by `chunk_at`), `chunk` bytes long; they
        // may only overlap if both sides map the same frame, which `copy`
        // (memmove semantics) handles.
        unsafe { core::ptr::copy(source as *const u8, destination as *mut u8, chunk as usize) };
        offset += chunk;
    }
}

/// Copies up to `length` bytes from user memory of `space` into `buffer`
/// (for `debug_print`). Returns the bytes copied, or `None` if unmapped.
pub fn copy_from_user<'a>(k: &mut Kernel, space: SpaceSlot, address: u64, buffer: &'a mut [u8]) -> Option<&'a [u8]> {
    for (i, byte) in buffer.iter_mut().enumerate() {
        let source = user_byte(k, space, address.checked_add(i as u64)?, false)?;
        // SAFETY: `source` is a kernel-window address of a mapped user byte.
        *byte = unsafe { *(source as *const u8) };
    }
    Some(buffer)
}
