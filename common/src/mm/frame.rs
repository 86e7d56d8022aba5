//! Physical frames and the frame allocator.
//!
//! Physical memory is handed out in 4 KiB **frames**. Every page of every
//! process, every page table, every kernel stack is one frame. The allocator
//! remembers which frames are free with one bit per frame (a bitmap), like
//! xv6's `kalloc` remembers them in a linked list — a bitmap costs 32 KiB for
//! 1 GiB of RAM, needs no memory from the frames themselves, and can answer
//! "is this frame already free?", which turns a double free into an error
//! instead of silent corruption.
//!
//! ## Building the allocator at boot
//!
//! The allocator starts knowing no memory at all. The kernel then tells it,
//! from the memory map the boot loader handed over:
//! 1. [`FrameAllocator::add_usable_region`] for every region of usable RAM;
//! 2. [`FrameAllocator::reserve_range`] for everything in that RAM that is
//!    already in use: the kernel image, the boot page tables, the memory map
//!    itself, and (by convention) the whole first 1 MiB, where the BIOS data
//!    and the boot structures live.
//!
//! The order matters — reserving first and then adding a region that covers
//! the reserved range would make the reserved frames free again — so the
//! allocator enforces it: once anything has been reserved or allocated,
//! `add_usable_region` returns [`FrameError::RegionsClosed`].
//!
//! Only frames below 1 GiB are managed, because the kernel reaches a frame's
//! contents through the kernel window, which covers exactly the first 1 GiB
//! (see [`super::addr`]). Usable RAM above that is ignored.

use core::fmt;

use super::addr::{AddrError, KERNEL_WINDOW_SIZE, PAGE_SHIFT, PAGE_SIZE, PhysAddr};
use super::bitmap::Bitmap;

/// How many frames the allocator can manage: all of the first 1 GiB.
pub const MAX_FRAMES: usize = (KERNEL_WINDOW_SIZE / PAGE_SIZE) as usize;

/// Words in each of the allocator's bitmaps.
const BITMAP_WORDS: usize = MAX_FRAMES / 64;

/// One 4 KiB frame of physical memory, named by its first byte.
///
/// Invariant: `start` is a multiple of [`PAGE_SIZE`].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PhysFrame {
    start: PhysAddr,
}

impl PhysFrame {
    /// The frame starting at `start`, or `NotAligned` if `start` is not the
    /// first byte of a frame.
    pub const fn from_start_address(start: PhysAddr) -> Result<PhysFrame, AddrError> {
        if start.is_aligned(PAGE_SIZE) {
            Ok(PhysFrame { start })
        } else {
            Err(AddrError::NotAligned(start.as_u64()))
        }
    }

    /// The frame that holds byte `addr`.
    pub const fn containing_address(addr: PhysAddr) -> PhysFrame {
        PhysFrame {
            start: addr.align_down(PAGE_SIZE),
        }
    }

    /// Frame number `number` (the frame at `number * 4096`), or `None` if that
    /// is past the largest physical address.
    pub const fn from_number(number: u64) -> Option<PhysFrame> {
        match number.checked_mul(PAGE_SIZE) {
            Some(start) => match PhysAddr::try_new(start) {
                Ok(start) => Some(PhysFrame { start }),
                Err(_) => None,
            },
            None => None,
        }
    }

    /// The address of the frame's first byte.
    pub const fn start_address(self) -> PhysAddr {
        self.start
    }

    /// The frame number: the start address divided by 4096.
    pub const fn number(self) -> u64 {
        self.start.as_u64() >> PAGE_SHIFT
    }
}

impl fmt::Debug for PhysFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhysFrame({:#x})", self.start.as_u64())
    }
}

/// What can go wrong when building the allocator or freeing a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError {
    /// The frame is already free: something freed it twice (a kernel bug,
    /// reported rather than allowed to corrupt the free set).
    DoubleFree(PhysFrame),
    /// The frame does not belong to the allocator: it is not usable RAM, it
    /// was reserved, or it is above 1 GiB (device memory, the kernel image,
    /// a frame that was never allocated here).
    NotManaged(PhysFrame),
    /// `add_usable_region` after a reservation or an allocation (see the
    /// module documentation for why the order matters).
    RegionsClosed,
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::DoubleFree(frame) => write!(f, "{frame:?} freed twice"),
            FrameError::NotManaged(frame) => {
                write!(f, "{frame:?} is not managed by the frame allocator")
            }
            FrameError::RegionsClosed => write!(
                f,
                "usable regions must be added before reserving or allocating"
            ),
        }
    }
}

