//! The checks, one function each (see the list in `main.rs`).

use crate::pager::{FAULT_REPORT, pager};
use crate::support::{
    self, LAZY_REGION, Outcome, PAGE, PRIORITY, UNMAPPED, WORKER_WINDOW, expect_error, main_thread, root_space,
    spawn_in_new_space, spawn_local,
};
use crate::worker::{self, worker_main};
use crate::{ensure, step};
use common::abi::micro::{MAX_BUFFER_BYTES, MAX_MAP_DEPTH, MAX_MAP_PAGES, STRING, privilege, quota};
use core::sync::atomic::{AtomicU64, Ordering};
use l4::ipc::{call, receive, send};
use l4::{Error, MapItem, Message, SpaceId, ThreadId, Timeout, exreg, fault_access, label, rights};

/// A worker in a new space, with the main thread as exception handler.
fn new_worker() -> Result<(SpaceId, ThreadId), support::Reason> {
    Ok(step!(spawn_in_new_space(worker_main, 0, 0, main_thread()), "start a worker"))
}

/// Asks a worker to do `command` and returns its reply.
fn ask(worker: ThreadId, command: u64, words: &[u64]) -> Result<l4::Received, Error> {
    call(worker, &Message::new(command, words))
}

/// Sends a worker a command that will fault on a page the pager does not
/// serve, and returns the pager's report `[address, access, thread]`.
fn expect_fault(worker: ThreadId, command: u64, words: &[u64]) -> Result<[u64; 3], support::Reason> {
    step!(send(worker, &Message::new(command, words), Timeout::Ticks(100)), "send the command");
    let report = step!(receive(pager(), Timeout::Ticks(200)), "wait for the pager's fault report");
    ensure!(report.label() == FAULT_REPORT, "pager sent label {:#x}", report.label());
    Ok([report.mr[0], report.mr[1], report.mr[2]])
}

static COUNTER_A: AtomicU64 = AtomicU64::new(0);
static COUNTER_B: AtomicU64 = AtomicU64::new(0);
static COUNTER_C: AtomicU64 = AtomicU64::new(0);
static FLAG: AtomicU64 = AtomicU64::new(0);

pub fn threads_exregs() -> Outcome {
    let thread = step!(l4::task::thread_create(root_space(), ThreadId::NIL, ThreadId::NIL, PRIORITY), "create");
    let old = step!(l4::task::read_registers(thread), "read a new thread");
    ensure!(old.control & exreg::WAS_HALTED != 0, "a new thread is not halted");
    let stack = support::alloc_pages(2);
    // SAFETY: `spinner` is our code; the stack is fresh.
    step!(
        unsafe { l4::task::start(thread, support::spinner, stack + 2 * PAGE, &COUNTER_A as *const _ as u64,) },
        "start"
    );
    l4::ipc::sleep(3);
    // SAFETY: HALT changes no register.
    let old = step!(
        unsafe {
            l4::task::exchange_registers(thread, &l4::task::Registers { control: exreg::HALT, ..Default::default() })
        },
        "halt"
    );
    ensure!(old.control & exreg::WAS_HALTED == 0, "a running thread reported as halted");
    let frozen = COUNTER_A.load(Ordering::SeqCst);
    ensure!(frozen > 0, "the started thread never ran");
    l4::ipc::sleep(3);
    ensure!(COUNTER_A.load(Ordering::SeqCst) == frozen, "a halted thread kept running");
    let now = step!(l4::task::read_registers(thread), "read a halted thread");
    ensure!(now.control & exreg::WAS_HALTED != 0, "halt did not stick");
    ensure!(now.rip >= 0x400000 && now.rip < 0x800000, "rip {:#x} is not in the program", now.rip);
    // SAFETY: RESUME changes no register.
    step!(
        unsafe {
            l4::task::exchange_registers(thread, &l4::task::Registers { control: exreg::RESUME, ..Default::default() })
        },
        "resume"
    );
    l4::ipc::sleep(3);
    ensure!(COUNTER_A.load(Ordering::SeqCst) > frozen, "a resumed thread did not run");
    step!(l4::task::thread_destroy(thread), "destroy");
    expect_error(l4::task::read_registers(thread), Error::NoSuchThread, "read a destroyed thread")?;
    // The slot is reused with a new generation: the old id stays dead.
    let again = step!(l4::task::thread_create(root_space(), ThreadId::NIL, ThreadId::NIL, PRIORITY), "create again");
    ensure!(again != thread, "a new thread got a destroyed thread's id");
    expect_error(l4::task::read_registers(thread), Error::NoSuchThread, "read through a stale id")?;
    step!(l4::task::thread_destroy(again), "destroy again");
    Ok(())
}

pub fn priorities() -> Outcome {
    expect_error(
        l4::task::thread_create(root_space(), ThreadId::NIL, ThreadId::NIL, PRIORITY + 1),
        Error::NoPermission,
        "priority above the creator's",
    )?;
    expect_error(
        l4::task::thread_create(root_space(), ThreadId::NIL, ThreadId::NIL, 99),
        Error::InvalidArgument,
        "priority 99",
    )?;
    COUNTER_A.store(0, Ordering::SeqCst);
    COUNTER_B.store(0, Ordering::SeqCst);
    COUNTER_C.store(0, Ordering::SeqCst);
    // A lower-priority thread does not run while we are running...
    let low = step!(spawn_local(support::spinner, &COUNTER_C as *const _ as u64, PRIORITY - 6), "start low");
    for _ in 0..200_000 {
        core::hint::spin_loop();
    }
    ensure!(COUNTER_C.load(Ordering::SeqCst) == 0, "a lower-priority thread ran while a higher one was ready");
    // ...two equal-priority spinners share the CPU by time slices...
    let a = step!(spawn_local(support::spinner, &COUNTER_A as *const _ as u64, PRIORITY - 1), "start a");
    let b = step!(spawn_local(support::spinner, &COUNTER_B as *const _ as u64, PRIORITY - 1), "start b");
    l4::ipc::sleep(30);
    let (count_a, count_b, count_c) =
        (COUNTER_A.load(Ordering::SeqCst), COUNTER_B.load(Ordering::SeqCst), COUNTER_C.load(Ordering::SeqCst));
    for thread in [a, b, low] {
        step!(l4::task::thread_destroy(thread), "destroy a spinner");
    }
    ensure!(count_a > 0 && count_b > 0, "round robin: counters {count_a} and {count_b}");
    // ...and starve the lower one.
    ensure!(count_c == 0, "the low-priority spinner ran ({count_c}) while two higher ones were ready");
    // A higher-priority thread is chosen as soon as we block: the timer
    // preempted the spinners to wake us.
    Ok(())
}

extern "C" fn set_flag_and_wait(_: u64) -> ! {
    FLAG.store(1, Ordering::SeqCst);
    loop {
        let _ = receive(l4::task::whoami().0, Timeout::Never);
    }
}

