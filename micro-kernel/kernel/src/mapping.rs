//! Map, grant and unmap on the page tables and the mapping database.
//!
//! This is the part of `map.rs` that touches only memory state: the mapping
//! database (`mapdb.rs`), the page tables of the address spaces, and
//! physical memory. It knows nothing of threads, receive windows or
//! registers, and it reaches the page tables through two small interfaces —
//! [`Spaces`] (which space has which tables, and the TLB) and
//! `common::mm::FrameSource` (physical memory, and frames for new page
//! tables) — so it runs unchanged in the kernel and in host unit tests (on
//! `FakeRam`).
//!
//! ## Check, then commit
//!
//! A map or grant of many pages must not stop halfway: an IPC that fails
//! reports the error to both sides, and they must be able to trust that
//! nothing happened. So, like seL4's fast path, it is done in two stages:
//!
//! 1. [`Memory::check`] finds out everything that could go wrong — and
//!    changes nothing. It looks up every source page's node, checks that no
//!    destination holds a mapping whose removal would take a source page
//!    with it, counts the free mapping-database nodes against the number
//!    the commit will allocate, and counts the page tables the destination
//!    pages still need and *reserves* them: takes them from the frame
//!    allocator into a [`PageTableReservation`]. Its result, a [`MapPlan`],
//!    holds all of that.
//! 2. [`Memory::commit`] carries the plan out and cannot fail: it returns
//!    its result, not a `Result`. Its page tables come from the
//!    reservation; whatever is left over goes back to the allocator.
//!
//! Between the two is the *point of no return*: the caller may still drop
//! the plan (after giving its reservation back with [`Memory::cancel`]),
//! but once `commit` starts, it finishes.
//!
//! [`Memory::remove_page`], [`Memory::unmap`] and [`Memory::unmap_all`]
//! take mappings away; they never allocate, so they cannot fail either.

use crate::mapdb::{MapDb, NONE};
use crate::quota::{Pool, may_take};
use crate::slot::SpaceSlot;
use common::abi::micro::{Error, MAX_MAP_PAGES, quota, rights, unmap_flags};
use common::mm::paging::PageTable;
use common::mm::{
    AddressSpace, FrameSource, PAGE_SIZE, PageTableFlags, PhysAddr, PhysFrame, PhysMemory, UserRange, VirtAddr,
};

/// The address spaces, as map, grant and unmap see them.
pub trait Spaces {
    /// The page tables of live space `space`.
    fn tables(&mut self, space: SpaceSlot) -> &mut AddressSpace;
    /// A page-table entry of `space` for `address` was just cleared or lost
    /// rights: drop the TLB's copy if `space` is the one loaded.
    fn flush_tlb(&mut self, space: SpaceSlot, address: u64);
    /// Whether `space` is trusted with the kernel's reserves
    /// (`privilege::RESERVES`): not held to the quota (`quota.rs`).
    fn trusted(&self, space: SpaceSlot) -> bool;
    /// How many page-table frames `space`'s user half has grown: what its
    /// page-table quota counts. A commit adds the tables it builds.
    fn table_frames(&mut self, space: SpaceSlot) -> &mut u32;
}

/// The memory state map, grant and unmap work on.
pub struct Memory<'a, S, E> {
    /// Who mapped which frame to whom.
    pub mapdb: &'a mut MapDb,
    /// Every address space's page tables.
    pub spaces: &'a mut S,
    /// Physical memory, and the frames new page tables come from.
    pub env: E,
    /// How many frames `env` had free for page tables when this view was
    /// made (what the page-table quota weighs a request against).
    pub free_frames: u32,
}

/// A map or grant of `count` pages, with the receiver's side resolved: the
/// pages `source..` of `source_space` go to `destination..` of
/// `target_space`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MapRequest {
    /// The sender's space.
    pub source_space: SpaceSlot,
    /// The first source page (page-aligned, a user address).
    pub source: u64,
    /// The receiver's space.
    pub target_space: SpaceSlot,
    /// The first destination page (page-aligned, a user address).
    pub destination: u64,
    /// Number of pages, `1..=MAX_MAP_PAGES`.
    pub count: u64,
    /// `rights::*` to pass on (intersected with the sender's).
    pub rights: u64,
    /// Grant (move the pages) instead of map (share them).
    pub grant: bool,
}

/// Pages per map item, as an array length.
const MAX_PAGES: usize = MAX_MAP_PAGES as usize;

// `MapPlan::occupied` has one bit per page.
const _: () = assert!(MAX_PAGES <= 64);

/// Bytes covered by one page table at level 1, 2 and 3 (2 MiB, 1 GiB,
/// 512 GiB): a new table at that level is needed for each such region.
const TABLE_COVERS: [u64; 3] = [512 * PAGE_SIZE, 512 * 512 * PAGE_SIZE, 512 * 512 * 512 * PAGE_SIZE];

/// The most page tables one map item can need. Its pages span at most
/// `MAX_MAP_PAGES` × 4 KiB = 256 KiB, less than the 2 MiB one level-1 table
/// covers, so they touch at most two regions of each table level: two
/// tables at each of levels 1, 2 and 3.
pub const MAX_NEW_TABLES: usize = 6;

const _: () = assert!(MAX_MAP_PAGES * PAGE_SIZE <= TABLE_COVERS[0]);

