//! The root task's frame allocator: the kernel packed every free frame into
//! the root task's window, one page after another, so "a frame" is a page
//! of the window.
//!
//! Frames are handed out to servers (as their pager, root maps them in on
//! demand), and each is recorded with its owner: when root destroys a
//! server that crashed, every frame it had comes back ([`Frames::reclaim`])
//! for its new copy — otherwise a server restarted a thousand times would
//! use up memory. Nothing else is ever given back: a live server keeps its
//! memory (proc recycles user memory inside its own pool,
//! `docs/server-proc.md`).
//!
//! Pages never handed out are taken from the end of a bump pointer; pages
//! given back are kept on a free list threaded through the pages
//! themselves (each free page's first word is the next one's address).
//!
//! Invariants: `next <= end`; the pages `next..end` and those on the free
//! list are free, and nobody else has them mapped; `owner[page]` is the
//! owner (server index + 1) of each handed-out page and 0 for free ones.

/// The size of a page.
pub const PAGE: u64 = 4096;

/// The most window pages the kernel gives the root task (its mapping
/// database holds at most 64 K window pages).
const MAX_WINDOW_PAGES: usize = 64 * 1024;

/// Who has each window page (0: nobody, else server index + 1).
struct Owners([u8; MAX_WINDOW_PAGES]);

/// The window's free part, and who has the rest.
pub struct Frames {
    base: u64,
    next: u64,
    end: u64,
    /// The first page of the free list (0: empty).
    free_list: u64,
    free_listed: u64,
    owners: &'static mut Owners,
}

/// The owner table (in root's zeroed data: the kernel loads it as zero
/// pages).
static mut OWNERS: Owners = Owners([0; MAX_WINDOW_PAGES]);

impl Frames {
    /// The allocator over the window the kernel gave us. Call once.
    pub fn new(window_base: u64, window_pages: u64) -> Frames {
        let pages = window_pages.min(MAX_WINDOW_PAGES as u64);
        // SAFETY: called once, at boot, by root's only thread: this is the
        // only reference to the table ever made.
        let owners = unsafe { &mut *core::ptr::addr_of_mut!(OWNERS) };
        Frames {
            base: window_base,
            next: window_base,
            end: window_base + pages * PAGE,
            free_list: 0,
            free_listed: 0,
            owners,
        }
    }

    /// A fresh page of the window for server `owner` (its index), filled
    /// with zeros; `None` when memory is exhausted.
    pub fn alloc_zeroed(&mut self, owner: usize) -> Option<u64> {
        let page = if self.free_list != 0 {
            let page = self.free_list;
            // SAFETY: a page on the free list is a window page (mapped
            // read/write in our space) that nobody else has mapped; its
            // first word is the next free page.
            self.free_list = unsafe { (page as *const u64).read() };
            self.free_listed -= 1;
            page
        } else if self.next < self.end {
            let page = self.next;
            self.next += PAGE;
            page
        } else {
            return None;
        };
        self.owners.0[self.index(page)] = owner as u8 + 1;
        // SAFETY: `page` is a window page (mapped read/write in our space by
        // the kernel) that nobody else has: it was free.
        unsafe { core::ptr::write_bytes(page as *mut u8, 0, PAGE as usize) };
        Some(page)
    }

    /// Takes back every page server `owner` had (its address space is
    /// destroyed: nobody maps them any more); returns how many.
    pub fn reclaim(&mut self, owner: usize) -> u64 {
        let tag = owner as u8 + 1;
        let used = ((self.next - self.base) / PAGE) as usize;
        let mut count = 0;
        for index in 0..used {
            if self.owners.0[index] != tag {
                continue;
            }
            self.owners.0[index] = 0;
            let page = self.base + index as u64 * PAGE;
            // SAFETY: a window page of ours, mapped read/write in our space,
            // that nobody else maps any more (its owner's space is gone).
            unsafe { (page as *mut u64).write(self.free_list) };
            self.free_list = page;
            self.free_listed += 1;
            count += 1;
        }
        count
    }

    /// How many pages are left.
    pub fn free_pages(&self) -> u64 {
        (self.end - self.next) / PAGE + self.free_listed
    }

    /// The owner-table index of a window page.
    fn index(&self, page: u64) -> usize {
        ((page - self.base) / PAGE) as usize
    }
}