pub fn yield_to_equal_priority() -> Outcome {
    FLAG.store(0, Ordering::SeqCst);
    let thread = step!(spawn_local(set_flag_and_wait, 0, PRIORITY), "start");
    ensure!(FLAG.load(Ordering::SeqCst) == 0, "an equal-priority thread ran before we yielded");
    l4::task::yield_now();
    ensure!(FLAG.load(Ordering::SeqCst) == 1, "yield did not run the other thread");
    step!(l4::task::thread_destroy(thread), "destroy");
    Ok(())
}

pub fn ping_pong() -> Outcome {
    let (space, worker) = new_worker()?;
    for round in 0..100u64 {
        step!(send(worker, &Message::new(worker::ECHO, &[round]), Timeout::Never), "ping");
        let pong = step!(receive(worker, Timeout::Ticks(100)), "pong");
        ensure!(pong.words() == [round + 1], "round {round}: got {:?}", pong.words());
    }
    step!(l4::task::space_destroy(space), "destroy the worker");
    Ok(())
}

pub fn call_reply() -> Outcome {
    let (space, worker) = new_worker()?;
    let reply = step!(ask(worker, worker::ECHO, &[1, 2, 3, 4, 5, 6]), "call with six words");
    ensure!(reply.label() == worker::ECHO, "label {:#x}", reply.label());
    ensure!(reply.words() == [2, 3, 4, 5, 6, 7], "words {:?}", reply.words());
    ensure!(reply.from == worker, "reply from {:#x}, not the worker", reply.from.0);
    let reply = step!(ask(worker, worker::ECHO, &[]), "call with no words");
    ensure!(reply.words().is_empty(), "empty call got {:?}", reply.words());
    step!(l4::task::space_destroy(space), "destroy the worker");
    Ok(())
}

pub fn sender_id() -> Outcome {
    let (space, worker) = new_worker()?;
    let reply = step!(ask(worker, worker::WHO, &[]), "who");
    ensure!(reply.mr[0] == main_thread().0, "the worker saw sender {:#x}, we are {:#x}", reply.mr[0], main_thread().0);
    // Registers beyond the sent words arrive cleared, never the sender's.
    let reply = step!(
        l4::ipc::ipc(
            worker,
            worker,
            &Message { tag: l4::Tag::new(worker::ECHO, 1), mr: [7, 9, 9, 9, 9, 9] },
            Timeout::Never,
            Timeout::Never
        ),
        "echo one word"
    );
    ensure!(reply.mr[1..] == [0; 5], "unused registers leaked: {:?}", reply.mr);
    step!(l4::task::space_destroy(space), "destroy the worker");
    Ok(())
}

extern "C" fn send_my_number(number: u64) -> ! {
    let _ = send(main_thread(), &Message::new(0x30, &[number]), Timeout::Never);
    loop {
        l4::ipc::sleep(1000);
    }
}

pub fn receive_any_order() -> Outcome {
    let mut senders = [ThreadId::NIL; 3];
    for (number, sender) in senders.iter_mut().enumerate() {
        *sender = step!(spawn_local(send_my_number, number as u64, PRIORITY), "start a sender");
        l4::ipc::sleep(1); // let it queue up behind the previous one
    }
    // A closed receive takes the third sender first...
    let third = step!(receive(senders[2], Timeout::Ticks(50)), "receive from the third");
    ensure!(
        third.from == senders[2] && third.mr[0] == 2,
        "closed receive got {} from {:#x}",
        third.mr[0],
        third.from.0
    );
    // ...and receive-from-any serves the others in the order they came.
    for expected in 0..2u64 {
        let message = step!(receive(ThreadId::ANY, Timeout::Ticks(50)), "receive from any");
        ensure!(message.mr[0] == expected, "receive-any order: got {}, expected {expected}", message.mr[0]);
        ensure!(message.from == senders[expected as usize], "wrong sender id");
    }
    for sender in senders {
        step!(l4::task::thread_destroy(sender), "destroy a sender");
    }
    Ok(())
}

pub fn timeout_zero() -> Outcome {
    let before = l4::task::system_clock();
    expect_error(receive(ThreadId::ANY, Timeout::Zero), Error::ReceiveTimeout, "receive with nothing queued")?;
    let halted = step!(l4::task::thread_create(root_space(), ThreadId::NIL, ThreadId::NIL, PRIORITY), "create");
    expect_error(
        send(halted, &Message::new(1, &[]), Timeout::Zero),
        Error::SendTimeout,
        "send to a thread not receiving",
    )?;
    ensure!(l4::task::system_clock() - before < 2, "zero timeouts waited");
    step!(l4::task::thread_destroy(halted), "destroy");
    Ok(())
}

pub fn timeout_relative() -> Outcome {
    let me = main_thread();
    let before = l4::task::system_clock();
    expect_error(receive(me, Timeout::Ticks(5)), Error::ReceiveTimeout, "receive from nobody for 5 ticks")?;
    let waited = l4::task::system_clock() - before;
    ensure!(
        (5..=25).contains(&waited), // loose: a loaded host can deliver late ticks in a burst
        "a 5-tick receive timeout took {waited} ticks"
    );
    let halted = step!(l4::task::thread_create(root_space(), ThreadId::NIL, ThreadId::NIL, PRIORITY), "create");
    let before = l4::task::system_clock();
    expect_error(send(halted, &Message::new(1, &[]), Timeout::Ticks(3)), Error::SendTimeout, "send for 3 ticks")?;
    let waited = l4::task::system_clock() - before;
    ensure!((3..=23).contains(&waited), "a 3-tick send timeout took {waited} ticks");
    step!(l4::task::thread_destroy(halted), "destroy");
    Ok(())
}

extern "C" fn send_later(ticks: u64) -> ! {
    l4::ipc::sleep(ticks as u32);
    let _ = send(main_thread(), &Message::new(0x31, &[ticks]), Timeout::Never);
    loop {
        l4::ipc::sleep(1000);
    }
}

pub fn timeout_never() -> Outcome {
    let late = step!(spawn_local(send_later, 8, PRIORITY), "start a late sender");
    let before = l4::task::system_clock();
    let message = step!(receive(late, Timeout::Never), "wait forever");
    let waited = l4::task::system_clock() - before;
    ensure!(message.mr[0] == 8 && waited >= 8, "got {} after {waited} ticks", message.mr[0]);
    step!(l4::task::thread_destroy(late), "destroy");
    Ok(())
}

/// Sends to the main thread (waiting for it: the kernel's fast path) and
/// then waits 5 ticks for anyone; reports whether that wait timed out.
extern "C" fn send_then_wait_briefly(_: u64) -> ! {
    let sent = l4::ipc::ipc(main_thread(), ThreadId::ANY, &Message::new(0x40, &[]), Timeout::Zero, Timeout::Ticks(5));
    let timed_out = matches!(sent, Err(Error::ReceiveTimeout));
    let _ = send(main_thread(), &Message::new(0x41, &[timed_out as u64]), Timeout::Never);
    loop {
        l4::ipc::sleep(1000);
    }
}

