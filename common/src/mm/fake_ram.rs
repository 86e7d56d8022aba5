//! A fake physical memory for host tests: a `Vec` of 4 KiB frames plus a
//! real [`FrameAllocator`] over them.
//!
//! The kernels reach physical memory through the kernel window; tests cannot
//! (there is no such window in a host process). `FakeRam` implements the
//! same two traits — [`PhysMemory`] and [`FrameSource`] — over ordinary heap
//! memory, so the page-table and user-copy code runs unchanged in
//! `cargo test`. Its frames are numbered from 1 MiB up, like real RAM above
//! the BIOS area, so physical addresses in test output look realistic.
//!
//! Only compiled for tests and host tools (the `std` feature).

use alloc::boxed::Box;
use alloc::vec::Vec;

use super::addr::{PAGE_SIZE, PAGE_SIZE_BYTES, PhysAddr};
use super::frame::{FrameAllocator, PhysFrame};
use super::paging::{FrameSource, PageTable, PhysMemory};

/// Physical address of the first fake frame.
pub const FAKE_RAM_BASE: u64 = 0x10_0000;

/// The contents of one frame, aligned like a real frame so that it can be
/// viewed as a [`PageTable`].
#[repr(C, align(4096))]
struct FrameContents([u8; PAGE_SIZE_BYTES]);

/// `frame_count` frames of fake RAM starting at [`FAKE_RAM_BASE`].
pub struct FakeRam {
    /// `frames[i]` is the frame at `FAKE_RAM_BASE + i * 4096`.
    frames: Vec<Box<FrameContents>>,
    allocator: Box<FrameAllocator>,
}

impl FakeRam {
    /// Fake RAM of `frame_count` frames, all free. Its contents start out
    /// as a recognisable junk pattern (0xa5), so code that forgets to zero
    /// a frame is caught.
    pub fn new(frame_count: usize) -> FakeRam {
        let frames = (0..frame_count)
            .map(|_| Box::new(FrameContents([0xa5; PAGE_SIZE_BYTES])))
            .collect();
        let mut allocator = Box::new(FrameAllocator::new());
        let added = allocator
            .add_usable_region(FAKE_RAM_BASE, frame_count as u64 * PAGE_SIZE)
            .expect("a new allocator accepts regions");
        assert_eq!(added, frame_count, "fake RAM must fit below 1 GiB");
        FakeRam { frames, allocator }
    }

    /// Allocates a frame for test data (not zeroed). Panics if RAM is full:
    /// tests size their RAM.
    pub fn alloc_frame(&mut self) -> PhysFrame {
        self.allocator.alloc().expect("fake RAM exhausted")
    }

    /// How many frames are allocated now (tables and data alike).
    pub fn allocated_frames(&self) -> usize {
        self.allocator.managed_count() - self.allocator.free_count()
    }

    /// The allocator, for tests that check its state.
    pub fn allocator(&mut self) -> &mut FrameAllocator {
        &mut self.allocator
    }

    /// Writes `bytes` at physical address `pa` (may cross frames).
    ///
    /// # Panics
    /// If the bytes run outside the fake RAM.
    pub fn write_phys(&mut self, pa: PhysAddr, bytes: &[u8]) {
        for (i, &byte) in bytes.iter().enumerate() {
            let (frame, offset) = self.locate(pa.as_u64() + i as u64);
            self.frames[frame].0[offset] = byte;
        }
    }

    /// Reads `len` bytes from physical address `pa`.
    ///
    /// # Panics
    /// If the bytes run outside the fake RAM.
    pub fn read_phys(&self, pa: PhysAddr, len: usize) -> Vec<u8> {
        (0..len as u64)
            .map(|i| {
                let (frame, offset) = self.locate(pa.as_u64() + i);
                self.frames[frame].0[offset]
            })
            .collect()
    }

    /// The index into `frames` and the offset for physical address `pa`.
    fn locate(&self, pa: u64) -> (usize, usize) {
        let index = pa
            .checked_sub(FAKE_RAM_BASE)
            .map(|offset| (offset / PAGE_SIZE) as usize)
            .filter(|&index| index < self.frames.len())
            .unwrap_or_else(|| panic!("physical address {pa:#x} is outside fake RAM"));
        (index, (pa % PAGE_SIZE) as usize)
    }

    /// The index into `frames` for `frame`, if it is fake RAM.
    fn index_of(&self, frame: PhysFrame) -> Option<usize> {
        let offset = frame.start_address().as_u64().checked_sub(FAKE_RAM_BASE)?;
        let index = usize::try_from(offset / PAGE_SIZE).ok()?;
        (index < self.frames.len()).then_some(index)
    }
}

impl PhysMemory for FakeRam {
    fn table(&mut self, frame: PhysFrame) -> &mut PageTable {
        let index = self
            .index_of(frame)
            .unwrap_or_else(|| panic!("page table {frame:?} is outside fake RAM"));
        let contents: &mut FrameContents = &mut self.frames[index];
        // SAFETY: `FrameContents` and `PageTable` are both 4096 bytes with
        // 4096-byte alignment; a `PageTable` is 512 `u64`s (through
        // `repr(transparent)` entries), for which every bit pattern is
        // valid. The new reference borrows `self` mutably, so nothing else
        // can reach these bytes while it lives.
        unsafe { &mut *(contents as *mut FrameContents).cast::<PageTable>() }
    }

    fn frame_bytes(&mut self, frame: PhysFrame) -> Option<&mut [u8; PAGE_SIZE_BYTES]> {
        let index = self.index_of(frame)?;
        Some(&mut self.frames[index].0)
    }
}

impl FrameSource for FakeRam {
    fn alloc_zeroed_frame(&mut self) -> Option<PhysFrame> {
        let frame = self.allocator.alloc()?;
        self.frame_bytes(frame)?.fill(0);
        Some(frame)
    }

    /// Frees `frame`. A double free or a foreign frame panics: in a test,
    /// that is a bug in the code under test and must fail the test.
    fn free_frame(&mut self, frame: PhysFrame) {
        if let Err(error) = self.allocator.free(frame) {
            panic!("FakeRam::free_frame: {error}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zeroed_frames_are_zero_and_others_keep_their_junk() {
        let mut ram = FakeRam::new(4);
        let junk = ram.alloc_frame();
        assert!(ram.frame_bytes(junk).unwrap().iter().all(|&b| b == 0xa5));
        let zeroed = ram.alloc_zeroed_frame().unwrap();
        assert!(ram.table(zeroed).is_empty());
        assert_eq!(ram.allocated_frames(), 2);
    }

    #[test]
    fn physical_reads_and_writes_cross_frames() {
        let mut ram = FakeRam::new(4);
        let pa = PhysAddr::new(FAKE_RAM_BASE + PAGE_SIZE - 2);
        ram.write_phys(pa, b"abcd");
        assert_eq!(ram.read_phys(pa, 4), b"abcd");
        let second = PhysFrame::from_number(FAKE_RAM_BASE / PAGE_SIZE + 1).unwrap();
        assert_eq!(&ram.frame_bytes(second).unwrap()[..2], b"cd");
        let outside = PhysFrame::from_number(FAKE_RAM_BASE / PAGE_SIZE + 4).unwrap();
        assert!(ram.frame_bytes(outside).is_none());
    }
}
