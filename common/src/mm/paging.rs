//! x86_64 four-level page tables, and [`AddressSpace`]: map, unmap,
//! translate, walk and tear down.
//!
//! The MMU translates a virtual address by walking four tables, each one
//! 4 KiB frame holding 512 eight-byte entries: the PML4 (level 4), the
//! page-directory-pointer table (level 3), the page directory (level 2) and
//! the page table (level 1). Nine bits of the address index each level (see
//! [`VirtAddr::table_index`]); the level-1 entry names the frame, and the low
//! 12 bits of the address are the offset inside it. An entry at level 3 or 2
//! may instead map a 1 GiB or 2 MiB "huge" page directly (the boot code maps
//! the kernel window that way); this module reads huge pages but never
//! creates them.
//!
//! ## Reaching the tables
//!
//! The tables live in physical memory, and how code reaches physical memory
//! depends on where it runs: the kernels go through the kernel window
//! (`KERNEL_BASE + pa`), host tests through a fake RAM made of a `Vec`. So
//! every operation takes the environment as a parameter implementing
//! [`PhysMemory`] (read and write a frame), and, for operations that may
//! need a new table, [`FrameSource`] (allocate and free frames).
//!
//! ## What the caller must do: the TLB
//!
//! The CPU caches translations in the TLB and does **not** notice when a
//! table entry changes. Nothing in this module flushes it (it runs on the
//! host too). After `unmap` or `update_flags` on the address space that is
//! loaded in CR3, the kernel must run `invlpg` for that page
//! (`arch::cpu::invalidate_page`), or reload CR3 after many changes.
//! A fresh `map` needs no flush: x86 does not cache "not present".
//! Changing a space that is not loaded needs no flush either: loading CR3 on
//! the next switch empties the TLB (we do not use global or PCID-tagged user
//! entries).
//!
//! ## The kernel half
//!
//! Every address space shares the kernel: PML4 entries 256..512 of each new
//! space are copies of the kernel's ([`AddressSpace::copy_kernel_half_from`]),
//! so all spaces point at the *same* lower-level kernel tables. Invariant,
//! kept by the kernels: the kernel's PML4 entries 256..512 never change after
//! the first address space is created (new kernel mappings go into the
//! existing lower-level tables, which everyone shares).

use core::fmt;

use bitflags::bitflags;

use super::addr::{PAGE_SIZE_BYTES, PhysAddr, USER_TOP, VirtAddr, is_user_address};
use super::frame::PhysFrame;

bitflags! {
    /// The flag bits of a page-table entry.
    ///
    /// At levels 4..2 the flags of an entry limit everything below it: a page
    /// is writable from user mode only if `USER` and `WRITABLE` are set at
    /// *every* level. This module gives intermediate tables the permissive
    /// `PRESENT | WRITABLE` (plus `USER` in the user half) and leaves the
    /// real decision to the level-1 entry.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct PageTableFlags: u64 {
        /// The entry is valid. If clear, any access faults and the CPU
        /// ignores every other bit (the kernel may use them).
        const PRESENT = 1 << 0;
        /// Writes are allowed (with CR0.WP, as we boot, even for the kernel).
        const WRITABLE = 1 << 1;
        /// User mode (ring 3) may access the page; otherwise kernel only.
        const USER = 1 << 2;
        /// Write-through caching instead of write-back.
        const WRITE_THROUGH = 1 << 3;
        /// Caching disabled (device memory).
        const NO_CACHE = 1 << 4;
        /// Set by the CPU when the page is read or written.
        const ACCESSED = 1 << 5;
        /// Set by the CPU when the page is written (level-1 entries only).
        const DIRTY = 1 << 6;
        /// At level 3 or 2: this entry maps a 1 GiB or 2 MiB page directly.
        const HUGE = 1 << 7;
        /// The translation survives CR3 reloads (kernel pages only).
        const GLOBAL = 1 << 8;
        /// Software bit 9: the page is shared copy-on-write and mapped
        /// read-only; a write fault copies it (or, if no one else holds the
        /// frame any more, makes it writable). The mono-kernel's fork sets
        /// it (`mono-kernel/src/vm.rs`); the micro-kernel's pager keeps the
        /// same knowledge in its own records instead.
        const COPY_ON_WRITE = 1 << 9;
        /// Software bit 10: the frame does not belong to this address space
        /// (device memory, or a page another L4 space mapped in), so tearing
        /// the space down must not free it.
        const BORROWED = 1 << 10;
        /// Software bit 11: unused by both kernels, left free for labs.
        const SPARE = 1 << 11;
        /// Instruction fetches fault (needs EFER.NXE, which the boot code sets).
        const NO_EXECUTE = 1 << 63;
    }
}

/// Bits 51..12 of an entry: the physical address of the frame or table.
const ENTRY_ADDRESS_MASK: u64 = 0x000f_ffff_ffff_f000;

/// Number of entries in one table.
pub const ENTRIES_PER_TABLE: usize = 512;

/// The first PML4 entry of the kernel half (addresses `0xffff_8000_0000_0000..`).
pub const FIRST_KERNEL_PML4_ENTRY: usize = 256;

/// One 64-bit page-table entry: a physical address and flags.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
#[repr(transparent)]
pub struct PageTableEntry(u64);

impl PageTableEntry {
    /// An entry with every bit clear (not present).
    pub const fn empty() -> PageTableEntry {
        PageTableEntry(0)
    }

    /// Whether every bit is clear.
    pub const fn is_unused(self) -> bool {
        self.0 == 0
    }

    /// Whether the PRESENT bit is set.
    pub const fn is_present(self) -> bool {
        self.0 & PageTableFlags::PRESENT.bits() != 0
    }

    /// The entry's flags (bits that are not flags, like the address, are dropped).
    pub const fn flags(self) -> PageTableFlags {
        PageTableFlags::from_bits_truncate(self.0)
    }

    /// The physical address the entry holds (bits 51..12).
    pub const fn addr(self) -> PhysAddr {
        PhysAddr::new(self.0 & ENTRY_ADDRESS_MASK)
    }

    /// The frame the entry points at: the next table, or the mapped page.
    /// (For a huge-page entry this is the first 4 KiB frame only, and bit 12
    /// means something else; see [`AddressSpace::translate`].)
    pub const fn frame(self) -> PhysFrame {
        PhysFrame::containing_address(self.addr())
    }