/// A send-and-receive whose receive phase has a finite timeout (what a
/// server with a clock to look at does: the fs server while a journal
/// transaction runs) times out even when its send phase took the fast path.
pub fn timeout_after_fast_send() -> Outcome {
    let thread = step!(spawn_local(send_then_wait_briefly, 0, PRIORITY), "start");
    let first = step!(receive(thread, Timeout::Ticks(100)), "its message");
    ensure!(first.tag.label() == 0x40, "got label {:#x}", first.tag.label());
    let report = step!(receive(thread, Timeout::Ticks(100)), "its report: the receive phase never timed out");
    ensure!(report.mr[0] == 1, "its receive phase ended without timing out");
    step!(l4::task::thread_destroy(thread), "destroy");
    Ok(())
}

/// Answers every message with whether `FLAG` was set when it arrived.
extern "C" fn answer_with_flag(_: u64) -> ! {
    let mut request = receive(ThreadId::ANY, Timeout::Never);
    loop {
        request = match request {
            Ok(message) => {
                let flag = FLAG.load(Ordering::SeqCst);
                l4::ipc::reply_and_receive(message.from, &Message::new(0, &[flag]))
            }
            Err(_) => receive(ThreadId::ANY, Timeout::Never),
        };
    }
}

/// A call to a waiting receiver of lower priority than the caller's must
/// not run it ahead of a ready thread of a priority between the two: the
/// scheduler picks the middle thread first. (The fast path switches
/// straight to the receiver, so it must leave this case to the slow path:
/// its check 4.)
pub fn ipc_respects_priorities() -> Outcome {
    FLAG.store(0, Ordering::SeqCst);
    let receiver = step!(spawn_local(answer_with_flag, 0, PRIORITY - 4), "start the receiver");
    l4::ipc::sleep(1); // it runs, and waits for a message
    let middle = step!(spawn_local(set_flag_and_wait, 0, PRIORITY - 2), "start the middle thread");
    ensure!(FLAG.load(Ordering::SeqCst) == 0, "a lower-priority thread ran while we were running");
    let answer = step!(call(receiver, &Message::new(1, &[])), "call the receiver");
    for thread in [receiver, middle] {
        step!(l4::task::thread_destroy(thread), "destroy");
    }
    ensure!(
        answer.words() == [1],
        "the lower-priority receiver ran before a ready thread of higher priority (the fast path must \
         leave a receiver below the caller's priority to the scheduler)"
    );
    Ok(())
}

pub fn long_message() -> Outcome {
    let (space, worker) = new_worker()?;
    let pages = support::alloc_pages(2);
    // SAFETY: two fresh pages of ours.
    let bytes = unsafe { core::slice::from_raw_parts_mut(pages as *mut u8, 2 * PAGE as usize) };
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = (i * 7 + 3) as u8;
    }
    // 0, 1, and the maximum, starting mid-page so the copy crosses a page.
    for (start, length) in [(100usize, 0usize), (5, 1), (100, MAX_BUFFER_BYTES as usize), (0, 4096)] {
        let slice = &bytes[start..start + length];
        let message = Message::new(worker::ECHO, &[]).with_bytes(slice);
        let reply = step!(call(worker, &message), "send a long message");
        ensure!(reply.mr[0] == length as u64, "{length} bytes sent, {} received", reply.mr[0]);
        ensure!(reply.mr[1] == worker::hash(slice), "{length} bytes arrived corrupted");
    }
    // One byte over the limit is refused before anything is sent.
    let message = Message::new(worker::ECHO, &[]).with_bytes_at(pages, MAX_BUFFER_BYTES + 1);
    expect_error(call(worker, &message), Error::MessageTooLong, "4097 bytes")?;
    // More than the receiver's buffer holds: refused.
    step!(ask(worker, worker::SET_BUFFER, &[64]), "shrink the worker's buffer");
    let message = Message::new(worker::ECHO, &[]).with_bytes_at(pages, 65);
    expect_error(call(worker, &message), Error::MessageTooLong, "65 bytes into a 64-byte buffer")?;
    step!(ask(worker, worker::SET_BUFFER, &[4096]), "restore the buffer");
    // An unmapped source buffer is found when the kernel checks the pages.
    let message = Message::new(worker::ECHO, &[]).with_bytes_at(UNMAPPED, 16);
    expect_error(call(worker, &message), Error::BadAddress, "unmapped source buffer")?;
    let reply = step!(ask(worker, worker::ECHO, &[41]), "the worker still answers");
    ensure!(reply.mr[0] == 42, "the worker is confused after errors");
    step!(l4::task::space_destroy(space), "destroy the worker");
    Ok(())
}

/// A byte of a lazy-region page: the pager fills every word with its own
/// address (`pager.rs`).
fn lazy_byte(address: u64) -> u8 {
    (address & !7).to_le_bytes()[(address & 7) as usize]
}

pub fn system_call_faults() -> Outcome {
    let (space_a, a) = new_worker()?;
    let (space_b, b) = new_worker()?;
    // A byte item in a page A never touched: the kernel asks A's pager for
    // it, and A's call runs again and gets through.
    let address = LAZY_REGION + 3 * PAGE + 4000; // crosses into the next page
    let reply = step!(ask(a, worker::BYTES_TO, &[b.0, address, 200]), "bytes from an untouched page");
    let expected: [u8; 200] = core::array::from_fn(|i| lazy_byte(address + i as u64));
    ensure!(reply.mr[0] == 0, "the call failed with error {}", reply.mr[0]);
    ensure!(reply.mr[1] == 200 && reply.mr[2] == worker::hash(&expected), "the bytes arrived wrong");
    // A string item: the bytes up to the NUL (lazy words have zero bytes).
    let string = LAZY_REGION + 9 * PAGE + 1; // "@" (0x40), then a NUL
    let reply = step!(ask(a, worker::BYTES_TO, &[b.0, string, 100 | STRING]), "a string from an untouched page");
    ensure!(reply.mr[0] == 0 && reply.mr[1] == 1, "the string came as {} bytes (error {})", reply.mr[1], reply.mr[0]);
    // A receive area in an untouched page: the reply lands there.
    let area = LAZY_REGION + 12 * PAGE + 4090;
    let reply = step!(ask(a, worker::RECEIVE_INTO, &[b.0, area, 50]), "a reply into an untouched page");
    ensure!(reply.mr[0] == 0, "the call failed with error {}", reply.mr[0]);
    ensure!(
        reply.mr[1] == 50 && reply.mr[2] == worker::hash(&worker::PATTERN[..50]),
        "{} bytes arrived, hash {:#x}",
        reply.mr[1],
        reply.mr[2]
    );
    // Memory the pager does not serve: the call fails, the worker lives.
    let reply = step!(ask(a, worker::BYTES_TO, &[b.0, UNMAPPED, 16]), "bytes from nowhere");
    ensure!(reply.mr[0] == Error::BadAddress.code(), "got error {}, not BadAddress", reply.mr[0]);
    let reply = step!(ask(a, worker::RECEIVE_INTO, &[b.0, UNMAPPED, 16]), "a reply into nowhere");
    ensure!(reply.mr[0] == Error::BadAddress.code(), "got error {}, not BadAddress", reply.mr[0]);
    let echo = step!(ask(a, worker::ECHO, &[1]), "the worker still answers");
    ensure!(echo.mr[0] == 2, "the worker is confused");
    // A thread without a pager (ours) gets BadAddress at once.
    let message = Message::new(worker::ECHO, &[1]).with_receive_area(UNMAPPED, 16);
    expect_error(call(b, &message), Error::BadAddress, "a receive area without a pager")?;
    step!(l4::task::space_destroy(space_a), "destroy worker A");
    step!(l4::task::space_destroy(space_b), "destroy worker B");
    Ok(())
}