/// The physical frame allocator: a bitmap over the first 1 GiB.
///
/// It is 64 KiB of plain data with a `const` constructor, so a kernel can
/// keep it in a `static` (behind its own lock) before it has a heap.
pub struct FrameAllocator {
    /// Bit n set: frame n is usable RAM that this allocator hands out.
    managed: Bitmap<BITMAP_WORDS>,
    /// Bit n set: frame n is free. Invariant: `free` ⊆ `managed`.
    free: Bitmap<BITMAP_WORDS>,
    /// Invariant: the number of bits set in `free`.
    free_count: usize,
    /// Invariant: the number of bits set in `managed`.
    managed_count: usize,
    /// Where the search for a free frame starts.
    /// Invariant: no frame numbered below `search_hint` is free.
    search_hint: usize,
    /// Set by the first reservation or allocation; `add_usable_region` is
    /// refused afterwards.
    regions_closed: bool,
}

impl FrameAllocator {
    /// An allocator that knows no memory yet (every frame unmanaged).
    pub const fn new() -> FrameAllocator {
        FrameAllocator {
            managed: Bitmap::new(),
            free: Bitmap::new(),
            free_count: 0,
            managed_count: 0,
            search_hint: 0,
            regions_closed: false,
        }
    }

    /// Adds the usable RAM `start..start + len` (as the memory map lists it).
    ///
    /// Only whole frames count: `start` is rounded up and the end rounded
    /// down to a frame boundary. The part above 1 GiB is ignored, and so are
    /// frames already added (memory maps may list overlapping regions).
    /// Returns how many frames became free, or `RegionsClosed` if called
    /// after `reserve_range` or `alloc`.
    pub fn add_usable_region(&mut self, start: u64, len: u64) -> Result<usize, FrameError> {
        if self.regions_closed {
            return Err(FrameError::RegionsClosed);
        }
        let end = start.saturating_add(len).min(KERNEL_WINDOW_SIZE);
        let first = start.div_ceil(PAGE_SIZE);
        let past_last = end / PAGE_SIZE;
        let mut added = 0;
        for number in first..past_last {
            let index = number as usize;
            if !self.managed.set(index) {
                self.free.set(index);
                added += 1;
            }
        }
        self.managed_count += added;
        self.free_count += added;
        // `search_hint` stays 0 until the first allocation, so it is still valid.
        Ok(added)
    }

    /// Takes every frame that overlaps `start..start + len` away from the
    /// allocator for good (the kernel image, boot tables, BIOS area, ...).
    ///
    /// `start` is rounded down and the end up, so a partly used frame is
    /// reserved whole. Frames that were never usable are ignored. Returns how
    /// many managed frames were removed. Freeing a reserved frame later
    /// fails with `NotManaged`.
    pub fn reserve_range(&mut self, start: u64, len: u64) -> usize {
        self.regions_closed = true;
        let end = start.saturating_add(len).min(KERNEL_WINDOW_SIZE);
        let first = start / PAGE_SIZE;
        let past_last = end.div_ceil(PAGE_SIZE);
        let mut removed = 0;
        for number in first..past_last {
            let index = number as usize;
            if self.managed.clear(index) {
                removed += 1;
                if self.free.clear(index) {
                    self.free_count -= 1;
                }
            }
        }
        self.managed_count -= removed;
        removed
    }

    /// Takes a free frame, the lowest-numbered one, or `None` if none is left.
    ///
    /// The frame's contents are whatever was there before: zeroing it needs
    /// the kernel window, so it is the kernel's job (see
    /// [`super::paging::FrameSource::alloc_zeroed_frame`]).
    ///
    /// Cost: the search starts at `search_hint`, below which every frame is
    /// known to be taken, and skips 64 taken frames per word compared. So a
    /// run of allocations looks at each bitmap word about once in total:
    /// amortised O(1) per allocation.
    pub fn alloc(&mut self) -> Option<PhysFrame> {
        self.regions_closed = true;
        let index = self.free.find_set_from(self.search_hint)?;
        self.free.clear(index);
        self.free_count -= 1;
        // `index` was the lowest free frame at or after the hint, and it is
        // now taken: nothing below `index + 1` is free.
        self.search_hint = index + 1;
        PhysFrame::from_number(index as u64)
    }

