//! The program the checks run in child address spaces: a server that does
//! what the main thread's messages say, so the main thread can test the
//! kernel "from the other side" (what a receiver sees, what a space without
//! a port or a page experiences).
//!
//! Every request is answered with a reply (except when the command faults
//! on purpose: then the pager or the exception handler hears about it).

use crate::support::{PAGE, WORKER_WINDOW, WORKER_WINDOW_PAGES};
use common::abi::memory::USER_TOP;
use common::port::{HardwarePorts, PortIo};
use l4::{Error, MapItem, Message, Received, ThreadId, Timeout, privilege};

/// Reply `words + 1` each (or, with a buffer item, `[length, hash]`).
pub const ECHO: u64 = 1;
/// Reply `[sender id]` as the kernel delivered it.
pub const WHO: u64 = 2;
/// `[address]`: reply `[the u64 there]`.
pub const READ: u64 = 3;
/// `[address, value]`: write it, reply `[]`.
pub const WRITE: u64 = 4;
/// `[target, map word 0, map word 1, grant]`: pass pages on to `target`
/// (a worker), reply `[error code of that call]`.
pub const MAP_TO: u64 = 5;
/// A map item arrives: reply `[first page, count]` as received.
pub const ACCEPT: u64 = 6;
/// `[port]`: reply `[byte read from the port]`.
pub const PORT_IN: u64 = 7;
/// Execute `ud2`; reply `[SURVIVED]` if the handler resumes us after it.
pub const UD: u64 = 8;
/// Try privileged calls: reply their error codes.
pub const TRY_PRIVILEGED: u64 = 9;
/// `[length]`: set the receive buffer's length.
pub const SET_BUFFER: u64 = 10;

/// `[seed, count]`: make `count` system calls with random arguments; reply
/// `[calls made, calls that succeeded]`.
pub const FUZZ: u64 = 11;
/// `[target, address, length word]`: call worker `target` with `ECHO` and a
/// byte item of our memory at `address` (`length word` may carry
/// `abi::micro::STRING`); reply `[error code, target's reply words 0 and 1]`.
pub const BYTES_TO: u64 = 12;
/// `[length]`: reply with the first `length` bytes of [`PATTERN`].
pub const BYTES_BACK: u64 = 13;
/// `[target, address, length]`: call worker `target` with `BYTES_BACK
/// [length]`, the reply's bytes landing in our memory at `address`; reply
/// `[error code, bytes received, hash of the bytes at address]`.
pub const RECEIVE_INTO: u64 = 14;

/// `[base, pages]`: move the receive window there (the receive buffer is
/// one page again); reply `[error code]`.
pub const WINDOW_AT: u64 = 15;

/// What `BYTES_BACK` sends.
pub const PATTERN: [u8; 64] = *b"a receive area fills with the bytes of a reply, page by page....";

/// The reply to `UD` after the handler skipped the instruction.
pub const SURVIVED: u64 = 0x5afe;

#[repr(C, align(4096))]
struct ReceiveBuffer([u8; 4096]);

static mut RECEIVE_BUFFER: ReceiveBuffer = ReceiveBuffer([0; 4096]);

/// FNV-1a, to compare long messages.
pub fn hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| (hash ^ byte as u64).wrapping_mul(0x100_0000_01b3))
}

fn buffer_address() -> u64 {
    core::ptr::addr_of_mut!(RECEIVE_BUFFER) as u64
}

fn set_buffer(length: u64) -> Result<(), Error> {
    // SAFETY: the buffer and the window are used only through the kernel's
    // copies and mappings (reads below go through raw pointers).
    unsafe { l4::memory::set_receive_window(buffer_address(), length, WORKER_WINDOW, WORKER_WINDOW_PAGES) }
}

/// The worker's entry point.
pub extern "C" fn worker_main(_: u64) -> ! {
    // Touch the receive buffer (not needed: `set_receive_window` would
    // fault its page in; the worker's pager serves it either way).
    // SAFETY: the buffer belongs to this thread alone.
    unsafe { core::ptr::write_bytes(buffer_address() as *mut u8, 0, PAGE as usize) };
    let _ = set_buffer(PAGE);
    let mut request = l4::ipc::receive(ThreadId::ANY, Timeout::Never);
    loop {
        match request {
            Ok(message) => {
                let reply = handle(&message);
                request = l4::ipc::reply_and_receive(message.from, &reply);
            }
            Err(_) => request = l4::ipc::receive(ThreadId::ANY, Timeout::Never),
        }
    }
}