/// A page of ours holding `value` in its first word.
fn page_with(value: u64) -> u64 {
    let page = support::alloc_pages(1);
    // SAFETY: a fresh page of ours.
    unsafe { (page as *mut u64).write_volatile(value) };
    page
}

fn map_to(worker: ThreadId, page: u64, rights: u64, offset: u64) -> Result<l4::Received, Error> {
    let item = MapItem { page, count: 1, rights, window_offset: offset };
    call(worker, &Message::new(worker::ACCEPT, &[]).with_map(item, false))
}

pub fn map_share() -> Outcome {
    let (space_b, b) = new_worker()?;
    let page = page_with(0xabcd);
    let reply = step!(map_to(b, page, rights::READ | rights::WRITE, 3), "map a page to B");
    ensure!(reply.mr[0] == WORKER_WINDOW + 3 * PAGE && reply.mr[1] == 1, "B got {:#x} x{}", reply.mr[0], reply.mr[1]);
    let read = step!(ask(b, worker::READ, &[WORKER_WINDOW + 3 * PAGE]), "B reads");
    ensure!(read.mr[0] == 0xabcd, "B read {:#x}", read.mr[0]);
    step!(ask(b, worker::WRITE, &[WORKER_WINDOW + 3 * PAGE, 0x5555]), "B writes");
    // SAFETY: our own page.
    let seen = unsafe { (page as *const u64).read_volatile() };
    ensure!(seen == 0x5555, "B's write is not visible to us (the page is not shared): {seen:#x}");
    // Map items that cannot work.
    expect_error(map_to(b, UNMAPPED, rights::READ, 0), Error::NotMappable, "map an unmapped page")?;
    expect_error(map_to(b, page, rights::READ, 16), Error::NoReceiveWindow, "map past the window")?;
    step!(l4::task::space_destroy(space_b), "destroy B");
    Ok(())
}

pub fn map_rights() -> Outcome {
    let (space_d, d) = new_worker()?;
    let page = page_with(0x77);
    step!(map_to(d, page, rights::READ, 0), "map read-only");
    let read = step!(ask(d, worker::READ, &[WORKER_WINDOW]), "D reads");
    ensure!(read.mr[0] == 0x77, "D read {:#x}", read.mr[0]);
    let [address, access, thread] = expect_fault(d, worker::WRITE, &[WORKER_WINDOW, 1])?;
    ensure!(address == WORKER_WINDOW && thread == d.0, "fault at {address:#x} by {thread:#x}");
    ensure!(
        access & fault_access::WRITE != 0 && access & fault_access::PRESENT != 0,
        "access bits {access:#x}: not a write to a present page"
    );
    // SAFETY: our own page.
    ensure!(unsafe { (page as *const u64).read_volatile() } == 0x77, "a read-only mapping was written");
    step!(l4::task::space_destroy(space_d), "destroy D");
    Ok(())
}

pub fn unmap_recursive() -> Outcome {
    let (space_b, b) = new_worker()?;
    let (space_c, c) = new_worker()?;
    let page = page_with(0xbeef);
    step!(map_to(b, page, rights::ALL, 0), "we map to B");
    // B maps it on to C (read-only, at C's window page 2).
    let item = MapItem { page: WORKER_WINDOW, count: 1, rights: rights::READ, window_offset: 2 };
    let [w1, w2] = item.encode();
    let done = step!(ask(b, worker::MAP_TO, &[c.0, w1, w2, 0]), "B maps to C");
    ensure!(done.mr[0] == 0, "B's map to C failed: error {}", done.mr[0]);
    let read = step!(ask(c, worker::READ, &[WORKER_WINDOW + 2 * PAGE]), "C reads");
    ensure!(read.mr[0] == 0xbeef, "C read {:#x}", read.mr[0]);
    // We unmap: B's mapping and C's (made from B's) both disappear.
    // SAFETY: without SELF our own mapping stays.
    step!(unsafe { l4::memory::unmap(page, 1, 0) }, "unmap");
    // SAFETY: our own page, still mapped.
    ensure!(unsafe { (page as *const u64).read_volatile() } == 0xbeef, "unmap removed our own page");
    let [address, _, thread] = expect_fault(c, worker::READ, &[WORKER_WINDOW + 2 * PAGE])?;
    ensure!(address == WORKER_WINDOW + 2 * PAGE && thread == c.0, "C's fault: {address:#x} by {thread:#x}");
    let [address, _, thread] = expect_fault(b, worker::READ, &[WORKER_WINDOW])?;
    ensure!(address == WORKER_WINDOW && thread == b.0, "B's fault: {address:#x} by {thread:#x}");
    step!(l4::task::space_destroy(space_b), "destroy B");
    step!(l4::task::space_destroy(space_c), "destroy C");
    Ok(())
}

/// Mappings nest at most `MAX_MAP_DEPTH` deep: two workers pass a page
/// back and forth, each time mapping it on from the mapping they got,
/// until the kernel refuses (`NotMappable`). The deepest mapping still
/// works, and can still be granted (a grant nests nothing).
pub fn map_depth() -> Outcome {
    let (space_b, b) = new_worker()?;
    let (space_c, c) = new_worker()?;
    let page = page_with(0xdee9);
    step!(map_to(b, page, rights::READ, 0), "we map to B");
    // (holder, its window page holding the deepest mapping), and the next
    // free window page of each worker.
    let (mut holder, mut other) = (b, c);
    let mut at = 0u64;
    let mut next_free = [1u64, 0u64]; // B's, C's
    let mut hops = 0;
    let refused = loop {
        ensure!(hops <= MAX_MAP_DEPTH as u64, "{hops} mappings made from mappings: no depth limit");
        let slot = usize::from(other == c);
        let offset = next_free[slot];
        let item = MapItem { page: WORKER_WINDOW + at * PAGE, count: 1, rights: rights::READ, window_offset: offset };
        let [w1, w2] = item.encode();
        let done = step!(ask(holder, worker::MAP_TO, &[other.0, w1, w2, 0]), "map the page on");
        if done.mr[0] != 0 {
            break done.mr[0];
        }
        hops += 1;
        next_free[slot] += 1;
        (holder, other, at) = (other, holder, offset);
    };
    ensure!(refused == Error::NotMappable.code(), "the map past the limit failed with error {refused}");
    // Our page is 0 to 2 deep (a window page, or mapped from one), B's
    // mapping one more; each hop one more.
    let least = MAX_MAP_DEPTH as u64 - 3;
    ensure!(hops >= least, "only {hops} nested mappings allowed (expected at least {least})");
    let read = step!(ask(holder, worker::READ, &[WORKER_WINDOW + at * PAGE]), "read the deepest mapping");
    ensure!(read.mr[0] == 0xdee9, "the deepest mapping reads {:#x}", read.mr[0]);
    let item = MapItem { page: WORKER_WINDOW + at * PAGE, count: 1, rights: rights::READ, window_offset: 15 };
    let [w1, w2] = item.encode();
    let granted = step!(ask(holder, worker::MAP_TO, &[other.0, w1, w2, 1]), "grant the deepest mapping");
    ensure!(granted.mr[0] == 0, "granting the deepest mapping failed with error {}", granted.mr[0]);
    let read = step!(ask(other, worker::READ, &[WORKER_WINDOW + 15 * PAGE]), "read the granted page");
    ensure!(read.mr[0] == 0xdee9, "the granted page reads {:#x}", read.mr[0]);
    step!(l4::task::space_destroy(space_b), "destroy B");
    step!(l4::task::space_destroy(space_c), "destroy C");
    Ok(())
}

