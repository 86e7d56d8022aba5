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
//! byte items (copied once, through the kernel window, after checking both
//! page tables: `copy.rs`) and map items (`map.rs`). The sender's id is
//! written by the kernel, never by the sender, so it cannot be forged.
//!
//! A message that cannot be moved (more bytes than the receive area holds,
//! a map item the receiver's window cannot take) is the sender's error. The
//! receiver shares it only if it waits for that sender alone (a closed
//! receive: a call's reply); a receive from ANY stays open, so no thread
//! can make a server's receive fail. An error says in which phase it
//! happened (`abi::micro::Phase`): a reply-and-receive whose receive failed
//! did deliver its reply.
//!
//! Before any of that, [`sys_ipc`] makes sure the memory the calling thread
//! names — its byte items, its receive area — is mapped: a page that is not
//! becomes a page fault of the system call, which the pager serves before
//! the thread executes the call again (`fault::system_call_fault`).
//!
//! The common case — a short call or reply-and-receive to a thread that is
//! already waiting — never reaches this file: `fastpath.rs` handles it.
//! `docs/ipc-path.md` follows an IPC through both paths.

use crate::copy::{self, ByteItem, Missing};
use crate::fault;
use crate::global::Kernel;
use crate::map;
use crate::sched;
use crate::slot::ThreadSlot;
use crate::thread::{self, IpcKind, Message, NO_SLOT, ThreadState};
use crate::timeout;
use common::abi::micro::{
    Error, MAX_BYTE_ITEMS, MAX_MAP_PAGES, Phase, TIMEOUT_ZERO, Tag, ThreadId, label, receive_timeout, rights,
    send_timeout,
};
use common::drivers::pic::IRQ_LINES;
use common::mm::{PAGE_SIZE, UserRange};
use common::trace::Kind;

/// The `ipc` system call of the running thread `slot`, from its registers.
pub fn sys_ipc(k: &mut Kernel, slot: ThreadSlot) {
    let f = thread::frame(slot);
    let to = ThreadId(f.rdi);
    let from = ThreadId(f.rsi);
    let times = f.r10;
    let mut message = Message { tag: Tag(f.rdx), mr: [f.r8, f.r9, f.r12, f.r13, f.r14, f.r15] };
    k.threads.get(slot).ipc_kind = IpcKind::Normal;
    let checked = check_receive_spec(k, from)
        .and_then(|()| check_message(&message, to != ThreadId::NIL))
        .map_err(Hold::Failed)
        .and_then(|()| check_own_memory(k, slot, to, from, &message));
    match checked {
        Ok(()) => {}
        // The thread waits for its pager now, and runs the call again later:
        // its registers (`rax` included) must stay as they are.
        Err(Hold::WaitingForPager) => return,
        Err(Hold::Failed(error)) => {
            thread::frame(slot).rax = error.code();
            return;
        }
    }
    // The receive area is this IPC's (its receive phase), not part of the
    // message: the partner never sees it.
    let caller = k.threads.get(slot);
    let buffer = (caller.receive_buffer, caller.receive_buffer_len);
    caller.receive_area = match message.tag.receive_area_index() {
        Some(i) => {
            let area = (message.mr[i], message.mr[i + 1]);
            message.mr[i] = 0;
            message.mr[i + 1] = 0;
            message.tag = message.tag.without_receive_area();
            area
        }
        None => buffer,
    };
    // Success unless something below says otherwise (a completed receive
    // also writes 0; a blocked phase is finished by the partner).
    thread::frame(slot).rax = 0;
    if let Err(error) = start(k, slot, to, message, times, from) {
        thread::frame(slot).rax = error.code();
    }
}

/// Why an IPC does not start now.
enum Hold {
    /// A page of the caller's own memory is missing: the thread now waits
    /// for its pager, and executes the call again afterwards.
    WaitingForPager,
    /// The call fails with this error.
    Failed(Error),
}