    /// Returns `frame` to the free set.
    ///
    /// Errors (the allocator is unchanged): `DoubleFree` if the frame is
    /// already free, `NotManaged` if it was never this allocator's to give.
    pub fn free(&mut self, frame: PhysFrame) -> Result<(), FrameError> {
        let index = usize::try_from(frame.number()).unwrap_or(usize::MAX);
        if !self.managed.get(index) {
            return Err(FrameError::NotManaged(frame));
        }
        if self.free.set(index) {
            return Err(FrameError::DoubleFree(frame));
        }
        self.free_count += 1;
        self.search_hint = self.search_hint.min(index);
        Ok(())
    }

    /// How many frames are free right now.
    ///
    /// The user-level test suite reads this before and after a workload:
    /// if it went down, the kernel leaked frames.
    pub fn free_count(&self) -> usize {
        self.free_count
    }

    /// How many frames the allocator manages in all (free or allocated).
    pub fn managed_count(&self) -> usize {
        self.managed_count
    }

    /// Whether `frame` is managed here and currently allocated.
    pub fn is_allocated(&self, frame: PhysFrame) -> bool {
        let index = usize::try_from(frame.number()).unwrap_or(usize::MAX);
        self.managed.get(index) && !self.free.get(index)
    }
}

impl Default for FrameAllocator {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for FrameAllocator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FrameAllocator")
            .field("free", &self.free_count)
            .field("managed", &self.managed_count)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;

    fn frame(number: u64) -> PhysFrame {
        PhysFrame::from_number(number).unwrap()
    }

    fn allocator_with(start: u64, len: u64) -> Box<FrameAllocator> {
        let mut frames = Box::new(FrameAllocator::new());
        frames.add_usable_region(start, len).unwrap();
        frames
    }

    #[test]
    fn frames_are_named_by_aligned_start_addresses() {
        let f = PhysFrame::containing_address(PhysAddr::new(0x5123));
        assert_eq!(f.start_address(), PhysAddr::new(0x5000));
        assert_eq!(f.number(), 5);
        assert_eq!(PhysFrame::from_start_address(PhysAddr::new(0x5000)), Ok(f));
        assert_eq!(
            PhysFrame::from_start_address(PhysAddr::new(0x5001)),
            Err(AddrError::NotAligned(0x5001))
        );
        assert_eq!(PhysFrame::from_number(1 << 40), None);
    }

    #[test]
    fn usable_regions_count_only_whole_frames_below_1_gib() {
        let mut frames = Box::new(FrameAllocator::new());
        // 0x1800..0x5800 holds whole frames 2, 3, 4 only.
        assert_eq!(frames.add_usable_region(0x1800, 0x4000), Ok(3));
        // Overlapping again adds nothing.
        assert_eq!(frames.add_usable_region(0x2000, 0x1000), Ok(0));
        // A region straddling 1 GiB contributes only its part below.
        assert_eq!(
            frames.add_usable_region(KERNEL_WINDOW_SIZE - 2 * PAGE_SIZE, 100 * PAGE_SIZE),
            Ok(2)
        );
        // A region entirely above 1 GiB, or one whose end overflows, is harmless.
        assert_eq!(
            frames.add_usable_region(2 * KERNEL_WINDOW_SIZE, PAGE_SIZE),
            Ok(0)
        );
        assert_eq!(frames.add_usable_region(u64::MAX - 10, 100), Ok(0));
        assert_eq!((frames.free_count(), frames.managed_count()), (5, 5));
    }