pub fn unmap_write_only() -> Outcome {
    let (space_b, b) = new_worker()?;
    let (space_c, c) = new_worker()?;
    let page = page_with(0x11);
    step!(map_to(b, page, rights::ALL, 0), "we map to B");
    let item = MapItem { page: WORKER_WINDOW, count: 1, rights: rights::ALL, window_offset: 4 };
    let [w1, w2] = item.encode();
    let done = step!(ask(b, worker::MAP_TO, &[c.0, w1, w2, 0]), "B maps to C");
    ensure!(done.mr[0] == 0, "B's map to C failed: error {}", done.mr[0]);
    step!(ask(c, worker::WRITE, &[WORKER_WINDOW + 4 * PAGE, 0x22]), "C writes while it may");
    // Take only the write right away: B and C keep reading (and see our writes).
    // SAFETY: without SELF our own mapping is untouched.
    step!(unsafe { l4::memory::unmap(page, 1, l4::unmap_flags::WRITE_ONLY) }, "unmap the write right");
    // SAFETY: our own page, still writable.
    unsafe { (page as *mut u64).write_volatile(0x33) };
    let read = step!(ask(b, worker::READ, &[WORKER_WINDOW]), "B reads");
    ensure!(read.mr[0] == 0x33, "B read {:#x} after the downgrade", read.mr[0]);
    let read = step!(ask(c, worker::READ, &[WORKER_WINDOW + 4 * PAGE]), "C reads");
    ensure!(read.mr[0] == 0x33, "C read {:#x} after the downgrade", read.mr[0]);
    let [address, access, thread] = expect_fault(c, worker::WRITE, &[WORKER_WINDOW + 4 * PAGE, 1])?;
    ensure!(address == WORKER_WINDOW + 4 * PAGE && thread == c.0, "C's write fault: {address:#x} by {thread:#x}");
    ensure!(access & fault_access::WRITE != 0 && access & fault_access::PRESENT != 0, "access {access:#x}");
    let [_, _, thread] = expect_fault(b, worker::WRITE, &[WORKER_WINDOW, 1])?;
    ensure!(thread == b.0, "B could still write");
    step!(l4::task::space_destroy(space_b), "destroy B");
    step!(l4::task::space_destroy(space_c), "destroy C");
    Ok(())
}

pub fn grant() -> Outcome {
    let (space_b, b) = new_worker()?;
    let (space_c, c) = new_worker()?;
    let page = page_with(0x6a);
    step!(map_to(b, page, rights::ALL, 0), "we map to B");
    let item = MapItem { page: WORKER_WINDOW, count: 1, rights: rights::ALL, window_offset: 1 };
    let [w1, w2] = item.encode();
    let done = step!(ask(b, worker::MAP_TO, &[c.0, w1, w2, 1]), "B grants to C");
    ensure!(done.mr[0] == 0, "B's grant failed: error {}", done.mr[0]);
    let read = step!(ask(c, worker::READ, &[WORKER_WINDOW + PAGE]), "C reads");
    ensure!(read.mr[0] == 0x6a, "C read {:#x}", read.mr[0]);
    let [address, _, thread] = expect_fault(b, worker::READ, &[WORKER_WINDOW])?;
    ensure!(address == WORKER_WINDOW && thread == b.0, "B still had the granted page");
    // The granted mapping still derives from ours: unmap reaches it.
    // SAFETY: without SELF our own mapping stays.
    step!(unsafe { l4::memory::unmap(page, 1, 0) }, "unmap");
    let [address, _, thread] = expect_fault(c, worker::READ, &[WORKER_WINDOW + PAGE])?;
    ensure!(address == WORKER_WINDOW + PAGE && thread == c.0, "C kept a revoked granted page");
    step!(l4::task::space_destroy(space_b), "destroy B");
    step!(l4::task::space_destroy(space_c), "destroy C");
    Ok(())
}

pub fn pager_serves_fault() -> Outcome {
    let (space, worker) = new_worker()?;
    for address in [LAZY_REGION + 8, LAZY_REGION + 5 * PAGE + 64] {
        let read = step!(ask(worker, worker::READ, &[address]), "read a lazy page");
        ensure!(read.mr[0] == address, "the pager's page holds {:#x} at {address:#x}", read.mr[0]);
    }
    step!(l4::task::space_destroy(space), "destroy the worker");
    Ok(())
}

pub fn pager_fault_ahead() -> Outcome {
    use crate::pager::{AHEAD_FAULTS, AHEAD_REFUSED};
    use crate::support::{AHEAD_PAGES, AHEAD_REGION, AHEAD_REGION_SIZE};
    let (space, worker) = new_worker()?;
    let (faults, refused) = (AHEAD_FAULTS.load(Ordering::SeqCst), AHEAD_REFUSED.load(Ordering::SeqCst));
    // One fault maps AHEAD_PAGES pages: reading them all faults once, the
    // next page again.
    for page in 0..=AHEAD_PAGES {
        let address = AHEAD_REGION + page * PAGE + 16;
        let read = step!(ask(worker, worker::READ, &[address]), "read a page of the fault-ahead region");
        ensure!(read.mr[0] == address, "the page holds {:#x} at {address:#x}", read.mr[0]);
    }
    let served = AHEAD_FAULTS.load(Ordering::SeqCst) - faults;
    ensure!(served == 2, "{} pages read with {served} faults, expected 2", AHEAD_PAGES + 1);
    // The last page of the block: a reply mapping past it is refused.
    let last = AHEAD_REGION + AHEAD_REGION_SIZE - PAGE;
    let read = step!(ask(worker, worker::READ, &[last]), "read the block's last page");
    ensure!(read.mr[0] == last, "the last page holds {:#x}", read.mr[0]);
    let refusals = AHEAD_REFUSED.load(Ordering::SeqCst) - refused;
    ensure!(refusals == 1, "a fault reply past the block's end was refused {refusals} times, expected 1");
    step!(l4::task::space_destroy(space), "destroy the worker");
    Ok(())
}