    /// Points the entry at `frame` with `flags`.
    pub fn set(&mut self, frame: PhysFrame, flags: PageTableFlags) {
        self.0 = frame.start_address().as_u64() | flags.bits();
    }

    /// Replaces the flags, keeping the address.
    pub fn set_flags(&mut self, flags: PageTableFlags) {
        self.0 = (self.0 & ENTRY_ADDRESS_MASK) | flags.bits();
    }

    /// Clears every bit.
    pub fn clear(&mut self) {
        self.0 = 0;
    }

    /// The raw 64-bit value (for debugging output).
    pub const fn raw(self) -> u64 {
        self.0
    }
}

impl fmt::Debug for PageTableEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PageTableEntry({:#x}, {:?})",
            self.addr().as_u64(),
            self.flags()
        )
    }
}

/// One page table: 512 entries filling one 4 KiB-aligned frame.
#[derive(Clone)]
#[repr(C, align(4096))]
pub struct PageTable {
    entries: [PageTableEntry; ENTRIES_PER_TABLE],
}

impl PageTable {
    /// A table with every entry empty.
    pub const fn new() -> PageTable {
        PageTable {
            entries: [PageTableEntry::empty(); ENTRIES_PER_TABLE],
        }
    }

    /// The entries, in order.
    pub fn iter(&self) -> impl Iterator<Item = &PageTableEntry> {
        self.entries.iter()
    }

    /// Whether no entry is in use.
    pub fn is_empty(&self) -> bool {
        self.entries.iter().all(|e| e.is_unused())
    }
}

impl Default for PageTable {
    fn default() -> Self {
        Self::new()
    }
}

impl core::ops::Index<usize> for PageTable {
    type Output = PageTableEntry;
    fn index(&self, index: usize) -> &PageTableEntry {
        &self.entries[index]
    }
}

impl core::ops::IndexMut<usize> for PageTable {
    fn index_mut(&mut self, index: usize) -> &mut PageTableEntry {
        &mut self.entries[index]
    }
}

/// How the environment reaches physical memory.
///
/// The kernels implement it with the kernel window
/// ([`super::kernel_window::KernelWindow`]); host tests with `FakeRam` (in
/// `mm::fake_ram`, test builds only). The `&mut self` receiver means at
/// most one frame is borrowed at a time, which is what makes handing out
/// `&mut` references sound.
pub trait PhysMemory {
    /// The page table stored in `frame`.
    ///
    /// Only called with frames that hold page tables: the root of an
    /// [`AddressSpace`] and the frames its entries point to. Those always
    /// come from a [`FrameSource`], so an implementation may treat any other
    /// frame as a kernel bug.
    fn table(&mut self, frame: PhysFrame) -> &mut PageTable;

    /// The bytes of `frame`, or `None` if the environment cannot reach it
    /// (the kernel window stops at 1 GiB; a user page may map device memory
    /// above it). Never panics for any frame: a user program chooses which
    /// frames its pointers lead to.
    fn frame_bytes(&mut self, frame: PhysFrame) -> Option<&mut [u8; PAGE_SIZE_BYTES]>;

    /// Copies the contents of frame `from` into frame `to` (fork, and
    /// breaking copy-on-write, do this). Returns `Err(frame)` naming a frame
    /// the environment cannot reach, having copied nothing.
    ///
    /// `&mut self` lends out one frame at a time, so this default copies
    /// through a small buffer, 512 bytes per step; an environment that can
    /// see both frames at once may override it with one direct copy.
    fn copy_frame(&mut self, from: PhysFrame, to: PhysFrame) -> Result<(), PhysFrame> {
        const STEP: usize = 512;
        // Check both frames first, so an error leaves `to` untouched.
        self.frame_bytes(from).ok_or(from)?;
        self.frame_bytes(to).ok_or(to)?;
        let mut buffer = [0u8; STEP];
        for offset in (0..PAGE_SIZE_BYTES).step_by(STEP) {
            buffer.copy_from_slice(&self.frame_bytes(from).ok_or(from)?[offset..][..STEP]);
            self.frame_bytes(to).ok_or(to)?[offset..][..STEP].copy_from_slice(&buffer);
        }
        Ok(())
    }
}

/// Where page-table frames come from and go back to.
pub trait FrameSource: PhysMemory {
    /// A fresh frame filled with zeroes (an all-zero table is an empty table),
    /// or `None` if memory is exhausted.
    fn alloc_zeroed_frame(&mut self) -> Option<PhysFrame>;

    /// Returns a frame that `alloc_zeroed_frame` handed out.
    fn free_frame(&mut self, frame: PhysFrame);
}

/// One 4 KiB mapping: which page, to which frame, with which flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mapping {
    /// The virtual page (page-aligned).
    pub page: VirtAddr,
    /// The physical frame behind it.
    pub frame: PhysFrame,
    /// The level-1 entry's flags (always includes `PRESENT`).
    pub flags: PageTableFlags,
}

/// Why a page-table operation was refused. Each operation lists the ones it
/// can return; on any error the mapping asked about is unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapError {
    /// The virtual address is not the start of a page.
    NotPageAligned(VirtAddr),
    /// The page is already mapped (to `frame`); unmap it first.
    AlreadyMapped { page: VirtAddr, frame: PhysFrame },
    /// The page is not mapped.
    NotMapped(VirtAddr),
    /// No frame was left for a new page table.
    OutOfMemory,
    /// The address lies inside a huge page, which this module does not split.
    HugePage(VirtAddr),
    /// Flags a caller may not ask for here (`HUGE`, or no `PRESENT` in
    /// `update_flags`).
    InvalidFlags(PageTableFlags),
    /// `USER` requested for a page outside user space: that would hand
    /// kernel memory to user programs.
    UserFlagOnKernelAddress(VirtAddr),
    /// A user page would go under a table that is kernel-only (such as the
    /// boot identity map before it is removed); refusing beats exposing it.
    KernelOnlyTable(VirtAddr),
}

