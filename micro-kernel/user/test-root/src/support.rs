//! What the checks share: memory from the root task's window, helper
//! threads and spaces, and the failure `Reason`.

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicU64, Ordering};
use l4::{Error, SpaceId, ThreadId};

/// Where map items land in a worker (`worker.rs`): 16 pages. A fault here
/// is never served by the pager; it is reported to the main thread.
pub const WORKER_WINDOW: u64 = 0x4000_0000;
pub const WORKER_WINDOW_PAGES: u64 = 16;
/// Pages here are filled by the pager on demand (each word = its address).
pub const LAZY_REGION: u64 = 0x5000_0000;
pub const LAZY_REGION_SIZE: u64 = 0x10_0000;
/// Pages here are filled like the lazy region's, but the pager maps
/// [`AHEAD_PAGES`] at a time (fault-ahead: a fault's reply may map the pages
/// after the faulting one, up to the end of its 64-page block).
pub const AHEAD_REGION: u64 = 0x5800_0000;
pub const AHEAD_REGION_SIZE: u64 = 64 * PAGE;
pub const AHEAD_PAGES: u64 = 4;
/// Child threads' stacks: zero pages on demand, 64 KiB per thread.
pub const CHILD_STACKS: u64 = 0x6000_0000;
pub const CHILD_STACKS_SIZE: u64 = 0x100_0000;
/// Never mapped anywhere.
pub const UNMAPPED: u64 = 0x7000_0000;
/// The page size.
pub const PAGE: u64 = 4096;
/// The priority of the root task's first thread (and the most it can give).
pub const PRIORITY: u64 = common::abi::micro::ROOT_PRIORITY;

static WINDOW_NEXT: AtomicU64 = AtomicU64::new(0);
static WINDOW_END: AtomicU64 = AtomicU64::new(0);
static MAIN: AtomicU64 = AtomicU64::new(0);
static SPACE: AtomicU64 = AtomicU64::new(0);
static NEXT_CHILD_STACK: AtomicU64 = AtomicU64::new(0);

/// Records what the kernel told us at start.
pub fn init(boot: &l4::BootInfo) {
    WINDOW_NEXT.store(boot.window_base, Ordering::SeqCst);
    WINDOW_END.store(boot.window_base + boot.window_pages * PAGE, Ordering::SeqCst);
    MAIN.store(boot.thread.0, Ordering::SeqCst);
    SPACE.store(boot.space.0, Ordering::SeqCst);
}

/// The main (first) thread.
pub fn main_thread() -> ThreadId {
    ThreadId(MAIN.load(Ordering::SeqCst))
}

/// The root task's address space.
pub fn root_space() -> SpaceId {
    SpaceId(SPACE.load(Ordering::SeqCst))
}

/// `count` fresh pages of the window (never returned: the tests are short).
pub fn alloc_pages(count: u64) -> u64 {
    let start = WINDOW_NEXT.fetch_add(count * PAGE, Ordering::SeqCst);
    assert!(start + count * PAGE <= WINDOW_END.load(Ordering::SeqCst), "test root task out of memory");
    start
}

/// Starts a thread of the root space at `entry(argument)` with its own stack.
pub fn spawn_local(entry: extern "C" fn(u64) -> !, argument: u64, priority: u64) -> Result<ThreadId, Error> {
    let thread = l4::task::thread_create(root_space(), ThreadId::NIL, main_thread(), priority)?;
    let stack = alloc_pages(4);
    // SAFETY: `entry` is code of this program; the stack pages are fresh.
    unsafe { l4::task::start(thread, entry, stack + 4 * PAGE, argument)? };
    Ok(thread)
}

/// Creates a space (with `privileges`) and starts a thread in it running
/// this program's `entry(argument)`; the pager copies the program in on
/// demand. Exceptions go to `handler`.
pub fn spawn_in_new_space(
    entry: extern "C" fn(u64) -> !,
    argument: u64,
    privileges: u64,
    handler: ThreadId,
) -> Result<(SpaceId, ThreadId), Error> {
    let space = l4::task::space_create(privileges)?;
    let thread = l4::task::thread_create(space, crate::pager::pager(), handler, PRIORITY)?;
    let slot = NEXT_CHILD_STACK.fetch_add(1, Ordering::SeqCst) % (CHILD_STACKS_SIZE / 0x1_0000);
    // SAFETY: the entry is in this program's image, which the pager maps
    // into the new space; the stack region is served by the pager.
    unsafe { l4::task::start(thread, entry, CHILD_STACKS + (slot + 1) * 0x1_0000, argument)? };
    Ok((space, thread))
}

/// A failure reason: a short formatted text in a fixed buffer.
pub struct Reason {
    text: [u8; 160],
    len: usize,
}

impl Reason {
    /// Formats a reason.
    pub fn new(args: fmt::Arguments) -> Reason {
        let mut reason = Reason { text: [0; 160], len: 0 };
        let _ = reason.write_fmt(args);
        reason
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(&self.text[..self.len]).unwrap_or("(unprintable reason)")
    }
}

impl Write for Reason {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        for &byte in text.as_bytes() {
            if self.len < self.text.len() {
                self.text[self.len] = byte;
                self.len += 1;
            }
        }
        Ok(())
    }
}

/// What a check returns.
pub type Outcome = Result<(), Reason>;

/// Fails the check with a formatted reason unless `condition` holds.
#[macro_export]
macro_rules! ensure {
    ($condition:expr, $($reason:tt)*) => {
        if !$condition {
            return Err($crate::support::Reason::new(format_args!($($reason)*)));
        }
    };
}

/// Unwraps a kernel result or fails the check, naming the step.
#[macro_export]
macro_rules! step {
    ($result:expr, $what:expr) => {
        match $result {
            Ok(value) => value,
            Err(error) => return Err($crate::support::Reason::new(format_args!("{}: {:?}", $what, error))),
        }
    };
}

/// Expects `result` to be the error `expected`.
pub fn expect_error<T>(result: Result<T, Error>, expected: Error, what: &str) -> Outcome {
    match result {
        Err(error) if error == expected => Ok(()),
        Err(error) => Err(Reason::new(format_args!("{what}: got {error:?}, expected {expected:?}"))),
        Ok(_) => Err(Reason::new(format_args!("{what}: succeeded, expected {expected:?}"))),
    }
}

/// A spinning thread: counts in `*counter` forever.
pub extern "C" fn spinner(counter: u64) -> ! {
    let counter = counter as *const AtomicU64;
    loop {
        // SAFETY: the creator passes the address of a static AtomicU64.
        unsafe { (*counter).fetch_add(1, Ordering::Relaxed) };
    }
}

/// The time-stamp counter: under QEMU's `-icount shift=0` (as the grader
/// runs it), guest instructions.
pub fn rdtsc() -> u64 {
    let (low, high): (u32, u32);
    // SAFETY: `rdtsc` only reads the time-stamp counter (allowed in ring 3).
    unsafe { core::arch::asm!("rdtsc", out("eax") low, out("edx") high, options(nomem, nostack)) };
    ((high as u64) << 32) | low as u64
}