pub fn exception_to_handler() -> Outcome {
    let (space, worker) = new_worker()?;
    // Our call's reply is the worker's exception message (we are its handler).
    let exception = step!(ask(worker, worker::UD, &[]), "ask for ud2");
    ensure!(exception.label() == label::EXCEPTION, "got label {:#x}, not an exception", exception.label());
    ensure!(
        exception.from == worker && exception.mr[0] == 6,
        "vector {} from {:#x}",
        exception.mr[0],
        exception.from.0
    );
    let (rip, rsp) = (exception.mr[2], exception.mr[3]);
    // Resume two bytes later (ud2 is 0f 0b).
    let reply = step!(call(worker, &Message::new(0, &[rip + 2, rsp])), "resume the worker");
    ensure!(reply.words() == [worker::SURVIVED], "the worker did not resume: {:?}", reply.words());
    step!(l4::task::space_destroy(space), "destroy the worker");
    Ok(())
}

pub fn fault_without_handler_kills() -> Outcome {
    let (space, worker) =
        step!(spawn_in_new_space(worker_main, 0, 0, ThreadId::NIL), "start a worker without a handler");
    // The worker dies in the middle of our call: the call is aborted.
    expect_error(ask(worker, worker::UD, &[]), Error::Aborted, "call a thread that faults with no handler")?;
    expect_error(l4::task::read_registers(worker), Error::NoSuchThread, "the killed thread")?;
    step!(l4::task::space_destroy(space), "destroy its space");
    Ok(())
}

pub fn timer_irq() -> Outcome {
    let me = main_thread();
    step!(l4::device::irq_attach(0, me), "attach the timer");
    let mut last = 0;
    for tick in 0..3 {
        let message = step!(receive(ThreadId::irq(0), Timeout::Ticks(20)), "wait for a tick");
        ensure!(
            message.label() == label::INTERRUPT && message.mr[0] == 0,
            "tick {tick}: label {:#x} mr0 {}",
            message.label(),
            message.mr[0]
        );
        ensure!(message.from == ThreadId::irq(0), "tick from {:#x}", message.from.0);
        let now = l4::task::system_clock();
        ensure!(now > last, "ticks did not advance");
        last = now;
        step!(l4::device::acknowledge(0), "acknowledge");
    }
    step!(l4::device::irq_attach(0, ThreadId::NIL), "detach");
    l4::ipc::sleep(2);
    expect_error(receive(ThreadId::irq(0), Timeout::Zero), Error::ReceiveTimeout, "a tick after detaching")?;
    expect_error(l4::device::acknowledge(0), Error::NoPermission, "acknowledge a line we do not own")?;
    Ok(())
}

pub fn ioport_allowed() -> Outcome {
    let (space, worker) = new_worker()?;
    step!(l4::device::ioport_grant(space, 0x70, 2), "grant the CMOS ports");
    let reply = step!(ask(worker, worker::PORT_IN, &[0x71]), "read CMOS");
    ensure!(reply.label() == worker::PORT_IN && reply.mr[0] <= 0xff, "reading an allowed port: {:?}", reply);
    step!(l4::task::space_destroy(space), "destroy the worker");
    Ok(())
}

pub fn ioport_denied() -> Outcome {
    let (space, worker) = new_worker()?;
    let exception = step!(ask(worker, worker::PORT_IN, &[0x71]), "read a port not granted");
    ensure!(
        exception.label() == label::EXCEPTION && exception.mr[0] == 13,
        "expected #GP, got label {:#x} vector {}",
        exception.label(),
        exception.mr[0]
    );
    // The handler may also kill: destroy the worker.
    step!(l4::task::thread_destroy(worker), "kill the worker");
    expect_error(ask(worker, worker::ECHO, &[]), Error::NoSuchThread, "call a killed worker")?;
    step!(l4::task::space_destroy(space), "destroy its space");
    Ok(())
}

pub fn bad_args_ipc() -> Outcome {
    let bogus = ThreadId::new(77, 12345);
    expect_error(send(bogus, &Message::new(1, &[]), Timeout::Zero), Error::NoSuchThread, "send to a made-up id")?;
    expect_error(receive(bogus, Timeout::Zero), Error::NoSuchThread, "receive from a made-up id")?;
    expect_error(
        send(ThreadId::irq(40), &Message::new(1, &[]), Timeout::Zero),
        Error::NoPermission,
        "acknowledge IRQ 40",
    )?;
    // A page fault, an exception or an interrupt message is the kernel's:
    // nobody may send one (a pager can trust what it receives).
    for reserved in [label::PAGE_FAULT, label::EXCEPTION, label::INTERRUPT, label::KERNEL_LAST] {
        let forged = Message::new(reserved, &[0x1000, 2, 0]);
        expect_error(call(main_thread(), &forged), Error::InvalidArgument, "a kernel-reserved label")?;
    }
    let bad_tag = Message { tag: l4::Tag(1 << 3), mr: [0; 6] };
    expect_error(call(main_thread(), &bad_tag), Error::InvalidArgument, "reserved tag bits")?;
    let too_many = Message { tag: l4::Tag::new(1, 6).with_byte_item(), mr: [0; 6] };
    expect_error(call(main_thread(), &too_many), Error::InvalidArgument, "items past the registers")?;
    let kernel_buffer = Message::new(1, &[]).with_bytes_at(0xffff_ffff_8000_0000, 8);
    expect_error(call(main_thread(), &kernel_buffer), Error::BadAddress, "kernel buffer")?;
    let wrapping = Message::new(1, &[]).with_bytes_at(u64::MAX - 4, 16);
    expect_error(call(main_thread(), &wrapping), Error::BadAddress, "wrapping buffer")?;
    let bad_map = Message::new(1, &[]).with_map(MapItem { page: 0, count: 0, rights: 1, window_offset: 0 }, false);
    expect_error(call(main_thread(), &bad_map), Error::InvalidArgument, "map of zero pages")?;
    let kernel_map = Message::new(1, &[])
        .with_map(MapItem { page: 0xffff_ffff_8000_0000, count: 1, rights: 1, window_offset: 0 }, false);
    expect_error(call(main_thread(), &kernel_map), Error::BadAddress, "map of kernel pages")?;
    // A stale id (destroyed thread) never reaches the slot's next thread.
    let thread = step!(l4::task::thread_create(root_space(), ThreadId::NIL, ThreadId::NIL, PRIORITY), "create");
    step!(l4::task::thread_destroy(thread), "destroy");
    expect_error(send(thread, &Message::new(1, &[]), Timeout::Zero), Error::NoSuchThread, "send to a stale id")?;
    Ok(())
}