impl fmt::Display for MapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MapError::NotPageAligned(va) => write!(f, "{va:?} is not page-aligned"),
            MapError::AlreadyMapped { page, frame } => {
                write!(f, "{page:?} is already mapped to {frame:?}")
            }
            MapError::NotMapped(va) => write!(f, "{va:?} is not mapped"),
            MapError::OutOfMemory => write!(f, "out of memory for page tables"),
            MapError::HugePage(va) => write!(f, "{va:?} lies in a huge page"),
            MapError::InvalidFlags(flags) => write!(f, "flags {flags:?} not allowed here"),
            MapError::UserFlagOnKernelAddress(va) => {
                write!(f, "USER flag on kernel address {va:?}")
            }
            MapError::KernelOnlyTable(va) => write!(f, "{va:?} lies under a kernel-only table"),
        }
    }
}

/// Where a walk down the tables for one address ended.
enum Walk {
    /// All tables exist; the level-1 entry is `index` in the table in
    /// `table` (it may or may not be present). `upper` holds the
    /// permissions granted at *every* level above (`USER`, `WRITABLE`).
    Leaf {
        table: PhysFrame,
        index: usize,
        upper: PageTableFlags,
    },
    /// A huge page at `level` (3: 1 GiB, 2: 2 MiB) maps the address;
    /// `upper` as for `Leaf`, from the levels above the huge entry.
    Huge {
        level: u8,
        entry: PageTableEntry,
        upper: PageTableFlags,
    },
    /// The table that would hold the address's entry does not exist.
    Missing,
}

/// Bytes covered by one entry at `level` (1: 4 KiB, 2: 2 MiB, 3: 1 GiB, 4: 512 GiB).
const fn bytes_per_entry(level: u8) -> u64 {
    1 << (12 + 9 * (level as u32 - 1))
}

/// One address space: a PML4 and the tables below it.
///
/// It owns its PML4 frame and the user-half tables, not the kernel-half
/// tables (shared with every other space). It cannot free itself on drop,
/// because freeing needs a [`FrameSource`]: call
/// [`AddressSpace::destroy`] when the process or task is gone.
#[derive(Debug, PartialEq, Eq)]
pub struct AddressSpace {
    /// Invariant: a frame holding a PML4 whose present, non-huge entries
    /// (at every level) point at page-table frames.
    root: PhysFrame,
}

impl AddressSpace {
    /// A new, empty address space: an all-zero PML4. Usually followed by
    /// [`AddressSpace::copy_kernel_half_from`].
    ///
    /// Errors: `OutOfMemory`.
    pub fn new(env: &mut impl FrameSource) -> Result<AddressSpace, MapError> {
        let root = env.alloc_zeroed_frame().ok_or(MapError::OutOfMemory)?;
        Ok(AddressSpace { root })
    }

    /// Adopts an existing PML4, such as the boot page tables (read CR3).
    ///
    /// # Safety
    /// `root` must hold a PML4 whose present, non-huge entries (at every
    /// level) point at page-table frames, and no other `AddressSpace` may
    /// own it. Otherwise the walks read and write arbitrary frames.
    pub const unsafe fn from_root(root: PhysFrame) -> AddressSpace {
        AddressSpace { root }
    }

    /// The PML4 frame: what CR3 must hold while this space is running.
    pub const fn root(&self) -> PhysFrame {
        self.root
    }

    /// Copies PML4 entries 256..512 (the kernel half) from `kernel`, so this
    /// space maps the kernel exactly as `kernel` does.
    pub fn copy_kernel_half_from(&mut self, mem: &mut impl PhysMemory, kernel: &AddressSpace) {
        for index in FIRST_KERNEL_PML4_ENTRY..ENTRIES_PER_TABLE {
            let entry = mem.table(kernel.root)[index];
            mem.table(self.root)[index] = entry;
        }
    }

    /// Follows the tables for `va` without changing anything.
    fn walk(&self, mem: &mut impl PhysMemory, va: VirtAddr) -> Walk {
        let mut table = self.root;
        let mut upper = PageTableFlags::USER | PageTableFlags::WRITABLE;
        for level in [4, 3, 2] {
            let entry = mem.table(table)[va.table_index(level)];
            if !entry.is_present() {
                return Walk::Missing;
            }
            // At level 4 the bit is reserved (must be 0); trust only 3 and 2.
            if level != 4 && entry.flags().contains(PageTableFlags::HUGE) {
                return Walk::Huge {
                    level,
                    entry,
                    upper,
                };
            }
            upper &= entry.flags();
            table = entry.frame();
        }
        Walk::Leaf {
            table,
            index: va.p1_index(),
            upper,
        }
    }

    /// What `va` maps to: the 4 KiB frame holding the byte at `va`, and the
    /// flags of the entry that maps it, or `None` if nothing is mapped.
    ///
    /// `va` need not be page-aligned. For an address inside a huge page the
    /// result is the 4 KiB frame within it (and the flags include `HUGE`).
    pub fn translate(&self, mem: &mut impl PhysMemory, va: VirtAddr) -> Option<Mapping> {
        self.translate_with_upper(mem, va)
            .map(|(mapping, _)| mapping)
    }

    /// What the MMU would allow at `va`: like [`AddressSpace::translate`],
    /// but `USER` and `WRITABLE` appear in the flags only if *every* level
    /// of the walk grants them, exactly as the hardware checks them. This
    /// is what the user-copy routines ask before touching a user page.
    pub fn effective_access(&self, mem: &mut impl PhysMemory, va: VirtAddr) -> Option<Mapping> {
        let (mut mapping, upper) = self.translate_with_upper(mem, va)?;
        let denied = (PageTableFlags::USER | PageTableFlags::WRITABLE).difference(upper);
        mapping.flags.remove(denied);
        Some(mapping)
    }

    /// The physical address of user byte `va`, if user mode may read it (and
    /// write it, with `write`): the walk the MMU makes, checking `PRESENT`
    /// and `USER` (and `WRITABLE`) at every level. This is
    /// [`AddressSpace::effective_access`] cut down to the one question a
    /// kernel copying a message's bytes asks for every page, which the
    /// microkernel's IPC path asks several times per message: it builds no
    /// [`Mapping`], and an address outside user space is simply `None`.
    pub fn user_access(&self, mem: &mut impl PhysMemory, va: u64, write: bool) -> Option<PhysAddr> {
        if va >= super::addr::USER_TOP {
            return None;
        }
        let needed = if write {
            PageTableFlags::PRESENT | PageTableFlags::USER | PageTableFlags::WRITABLE
        } else {
            PageTableFlags::PRESENT | PageTableFlags::USER
        };
        let mut table = self.root;
        for shift in [39, 30, 21] {
            let entry = mem.table(table)[((va >> shift) & 0x1ff) as usize];
            if !entry.flags().contains(needed) {
                return None;
            }
            if shift != 39 && entry.flags().contains(PageTableFlags::HUGE) {
                let size = 1u64 << shift;
                let base = entry.addr().as_u64() & !(size - 1);
                return PhysAddr::try_new(base + (va & (size - 1))).ok();
            }
            table = entry.frame();
        }
        let entry = mem.table(table)[((va >> 12) & 0x1ff) as usize];
        if !entry.flags().contains(needed) {
            return None;
        }
        entry.addr().checked_add(va & (PAGE_SIZE_BYTES as u64 - 1))
    }

