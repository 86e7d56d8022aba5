//! Address spaces: a page table, the I/O ports the space may use, and the
//! privileges it holds.
//!
//! An address space owns nothing but its page tables: every user page in it
//! arrived by map or grant (or, for the root task, at boot), and the mapping
//! database (`mapdb.rs`) records where it came from. Each space remembers
//! its creator, which is what the permission rule of `syscall.rs` uses:
//! a space may manage itself and the spaces it created.
//!
//! Inside the kernel a space is its [`SpaceSlot`]; outside, a [`SpaceId`]
//! (slot plus generation, like a thread id), which [`SpaceTable::lookup`]
//! checks and turns into the slot.

use crate::slot::SpaceSlot;
use common::abi::micro::{MAX_IO_RANGES, SpaceId, privilege};
use common::arch::cpu;
use common::mm::{
    AddressSpace, FrameAllocator, KernelFrames, KernelWindow, MapError, PageTableFlags, PhysFrame, PhysMemory, VirtAddr,
};

pub use crate::slot::MAX_SPACES;

/// The root task's space is always slot 0.
pub const ROOT_SPACE: SpaceSlot = SpaceSlot::new(0);

/// One address space.
#[derive(Debug)]
pub struct Space {
    /// Bumped when the slot is freed; part of the id. Never 0.
    pub generation: u32,
    /// The page tables; `None` when the slot is free.
    pub tables: Option<AddressSpace>,
    /// The space that created this one (the root space created itself).
    pub creator: SpaceSlot,
    /// `privilege::*` bits.
    pub privileges: u64,
    /// I/O port ranges `(first, count)` this space may use.
    pub io_ranges: [(u16, u32); MAX_IO_RANGES],
    /// How many entries of `io_ranges` are in use.
    pub io_range_count: usize,
    /// Threads in this space (its thread quota's count, `quota.rs`).
    pub thread_count: u32,
    /// Page-table frames its user half has grown (its page-table quota's
    /// count): tables stay until the space is destroyed.
    pub table_frames: u32,
}

impl Space {
    const EMPTY: Space = Space {
        generation: 1,
        tables: None,
        creator: ROOT_SPACE,
        privileges: 0,
        io_ranges: [(0, 0); MAX_IO_RANGES],
        io_range_count: 0,
        thread_count: 0,
        table_frames: 0,
    };

    /// Whether the space may use the kernel's reserves
    /// (`privilege::RESERVES`; see `quota.rs`).
    pub fn trusted(&self) -> bool {
        self.privileges & privilege::RESERVES != 0
    }

    /// The PML4 frame (what CR3 holds while the space runs).
    pub fn root_frame(&self) -> Option<PhysFrame> {
        self.tables.as_ref().map(|t| t.root())
    }

    /// Whether the space may use every port in `first..first + count`.
    pub fn holds_ports(&self, first: u16, count: u32) -> bool {
        let end = first as u32 + count;
        self.io_ranges[..self.io_range_count]
            .iter()
            .any(|&(start, len)| start as u32 <= first as u32 && end <= start as u32 + len)
    }
}

/// All address spaces.
pub struct SpaceTable {
    slots: [Space; MAX_SPACES],
}

impl SpaceTable {
    /// A table with every slot free.
    pub const fn new() -> SpaceTable {
        SpaceTable { slots: [Space::EMPTY; MAX_SPACES] }
    }

    /// The id of the space in `slot`.
    pub fn id(&self, slot: SpaceSlot) -> SpaceId {
        SpaceId::new(slot.number(), self.slots[slot.index()].generation)
    }

    /// The slot of live space `id` (generation checked), if any.
    pub fn lookup(&self, id: SpaceId) -> Option<SpaceSlot> {
        let space = self.slots.get(id.slot() as usize)?;
        (id.0 >> 48 == 0 && space.tables.is_some() && space.generation == id.generation())
            .then_some(SpaceSlot::new(id.slot()))
    }

    /// Every slot of the table, free or not, in order.
    pub fn every_slot() -> impl Iterator<Item = SpaceSlot> {
        (0..MAX_SPACES as u16).map(SpaceSlot::new)
    }

    /// The space in `slot`.
    pub fn get(&mut self, slot: SpaceSlot) -> &mut Space {
        &mut self.slots[slot.index()]
    }