pub fn bad_args_memory() -> Outcome {
    // SAFETY (all unmaps below): they fail, so nothing changes.
    expect_error(unsafe { l4::memory::unmap(0x1001, 1, 0) }, Error::InvalidArgument, "unmap unaligned")?;
    expect_error(unsafe { l4::memory::unmap(0xffff_ffff_8000_0000, 1, 0) }, Error::BadAddress, "unmap kernel pages")?;
    expect_error(unsafe { l4::memory::unmap(0x1000, 0, 0) }, Error::InvalidArgument, "unmap zero pages")?;
    expect_error(unsafe { l4::memory::unmap(0x1000, 1, 0x80) }, Error::InvalidArgument, "unmap with unknown flags")?;
    // SAFETY (receive windows): refused calls change nothing.
    expect_error(
        unsafe { l4::memory::set_receive_window(0xffff_ffff_8000_0000, 16, 0, 0) },
        Error::BadAddress,
        "kernel receive buffer",
    )?;
    expect_error(unsafe { l4::memory::set_receive_window(0, 0, 0x1234, 1) }, Error::BadAddress, "unaligned window")?;
    expect_error(
        unsafe { l4::memory::set_receive_window(0, 0, 0x7fff_ffff_0000, 1 << 40) },
        Error::BadAddress,
        "window past user space",
    )?;
    expect_error(l4::print::debug_print_raw(0xffff_ffff_8000_0000, 8), Error::BadAddress, "print kernel memory")?;
    expect_error(l4::print::debug_print_raw(UNMAPPED, 8), Error::BadAddress, "print unmapped memory")?;
    expect_error(l4::print::debug_print_raw(0x400000, 100_000), Error::MessageTooLong, "print too much")?;
    Ok(())
}

pub fn bad_args_threads() -> Outcome {
    let thread = step!(l4::task::thread_create(root_space(), ThreadId::NIL, ThreadId::NIL, PRIORITY), "create");
    let kernel_rip = l4::task::Registers { control: exreg::SET_RIP, rip: 0xffff_ffff_8010_0000, ..Default::default() };
    // SAFETY (exchange_registers): the calls are refused.
    expect_error(unsafe { l4::task::exchange_registers(thread, &kernel_rip) }, Error::BadAddress, "rip in the kernel")?;
    let both = l4::task::Registers { control: exreg::HALT | exreg::RESUME, ..Default::default() };
    expect_error(
        unsafe { l4::task::exchange_registers(thread, &both) },
        Error::InvalidArgument,
        "halt and resume at once",
    )?;
    let unknown = l4::task::Registers { control: 1 << 20, ..Default::default() };
    expect_error(
        unsafe { l4::task::exchange_registers(thread, &unknown) },
        Error::InvalidArgument,
        "unknown control bits",
    )?;
    expect_error(
        l4::task::thread_create(SpaceId(0xdead_0000), ThreadId::NIL, ThreadId::NIL, 1),
        Error::NoSuchThread,
        "create in a made-up space",
    )?;
    expect_error(
        l4::task::thread_create(root_space(), ThreadId(3), ThreadId::NIL, 1),
        Error::InvalidArgument,
        "a pager id that is not a thread id",
    )?;
    expect_error(l4::task::space_destroy(root_space()), Error::InUse, "destroy our own space")?;
    step!(l4::task::thread_destroy(thread), "destroy");
    // What a space without privileges may not do.
    let (space, worker) = new_worker()?;
    let reply = step!(ask(worker, worker::TRY_PRIVILEGED, &[root_space().0, main_thread().0]), "try privileged calls");
    let no = Error::NoPermission.code();
    ensure!(reply.mr[..5] == [no; 5], "unprivileged calls returned {:?} (expected all {no})", &reply.mr[..5]);
    step!(l4::task::space_destroy(space), "destroy the worker");
    Ok(())
}

pub fn bad_args_calls() -> Outcome {
    // One past the last call there is (the ABI's own table says which).
    let past_the_last = (1..).find(|&n| common::abi::micro::Sys::from_number(n).is_none()).unwrap_or(u64::MAX);
    for number in [0u64, past_the_last, 999, u64::MAX] {
        let code = l4::sys::call_number(number);
        ensure!(code == Error::NoSuchCall.code(), "system call {number} returned {code}");
    }
    expect_error(l4::device::irq_attach(2, main_thread()), Error::InvalidArgument, "attach the cascade line")?;
    expect_error(l4::device::irq_attach(16, main_thread()), Error::InvalidArgument, "attach IRQ 16")?;
    expect_error(l4::device::ioport_grant(root_space(), 0xffff, 2), Error::InvalidArgument, "ports past 0xffff")?;
    expect_error(l4::task::set_priority(main_thread(), 40), Error::InvalidArgument, "priority 40")?;
    Ok(())
}

pub fn device_memory() -> Outcome {
    use common::abi::micro::ROOT_DEVICE_WINDOW;
    // The firmware's reset vector, physical 0xffff0 (the last page of the
    // legacy device area is the BIOS ROM), read through the root task's
    // device window and through a worker the page was mapped to. (The VGA
    // text buffer is in the same window, but under qboot the VGA card is
    // not initialised and reads back zeroes.)
    let rom_page = ROOT_DEVICE_WINDOW + 0xff000;
    let offset = 0xff0;
    // SAFETY: the kernel maps the device memory there; reading ROM is harmless.
    let ours = unsafe { ((rom_page + offset) as *const u64).read_volatile() };
    ensure!(ours != 0, "the BIOS reset vector reads as zero");
    let (space, worker) = new_worker()?;
    step!(map_to(worker, rom_page, rights::READ, 0), "map the ROM page to a worker");
    let read = step!(ask(worker, worker::READ, &[WORKER_WINDOW + offset]), "the worker reads it");
    ensure!(read.mr[0] == ours, "the worker saw {:#x}, we see {ours:#x}", read.mr[0]);
    step!(l4::task::space_destroy(space), "destroy the worker");
    Ok(())
}

pub fn fuzz_syscalls() -> Outcome {
    let (space, worker) = new_worker()?;
    let reply = step!(ask(worker, worker::FUZZ, &[0x5eed_1234_abcd, 20_000]), "random system calls");
    ensure!(reply.mr[0] == 20_000, "the worker made {} calls", reply.mr[0]);
    // The kernel is still fine: the worker answers, and so does everything else.
    let echo = step!(ask(worker, worker::ECHO, &[1]), "echo after the storm");
    ensure!(echo.mr[0] == 2, "the worker is confused after random calls");
    step!(l4::task::space_destroy(space), "destroy the worker");
    l4::println!("micro-tests: fuzz: {} of {} random calls succeeded", reply.mr[1], reply.mr[0]);
    Ok(())
}

