//! The heap: Rust's global allocator, grown with `sbrk`.
//!
//! `Vec`, `String` and `Box` get their memory here. The free-list work is
//! done by the `linked_list_allocator` crate's [`Heap`]; this module adds
//! what a user process needs on top of it: when no free block is large
//! enough, ask the kernel for more memory with `sbrk` and add it.
//!
//! Normally the new memory starts exactly where the heap ends, and the heap
//! is simply extended. But a program may call `sbrk` itself (usertests
//! does), leaving a gap that belongs to the program. The allocator then
//! starts a new *region* at the new memory. Up to [`MAX_REGIONS`] regions
//! are tracked; freeing finds the region an address belongs to.

use crate::sys;
use core::alloc::{GlobalAlloc, Layout};
use core::ptr::{NonNull, null_mut};
use linked_list_allocator::Heap;

/// How many separate stretches of memory the heap can manage.
const MAX_REGIONS: usize = 8;
/// The smallest amount of memory requested from the kernel at a time.
const MIN_GROWTH: usize = 64 * 1024;
/// Page size: growth is rounded up to whole pages.
const PAGE_SIZE: usize = 4096;

/// One contiguous stretch of heap memory, `[start, end)`.
struct Region {
    heap: Heap,
    start: usize,
    end: usize,
}

impl Region {
    const EMPTY: Region = Region {
        heap: Heap::empty(),
        start: 0,
        end: 0,
    };
}

/// All regions. Invariant: `regions[..count]` are initialised heaps whose
/// memory came from `sbrk`, pairwise disjoint.
struct Regions {
    regions: [Region; MAX_REGIONS],
    count: usize,
}

impl Regions {
    /// Gets at least enough memory from the kernel for `layout`.
    /// Returns `false` if the kernel refused or no region slot is left.
    fn grow(&mut self, layout: Layout) -> bool {
        // Room for the block, its alignment and the allocator's bookkeeping.
        let Some(needed) = layout
            .size()
            .checked_add(layout.align())
            .and_then(|n| n.checked_add(64))
            .and_then(|n| n.checked_next_multiple_of(PAGE_SIZE))
        else {
            return false;
        };
        let amount = needed.max(MIN_GROWTH);
        let Ok(increment) = isize::try_from(amount) else {
            return false;
        };
        // SAFETY: growing the break hands us fresh memory; nothing is given back.
        let Ok(old_break) = (unsafe { sys::sbrk(increment) }) else {
            return false;
        };
        let old_break = old_break as usize;
        if self.count > 0 && self.regions[self.count - 1].end == old_break {
            let last = &mut self.regions[self.count - 1];
            // SAFETY: [old_break, old_break + amount) was just obtained from
            // sbrk and directly follows the last region's memory.
            unsafe { last.heap.extend(amount) };
            last.end += amount;
            return true;
        }
        if self.count == MAX_REGIONS {
            // Nowhere to record the memory: give it back. It is the top of
            // the break, and nobody else has seen it yet.
            // SAFETY: nothing refers to the memory we just obtained.
            let _ = unsafe { sys::sbrk(-increment) };
            return false;
        }
        // SAFETY: [old_break, old_break + amount) is fresh memory from sbrk,
        // used by nothing else, and at least MIN_GROWTH bytes.
        let heap = unsafe { Heap::new(old_break as *mut u8, amount) };
        self.regions[self.count] = Region {
            heap,
            start: old_break,
            end: old_break + amount,
        };
        self.count += 1;
        true
    }

    /// First fit over all regions.
    fn allocate(&mut self, layout: Layout) -> Option<NonNull<u8>> {
        self.regions[..self.count]
            .iter_mut()
            .find_map(|r| r.heap.allocate_first_fit(layout).ok())
    }
}

/// The global allocator: a lock around the regions. Diptych processes have
/// one thread, so the lock is never contended; it is there so the type is
/// honestly `Sync`.
struct SbrkHeap {
    regions: spin::Mutex<Regions>,
}

// SAFETY: every method takes the lock before touching the regions, and the
// `Heap` free lists only ever hold memory this allocator obtained.
unsafe impl GlobalAlloc for SbrkHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let mut regions = self.regions.lock();
        if let Some(block) = regions.allocate(layout) {
            return block.as_ptr();
        }
        if !regions.grow(layout) {
            return null_mut();
        }
        regions.allocate(layout).map_or(null_mut(), |b| b.as_ptr())
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let mut regions = self.regions.lock();
        let address = ptr as usize;
        let count = regions.count;
        if let Some(region) = regions.regions[..count]
            .iter_mut()
            .find(|r| r.start <= address && address < r.end)
            && let Some(block) = NonNull::new(ptr)
        {
            // SAFETY: GlobalAlloc's contract: `ptr` came from `alloc` with
            // this `layout`, hence from this region's heap.
            unsafe { region.heap.deallocate(block, layout) };
        }
    }
}

#[global_allocator]
static HEAP: SbrkHeap = SbrkHeap {
    regions: spin::Mutex::new(Regions {
        regions: [Region::EMPTY; MAX_REGIONS],
        count: 0,
    }),
};