/// Page-table frames taken from the frame allocator before a commit, so
/// that the commit cannot run out of memory halfway. Each is zeroed (an
/// empty table). What the commit does not use goes back
/// ([`PageTableReservation::release`]).
///
/// Invariant: `frames[..count]` are frames this reservation owns: taken
/// from the allocator, zeroed, and in no page table.
pub struct PageTableReservation {
    frames: [PhysFrame; MAX_NEW_TABLES],
    count: usize,
}

/// Fills the unused places of a reservation's array.
const NO_FRAME: PhysFrame = PhysFrame::containing_address(PhysAddr::new(0));

impl PageTableReservation {
    /// A reservation of nothing.
    pub const fn empty() -> PageTableReservation {
        PageTableReservation { frames: [NO_FRAME; MAX_NEW_TABLES], count: 0 }
    }

    /// Takes `wanted` zeroed frames from `source`: all of them, or —
    /// giving back those it got — none. (`None` too for more than
    /// [`MAX_NEW_TABLES`], which no map item needs.)
    pub fn take(source: &mut impl FrameSource, wanted: usize) -> Option<PageTableReservation> {
        if wanted > MAX_NEW_TABLES {
            return None;
        }
        let mut reservation = PageTableReservation::empty();
        while reservation.count < wanted {
            let Some(frame) = source.alloc_zeroed_frame() else {
                reservation.release(source);
                return None;
            };
            reservation.frames[reservation.count] = frame;
            reservation.count += 1;
        }
        Some(reservation)
    }

    /// Gives every frame left back to `source`.
    pub fn release(mut self, source: &mut impl FrameSource) {
        while self.count > 0 {
            self.count -= 1;
            source.free_frame(self.frames[self.count]);
        }
    }
}

/// Physical memory whose new page tables come from a reservation: what
/// `AddressSpace::map` is given in a commit, so it cannot run out.
struct Reserved<'a, M> {
    memory: &'a mut M,
    tables: &'a mut PageTableReservation,
}

impl<M: PhysMemory> PhysMemory for Reserved<'_, M> {
    fn table(&mut self, frame: PhysFrame) -> &mut PageTable {
        self.memory.table(frame)
    }

    fn frame_bytes(&mut self, frame: PhysFrame) -> Option<&mut [u8; PAGE_SIZE as usize]> {
        self.memory.frame_bytes(frame)
    }
}

impl<M: PhysMemory> FrameSource for Reserved<'_, M> {
    /// The next reserved frame (zeroed when it was reserved, untouched since).
    fn alloc_zeroed_frame(&mut self) -> Option<PhysFrame> {
        let tables = &mut *self.tables;
        tables.count = tables.count.checked_sub(1)?;
        Some(tables.frames[tables.count])
    }

    /// Takes a frame back into the reservation (`map` never frees one).
    fn free_frame(&mut self, frame: PhysFrame) {
        let tables = &mut *self.tables;
        tables.frames[tables.count] = frame;
        tables.count += 1;
    }
}

/// A checked map request: everything the commit needs, found and reserved.
#[must_use = "a plan holds reserved page tables: commit it or cancel it"]
pub struct MapPlan {
    request: MapRequest,
    /// The source pages' mapping-database nodes, `request.count` of them.
    sources: [u32; MAX_PAGES],
    /// Bit `i` set: destination page `i` is mapped now, and that mapping
    /// (with everything derived from it) goes first.
    occupied: u64,
    /// The page tables the destination pages still need.
    tables: PageTableReservation,
    /// A grant of pages to where they already are: nothing to do.
    in_place: bool,
}

/// The page-table flags for `rights`.
pub fn flags_for(rights: u8) -> PageTableFlags {
    let mut flags = PageTableFlags::USER;
    if rights as u64 & rights::WRITE != 0 {
        flags |= PageTableFlags::WRITABLE;
    }
    if rights as u64 & rights::EXECUTE == 0 {
        flags |= PageTableFlags::NO_EXECUTE;
    }
    flags
}

/// What stands at the user page `page` of `tables` now: the frame mapped
/// there (if any), and how many of the tables on the way to its entry do
/// not exist yet (0..=3) — the tables `AddressSpace::map` would create.
/// `Err(BadAddress)` if `map` would refuse the page whatever happens (a
/// huge page or a kernel-only table on the way: never in the user half of
/// a space this kernel built, but the commit relies on it, so it is checked).
fn probe(
    tables: &AddressSpace,
    memory: &mut impl PhysMemory,
    page: VirtAddr,
) -> Result<(Option<PhysFrame>, usize), Error> {
    let mut table = tables.root();
    for level in [4u8, 3, 2] {
        let entry = memory.table(table)[page.table_index(level)];
        if !entry.is_present() {
            return Ok((None, level as usize - 1));
        }
        let huge = level != 4 && entry.flags().contains(PageTableFlags::HUGE);
        if huge || !entry.flags().contains(PageTableFlags::USER) {
            return Err(Error::BadAddress);
        }
        table = entry.frame();
    }
    let leaf = memory.table(table)[page.p1_index()];
    Ok((leaf.is_present().then(|| leaf.frame()), 0))
}

