//! The pager of every child space the tests create: a thread of the root
//! task that turns page faults into mappings of the root task's memory.
//!
//! - a fault inside this program's image: a copy of the root task's page
//!   (so a child runs the same program, with its own copy of the data);
//! - in the child-stack region: a zero page;
//! - in the lazy region: a page whose every word holds its own address
//!   (what the `pager` check reads);
//! - in the fault-ahead region: pages filled the same way, [`AHEAD_PAGES`]
//!   per fault (the `pager-fault-ahead` check counts the faults);
//! - anywhere else (notably the workers' receive window, where pages only
//!   ever arrive by map items): no mapping. The fault is reported to the
//!   main thread as `FAULT_REPORT [address, access, faulting thread]` and
//!   the faulting thread stays blocked — this is how the checks see that a
//!   revoked page really is gone. A fault the kernel raised for a system
//!   call's buffer (`fault_access::SYSTEM_CALL`) is answered without a
//!   mapping instead: the call fails with `BadAddress`.

use crate::support::{
    self, AHEAD_PAGES, AHEAD_REGION, AHEAD_REGION_SIZE, CHILD_STACKS, CHILD_STACKS_SIZE, LAZY_REGION, LAZY_REGION_SIZE,
    PAGE,
};
use core::sync::atomic::{AtomicU64, Ordering};
use l4::{MapItem, Message, ThreadId, Timeout, fault_access, label, rights};

/// Label of the pager's report of an unserved fault.
pub const FAULT_REPORT: u64 = 0x70;

static PAGER: AtomicU64 = AtomicU64::new(0);

/// Faults served in the fault-ahead region so far.
pub static AHEAD_FAULTS: AtomicU64 = AtomicU64::new(0);
/// Fault-ahead replies the kernel refused (`NoReceiveWindow`): the first
/// time a fault comes near the end of its block, the pager asks for one
/// page past the end of the block, which must be refused.
pub static AHEAD_REFUSED: AtomicU64 = AtomicU64::new(0);

unsafe extern "C" {
    static __image_start: u8;
    static __image_end: u8;
}

/// The pager thread's id.
pub fn pager() -> ThreadId {
    ThreadId(PAGER.load(Ordering::SeqCst))
}

/// Starts the pager thread.
pub fn start() {
    let thread = support::spawn_local(pager_loop, 0, support::PRIORITY).expect("cannot start the pager");
    PAGER.store(thread.0, Ordering::SeqCst);
}

/// A fresh page of ours holding what a fault at `page` should see, or None.
fn page_for(page: u64) -> Option<u64> {
    let image = core::ptr::addr_of!(__image_start) as u64..core::ptr::addr_of!(__image_end) as u64;
    let fresh = support::alloc_pages(1);
    if image.contains(&page) {
        // SAFETY: `page` is a page of this program's image, mapped readable
        // in the root space; `fresh` is a new page of our window.
        unsafe { core::ptr::copy_nonoverlapping(page as *const u8, fresh as *mut u8, PAGE as usize) };
    } else if (CHILD_STACKS..CHILD_STACKS + CHILD_STACKS_SIZE).contains(&page) {
        // SAFETY: the fresh page is ours alone.
        unsafe { core::ptr::write_bytes(fresh as *mut u8, 0, PAGE as usize) };
    } else if (LAZY_REGION..LAZY_REGION + LAZY_REGION_SIZE).contains(&page) {
        fill_with_addresses(fresh, page);
    } else {
        return None;
    }
    Some(fresh)
}

/// Fills `fresh` so that each word holds its address at `page`.
fn fill_with_addresses(fresh: u64, page: u64) {
    for word in 0..PAGE / 8 {
        // SAFETY: inside the fresh page, which is ours alone.
        unsafe { ((fresh + word * 8) as *mut u64).write(page + word * 8) };
    }
}

/// Answers a fault at `page` of the fault-ahead region with up to
/// `AHEAD_PAGES` pages from `page` on (the first time near the block's end,
/// first with one page too many, which the kernel must refuse).
fn serve_ahead(fault: &l4::Received, page: u64) -> Result<l4::Received, l4::Error> {
    AHEAD_FAULTS.fetch_add(1, Ordering::SeqCst);
    let to_block_end = (AHEAD_REGION + AHEAD_REGION_SIZE - page) / PAGE;
    let count = AHEAD_PAGES.min(to_block_end);
    let fresh = support::alloc_pages(count);
    for i in 0..count {
        fill_with_addresses(fresh + i * PAGE, page + i * PAGE);
    }
    // (Once: the refusal makes the faulting thread fault again, and the
    // reply below then finds it sending, not waiting; the pager serves the
    // new fault.)
    if count < AHEAD_PAGES && AHEAD_REFUSED.load(Ordering::SeqCst) == 0 {
        let too_many = MapItem { page: fresh, count: count + 1, rights: rights::ALL, window_offset: 0 };
        let refused = l4::ipc::send(fault.from, &Message::new(0, &[]).with_map(too_many, false), Timeout::Zero);
        if refused == Err(l4::Error::NoReceiveWindow) {
            AHEAD_REFUSED.fetch_add(1, Ordering::SeqCst);
        }
    }
    let item = MapItem { page: fresh, count, rights: rights::ALL, window_offset: 0 };
    l4::ipc::reply_and_receive(fault.from, &Message::new(0, &[]).with_map(item, false))
}

extern "C" fn pager_loop(_: u64) -> ! {
    let mut request = l4::ipc::receive(ThreadId::ANY, Timeout::Never);
    loop {
        let message = match request {
            Ok(fault) if fault.label() == label::PAGE_FAULT => {
                let (address, access) = (fault.mr[0], fault.mr[1]);
                if (AHEAD_REGION..AHEAD_REGION + AHEAD_REGION_SIZE).contains(&address) {
                    request = serve_ahead(&fault, address & !(PAGE - 1));
                    continue;
                }
                match page_for(address & !(PAGE - 1)) {
                    Some(page) => {
                        let item = MapItem { page, count: 1, rights: rights::ALL, window_offset: 0 };
                        let reply = Message::new(0, &[]).with_map(item, false);
                        request = l4::ipc::reply_and_receive(fault.from, &reply);
                        continue;
                    }
                    None if access & fault_access::SYSTEM_CALL != 0 => {
                        request = l4::ipc::reply_and_receive(fault.from, &Message::new(0, &[]));
                        continue;
                    }
                    None => Some(Message::new(FAULT_REPORT, &[address, access, fault.from.0])),
                }
            }
            _ => None,
        };
        if let Some(report) = message {
            let _ = l4::ipc::send(support::main_thread(), &report, Timeout::Ticks(100));
        }
        request = l4::ipc::receive(ThreadId::ANY, Timeout::Never);
    }
}