    /// `translate`, plus the permissions granted by the levels above the leaf.
    fn translate_with_upper(
        &self,
        mem: &mut impl PhysMemory,
        va: VirtAddr,
    ) -> Option<(Mapping, PageTableFlags)> {
        let page = va.align_down(PAGE_SIZE_BYTES as u64);
        let mapping = match self.walk(mem, va) {
            Walk::Leaf {
                table,
                index,
                upper,
            } => {
                let entry = mem.table(table)[index];
                if !entry.is_present() {
                    return None;
                }
                (
                    Mapping {
                        page,
                        frame: entry.frame(),
                        flags: entry.flags(),
                    },
                    upper,
                )
            }
            Walk::Huge {
                level,
                entry,
                upper,
            } => {
                let size = bytes_per_entry(level);
                // A huge page starts on a `size` boundary; the bits below it
                // in the entry (bit 12 is the PAT bit) are not address bits.
                let base = entry.addr().as_u64() & !(size - 1);
                let byte = PhysAddr::try_new(base + (va.as_u64() & (size - 1))).ok()?;
                (
                    Mapping {
                        page,
                        frame: PhysFrame::containing_address(byte),
                        flags: entry.flags(),
                    },
                    upper,
                )
            }
            Walk::Missing => return None,
        };
        Some(mapping)
    }

    /// The physical address behind `va`, or `None` if unmapped.
    pub fn translate_addr(&self, mem: &mut impl PhysMemory, va: VirtAddr) -> Option<PhysAddr> {
        let mapping = self.translate(mem, va)?;
        mapping.frame.start_address().checked_add(va.page_offset())
    }

    /// Maps the page at `page` to `frame` with `flags` (`PRESENT` is added).
    ///
    /// Missing tables on the way are allocated, with `USER` set if `page` is
    /// in user space. Errors: `NotPageAligned`, `InvalidFlags` (`HUGE`),
    /// `UserFlagOnKernelAddress`, `AlreadyMapped`, `HugePage`,
    /// `KernelOnlyTable`, `OutOfMemory`. After `OutOfMemory` some new, empty
    /// tables may remain linked in; they are freed with the address space.
    ///
    /// No TLB flush is needed (see the module documentation).
    pub fn map(
        &mut self,
        env: &mut impl FrameSource,
        page: VirtAddr,
        frame: PhysFrame,
        flags: PageTableFlags,
    ) -> Result<(), MapError> {
        let user = check_page_and_flags(page, flags)?;
        let mut table_flags = PageTableFlags::PRESENT | PageTableFlags::WRITABLE;
        if user {
            table_flags |= PageTableFlags::USER;
        }
        let mut table = self.root;
        for level in [4, 3, 2] {
            let index = page.table_index(level);
            let entry = env.table(table)[index];
            if entry.is_present() {
                if level != 4 && entry.flags().contains(PageTableFlags::HUGE) {
                    return Err(MapError::HugePage(page));
                }
                if user && !entry.flags().contains(PageTableFlags::USER) {
                    return Err(MapError::KernelOnlyTable(page));
                }
                table = entry.frame();
            } else {
                let new_table = env.alloc_zeroed_frame().ok_or(MapError::OutOfMemory)?;
                env.table(table)[index].set(new_table, table_flags);
                table = new_table;
            }
        }
        let leaf = &mut env.table(table)[page.p1_index()];
        if leaf.is_present() {
            return Err(MapError::AlreadyMapped {
                page,
                frame: leaf.frame(),
            });
        }
        leaf.set(frame, flags | PageTableFlags::PRESENT);
        Ok(())
    }

    /// Removes the mapping of the page at `page` and returns what it was.
    /// The frame is *not* freed: it may be shared (copy-on-write, an L4
    /// mapping), so that is the caller's decision. Emptied tables stay until
    /// the address space is destroyed.
    ///
    /// Errors: `NotPageAligned`, `NotMapped`, `HugePage`.
    /// The caller must flush the TLB entry if this space is loaded.
    pub fn unmap(
        &mut self,
        mem: &mut impl PhysMemory,
        page: VirtAddr,
    ) -> Result<Mapping, MapError> {
        let (table, index) = self.find_mapped_leaf(mem, page)?;
        let entry = &mut mem.table(table)[index];
        let mapping = Mapping {
            page,
            frame: entry.frame(),
            flags: entry.flags(),
        };
        entry.clear();
        Ok(mapping)
    }

    /// Replaces the flags of the mapped page at `page` and returns the old
    /// ones. `flags` must include `PRESENT` (use `unmap` to remove a page).
    ///
    /// Errors: `NotPageAligned`, `InvalidFlags`, `UserFlagOnKernelAddress`,
    /// `NotMapped`, `HugePage`. The caller must flush the TLB entry if this
    /// space is loaded.
    pub fn update_flags(
        &mut self,
        mem: &mut impl PhysMemory,
        page: VirtAddr,
        flags: PageTableFlags,
    ) -> Result<PageTableFlags, MapError> {
        check_page_and_flags(page, flags)?;
        if !flags.contains(PageTableFlags::PRESENT) {
            return Err(MapError::InvalidFlags(flags));
        }
        let (table, index) = self.find_mapped_leaf(mem, page)?;
        let entry = &mut mem.table(table)[index];
        let old = entry.flags();
        entry.set_flags(flags);
        Ok(old)
    }