impl<S: Spaces, E: FrameSource> Memory<'_, S, E> {
    /// The mapping-database node behind `address` in `space`, if any.
    pub fn node_at(&mut self, space: SpaceSlot, address: u64) -> Option<u32> {
        let va = VirtAddr::try_new(address).ok()?;
        let mapping = self.spaces.tables(space).translate(&mut self.env, va)?;
        self.mapdb.find(mapping.frame.number() as u32, space, address / PAGE_SIZE)
    }

    /// Checks a map request and reserves what its commit will need,
    /// changing nothing else. On error nothing at all has changed.
    ///
    /// Errors: `InvalidArgument` (a count out of range, or a destination
    /// page holding a source page or a mapping one derives from — which
    /// includes overlapping ranges in one space), `BadAddress` (unaligned,
    /// or not user memory), `NotMappable` (a source page without a node, a
    /// tree's root to be granted, or a page to be mapped on that is
    /// `MAX_MAP_DEPTH` deep already), `OutOfResources` (too few free nodes,
    /// or no memory for the page tables).
    pub fn check(&mut self, request: &MapRequest) -> Result<MapPlan, Error> {
        let MapRequest { source_space, source, target_space, destination, count, grant, .. } = *request;
        if count == 0 || count > MAX_MAP_PAGES {
            return Err(Error::InvalidArgument);
        }
        let aligned = source.is_multiple_of(PAGE_SIZE) && destination.is_multiple_of(PAGE_SIZE);
        let bytes = count * PAGE_SIZE;
        if !aligned || UserRange::new(source, bytes).is_err() || UserRange::new(destination, bytes).is_err() {
            return Err(Error::BadAddress);
        }
        // Mapping-database nodes: a map adds one per page, charged to the
        // receiving space (`quota.rs`); a grant moves the nodes it has and
        // adds none. (Nodes the commit frees on the way are not counted:
        // they come too late to be relied on.)
        let trusted = self.spaces.trusted(target_space);
        if !grant {
            let nodes =
                Pool { free: self.mapdb.free_nodes(), reserved: quota::RESERVED_MAPPINGS, per_space: quota::MAPPINGS };
            if !may_take(nodes, trusted, self.mapdb.nodes_of(target_space), count as u32) {
                return Err(Error::OutOfResources);
            }
        }

        // The source pages' nodes.
        let mut sources = [NONE; MAX_PAGES];
        for (i, slot) in sources.iter_mut().enumerate().take(count as usize) {
            let node = self.node_at(source_space, source + i as u64 * PAGE_SIZE).ok_or(Error::NotMappable)?;
            // The roots of the trees stay with the root task: it lends its
            // memory by mapping, and granting a root away would leave a tree
            // without an owner that can take it back.
            if grant && self.mapdb.node(node).parent == NONE {
                return Err(Error::NotMappable);
            }
            // Mappings nest at most `MAX_MAP_DEPTH` deep, which bounds the
            // walk up from each source page below. (A grant moves a node
            // and nests nothing.)
            if !grant && !self.mapdb.may_map_on(node) {
                return Err(Error::NotMappable);
            }
            *slot = node;
        }
        let in_place = grant && source_space == target_space && source == destination;
        if in_place {
            let tables = PageTableReservation::empty();
            return Ok(MapPlan { request: *request, sources, occupied: 0, tables, in_place });
        }

        // The destination pages: what they hold now, and which page tables
        // they still need. A table at level `l` covers one region of
        // `TABLE_COVERS[l - 1]` bytes; the pages of a region share it, so a
        // missing table is counted once, at the first page of its region
        // in the item. The missing tables on a page's way are always the
        // lowest levels (no level-1 table without its level-2 table), and
        // so are the regions that start at a page: a page counts the
        // fewer of the two.
        let mut occupied = 0u64;
        let mut olds = [NONE; MAX_PAGES];
        let mut old_count = 0;
        let mut tables_needed = 0;
        for i in 0..count {
            let address = destination + i * PAGE_SIZE;
            let tables = self.spaces.tables(target_space);
            let (frame, missing) = probe(tables, &mut self.env, VirtAddr::new(address))?;
            let starting_here =
                if i == 0 { 3 } else { TABLE_COVERS.iter().filter(|&&size| address.is_multiple_of(size)).count() };
            tables_needed += missing.min(starting_here);
            if let Some(frame) = frame {
                occupied |= 1 << i;
                if let Some(old) = self.mapdb.find(frame.number() as u32, target_space, address / PAGE_SIZE) {
                    olds[old_count] = old;
                    old_count += 1;
                }
            }
        }

        // What a destination holds is removed with everything derived from
        // it. That must not take any source page: no old mapping may be a
        // source page's node or one of its ancestors. (This also refuses
        // overlapping ranges in one space, where a destination page *is* a
        // source page.) Each walk up takes at most `MAX_MAP_DEPTH` steps.
        if old_count > 0 {
            for &node in &sources[..count as usize] {
                let mut at = node;
                while at != NONE {
                    if olds[..old_count].contains(&at) {
                        return Err(Error::InvalidArgument);
                    }
                    at = self.mapdb.node(at).parent;
                }
            }
        }

        // Last, as it is the one check that takes something: the tables,
        // charged to the receiving space.
        let table_pool =
            Pool { free: self.free_frames, reserved: quota::RESERVED_PAGE_TABLES, per_space: quota::PAGE_TABLES };
        let held = *self.spaces.table_frames(target_space);
        if !may_take(table_pool, trusted, held, tables_needed as u32) {
            return Err(Error::OutOfResources);
        }
        let tables = PageTableReservation::take(&mut self.env, tables_needed).ok_or(Error::OutOfResources)?;
        Ok(MapPlan { request: *request, sources, occupied, tables, in_place })
    }

    /// Drops a checked plan without carrying it out, giving its reserved
    /// page tables back.
    pub fn cancel(&mut self, plan: MapPlan) {
        plan.tables.release(&mut self.env);
    }

    /// Maps (or grants) the pages of a checked plan. Returns the receiver's
    /// view of the item: `(first page | rights of the first page, count)`.
    ///
    /// Nothing here can fail, because `check` made sure of everything the
    /// steps below rely on, and nothing between the two changed it:
    /// - every source node exists: `check` found it, and no removal below
    ///   can take it away (no destination holds a source node or one of
    ///   its ancestors);
    /// - a map adds one node per page, and `check` found that many free (a
    ///   grant adds none);
    /// - each destination page is empty when it is mapped (whatever it held
    ///   was just removed), lies in user memory under user tables and no
    ///   huge page, and every page table it needs is in the reservation.
    pub fn commit(&mut self, plan: MapPlan) -> (u64, u64) {
        let MapPlan { request, sources, occupied, mut tables, in_place } = plan;
        let (source_space, target_space) = (request.source_space, request.target_space);
        if in_place {
            // Granting pages to where they already are changes nothing.
            let held = self.mapdb.node(sources[0]).rights;
            return (request.destination | held as u64, request.count);
        }
        let reserved_tables = tables.count;
        let mut first_rights = 0;
        for i in 0..request.count {
            let source = request.source + i * PAGE_SIZE;
            let destination = request.destination + i * PAGE_SIZE;
            let node = sources[i as usize];
            if occupied & (1 << i) != 0 {
                self.remove_page(target_space, destination);
            }
            let entry = *self.mapdb.node(node);
            let given = entry.rights & (request.rights | rights::READ) as u8;
            if i == 0 {
                first_rights = given as u64;
            }
            if request.grant {
                self.clear_pte(source_space, source);
                self.mapdb.move_to(node, target_space, destination / PAGE_SIZE, given);
            } else {
                self.mapdb
                    .add_child(node, target_space, destination / PAGE_SIZE, given)
                    .expect("check counted the free mapping-database nodes");
            }
            let mut env = Reserved { memory: &mut self.env, tables: &mut tables };
            self.spaces
                .tables(target_space)
                .map(&mut env, VirtAddr::new(destination), entry.physical_frame(), flags_for(given))
                .expect("check reserved the page tables; the page is empty and user memory");
        }
        *self.spaces.table_frames(target_space) += (reserved_tables - tables.count) as u32;
        tables.release(&mut self.env);
        (request.destination | first_rights, request.count)
    }

    /// Clears the page-table entry of `address` in `space` (flushing the
    /// TLB if that space is loaded). Does not touch the mapping database.
    pub fn clear_pte(&mut self, space: SpaceSlot, address: u64) {
        let va = VirtAddr::new(address);
        if self.spaces.tables(space).unmap(&mut self.env, va).is_ok() {
            self.spaces.flush_tlb(space, address);
        }
    }

    /// Removes whatever `space` has at `address`: everything derived from
    /// it, its database node (unless it is a tree's root, which stays with
    /// the root task), and its page-table entry.
    pub fn remove_page(&mut self, space: SpaceSlot, address: u64) {
        if let Some(node) = self.node_at(space, address) {
            if self.mapdb.node(node).parent == NONE {
                self.revoke(node);
            } else {
                self.remove_subtree(node);
            }
        }
        self.clear_pte(space, address);
    }

    /// Removes every mapping derived from `node` (database and page tables).
    fn revoke(&mut self, node: u32) {
        let (spaces, env) = (&mut *self.spaces, &mut self.env);
        self.mapdb.revoke_descendants(node, |space, vpage| {
            clear_entry(spaces, env, space, vpage * PAGE_SIZE);
            true
        });
    }

    /// Removes mapping `node` and every mapping derived from it (database
    /// and page tables).
    fn remove_subtree(&mut self, node: u32) {
        let (spaces, env) = (&mut *self.spaces, &mut self.env);
        self.mapdb.remove_subtree(node, |space, vpage| clear_entry(spaces, env, space, vpage * PAGE_SIZE));
    }

    /// Takes the write right away from every mapping derived from `node`:
    /// they stay, read-only (what a copy-on-write pager needs at `fork`).
    fn revoke_write(&mut self, node: u32) {
        let mut at = node;
        while let Some(next) = self.mapdb.next_in_subtree(node, at) {
            at = next;
            self.downgrade(at);
        }
    }

    /// Removes the write right from mapping `node` (database and page table).
    fn downgrade(&mut self, node: u32) {
        let entry = *self.mapdb.node(node);
        let rights = entry.rights & !(rights::WRITE as u8);
        self.mapdb.set_rights(node, rights);
        let address = entry.vpage * PAGE_SIZE;
        let flags = flags_for(rights) | PageTableFlags::PRESENT;
        if self.spaces.tables(entry.space).update_flags(&mut self.env, VirtAddr::new(address), flags).is_ok() {
            self.spaces.flush_tlb(entry.space, address);
        }
    }

    /// Unmaps `count` pages from `page` of `space` with `unmap_flags`
    /// `flags` (the arguments are checked by the caller): everything
    /// derived from them, and with `SELF` the pages themselves.
    pub fn unmap(&mut self, space: SpaceSlot, page: u64, count: u64, flags: u64) {
        for i in 0..count {
            let address = page + i * PAGE_SIZE;
            let Some(node) = self.node_at(space, address) else {
                continue;
            };
            // The root task's window mappings are the roots of the trees: it
            // may lend its memory out and take it back, but not throw it away.
            let own_too = flags & unmap_flags::SELF != 0 && self.mapdb.node(node).parent != NONE;
            if flags & unmap_flags::WRITE_ONLY != 0 {
                self.revoke_write(node);
                if own_too {
                    self.downgrade(node);
                }
            } else if own_too {
                self.remove_subtree(node);
            } else {
                self.revoke(node);
            }
        }
    }

    /// Removes every mapping of a space that is being destroyed (and every
    /// mapping derived from them).
    pub fn unmap_all(&mut self, space: SpaceSlot) {
        let mut cursor = self.spaces.tables(space).user_mappings();
        while let Some(mapping) = cursor.next(&mut self.env) {
            self.remove_page(space, mapping.page.as_u64());
        }
    }
}

