//! The frame pool's bookkeeping.
//!
//! Every page of user memory is a page of proc's own address space, in the
//! *pool* at `PROC_POOL_BASE` (root backs each pool page with a zeroed
//! frame the first time proc touches it). proc maps pool pages on into user
//! processes with map items. A pool page is named by its index, a
//! [`Frame`].
//!
//! After `fork`, parent and child share their pages copy-on-write, so a
//! frame may belong to several processes: its *reference count* says how
//! many page-table entries (of all processes) name it.
//!
//! Invariants:
//! - a frame is exactly one of: never touched (`index >= fresh`), free (on
//!   the free list, count 0), or in use (count >= 1);
//! - a frame with count > 1 is mapped read-only everywhere (the pager never
//!   maps a shared frame writable), so nobody can change what the others see.
//!
//! Allocation takes the lowest free frame (a min-heap), so frames taken
//! one after another — a program's pages at `exec`, the pages of one
//! `sbrk` — are neighbours wherever the pool allows: the pager can then
//! map a run of them with one map item when one of them faults (proc's
//! fault-ahead, `AddressMap::run_from`).

use alloc::collections::BinaryHeap;
use alloc::vec;
use alloc::vec::Vec;
use core::cmp::Reverse;

/// A page of the pool, by index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Frame(pub u32);

/// Reference counts and the free list.
pub struct FrameTable {
    /// References per frame (0: free or never touched).
    counts: Vec<u16>,
    /// Frames given back, ready to be reused (they must be zeroed again),
    /// lowest first.
    free: BinaryHeap<Reverse<Frame>>,
    /// Frames below this index have been touched at least once.
    fresh: u32,
    /// The most frames the pool may hold.
    limit: u32,
}

/// Where an allocated frame came from (a reused one must be cleared).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Never used: root gives zeroed pages.
    Fresh,
    /// Reused from the free list: holds old data.
    Reused,
}

impl FrameTable {
    /// A pool of at most `limit` frames, all untouched.
    pub fn new(limit: u32) -> FrameTable {
        FrameTable {
            counts: vec![0; limit as usize],
            free: BinaryHeap::new(),
            fresh: 0,
            limit,
        }
    }

    /// Takes a frame (with reference count 1), or `None` if the pool is full.
    pub fn alloc(&mut self) -> Option<(Frame, Origin)> {
        let (frame, origin) = if let Some(Reverse(frame)) = self.free.pop() {
            (frame, Origin::Reused)
        } else if self.fresh < self.limit {
            self.fresh += 1;
            (Frame(self.fresh - 1), Origin::Fresh)
        } else {
            return None;
        };
        self.counts[frame.0 as usize] = 1;
        Some((frame, origin))
    }

    /// One more page-table entry names `frame` (fork shares it).
    pub fn share(&mut self, frame: Frame) {
        let count = &mut self.counts[frame.0 as usize];
        debug_assert!(*count > 0, "sharing a free frame");
        *count = count.saturating_add(1);
    }

    /// One page-table entry stops naming `frame`. Returns true if that was
    /// the last one: the frame is back on the free list.
    pub fn release(&mut self, frame: Frame) -> bool {
        let count = &mut self.counts[frame.0 as usize];
        debug_assert!(*count > 0, "releasing a free frame");
        *count = count.saturating_sub(1);
        if *count == 0 {
            self.free.push(Reverse(frame));
            true
        } else {
            false
        }
    }

    /// How many page-table entries name `frame`.
    pub fn count(&self, frame: Frame) -> u16 {
        self.counts[frame.0 as usize]
    }

    /// Whether `frame` is shared (copy-on-write).
    pub fn is_shared(&self, frame: Frame) -> bool {
        self.count(frame) > 1
    }

    /// Frames that can still be allocated (free list plus untouched).
    pub fn available(&self) -> u64 {
        self.free.len() as u64 + (self.limit - self.fresh) as u64
    }

    /// Frames never touched yet (they still cost root memory when taken).
    pub fn untouched(&self) -> u64 {
        (self.limit - self.fresh) as u64
    }

    /// Frames given back and waiting for reuse.
    pub fn recycled(&self) -> u64 {
        self.free.len() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alloc_share_release_cycle() {
        let mut table = FrameTable::new(2);
        let (a, origin) = table.alloc().unwrap();
        assert_eq!(origin, Origin::Fresh);
        table.share(a);
        assert!(table.is_shared(a));
        assert!(!table.release(a), "one reference left");
        assert!(!table.is_shared(a));
        assert!(table.release(a), "last reference");
        assert_eq!(table.count(a), 0);
        let (again, origin) = table.alloc().unwrap();
        assert_eq!(
            (again, origin),
            (a, Origin::Reused),
            "freed frames are reused first"
        );
    }

    #[test]
    fn the_pool_has_a_limit_and_counts_honestly() {
        let mut table = FrameTable::new(3);
        assert_eq!(table.available(), 3);
        let frames: Vec<Frame> = (0..3).map(|_| table.alloc().unwrap().0).collect();
        assert_eq!(table.available(), 0);
        assert_eq!(table.alloc(), None);
        table.release(frames[1]);
        assert_eq!(
            (table.available(), table.recycled(), table.untouched()),
            (1, 1, 0)
        );
        assert_eq!(table.alloc().map(|(f, _)| f), Some(frames[1]));
    }

    #[test]
    fn frames_given_back_are_taken_again_lowest_first() {
        let mut table = FrameTable::new(8);
        let frames: Vec<Frame> = (0..8).map(|_| table.alloc().unwrap().0).collect();
        // Given back in page order of a process whose pages got them
        // backwards, and with a gap.
        for &i in &[6, 5, 3, 2, 1] {
            table.release(frames[i]);
        }
        let again: Vec<u32> = (0..5).map(|_| table.alloc().unwrap().0.0).collect();
        assert_eq!(again, [1, 2, 3, 5, 6], "neighbours come out in order");
    }
}