    #[test]
    fn reservations_are_never_handed_out_and_close_the_region_list() {
        let mut frames = allocator_with(0, 16 * PAGE_SIZE);
        // 0x2fff..0x4001 touches frames 2, 3 and 4: all three are reserved.
        assert_eq!(frames.reserve_range(0x2fff, 0x1002), 3);
        assert_eq!(frames.free_count(), 13);
        assert_eq!(
            frames.add_usable_region(0, PAGE_SIZE),
            Err(FrameError::RegionsClosed)
        );
        let handed_out: Vec<u64> = core::iter::from_fn(|| frames.alloc())
            .map(|f| f.number())
            .collect();
        assert_eq!(
            handed_out,
            vec![0, 1, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
        );
        assert_eq!(frames.free(frame(3)), Err(FrameError::NotManaged(frame(3))));
    }

    #[test]
    fn alloc_returns_lowest_free_frame_and_none_when_exhausted() {
        let mut frames = allocator_with(0x10_0000, 3 * PAGE_SIZE);
        let a = frames.alloc().unwrap();
        let b = frames.alloc().unwrap();
        let c = frames.alloc().unwrap();
        assert_eq!([a.number(), b.number(), c.number()], [0x100, 0x101, 0x102]);
        assert_eq!(frames.alloc(), None);
        assert_eq!(frames.free_count(), 0);
        // Freeing the middle one makes it the next one handed out (hint moves back).
        frames.free(b).unwrap();
        assert_eq!(frames.alloc(), Some(b));
    }

    #[test]
    fn double_free_and_foreign_frames_are_errors_not_corruption() {
        let mut frames = allocator_with(0, 4 * PAGE_SIZE);
        let a = frames.alloc().unwrap();
        assert!(frames.is_allocated(a));
        assert_eq!(frames.free(a), Ok(()));
        assert_eq!(frames.free(a), Err(FrameError::DoubleFree(a)));
        assert_eq!(
            frames.free_count(),
            4,
            "a double free must not change the count"
        );
        // Device memory (the VGA buffer) and a frame above 1 GiB were never ours.
        assert_eq!(
            frames.free(frame(0xb8)),
            Err(FrameError::NotManaged(frame(0xb8)))
        );
        let high = frame(MAX_FRAMES as u64 + 7);
        assert_eq!(frames.free(high), Err(FrameError::NotManaged(high)));
        assert!(!frames.is_allocated(high));
    }

    #[test]
    fn a_full_gibibyte_can_be_allocated_and_freed() {
        let mut frames = allocator_with(0, KERNEL_WINDOW_SIZE);
        assert_eq!(frames.free_count(), MAX_FRAMES);
        let mut count = 0;
        while frames.alloc().is_some() {
            count += 1;
        }
        assert_eq!(count, MAX_FRAMES);
        frames.free(frame(MAX_FRAMES as u64 - 1)).unwrap();
        assert_eq!(frames.alloc(), Some(frame(MAX_FRAMES as u64 - 1)));
    }

    /// One step of a random workload.
    #[derive(Debug, Clone)]
    enum Op {
        Alloc,
        /// Free the held frame at this position (modulo how many are held).
        Free(usize),
        /// Free a frame that was freed earlier (modulo how many were).
        FreeAgain(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => Just(Op::Alloc),
            2 => any::<usize>().prop_map(Op::Free),
            1 => any::<usize>().prop_map(Op::FreeAgain),
        ]
    }

    proptest! {
        /// Random alloc/free sequences: a frame is never handed out twice,
        /// reserved frames never at all, double frees are refused, and
        /// `free_count` is always exact.
        #[test]
        fn random_alloc_free_never_hands_out_a_frame_twice(
            region_frames in 1u64..300,
            reserved_first in 0u64..300,
            reserved_len in 0u64..20,
            ops in proptest::collection::vec(op(), 0..600),
        ) {
            let base = 0x20_0000;
            let mut frames = allocator_with(base, region_frames * PAGE_SIZE);
            let reserved = frames.reserve_range(base + reserved_first * PAGE_SIZE, reserved_len * PAGE_SIZE);
            let managed = region_frames as usize - reserved;
            let reserved_numbers: HashSet<u64> = (0..reserved_len)
                .map(|i| base / PAGE_SIZE + reserved_first + i)
                .collect();
            let mut held: Vec<PhysFrame> = Vec::new();
            let mut held_set: HashSet<PhysFrame> = HashSet::new();
            let mut freed: Vec<PhysFrame> = Vec::new();
            for op in ops {
                match op {
                    Op::Alloc => match frames.alloc() {
                        Some(f) => {
                            prop_assert!(held_set.insert(f), "{f:?} handed out twice");
                            prop_assert!(!reserved_numbers.contains(&f.number()), "reserved {f:?} handed out");
                            held.push(f);
                        }
                        None => prop_assert_eq!(held.len(), managed, "None while frames were free"),
                    },
                    Op::Free(i) if !held.is_empty() => {
                        let f = held.swap_remove(i % held.len());
                        held_set.remove(&f);
                        prop_assert_eq!(frames.free(f), Ok(()));
                        freed.push(f);
                    }
                    Op::FreeAgain(i) if !freed.is_empty() => {
                        let f = freed[i % freed.len()];
                        if !held_set.contains(&f) {
                            prop_assert_eq!(frames.free(f), Err(FrameError::DoubleFree(f)));
                        }
                    }
                    _ => {}
                }
                prop_assert_eq!(frames.free_count(), managed - held.len());
            }
        }
    }
}