fn handle(request: &Received) -> Message {
    let w = request.mr;
    match request.label() {
        ECHO => match request.byte_item(0) {
            Some((address, length)) => {
                // SAFETY: the kernel copied `length` (<= 4096) bytes to
                // `address`, inside our receive buffer.
                let bytes = unsafe { core::slice::from_raw_parts(address as *const u8, length as usize) };
                Message::new(ECHO, &[length, hash(bytes)])
            }
            None => {
                let mut words = [0u64; 6];
                for (out, word) in words.iter_mut().zip(request.words()) {
                    *out = word + 1;
                }
                Message::new(ECHO, &words[..request.words().len()])
            }
        },
        WHO => Message::new(WHO, &[request.from.0]),
        // SAFETY (READ, WRITE): the main thread names pages of the window or
        // the lazy region; a missing page faults to the pager, as intended.
        READ => Message::new(READ, &[unsafe { (w[0] as *const u64).read_volatile() }]),
        WRITE => {
            unsafe { (w[0] as *mut u64).write_volatile(w[1]) };
            Message::new(WRITE, &[])
        }
        MAP_TO => {
            let item =
                MapItem { page: w[1] & !0xfff, rights: w[1] & 0xfff, count: w[2] & 0xffff, window_offset: w[2] >> 16 };
            let message = Message::new(ACCEPT, &[]).with_map(item, w[3] != 0);
            let code = match l4::ipc::call(ThreadId(w[0]), &message) {
                Ok(_) => 0,
                Err(error) => error.code(),
            };
            Message::new(MAP_TO, &[code])
        }
        ACCEPT => {
            let (page, count) = request.mapped().unwrap_or((0, 0));
            Message::new(ACCEPT, &[page, count])
        }
        PORT_IN => Message::new(PORT_IN, &[HardwarePorts.read_u8(w[0] as u16) as u64]),
        UD => {
            // SAFETY: raises #UD on purpose; the exception handler resumes
            // us two bytes later (ud2's length), or destroys us.
            unsafe { core::arch::asm!("ud2", options(nomem, nostack)) };
            Message::new(UD, &[SURVIVED])
        }
        TRY_PRIVILEGED => {
            let code = |result: Result<(), Error>| result.err().map_or(0, |e| e.code());
            let (me, my_space) = l4::task::whoami();
            let root = l4::SpaceId(w[0]);
            Message::new(
                TRY_PRIVILEGED,
                &[
                    code(l4::task::space_create(privilege::CREATE).map(|_| ())),
                    code(l4::task::thread_create(root, ThreadId::NIL, ThreadId::NIL, 1).map(|_| ())),
                    code(l4::device::irq_attach(1, me)),
                    code(l4::device::ioport_grant(my_space, 0x60, 1)),
                    code(l4::task::thread_destroy(ThreadId(w[1]))),
                ],
            )
        }
        SET_BUFFER => Message::new(SET_BUFFER, &[set_buffer(w[0]).err().map_or(0, |e| e.code())]),
        WINDOW_AT => {
            // SAFETY: nothing of ours is at the window: the pages that
            // land there are only read through raw pointers (`READ`).
            let moved = unsafe { l4::memory::set_receive_window(buffer_address(), PAGE, w[0], w[1]) };
            Message::new(WINDOW_AT, &[moved.err().map_or(0, |e| e.code())])
        }
        FUZZ => {
            let (calls, successes) = fuzz(w[0], w[1]);
            Message::new(FUZZ, &[calls, successes])
        }
        BYTES_TO => {
            let message = Message::new(ECHO, &[]).with_bytes_at(w[1], w[2]);
            match l4::ipc::call(ThreadId(w[0]), &message) {
                Ok(reply) => Message::new(BYTES_TO, &[0, reply.mr[0], reply.mr[1]]),
                Err(error) => Message::new(BYTES_TO, &[error.code(), 0, 0]),
            }
        }
        BYTES_BACK => Message::new(BYTES_BACK, &[]).with_bytes(&PATTERN[..(w[0] as usize).min(PATTERN.len())]),
        RECEIVE_INTO => {
            let message = Message::new(BYTES_BACK, &[w[2]]).with_receive_area(w[1], w[2]);
            match l4::ipc::call(ThreadId(w[0]), &message) {
                Ok(reply) => {
                    let count = reply.byte_count();
                    // SAFETY: the kernel checked the area is ours and wrote
                    // `count` (<= w[2]) bytes there.
                    let bytes = unsafe { core::slice::from_raw_parts(w[1] as *const u8, count as usize) };
                    Message::new(RECEIVE_INTO, &[0, count, hash(bytes)])
                }
                Err(error) => Message::new(RECEIVE_INTO, &[error.code(), 0, 0]),
            }
        }
        _ => Message::new(0, &[]),
    }
}

/// A small xorshift generator: reproducible random numbers from a seed.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A random argument word, biased towards values that hit edge cases.
    fn word(&mut self, me: u64) -> u64 {
        const INTERESTING: [u64; 12] = [
            0,
            1,
            u64::MAX,
            0xfff,
            0x1000,
            WORKER_WINDOW,
            USER_TOP,
            0x0000_8000_0000_0000,
            0xffff_ffff_8000_0000,
            1 << 62,
            (1 << 62) | 1,
            4097,
        ];
        match self.next() % 4 {
            0 => INTERESTING[(self.next() % INTERESTING.len() as u64) as usize],
            1 => me,
            2 => self.next() % 0x1_0000,
            _ => self.next(),
        }
    }
}

/// Makes `count` random system calls and counts the ones that succeeded.
/// Calls that could stop this very thread are left out (destroying or
/// halting itself, unmapping its own code or stack, changing its window);
/// every IPC uses zero timeouts so none can block.
fn fuzz(seed: u64, count: u64) -> (u64, u64) {
    use common::abi::micro::{Sys, timeouts};
    let (me, _) = l4::task::whoami();
    let mut random = Random(seed | 1);
    let (mut calls, mut successes) = (0, 0);
    while calls < count {
        let number = random.next() % 18;
        let mut args = [0u64; 8];
        for arg in args.iter_mut() {
            *arg = random.word(me.0);
        }
        let code = match Sys::from_number(number) {
            Some(Sys::ThreadDestroy | Sys::ExchangeRegisters | Sys::Unmap | Sys::SetReceiveWindow) => continue,
            Some(Sys::Ipc) => {
                let zero = timeouts(0, 0);
                l4::sys::ipc(args[0], args[1], args[2], zero, [args[3], args[4], args[5], args[6], args[7], 0]).rax
            }
            Some(call) => l4::sys::call(call, args).0,
            None => l4::sys::call_number(number),
        };
        calls += 1;
        if code == 0 {
            successes += 1;
        }
    }
    (calls, successes)
}