/// Clears the page-table entry of `address` in `space`, flushing the TLB
/// if needed (for callers that hold the database borrowed).
fn clear_entry<S: Spaces>(spaces: &mut S, memory: &mut impl PhysMemory, space: SpaceSlot, address: u64) {
    if spaces.tables(space).unmap(memory, VirtAddr::new(address)).is_ok() {
        spaces.flush_tlb(space, address);
    }
}

#[cfg(test)]
mod tests {
    //! Map and grant on fake physical memory: what they do when they
    //! succeed, and that when they fail — above all for want of memory —
    //! both address spaces and the mapping database are exactly as before.

    use super::*;
    use crate::mapdb::{MAX_MAP_DEPTH, MapNode};
    use common::mm::fake_ram::FakeRam;
    use common::mm::paging::PageTable;
    use common::mm::{PhysMemory, USER_TOP};
    use std::boxed::Box;
    use std::vec::Vec;

    const KIB4: u64 = PAGE_SIZE;
    /// Bytes one level-1 page table covers.
    const MIB2: u64 = 512 * KIB4;
    /// Where space 0 (playing the root task) holds the pages it hands out.
    const WINDOW: u64 = 0x100_0000_0000;
    /// The last page below a 2 MiB boundary: the page after it needs
    /// another page table.
    const BEFORE_BOUNDARY: u64 = MIB2 - KIB4;