impl From<Error> for Hold {
    fn from(error: Error) -> Hold {
        Hold::Failed(error)
    }
}

/// Checks that the memory thread `slot` names in its IPC is mapped as
/// needed: the pages of its byte items (if it sends) and of its receive
/// area (if it receives). The first page that is not becomes a page fault
/// of the system call ([`fault::system_call_fault`]).
fn check_own_memory(
    k: &mut Kernel,
    slot: ThreadSlot,
    to: ThreadId,
    from: ThreadId,
    message: &Message,
) -> Result<(), Hold> {
    let tag = message.tag;
    let space = k.threads.get(slot).space;
    let mut missing: Option<Missing> = None;
    if to != ThreadId::NIL {
        for n in 0..tag.byte_items() {
            let i = tag.byte_item_index(n).unwrap_or(0);
            let item = ByteItem::decode(message.mr[i], message.mr[i + 1]);
            if let Err(page) = copy::item_length(k, space, &item) {
                missing = Some(page);
                break;
            }
        }
    }
    if let Some(i) = tag.receive_area_index()
        && missing.is_none()
    {
        if from == ThreadId::NIL {
            return Err(Hold::Failed(Error::InvalidArgument)); // a receive area, but no receive
        }
        missing = copy::first_missing(k, space, message.mr[i], message.mr[i + 1], true);
    }
    match missing {
        None => Ok(()),
        Some(page) => {
            fault::system_call_fault(k, slot, page)?;
            Err(Hold::WaitingForPager)
        }
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

/// Checks everything about a message that does not depend on memory or on
/// the receiver: a valid tag, no label only the kernel may send (if it is
/// sent), items inside user space and within limits.
pub fn check_message(message: &Message, sending: bool) -> Result<(), Error> {
    let tag = message.tag;
    if !tag.is_valid() || (sending && label::is_kernel(tag.label())) {
        return Err(Error::InvalidArgument); // kernel labels are the kernel's to send
    }
    for n in 0..tag.byte_items() {
        let i = tag.byte_item_index(n).ok_or(Error::InvalidArgument)?;
        ByteItem::decode(message.mr[i], message.mr[i + 1]).check_shape()?;
    }
    if let Some(i) = tag.receive_area_index() {
        UserRange::new(message.mr[i], message.mr[i + 1]).map_err(|_| Error::BadAddress)?;
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
        let open = receiver.partner == ThreadId::ANY;
        let result = transfer(k, slot, &message, dest);
        match result {
            Ok(()) => resume(k, dest),
            // A receive from anyone stays open: a message it cannot take is
            // its sender's error alone (see `receive`).
            Err(_) if open => {}
            Err(error) => fail(k, dest, error, Phase::Receive),
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
    while let Some(sender) = take_sender(k, slot, from) {
        let message = k.threads.get(sender).out;
        let result = transfer(k, sender, &message, slot);
        match result {
            Ok(()) => resume(k, slot),
            // A receive from anyone is not failed by a sender whose message
            // cannot be taken (a map item without a receive window, more
            // bytes than the receive area holds): only that sender gets the
            // error, and the receive goes on to the next sender — or
            // blocks. Otherwise any thread could make a server's receive
            // fail at will. A closed receive (a call's reply, a fault's
            // answer) fails: that thread waits for this message alone.
            Err(_) if from == ThreadId::ANY => {
                finish_send(k, sender, result);
                continue;
            }
            Err(error) => fail(k, slot, error, Phase::Receive),
        }
        finish_send(k, sender, result);
        return;
    }
    if timeout == TIMEOUT_ZERO {
        fail(k, slot, Error::ReceiveTimeout, Phase::Receive);
        return;
    }
    let deadline = timeout::deadline(k, timeout);
    crate::trace::event(slot, Kind::IpcWait, [from.0, 0, 0]);
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
        fail(k, sender, error, Phase::Send);
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

/// A thread's IPC failed with `error` in `phase`. A thread in its own IPC
/// sees the error in `rax`, with the phase (`Phase::error_word`: a server
/// that replied and then failed to receive knows its reply went out); a
/// thread in a fault IPC simply retries the instruction (which faults
/// again and asks its pager anew).
fn fail(k: &mut Kernel, slot: ThreadSlot, error: Error, phase: Phase) {
    if k.threads.get(slot).ipc_kind == IpcKind::Normal {
        thread::frame(slot).rax = phase.error_word(error);
    }
    resume(k, slot);
}

/// Cancels the blocked IPC of `slot` with `error` (timeout, partner gone,
/// thread halted): takes it out of any send queue and wakes it.
pub fn abort(k: &mut Kernel, slot: ThreadSlot, error: Error) {
    let (state, partner) = (k.threads.get(slot).state, k.threads.get(slot).partner);
    if state == ThreadState::SendBlocked
        && let Some(owner) = k.threads.lookup(partner)
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
    let phase = if state == ThreadState::SendBlocked { Phase::Send } else { Phase::Receive };
    fail(k, slot, error, phase);
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
/// checks everything first, then copies the bytes, maps the pages and
/// writes the receiver's registers. On error nothing has changed: every
/// check comes before the point of no return, and after it nothing fails.
fn transfer(k: &mut Kernel, sender: ThreadSlot, message: &Message, receiver: ThreadSlot) -> Result<(), Error> {
    let tag = message.tag;
    let target = k.threads.get(receiver);
    let (kind, target_space, target_area) = (target.ipc_kind, target.space, target.receive_area);
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
    let mut items = [ByteItem::decode(0, 0); MAX_BYTE_ITEMS];
    for (n, item) in items.iter_mut().enumerate().take(tag.byte_items()) {
        let i = tag.byte_item_index(n).ok_or(Error::InvalidArgument)?;
        *item = ByteItem::decode(message.mr[i], message.mr[i + 1]);
    }
    // Bytes go only to a thread in its own IPC (a fault's reply has none).
    let area = if kind == IpcKind::Normal { target_area } else { (0, 0) };
    let sender_space = k.threads.get(sender).space;
    let copy_plan = copy::plan(k, sender_space, &items[..tag.byte_items()], target_space, area)?;
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
    // Commit: nothing below can fail. The byte items' pages were checked and
    // translated (and nothing changes them before the copy); the map plan
    // holds every page table its commit needs, and the free nodes were
    // counted (`mapping.rs`).
    copy::commit(&copy_plan);
    for (n, &[destination, length]) in copy_plan.received().iter().enumerate() {
        let i = tag.byte_item_index(n).unwrap_or(0);
        out[i] = destination;
        out[i + 1] = length;
    }
    let mapped = map_plan.is_some();
    if let Some((i, plan)) = map_plan {
        let (first, count) = map::commit(k, plan);
        out[i] = first;
        out[i + 1] = count;
    }
    let sender_id = k.threads.id(sender);
    if crate::trace::on() {
        let bytes: u64 = copy_plan.received().iter().map(|&[_, length]| length).sum();
        crate::trace::event(sender, Kind::Ipc, [u64::from(receiver.number()), tag.label(), bytes]);
        if let IpcKind::PageFault { page, .. } = kind {
            crate::trace::event(receiver, Kind::PagerReply, [page, mapped as u64, 0]);
        }
    }
    let f = thread::frame(receiver);
    match kind {
        IpcKind::Normal => {
            f.rax = 0;
            f.rdi = sender_id.0;
            f.rdx = tag.0;
            [f.r8, f.r9, f.r12, f.r13, f.r14, f.r15] = out;
        }
        // The pager refused the page a system call needed: the call fails
        // (the thread goes on after its `syscall` instruction).
        IpcKind::PageFault { system_call: true, .. } if !mapped => {
            f.rip += fault::SYSCALL_INSTRUCTION_BYTES;
            f.rax = Error::BadAddress.code();
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
