//! The root task's frame allocator: the kernel packed every free frame into
//! the root task's window, one page after another, so "a frame" is simply
//! the next page of the window.
//!
//! Pages are handed out for good: servers keep their memory for the life of
//! the system (proc recycles the user memory it got inside its own pool, see
//! `docs/server-proc.md`), so a bump pointer is the whole allocator.
//!
//! Invariant: `next <= end`; the pages `next..end` are free and nobody else
//! has them mapped.

/// The size of a page.
pub const PAGE: u64 = 4096;

/// The window's free part.
pub struct Frames {
    next: u64,
    end: u64,
}

impl Frames {
    /// The allocator over the window the kernel gave us.
    pub fn new(window_base: u64, window_pages: u64) -> Frames {
        Frames {
            next: window_base,
            end: window_base + window_pages * PAGE,
        }
    }

    /// A fresh page of the window, filled with zeros; `None` when memory is
    /// exhausted.
    pub fn alloc_zeroed(&mut self) -> Option<u64> {
        if self.next >= self.end {
            return None;
        }
        let page = self.next;
        self.next += PAGE;
        // SAFETY: `page` is a window page (mapped read/write in our space by
        // the kernel) that was never handed out: nothing else refers to it.
        unsafe { core::ptr::write_bytes(page as *mut u8, 0, PAGE as usize) };
        Some(page)
    }

    /// How many pages are left.
    pub fn free_pages(&self) -> u64 {
        (self.end - self.next) / PAGE
    }
}