    /// The location of the present level-1 entry for `page`.
    fn find_mapped_leaf(
        &self,
        mem: &mut impl PhysMemory,
        page: VirtAddr,
    ) -> Result<(PhysFrame, usize), MapError> {
        if !page.is_aligned(PAGE_SIZE_BYTES as u64) {
            return Err(MapError::NotPageAligned(page));
        }
        match self.walk(mem, page) {
            Walk::Leaf { table, index, .. } if mem.table(table)[index].is_present() => {
                Ok((table, index))
            }
            Walk::Leaf { .. } | Walk::Missing => Err(MapError::NotMapped(page)),
            Walk::Huge { .. } => Err(MapError::HugePage(page)),
        }
    }

    /// A cursor over every 4 KiB mapping in user space (`0..USER_TOP`), in
    /// address order. See [`UserMappings`].
    pub fn user_mappings(&self) -> UserMappings {
        self.user_mappings_from(VirtAddr::new(0))
    }

    /// A cursor over the user mappings at and above `start` (rounded down
    /// to a page), in address order: what `munmap` walks, so that it visits
    /// only the pages that are mapped, however large the range.
    pub fn user_mappings_from(&self, start: VirtAddr) -> UserMappings {
        UserMappings {
            root: self.root,
            next: start.align_down(PAGE_SIZE_BYTES as u64).as_u64(),
        }
    }

    /// Tears down the user half: hands every mapping below the kernel half
    /// to `on_mapping` (which decides whether to free the frame: it may be
    /// borrowed or shared), frees every user-half page table, and clears
    /// PML4 entries 0..256. The kernel half and the PML4 itself stay, so the
    /// space can be reused (exec) or destroyed. Huge pages in the user half
    /// (never made by this module) are dropped without being reported.
    ///
    /// `on_mapping` receives the environment too, so it can free frames.
    /// If this space is loaded, the caller must reload CR3 afterwards.
    pub fn free_user_tables<E, F>(&mut self, env: &mut E, mut on_mapping: F)
    where
        E: FrameSource,
        F: FnMut(&mut E, Mapping),
    {
        for index in 0..FIRST_KERNEL_PML4_ENTRY {
            let entry = env.table(self.root)[index];
            if entry.is_present() {
                let base = VirtAddr::from_table_indices(index, 0, 0, 0, 0);
                free_table_tree(env, entry.frame(), 3, base, &mut on_mapping);
                env.table(self.root)[index].clear();
            }
        }
    }

    /// Frees the whole address space: the user half as in
    /// [`AddressSpace::free_user_tables`], then the PML4. The caller must
    /// not be running on it (load another CR3 first).
    pub fn destroy<E, F>(mut self, env: &mut E, on_mapping: F)
    where
        E: FrameSource,
        F: FnMut(&mut E, Mapping),
    {
        self.free_user_tables(env, on_mapping);
        env.free_frame(self.root);
    }
}

/// Checks what `map` and `update_flags` share; returns whether `page` is a
/// user address.
fn check_page_and_flags(page: VirtAddr, flags: PageTableFlags) -> Result<bool, MapError> {
    if !page.is_aligned(PAGE_SIZE_BYTES as u64) {
        return Err(MapError::NotPageAligned(page));
    }
    if flags.contains(PageTableFlags::HUGE) {
        return Err(MapError::InvalidFlags(flags));
    }
    let user = is_user_address(page.as_u64());
    if flags.contains(PageTableFlags::USER) && !user {
        return Err(MapError::UserFlagOnKernelAddress(page));
    }
    Ok(user)
}

/// Reports the leaves under the level-`level` table in `table` (which maps
/// addresses from `base`), frees its sub-tables, then frees `table`.
///
/// No reference into a table is held across a call to `on_mapping`: entries
/// are copied out first, so the callback may use `env` freely.
fn free_table_tree<E, F>(
    env: &mut E,
    table: PhysFrame,
    level: u8,
    base: VirtAddr,
    on_mapping: &mut F,
) where
    E: FrameSource,
    F: FnMut(&mut E, Mapping),
{
    for index in 0..ENTRIES_PER_TABLE {
        let entry = env.table(table)[index];
        if !entry.is_present() {
            continue;
        }
        // Within the user half no sign extension is involved: plain addition.
        let va = VirtAddr::new(base.as_u64() + index as u64 * bytes_per_entry(level));
        if level == 1 {
            on_mapping(
                env,
                Mapping {
                    page: va,
                    frame: entry.frame(),
                    flags: entry.flags(),
                },
            );
        } else if !entry.flags().contains(PageTableFlags::HUGE) {
            free_table_tree(env, entry.frame(), level - 1, va, on_mapping);
        }
    }
    env.free_frame(table);
}

/// A cursor over the user mappings of an address space, in address order.
///
/// It is not an `Iterator`, because each step needs the environment:
/// ```ignore
/// let mut mappings = parent.user_mappings();
/// while let Some(m) = mappings.next(env) {
///     // fork: copy m.frame into a new frame, map it in the child
/// }
/// ```
/// The cursor holds no borrow of the address space, only the PML4 frame and
/// the next address to look at, and walks the tables afresh on every step.
/// So the loop body may change the tables — mark the page copy-on-write
/// with `update_flags`, or `unmap` it — and the cursor carries on correctly
/// after the page it returned.
#[derive(Debug, Clone)]
pub struct UserMappings {
    root: PhysFrame,
    /// The lowest address not yet looked at. Invariant: page-aligned.
    next: u64,
}