    /// `FakeRam` lent to a [`Memory`] as its environment.
    struct Ram<'a>(&'a mut FakeRam);

    impl PhysMemory for Ram<'_> {
        fn table(&mut self, frame: PhysFrame) -> &mut PageTable {
            self.0.table(frame)
        }
        fn frame_bytes(&mut self, frame: PhysFrame) -> Option<&mut [u8; 4096]> {
            self.0.frame_bytes(frame)
        }
    }

    impl FrameSource for Ram<'_> {
        fn alloc_zeroed_frame(&mut self) -> Option<PhysFrame> {
            self.0.alloc_zeroed_frame()
        }
        fn free_frame(&mut self, frame: PhysFrame) {
            self.0.free_frame(frame)
        }
    }

    /// Page tables per slot, and a record of every TLB flush asked for.
    struct TestSpaces {
        tables: Vec<AddressSpace>,
        flushed: Vec<(SpaceSlot, u64)>,
        /// Per space: trusted with the reserves (every space, unless a test
        /// says otherwise).
        trusted: Vec<bool>,
        /// Per space: page-table frames charged.
        table_frames: Vec<u32>,
    }

    impl Spaces for TestSpaces {
        fn tables(&mut self, space: SpaceSlot) -> &mut AddressSpace {
            &mut self.tables[space.index()]
        }
        fn flush_tlb(&mut self, space: SpaceSlot, address: u64) {
            self.flushed.push((space, address));
        }
        fn trusted(&self, space: SpaceSlot) -> bool {
            self.trusted[space.index()]
        }
        fn table_frames(&mut self, space: SpaceSlot) -> &mut u32 {
            &mut self.table_frames[space.index()]
        }
    }

    /// Everything map and grant may change.
    #[derive(Debug, PartialEq)]
    struct Snapshot {
        /// Per space: every present entry of every user-half table, as
        /// `(table, index, raw entry)`.
        entries: Vec<Vec<(PhysFrame, usize, u64)>>,
        /// Every node of the mapping database.
        nodes: Vec<(u32, MapNode)>,
        used_nodes: u32,
        allocated_frames: usize,
    }

    struct World {
        ram: FakeRam,
        spaces: TestSpaces,
        db: Box<MapDb>,
    }

    /// Space slot `n`.
    const fn s(n: u16) -> SpaceSlot {
        SpaceSlot::new(n)
    }

    /// Runs `test` on a world of `spaces` empty address spaces in `frames`
    /// frames of fake RAM, on a thread with room for the 5 MiB database.
    fn with_world(spaces: usize, frames: usize, test: impl FnOnce(&mut World) + Send + 'static) {
        std::thread::Builder::new()
            .stack_size(64 << 20)
            .spawn(move || {
                let mut ram = FakeRam::new(frames);
                let tables = (0..spaces).map(|_| AddressSpace::new(&mut ram).unwrap()).collect();
                let spaces = TestSpaces {
                    tables,
                    flushed: Vec::new(),
                    trusted: vec![true; spaces],
                    table_frames: vec![0; spaces],
                };
                let mut world = World { ram, spaces, db: Box::new(MapDb::new()) };
                test(&mut world);
            })
            .unwrap()
            .join()
            .unwrap();
    }

    impl World {
        fn memory(&mut self) -> Memory<'_, TestSpaces, Ram<'_>> {
            let free_frames = self.ram.allocator().free_count() as u32;
            Memory { mapdb: &mut self.db, spaces: &mut self.spaces, env: Ram(&mut self.ram), free_frames }
        }

        /// Gives space 0 `count` fresh pages from [`WINDOW`] as roots of the
        /// database, the way the kernel gives the root task its memory.
        fn give_root_pages(&mut self, count: u64) -> Vec<PhysFrame> {
            (0..count)
                .map(|i| {
                    let frame = self.ram.alloc_frame();
                    let address = WINDOW + i * KIB4;
                    let flags = flags_for(rights::ALL as u8);
                    self.spaces.tables[0].map(&mut self.ram, VirtAddr::new(address), frame, flags).unwrap();
                    self.db.add_root(frame.number() as u32, s(0), address / KIB4, rights::ALL as u8).unwrap();
                    frame
                })
                .collect()
        }

        /// Checks and commits a map or grant of `count` pages.
        fn pass(
            &mut self,
            from: (SpaceSlot, u64),
            to: (SpaceSlot, u64),
            count: u64,
            grant: bool,
        ) -> Result<(u64, u64), Error> {
            let request = MapRequest {
                source_space: from.0,
                source: from.1,
                target_space: to.0,
                destination: to.1,
                count,
                rights: rights::ALL,
                grant,
            };
            let mut memory = self.memory();
            let plan = memory.check(&request)?;
            Ok(memory.commit(plan))
        }

        /// The frame `space` maps at `address`, if any.
        fn frame_at(&mut self, space: SpaceSlot, address: u64) -> Option<PhysFrame> {
            self.spaces.tables[space.index()].translate(&mut self.ram, VirtAddr::new(address)).map(|m| m.frame)
        }

        /// Takes every free frame of the fake RAM; returns them.
        fn exhaust_ram(&mut self) -> Vec<PhysFrame> {
            core::iter::from_fn(|| self.ram.allocator().alloc()).collect()
        }

        fn snapshot(&mut self) -> Snapshot {
            let roots: Vec<PhysFrame> = self.spaces.tables.iter().map(|t| t.root()).collect();
            let entries = roots.into_iter().map(|root| table_entries(&mut self.ram, root, 4)).collect();
            Snapshot {
                entries,
                nodes: self.db.nodes_in_use(),
                used_nodes: self.db.used,
                allocated_frames: self.ram.allocated_frames(),
            }
        }
    }

    /// Every present entry of the level-`level` table `table` and of the
    /// tables below it (user half only).
    fn table_entries(ram: &mut FakeRam, table: PhysFrame, level: u8) -> Vec<(PhysFrame, usize, u64)> {
        let mut found = Vec::new();
        let indices = if level == 4 { 0..256 } else { 0..512 };
        for index in indices {
            let entry = ram.table(table)[index];
            if entry.is_present() {
                found.push((table, index, entry.raw()));
                if level > 1 {
                    found.extend(table_entries(ram, entry.frame(), level - 1));
                }
            }
        }
        found
    }

    /// Asserts that `refused` fails with `error` and changes nothing at all.
    fn assert_refused_without_change(
        world: &mut World,
        error: Error,
        refused: impl FnOnce(&mut World) -> Result<(u64, u64), Error>,
    ) {
        let before = world.snapshot();
        world.spaces.flushed.clear();
        assert_eq!(refused(world), Err(error));
        let after = world.snapshot();
        assert_eq!(after.used_nodes, before.used_nodes, "mapping-database nodes in use");
        assert_eq!(after.allocated_frames, before.allocated_frames, "frames allocated (page tables)");
        assert_eq!(after.nodes, before.nodes, "the mapping database changed");
        assert_eq!(after.entries, before.entries, "a page table changed");
        assert_eq!(world.spaces.flushed, [], "a TLB entry was flushed, so a page-table entry changed");
    }

    #[test]
    fn a_map_runs_out_of_page_tables_and_changes_nothing() {
        with_world(2, 64, |w| {
            let frames = w.give_root_pages(3);
            // Space 1 has page 0 just below a 2 MiB boundary; the page after
            // the boundary needs a page table of its own.
            w.pass((s(0), WINDOW), (s(1), BEFORE_BOUNDARY), 1, false).unwrap();
            assert_eq!(w.frame_at(s(1), BEFORE_BOUNDARY), Some(frames[0]));
            w.exhaust_ram();
            // Pages 1 and 2 over it: the first would replace page 0 in an
            // existing table, the second finds no memory for its table.
            assert_refused_without_change(w, Error::OutOfResources, |w| {
                w.pass((s(0), WINDOW + KIB4), (s(1), BEFORE_BOUNDARY), 2, false)
            });
            assert_eq!(w.frame_at(s(1), BEFORE_BOUNDARY), Some(frames[0]), "the old mapping is still there");
        });
    }

    #[test]
    fn a_grant_runs_out_of_page_tables_and_changes_nothing() {
        with_world(3, 64, |w| {
            w.give_root_pages(1);
            // Space 1 gets the page and maps it on to space 2: the node
            // granted below has a child.
            w.pass((s(0), WINDOW), (s(1), 0x1000), 1, false).unwrap();
            w.pass((s(1), 0x1000), (s(2), 0x1000), 1, false).unwrap();
            w.exhaust_ram();
            assert_refused_without_change(w, Error::OutOfResources, |w| {
                w.pass((s(1), 0x1000), (s(2), BEFORE_BOUNDARY + KIB4), 1, true)
            });
            // And the tree still works: unmapping space 1's page reaches space 2's.
            w.memory().unmap(s(1), 0x1000, 1, 0);
            assert_eq!(w.frame_at(s(2), 0x1000), None, "the child was still reachable");
        });
    }

    #[test]
    fn page_tables_are_reserved_all_or_nothing() {
        with_world(2, 64, |w| {
            w.give_root_pages(3);
            // Space 1's tables reach down to the page directory of the
            // destination, so each 2 MiB region needs one new page table:
            // two in all, and only one frame is left.
            w.pass((s(0), WINDOW), (s(1), 0x5000), 1, false).unwrap();
            let taken = w.exhaust_ram();
            w.ram.free_frame(taken[0]);
            assert_refused_without_change(w, Error::OutOfResources, |w| {
                w.pass((s(0), WINDOW + KIB4), (s(1), 2 * MIB2 - KIB4), 2, false)
            });
            // With the second frame back, the same map goes through, and
            // takes exactly the two.
            w.ram.free_frame(taken[1]);
            assert_eq!(
                w.pass((s(0), WINDOW + KIB4), (s(1), 2 * MIB2 - KIB4), 2, false),
                Ok(((2 * MIB2 - KIB4) | 7, 2))
            );
            assert_eq!(w.ram.allocator().free_count(), 0);
        });
    }

    #[test]
    fn a_map_runs_out_of_mapping_nodes_and_changes_nothing() {
        with_world(2, 64, |w| {
            w.give_root_pages(3);
            w.pass((s(0), WINDOW), (s(1), 0x5000), 1, false).unwrap();
            // Leave one free node: the map of two pages needs two.
            let filler = w.db.add_root(0x3_0000, s(0), 0x7_0000, 7).unwrap();
            while w.db.free_nodes() > 1 {
                w.db.add_child(filler, s(0), 0x8_0000, 7).unwrap();
            }
            assert_refused_without_change(w, Error::OutOfResources, |w| {
                w.pass((s(0), WINDOW + KIB4), (s(1), 0x5000), 2, false)
            });
        });
    }

    #[test]
    fn a_grant_needs_no_free_node() {
        with_world(3, 64, |w| {
            w.give_root_pages(1);
            w.pass((s(0), WINDOW), (s(1), 0x5000), 1, false).unwrap();
            let filler = w.db.add_root(0x3_0000, s(0), 0x7_0000, 7).unwrap();
            while w.db.free_nodes() > 0 {
                w.db.add_child(filler, s(0), 0x8_0000, 7).unwrap();
            }
            // A grant moves the node it has: it allocates none.
            assert_eq!(w.pass((s(1), 0x5000), (s(2), 0x9000), 1, true), Ok((0x9000 | 7, 1)));
            assert_eq!(w.frame_at(s(1), 0x5000), None);
            assert!(w.frame_at(s(2), 0x9000).is_some());
        });
    }

    #[test]
    fn a_map_reserves_exactly_the_page_tables_it_needs() {
        const GIB1: u64 = 512 * MIB2;
        const GIB512: u64 = 512 * GIB1;
        // 64 pages from 16 pages below a boundary, each into an empty
        // space: a page-directory-pointer table, a page directory and a
        // page table, plus one more of each kind the boundary starts.
        let cases = [(MIB2, 3 + 1), (GIB1, 3 + 2), (GIB512, 3 + 3)];
        with_world(1 + cases.len(), 128, move |w| {
            let frames = w.give_root_pages(64);
            let mut taken = w.exhaust_ram();
            for (n, (boundary, tables)) in cases.into_iter().enumerate() {
                let space = s(1 + n as u16);
                let destination = boundary - 16 * KIB4;
                // One frame too few: refused, and the frames are all still free.
                for frame in taken.drain(..tables - 1) {
                    w.ram.free_frame(frame);
                }
                assert_refused_without_change(w, Error::OutOfResources, |w| {
                    w.pass((s(0), WINDOW), (space, destination), 64, false)
                });
                assert_eq!(w.ram.allocator().free_count(), tables - 1);
                // Exactly enough: every frame is used, none is left over.
                w.ram.free_frame(taken.pop().unwrap());
                assert_eq!(w.pass((s(0), WINDOW), (space, destination), 64, false), Ok((destination | 7, 64)));
                assert_eq!(w.ram.allocator().free_count(), 0, "{tables} tables for {destination:#x}");
                for (i, &frame) in frames.iter().enumerate() {
                    assert_eq!(w.frame_at(space, destination + i as u64 * KIB4), Some(frame));
                }
            }
        });
    }

    #[test]
    fn a_cancelled_plan_gives_its_page_tables_back() {
        with_world(2, 64, |w| {
            w.give_root_pages(1);
            let before = w.snapshot();
            let request = MapRequest {
                source_space: s(0),
                source: WINDOW,
                target_space: s(1),
                destination: 0x5000,
                count: 1,
                rights: rights::ALL,
                grant: false,
            };
            let mut memory = w.memory();
            let plan = memory.check(&request).unwrap();
            memory.cancel(plan);
            assert_eq!(w.snapshot(), before);
        });
    }

    #[test]
    fn a_destination_already_mapped_is_replaced_with_its_subtree() {
        with_world(3, 64, |w| {
            let frames = w.give_root_pages(2);
            w.pass((s(0), WINDOW), (s(1), 0x5000), 1, false).unwrap();
            w.pass((s(1), 0x5000), (s(2), 0x9000), 1, false).unwrap();
            w.spaces.flushed.clear();
            assert_eq!(w.pass((s(0), WINDOW + KIB4), (s(1), 0x5000), 1, false), Ok((0x5000 | 7, 1)));
            assert_eq!(w.frame_at(s(1), 0x5000), Some(frames[1]));
            assert_eq!(w.frame_at(s(2), 0x9000), None, "what was derived from the old mapping is gone");
            assert_eq!(w.db.used, 3, "two roots and the new mapping");
            assert!(w.spaces.flushed.contains(&(s(2), 0x9000)));
            assert!(w.spaces.flushed.contains(&(s(1), 0x5000)));
        });
    }

    #[test]
    fn granting_pages_to_where_they_are_changes_nothing() {
        with_world(2, 64, |w| {
            w.give_root_pages(2);
            w.pass((s(0), WINDOW), (s(1), 0x5000), 2, false).unwrap();
            let before = w.snapshot();
            assert!(w.pass((s(1), 0x5000), (s(1), 0x5000), 2, true).is_ok());
            assert_eq!(w.snapshot(), before);
        });
    }

    #[test]
    fn overlapping_ranges_in_one_space_are_refused() {
        with_world(2, 64, |w| {
            w.give_root_pages(3);
            w.pass((s(0), WINDOW), (s(1), 0x5000), 3, false).unwrap();
            for grant in [false, true] {
                // Each destination but the last is also a source page: its
                // removal would take a page still to be passed on.
                assert_refused_without_change(w, Error::InvalidArgument, |w| {
                    w.pass((s(1), 0x5000), (s(1), 0x6000), 2, grant)
                });
                assert_refused_without_change(w, Error::InvalidArgument, |w| {
                    w.pass((s(1), 0x6000), (s(1), 0x5000), 2, grant)
                });
            }
        });
    }

    #[test]
    fn no_destination_may_hold_an_ancestor_of_any_source_page() {
        with_world(3, 64, |w| {
            w.give_root_pages(2);
            w.pass((s(0), WINDOW), (s(1), 0x5000), 1, false).unwrap();
            w.pass((s(1), 0x5000), (s(2), 0x9000), 1, false).unwrap();
            w.pass((s(0), WINDOW + KIB4), (s(2), 0x8000), 1, false).unwrap();
            // Space 2 passes 0x8000 and 0x9000 back to 0x4000 and 0x5000 of
            // space 1. The first page is harmless; the second would replace
            // space 1's 0x5000, from which space 2's 0x9000 derives.
            assert_refused_without_change(w, Error::InvalidArgument, |w| {
                w.pass((s(2), 0x8000), (s(1), 0x4000), 2, false)
            });
        });
    }

    /// A page passed back and forth between two spaces, each time mapped on
    /// from the mapping just made: the chain stops at `MAX_MAP_DEPTH`, and
    /// the deepest mapping can still be granted.
    #[test]
    fn mappings_nest_at_most_max_map_depth_deep() {
        with_world(3, 64, |w| {
            w.give_root_pages(1);
            let mut at = (s(0), WINDOW);
            for depth in 1..=MAX_MAP_DEPTH as u64 {
                let next = (s(1 + (depth % 2) as u16), depth * KIB4);
                w.pass(at, next, 1, false).unwrap();
                at = next;
            }
            let node = w.memory().node_at(at.0, at.1).unwrap();
            assert_eq!(w.db.node(node).depth, MAX_MAP_DEPTH);
            let beyond = (s(1 + ((MAX_MAP_DEPTH as u64 + 1) % 2) as u16), 0x100 * KIB4);
            assert_refused_without_change(w, Error::NotMappable, |w| w.pass(at, beyond, 1, false));
            // A grant moves the mapping; it nests nothing deeper.
            assert_eq!(w.pass(at, beyond, 1, true), Ok((beyond.1 | 7, 1)));
            assert_eq!(w.db.node(node).depth, MAX_MAP_DEPTH);
            // And an unmap from the top still reaches the bottom.
            w.memory().unmap(s(0), WINDOW, 1, 0);
            assert_eq!(w.frame_at(beyond.0, beyond.1), None);
            assert_eq!(w.db.used, 1, "only the root is left");
        });
    }

    #[test]
    fn the_destination_must_be_user_memory() {
        with_world(2, 64, |w| {
            w.give_root_pages(2);
            assert_refused_without_change(w, Error::BadAddress, |w| {
                w.pass((s(0), WINDOW), (s(1), USER_TOP - KIB4), 2, false)
            });
        });
    }
}