    /// The space in `slot`, to read.
    pub fn read(&self, slot: SpaceSlot) -> &Space {
        &self.slots[slot.index()]
    }

    /// The page tables of live space `slot`.
    ///
    /// # Panics
    /// If the slot is free: callers pass only slots of live threads or of
    /// looked-up ids, so that is a kernel bug.
    pub fn tables(&mut self, slot: SpaceSlot) -> &mut AddressSpace {
        self.slots[slot.index()].tables.as_mut().expect("address space slot is live")
    }

    /// Maps `frame` at the user page `page` of live space `slot` with `flags`,
    /// taking any new page table from `frames`. `page` is an address the
    /// caller has checked (a constant, or inside a checked user range).
    pub fn map(
        &mut self,
        frames: &mut FrameAllocator,
        slot: SpaceSlot,
        page: u64,
        frame: PhysFrame,
        flags: PageTableFlags,
    ) -> Result<(), MapError> {
        // SAFETY: the kernel window is mapped in every space and nothing
        // else holds a reference into page-table frames during a kernel entry.
        let mut env = KernelFrames::new(unsafe { KernelWindow::new() }, frames);
        self.tables(slot).map(&mut env, VirtAddr::new(page), frame, flags)
    }

    /// Maps the kernel info page (read-only) into space `slot`: the first
    /// time a thread of the space reads it (`fault.rs`). It is the
    /// kernel's page: `BORROWED`, so tearing the space down keeps it.
    pub fn map_info_page(&mut self, frames: &mut FrameAllocator, slot: SpaceSlot) -> Result<(), MapError> {
        let flags = PageTableFlags::USER | PageTableFlags::NO_EXECUTE | PageTableFlags::BORROWED;
        self.map(frames, slot, common::abi::micro::KERNEL_INFO_PAGE, crate::trace::info_frame(), flags)
    }

    /// Creates a space with an empty user half and the kernel mapped, in a
    /// free slot. Returns the slot, or `None` if the table or memory is full.
    pub fn create(
        &mut self,
        frames: &mut common::mm::FrameAllocator,
        creator: SpaceSlot,
        privileges: u64,
    ) -> Option<SpaceSlot> {
        let slot = SpaceSlot::new(self.slots.iter().position(|s| s.tables.is_none())? as u16);
        // SAFETY: the kernel window is mapped in every space and nothing
        // else holds a reference into the frames touched here.
        let mut env = KernelFrames::new(unsafe { KernelWindow::new() }, frames);
        let mut tables = AddressSpace::new(&mut env).ok()?;
        // SAFETY: the boot PML4 is the kernel's own table (its kernel half is
        // what every space shares), and it is only read here.
        let kernel = unsafe {
            AddressSpace::from_root(PhysFrame::containing_address(common::mm::PhysAddr::new(
                common::arch::boot::boot_pml4_phys(),
            )))
        };
        tables.copy_kernel_half_from(&mut env, &kernel);
        // `kernel` has no destructor: dropping it leaves the boot tables alone.
        let space = &mut self.slots[slot.index()];
        space.tables = Some(tables);
        space.creator = creator;
        space.privileges = privileges;
        space.io_range_count = 0;
        space.thread_count = 0;
        space.table_frames = 0;
        Some(slot)
    }
}

impl Default for SpaceTable {
    fn default() -> Self {
        Self::new()
    }
}

/// The kernel window as `PhysMemory`, for walks that allocate nothing.
pub fn window() -> impl PhysMemory {
    // SAFETY: the kernel window is mapped in every space; single CPU, no
    // other reference into page-table frames is alive during a kernel entry.
    unsafe { KernelWindow::new() }
}

impl crate::mapping::Spaces for SpaceTable {
    fn tables(&mut self, space: SpaceSlot) -> &mut AddressSpace {
        SpaceTable::tables(self, space)
    }

    fn flush_tlb(&mut self, space: SpaceSlot, address: u64) {
        if cpu::read_cr3() == self.tables(space).root().start_address().as_u64() {
            cpu::invalidate_page(address);
        }
    }

    fn trusted(&self, space: SpaceSlot) -> bool {
        self.read(space).trusted()
    }

    fn table_frames(&mut self, space: SpaceSlot) -> &mut u32 {
        &mut self.get(space).table_frames
    }
}