pub fn exhaustion() -> Outcome {
    // Threads until the table is full: a clean error, then all back.
    let mut threads = [ThreadId::NIL; 300];
    let mut made = 0;
    let last = loop {
        match l4::task::thread_create(root_space(), ThreadId::NIL, ThreadId::NIL, 1) {
            Ok(thread) if made < threads.len() => {
                threads[made] = thread;
                made += 1;
            }
            other => break other,
        }
    };
    for &thread in &threads[..made] {
        step!(l4::task::thread_destroy(thread), "destroy a thread");
    }
    expect_error(last, Error::OutOfResources, "one thread too many")?;
    // The same for address spaces.
    let mut spaces = [SpaceId::NIL; 200];
    let mut made = 0;
    let last = loop {
        match l4::task::space_create(0) {
            Ok(space) if made < spaces.len() => {
                spaces[made] = space;
                made += 1;
            }
            other => break other,
        }
    };
    for &space in &spaces[..made] {
        step!(l4::task::space_destroy(space), "destroy a space");
    }
    expect_error(last, Error::OutOfResources, "one space too many")?;
    // And everything works again.
    let (space, worker) = new_worker()?;
    let reply = step!(ask(worker, worker::ECHO, &[9]), "a worker after exhaustion");
    ensure!(reply.mr[0] == 10, "the worker answered {}", reply.mr[0]);
    step!(l4::task::space_destroy(space), "destroy the worker");
    Ok(())
}

pub fn quota_threads() -> Outcome {
    // An ordinary space (no RESERVES) gets quota::THREADS threads, then a
    // clean OutOfResources; a trusted space is not held to it.
    for (privileges, allowed) in [(0, quota::THREADS as usize), (privilege::RESERVES, quota::THREADS as usize + 4)] {
        let space = step!(l4::task::space_create(privileges), "create a space");
        let mut made = 0;
        let last = loop {
            match l4::task::thread_create(space, ThreadId::NIL, ThreadId::NIL, 1) {
                Ok(_) if made < allowed => made += 1,
                other => break other,
            }
        };
        if privileges == 0 {
            ensure!(made == allowed, "an ordinary space got {made} threads, not its quota of {allowed}");
            expect_error(last, Error::OutOfResources, "a thread past the quota")?;
        } else {
            ensure!(made == allowed && last.is_ok(), "a trusted space got only {made} threads: {:?}", last.err());
        }
        step!(l4::task::space_destroy(space), "destroy the space");
    }
    Ok(())
}

/// Where the quota checks move a worker's receive window: far from
/// everything the worker has, so each 2 MiB step needs a new page table.
const FAR_WINDOWS: u64 = 0x100_0000_0000;
const TWO_MIB: u64 = 2 << 20;

pub fn quota_page_tables() -> Outcome {
    // A worker maps one page in each of many 2 MiB regions: each needs a
    // new level-1 table (and every 512 a level-2 one). Before it grows
    // quota::PAGE_TABLES tables, the kernel says OutOfResources; the worker
    // goes on working, and a new space starts with its quota whole.
    let page = page_with(0x7ab);
    for round in 0..2 {
        let (space, worker) = new_worker()?;
        let mut mapped = 0;
        let last = loop {
            let base = FAR_WINDOWS + mapped * TWO_MIB;
            let moved = step!(ask(worker, worker::WINDOW_AT, &[base, 1]), "move the window");
            ensure!(moved.mr[0] == 0, "moving the window failed: {}", moved.mr[0]);
            match map_to(worker, page, rights::READ, 0) {
                Ok(_) if mapped <= quota::PAGE_TABLES as u64 => mapped += 1,
                other => break other,
            }
        };
        expect_error(last, Error::OutOfResources, "a page table past the quota")?;
        // The worker's own code, stack and buffer took a few tables already.
        let least = quota::PAGE_TABLES as u64 - 16;
        ensure!(
            (least..quota::PAGE_TABLES as u64).contains(&mapped),
            "round {round}: {mapped} pages in new 2 MiB regions before the quota stopped them (expected {least}..{})",
            quota::PAGE_TABLES
        );
        let read = step!(ask(worker, worker::READ, &[FAR_WINDOWS]), "read the first far page");
        ensure!(read.mr[0] == 0x7ab, "the worker read {:#x}", read.mr[0]);
        step!(l4::task::space_destroy(space), "destroy the worker");
    }
    Ok(())
}

pub fn quota_mappings() -> Outcome {
    // Items of MAX_MAP_PAGES pages, mapped again and again into a worker:
    // it may hold quota::MAPPINGS mappings, then OutOfResources.
    let pages = MAX_MAP_PAGES;
    let source = support::alloc_pages(pages);
    // SAFETY: fresh pages of ours; touching them maps them.
    unsafe { core::ptr::write_bytes(source as *mut u8, 0x5a, (pages * PAGE) as usize) };
    let (space, worker) = new_worker()?;
    let mut accepted = 0;
    let last = loop {
        let base = FAR_WINDOWS + accepted * PAGE;
        let moved = step!(ask(worker, worker::WINDOW_AT, &[base, pages]), "move the window");
        ensure!(moved.mr[0] == 0, "moving the window failed: {}", moved.mr[0]);
        let item = MapItem { page: source, count: pages, rights: rights::READ, window_offset: 0 };
        match call(worker, &Message::new(worker::ACCEPT, &[]).with_map(item, false)) {
            Ok(_) if accepted <= quota::MAPPINGS as u64 => accepted += pages,
            other => break other,
        }
    };
    expect_error(last, Error::OutOfResources, "mappings past the quota")?;
    // The worker's own pages count too: a few dozen.
    let least = quota::MAPPINGS as u64 - pages - 128;
    ensure!(
        (least..=quota::MAPPINGS as u64).contains(&accepted),
        "{accepted} pages mapped before the quota stopped them (expected {least}..={})",
        quota::MAPPINGS
    );
    // The most one space can make one unmap cost: every mapping it may
    // hold, all derived from the pages unmapped. (Under `-icount` the time
    // stamp counts guest instructions.)
    let start = support::rdtsc();
    // SAFETY: without SELF our own pages stay.
    step!(unsafe { l4::memory::unmap(source, pages, 0) }, "unmap the source pages");
    let cost = support::rdtsc() - start;
    l4::println!("micro-measure unmap-of-a-full-quota: {accepted} mappings removed by one unmap: {cost} instructions");
    let [address, _, _] = expect_fault(worker, worker::READ, &[FAR_WINDOWS])?;
    ensure!(address == FAR_WINDOWS, "the worker's fault after the unmap: {address:#x}");
    step!(l4::task::space_destroy(space), "destroy the worker");
    Ok(())
}

pub fn space_destroy() -> Outcome {
    let (space, worker) = new_worker()?;
    let page = page_with(0x99);
    step!(map_to(worker, page, rights::ALL, 0), "map a page to the worker");
    step!(l4::task::space_destroy(space), "destroy the space");
    expect_error(ask(worker, worker::ECHO, &[]), Error::NoSuchThread, "call a thread of a destroyed space")?;
    expect_error(l4::task::space_destroy(space), Error::NoSuchThread, "destroy it twice")?;
    // Our page survives, and can be mapped again to a new worker.
    let (space, worker) = new_worker()?;
    step!(map_to(worker, page, rights::ALL, 0), "map it again");
    let read = step!(ask(worker, worker::READ, &[WORKER_WINDOW]), "read it");
    ensure!(read.mr[0] == 0x99, "read {:#x}", read.mr[0]);
    step!(l4::task::space_destroy(space), "destroy the second space");
    Ok(())
}