impl UserMappings {
    /// The next mapping at or after the cursor, or `None` when the user half
    /// is exhausted. Empty tables are skipped whole: an unused PML4 entry
    /// skips 512 GiB in one step.
    pub fn next(&mut self, mem: &mut impl PhysMemory) -> Option<Mapping> {
        'search: while self.next < USER_TOP {
            let va = VirtAddr::new(self.next);
            let mut table = self.root;
            for level in [4, 3, 2] {
                let entry = mem.table(table)[va.table_index(level)];
                let huge = level != 4 && entry.flags().contains(PageTableFlags::HUGE);
                if !entry.is_present() || huge {
                    // Nothing to report below this entry: skip what it covers.
                    self.skip_to_next_boundary(level);
                    continue 'search;
                }
                table = entry.frame();
            }
            // In the level-1 table, scan onward from `va` for a present entry.
            for index in va.p1_index()..ENTRIES_PER_TABLE {
                let entry = mem.table(table)[index];
                let page = VirtAddr::new(
                    va.align_down(bytes_per_entry(2)).as_u64() + index as u64 * bytes_per_entry(1),
                );
                if page.as_u64() >= USER_TOP {
                    break;
                }
                if entry.is_present() {
                    self.next = page.as_u64() + bytes_per_entry(1);
                    return Some(Mapping {
                        page,
                        frame: entry.frame(),
                        flags: entry.flags(),
                    });
                }
            }
            self.skip_to_next_boundary(2);
        }
        None
    }

    /// Moves `next` to the start of the next region an entry at `level` covers.
    fn skip_to_next_boundary(&mut self, level: u8) {
        let size = bytes_per_entry(level);
        // `next` is below USER_TOP < 2^47, so this cannot overflow.
        self.next = (self.next & !(size - 1)) + size;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mm::addr::{KERNEL_BASE, PAGE_SIZE};
    use crate::mm::fake_ram::FakeRam;

    const RW_USER: PageTableFlags = PageTableFlags::PRESENT
        .union(PageTableFlags::WRITABLE)
        .union(PageTableFlags::USER);

    fn va(addr: u64) -> VirtAddr {
        VirtAddr::new(addr)
    }

    fn setup(frames: usize) -> (FakeRam, AddressSpace) {
        let mut ram = FakeRam::new(frames);
        let space = AddressSpace::new(&mut ram).unwrap();
        (ram, space)
    }

    #[test]
    fn entries_hold_an_address_and_flags() {
        let mut entry = PageTableEntry::empty();
        assert!(entry.is_unused() && !entry.is_present());
        let frame = PhysFrame::from_number(0x1234).unwrap();
        entry.set(
            frame,
            RW_USER | PageTableFlags::NO_EXECUTE | PageTableFlags::COPY_ON_WRITE,
        );
        assert_eq!(entry.frame(), frame);
        assert_eq!(entry.raw(), 0x8000_0000_0123_4207);
        entry.set_flags(PageTableFlags::PRESENT);
        assert_eq!(
            (entry.frame(), entry.flags()),
            (frame, PageTableFlags::PRESENT)
        );
        assert_eq!(core::mem::size_of::<PageTable>(), 4096);
        assert_eq!(core::mem::align_of::<PageTable>(), 4096);
    }

    #[test]
    fn map_then_translate_then_unmap() {
        let (mut ram, mut space) = setup(64);
        let frame = ram.alloc_frame();
        space.map(&mut ram, va(0x40_0000), frame, RW_USER).unwrap();
        // PML4 + PDPT + PD + PT: three new tables besides the root.
        assert_eq!(ram.allocated_frames(), 1 + 3 + 1);

        let m = space.translate(&mut ram, va(0x40_0abc)).unwrap();
        assert_eq!((m.page, m.frame, m.flags), (va(0x40_0000), frame, RW_USER));
        assert_eq!(
            space.translate_addr(&mut ram, va(0x40_0abc)),
            Some(PhysAddr::new(frame.start_address().as_u64() + 0xabc))
        );
        assert_eq!(space.translate(&mut ram, va(0x40_1000)), None);
        assert_eq!(space.translate(&mut ram, va(0x8000_0000)), None);

        assert_eq!(
            space.unmap(&mut ram, va(0x40_0000)).map(|m| m.frame),
            Ok(frame)
        );
        assert_eq!(space.translate(&mut ram, va(0x40_0000)), None);
        assert_eq!(
            space.unmap(&mut ram, va(0x40_0000)),
            Err(MapError::NotMapped(va(0x40_0000)))
        );
    }

    #[test]
    fn intermediate_tables_of_user_pages_are_user_accessible() {
        let (mut ram, mut space) = setup(64);
        let frame = ram.alloc_frame();
        let page = va(0x0000_1234_5678_9000);
        space.map(&mut ram, page, frame, RW_USER).unwrap();
        let mut table = space.root();
        for level in [4, 3, 2] {
            let entry = ram.table(table)[page.table_index(level)];
            assert!(entry.flags().contains(RW_USER), "level {level}: {entry:?}");
            table = entry.frame();
        }
    }

    #[test]
    fn map_refuses_bad_requests_and_changes_nothing() {
        let (mut ram, mut space) = setup(64);
        let a = ram.alloc_frame();
        let b = ram.alloc_frame();
        space.map(&mut ram, va(0x1000), a, RW_USER).unwrap();
        let before = ram.allocated_frames();
        assert_eq!(
            space.map(&mut ram, va(0x1000), b, RW_USER),
            Err(MapError::AlreadyMapped {
                page: va(0x1000),
                frame: a
            })
        );
        assert_eq!(
            space.map(&mut ram, va(0x1008), b, RW_USER),
            Err(MapError::NotPageAligned(va(0x1008)))
        );
        let huge = RW_USER | PageTableFlags::HUGE;
        assert_eq!(
            space.map(&mut ram, va(0x2000), b, huge),
            Err(MapError::InvalidFlags(huge))
        );
        assert_eq!(
            space.map(&mut ram, va(KERNEL_BASE + 0x4000_0000), b, RW_USER),
            Err(MapError::UserFlagOnKernelAddress(va(
                KERNEL_BASE + 0x4000_0000
            )))
        );
        // USER_TOP's page is the guard page: not user space.
        assert_eq!(
            space.map(&mut ram, va(USER_TOP), b, RW_USER),
            Err(MapError::UserFlagOnKernelAddress(va(USER_TOP)))
        );
        assert_eq!(ram.allocated_frames(), before);
        assert_eq!(
            space.translate(&mut ram, va(0x1000)).map(|m| m.frame),
            Some(a)
        );
    }

    #[test]
    fn map_reports_out_of_memory() {
        // Room for the PML4 and two more tables only: the PT cannot be made.
        let (mut ram, mut space) = setup(3);
        let data = PhysFrame::from_number(0x900).unwrap();
        assert_eq!(
            space.map(&mut ram, va(0x1000), data, RW_USER),
            Err(MapError::OutOfMemory)
        );
        assert_eq!(space.translate(&mut ram, va(0x1000)), None);
        // The partial tables are reclaimed by destroy.
        space.destroy(&mut ram, |_, _| panic!("nothing was mapped"));
        assert_eq!(ram.allocated_frames(), 0);
    }

    #[test]
    fn update_flags_changes_permissions_and_returns_the_old_ones() {
        let (mut ram, mut space) = setup(64);
        let frame = ram.alloc_frame();
        space.map(&mut ram, va(0x5000), frame, RW_USER).unwrap();
        let read_only_cow =
            PageTableFlags::PRESENT | PageTableFlags::USER | PageTableFlags::COPY_ON_WRITE;
        assert_eq!(
            space.update_flags(&mut ram, va(0x5000), read_only_cow),
            Ok(RW_USER)
        );
        assert_eq!(
            space.translate(&mut ram, va(0x5000)).map(|m| m.flags),
            Some(read_only_cow)
        );
        assert_eq!(
            space.translate(&mut ram, va(0x5000)).map(|m| m.frame),
            Some(frame)
        );
        assert_eq!(
            space.update_flags(&mut ram, va(0x6000), RW_USER),
            Err(MapError::NotMapped(va(0x6000)))
        );
        assert_eq!(
            space.update_flags(&mut ram, va(0x5000), PageTableFlags::USER),
            Err(MapError::InvalidFlags(PageTableFlags::USER))
        );
    }

    /// Builds a kernel space whose window is mapped with 2 MiB pages the way
    /// the boot code does it (PML4 511 -> PDPT 510 -> PD of huge pages).
    fn boot_like_kernel_space(ram: &mut FakeRam) -> AddressSpace {
        let kernel = AddressSpace::new(ram).unwrap();
        let pdpt = ram.alloc_zeroed_frame().unwrap();
        let pd = ram.alloc_zeroed_frame().unwrap();
        let table_flags = PageTableFlags::PRESENT | PageTableFlags::WRITABLE;
        ram.table(kernel.root())[511].set(pdpt, table_flags);
        ram.table(pdpt)[510].set(pd, table_flags);
        for i in 0..512 {
            let frame = PhysFrame::from_number(i * 512).unwrap();
            ram.table(pd)[i as usize].set(frame, table_flags | PageTableFlags::HUGE);
        }
        kernel
    }

    #[test]
    fn huge_pages_translate_but_are_never_split() {
        let mut ram = FakeRam::new(64);
        let mut kernel = boot_like_kernel_space(&mut ram);
        let m = kernel
            .translate(&mut ram, va(KERNEL_BASE + 0x0030_5678))
            .unwrap();
        assert_eq!(m.frame, PhysFrame::from_number(0x305).unwrap());
        assert!(m.flags.contains(PageTableFlags::HUGE));
        assert_eq!(
            kernel.translate_addr(&mut ram, va(KERNEL_BASE + 0x1234)),
            Some(PhysAddr::new(0x1234))
        );
        let frame = ram.alloc_frame();
        let kernel_flags = PageTableFlags::PRESENT | PageTableFlags::WRITABLE;
        assert_eq!(
            kernel.map(&mut ram, va(KERNEL_BASE + 0x1000), frame, kernel_flags),
            Err(MapError::HugePage(va(KERNEL_BASE + 0x1000)))
        );
        assert_eq!(
            kernel.unmap(&mut ram, va(KERNEL_BASE + 0x1000)),
            Err(MapError::HugePage(va(KERNEL_BASE + 0x1000)))
        );
    }

    #[test]
    fn new_spaces_share_the_kernel_half_and_user_pages_stay_private() {
        let mut ram = FakeRam::new(64);
        let kernel = boot_like_kernel_space(&mut ram);
        let mut a = AddressSpace::new(&mut ram).unwrap();
        let mut b = AddressSpace::new(&mut ram).unwrap();
        a.copy_kernel_half_from(&mut ram, &kernel);
        b.copy_kernel_half_from(&mut ram, &kernel);
        let kernel_addr = va(KERNEL_BASE + 0x20_0000);
        assert_eq!(
            a.translate(&mut ram, kernel_addr),
            kernel.translate(&mut ram, kernel_addr)
        );
        assert!(b.translate(&mut ram, kernel_addr).is_some());

        let frame = ram.alloc_frame();
        a.map(&mut ram, va(0x1000), frame, RW_USER).unwrap();
        assert!(a.translate(&mut ram, va(0x1000)).is_some());
        assert_eq!(b.translate(&mut ram, va(0x1000)), None);

        // Destroying a frees its own tables but not the shared kernel ones.
        let before = ram.allocated_frames();
        a.destroy(&mut ram, |_, _| {});
        assert_eq!(ram.allocated_frames(), before - 4);
        assert!(b.translate(&mut ram, kernel_addr).is_some());
    }

    #[test]
    fn user_mappings_visits_every_page_in_order_and_tolerates_changes() {
        let (mut ram, mut space) = setup(128);
        let pages = [
            0x0,
            0x1000,
            0x20_0000,
            0x3fff_f000,
            0x80_0000_0000,
            USER_TOP - PAGE_SIZE,
        ];
        for &page in pages.iter().rev() {
            let frame = ram.alloc_frame();
            space.map(&mut ram, va(page), frame, RW_USER).unwrap();
        }
        let mut seen = Vec::new();
        let mut cursor = space.user_mappings();
        while let Some(m) = cursor.next(&mut ram) {
            seen.push(m.page.as_u64());
            // Change the tables mid-walk, as fork does for copy-on-write.
            let cow =
                PageTableFlags::PRESENT | PageTableFlags::USER | PageTableFlags::COPY_ON_WRITE;
            space.update_flags(&mut ram, m.page, cow).unwrap();
        }
        assert_eq!(seen, pages);
        assert_eq!(cursor.next(&mut ram), None);
        let mut from = space.user_mappings_from(va(0x3fff_f123));
        let rest: Vec<u64> = core::iter::from_fn(|| from.next(&mut ram))
            .map(|m| m.page.as_u64())
            .collect();
        assert_eq!(
            rest,
            pages[3..],
            "a cursor from an address starts at its page"
        );
        let mut beyond = space.user_mappings_from(va(0xffff_8000_0000_0000));
        assert_eq!(beyond.next(&mut ram), None, "nothing above user space");
        for &page in &pages {
            assert!(
                space
                    .translate(&mut ram, va(page))
                    .unwrap()
                    .flags
                    .contains(PageTableFlags::COPY_ON_WRITE)
            );
        }
    }

    #[test]
    fn free_user_tables_reports_each_mapping_and_frees_every_table() {
        let (mut ram, mut space) = setup(128);
        let baseline = ram.allocated_frames(); // just the PML4
        let mut mapped = Vec::new();
        for page in [0x1000, 0x2000, 0x40_0000, 0x7f00_0000_0000] {
            let frame = ram.alloc_frame();
            space.map(&mut ram, va(page), frame, RW_USER).unwrap();
            mapped.push(Mapping {
                page: va(page),
                frame,
                flags: RW_USER,
            });
        }
        let mut reported = Vec::new();
        space.free_user_tables(&mut ram, |ram, m| {
            ram.free_frame(m.frame);
            reported.push(m);
        });
        assert_eq!(reported, mapped);
        assert_eq!(ram.allocated_frames(), baseline);
        assert!(ram.table(space.root()).is_empty());
        // The space is reusable (exec) ...
        let frame = ram.alloc_frame();
        space.map(&mut ram, va(0x1000), frame, RW_USER).unwrap();
        // ... and destroy gives back everything, the PML4 included.
        space.destroy(&mut ram, |ram, m| ram.free_frame(m.frame));
        assert_eq!(ram.allocated_frames(), 0);
    }

    #[test]
    fn effective_access_needs_permission_at_every_level() {
        let (mut ram, mut space) = setup(64);
        let frame = ram.alloc_frame();
        space.map(&mut ram, va(0x1000), frame, RW_USER).unwrap();
        assert_eq!(
            space
                .effective_access(&mut ram, va(0x1000))
                .map(|m| m.flags),
            Some(RW_USER)
        );
        // Take WRITABLE away at the PDPT level only: the leaf still says
        // writable, but the MMU (and effective_access) says no.
        let pml4_entry = ram.table(space.root())[0];
        let pdpt = pml4_entry.frame();
        let mut pdpt_entry = ram.table(pdpt)[0];
        pdpt_entry.set_flags(PageTableFlags::PRESENT | PageTableFlags::USER);
        ram.table(pdpt)[0] = pdpt_entry;
        assert_eq!(
            space.translate(&mut ram, va(0x1000)).map(|m| m.flags),
            Some(RW_USER)
        );
        assert_eq!(
            space
                .effective_access(&mut ram, va(0x1000))
                .map(|m| m.flags),
            Some(PageTableFlags::PRESENT | PageTableFlags::USER)
        );
    }

    #[test]
    fn user_pages_are_refused_under_a_kernel_only_table() {
        // Like the boot identity map before it is removed: a PML4 entry in
        // the user half without USER.
        let (mut ram, mut space) = setup(64);
        let frame = ram.alloc_frame();
        let pdpt = ram.alloc_zeroed_frame().unwrap();
        let kernel_flags = PageTableFlags::PRESENT | PageTableFlags::WRITABLE;
        ram.table(space.root())[0].set(pdpt, kernel_flags);
        assert_eq!(
            space.map(&mut ram, va(0x2000), frame, RW_USER),
            Err(MapError::KernelOnlyTable(va(0x2000)))
        );
    }

    #[test]
    fn copy_frame_copies_every_byte_and_refuses_unreachable_frames() {
        let mut ram = FakeRam::new(4);
        let from = ram.alloc_frame();
        let to = ram.alloc_zeroed_frame().unwrap();
        let pattern: Vec<u8> = (0..4096u32).map(|i| (i * 7 % 251) as u8).collect();
        ram.frame_bytes(from).unwrap().copy_from_slice(&pattern);
        assert_eq!(ram.copy_frame(from, to), Ok(()));
        assert_eq!(&ram.frame_bytes(to).unwrap()[..], &pattern[..]);
        let outside = PhysFrame::from_number(0x9_0000).unwrap();
        assert_eq!(ram.copy_frame(outside, to), Err(outside));
        assert_eq!(ram.copy_frame(from, outside), Err(outside));
    }

    proptest::proptest! {
        /// Random map/unmap sequences agree with a simple model (a map from
        /// page to frame): translate, the user-mapping cursor and the final
        /// teardown all see exactly the model's pages, and every table frame
        /// comes back.
        #[test]
        fn random_map_unmap_agrees_with_a_model(
            ops in proptest::collection::vec((proptest::bool::ANY, 0usize..24), 0..200),
        ) {
            use std::collections::BTreeMap;
            // 24 candidate pages spread over all four levels of the tree.
            let candidate = |i: usize| {
                let p4 = (i % 3) as u64 * 100;
                let p3 = (i % 2) as u64 * 7;
                let p2 = (i / 6) as u64;
                let p1 = (i * 37 % 512) as u64;
                va((p4 << 39) | (p3 << 30) | (p2 << 21) | (p1 << 12))
            };
            let (mut ram, mut space) = setup(256);
            let mut model: BTreeMap<VirtAddr, PhysFrame> = BTreeMap::new();
            for (map, i) in ops {
                let page = candidate(i);
                if map {
                    let frame = ram.alloc_frame();
                    let result = space.map(&mut ram, page, frame, RW_USER);
                    match model.get(&page) {
                        Some(&old) => {
                            proptest::prop_assert_eq!(result, Err(MapError::AlreadyMapped { page, frame: old }));
                            ram.free_frame(frame);
                        }
                        None => {
                            proptest::prop_assert_eq!(result, Ok(()));
                            model.insert(page, frame);
                        }
                    }
                } else {
                    match model.remove(&page) {
                        Some(frame) => {
                            proptest::prop_assert_eq!(space.unmap(&mut ram, page).map(|m| m.frame), Ok(frame));
                            ram.free_frame(frame);
                        }
                        None => proptest::prop_assert_eq!(space.unmap(&mut ram, page), Err(MapError::NotMapped(page))),
                    }
                }
            }
            for i in 0..24 {
                let page = candidate(i);
                proptest::prop_assert_eq!(space.translate(&mut ram, page).map(|m| m.frame), model.get(&page).copied());
            }
            let mut listed = Vec::new();
            let mut cursor = space.user_mappings();
            while let Some(m) = cursor.next(&mut ram) {
                listed.push((m.page, m.frame));
            }
            let expected: Vec<_> = model.iter().map(|(&p, &f)| (p, f)).collect();
            proptest::prop_assert_eq!(&listed, &expected);
            let mut reported = Vec::new();
            space.destroy(&mut ram, |ram, m| {
                ram.free_frame(m.frame);
                reported.push((m.page, m.frame));
            });
            proptest::prop_assert_eq!(&reported, &expected);
            proptest::prop_assert_eq!(ram.allocated_frames(), 0);
        }
    }
}
