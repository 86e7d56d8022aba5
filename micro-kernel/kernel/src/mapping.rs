//! Map, grant and unmap on the page tables and the mapping database.
//!
//! This is the part of `map.rs` that touches only memory state: the mapping
//! database (`mapdb.rs`), the page tables of the address spaces, and
//! physical memory. It knows nothing of threads, receive windows or
//! registers, and it reaches the page tables through two small interfaces —
//! [`Spaces`] (which space has which tables, and the TLB) and
//! `common::mm::FrameSource` (physical memory and frames for new page
//! tables) — so it runs unchanged in the kernel and in host unit tests (on
//! `FakeRam`).
//!
//! [`Memory::check`] looks at a [`MapRequest`] without changing anything;
//! [`Memory::commit`] carries it out. [`Memory::remove_page`],
//! [`Memory::unmap`] and [`Memory::unmap_all`] take mappings away.

use crate::mapdb::{MapDb, NONE};
use crate::slot::SpaceSlot;
use common::abi::micro::{Error, rights, unmap_flags};
use common::mm::{AddressSpace, FrameSource, PAGE_SIZE, PageTableFlags, PhysFrame, VirtAddr};

/// The address spaces, as map, grant and unmap see them.
pub trait Spaces {
    /// The page tables of live space `space`.
    fn tables(&mut self, space: SpaceSlot) -> &mut AddressSpace;
    /// A page-table entry of `space` for `address` was just cleared or lost
    /// rights: drop the TLB's copy if `space` is the one loaded.
    fn flush_tlb(&mut self, space: SpaceSlot, address: u64);
}

/// The memory state map, grant and unmap work on.
pub struct Memory<'a, S, E> {
    /// Who mapped which frame to whom.
    pub mapdb: &'a mut MapDb,
    /// Every address space's page tables.
    pub spaces: &'a mut S,
    /// Physical memory, and the frames new page tables come from.
    pub env: E,
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

/// A checked map request.
pub struct MapPlan {
    request: MapRequest,
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

impl<S: Spaces, E: FrameSource> Memory<'_, S, E> {
    /// The mapping-database node behind `address` in `space`, if any.
    pub fn node_at(&mut self, space: SpaceSlot, address: u64) -> Option<u32> {
        let va = VirtAddr::try_new(address).ok()?;
        let mapping = self.spaces.tables(space).translate(&mut self.env, va)?;
        self.mapdb.find(mapping.frame.number() as u32, space, address / PAGE_SIZE)
    }

    /// Checks a map request without changing anything.
    pub fn check(&mut self, request: &MapRequest) -> Result<MapPlan, Error> {
        if self.mapdb.free_nodes() < request.count as u32 {
            return Err(Error::OutOfResources);
        }
        for i in 0..request.count {
            let node = self.node_at(request.source_space, request.source + i * PAGE_SIZE).ok_or(Error::NotMappable)?;
            // The roots of the trees stay with the root task: it lends its
            // memory by mapping, and granting a root away would leave a tree
            // without an owner that can take it back.
            if request.grant && self.mapdb.node(node).parent == NONE {
                return Err(Error::NotMappable);
            }
        }
        Ok(MapPlan { request: *request })
    }

    /// Maps (or grants) the pages of a checked plan. Returns the receiver's
    /// view of the item: `(first page | rights of the first page, count)`.
    pub fn commit(&mut self, plan: &MapPlan) -> Result<(u64, u64), Error> {
        let request = &plan.request;
        let (source_space, target_space) = (request.source_space, request.target_space);
        let mut first_rights = 0;
        for i in 0..request.count {
            let source = request.source + i * PAGE_SIZE;
            let destination = request.destination + i * PAGE_SIZE;
            if request.grant && source_space == target_space && source == destination {
                continue; // granting a page to where it already is
            }
            let node = self.node_at(source_space, source).ok_or(Error::NotMappable)?;
            // Never let the destination's old mapping be an ancestor of the source:
            // unmapping it would revoke the very page being passed on.
            if let Some(old) = self.node_at(target_space, destination) {
                let mut at = node;
                while at != NONE {
                    if at == old {
                        return Err(Error::InvalidArgument);
                    }
                    at = self.mapdb.node(at).parent;
                }
            }
            self.remove_page(target_space, destination);
            let given = self.mapdb.node(node).rights & (request.rights | rights::READ) as u8;
            let frame = PhysFrame::from_number(self.mapdb.node(node).frame as u64).ok_or(Error::NotMappable)?;
            if i == 0 {
                first_rights = given as u64;
            }
            let new_node = if request.grant {
                self.clear_pte(source_space, source);
                self.mapdb.move_to(node, target_space, destination / PAGE_SIZE, given);
                node
            } else {
                self.mapdb
                    .add_child(node, target_space, destination / PAGE_SIZE, given)
                    .map_err(|_| Error::OutOfResources)?
            };
            let va = VirtAddr::new(destination);
            if self.spaces.tables(target_space).map(&mut self.env, va, frame, flags_for(given)).is_err() {
                self.mapdb.remove_leaf(new_node);
                return Err(Error::OutOfResources);
            }
        }
        Ok((request.destination | first_rights, request.count))
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
    /// it, its database node, and its page-table entry.
    pub fn remove_page(&mut self, space: SpaceSlot, address: u64) {
        if let Some(node) = self.node_at(space, address) {
            self.revoke(node);
            if self.mapdb.node(node).parent != NONE {
                self.mapdb.remove_leaf(node);
            }
        }
        self.clear_pte(space, address);
    }

    /// Removes every mapping derived from `node` (database and page tables).
    fn revoke(&mut self, node: u32) {
        let (spaces, env) = (&mut *self.spaces, &mut self.env);
        self.mapdb.revoke_descendants(node, |space, vpage| {
            let address = vpage * PAGE_SIZE;
            if spaces.tables(space).unmap(env, VirtAddr::new(address)).is_ok() {
                spaces.flush_tlb(space, address);
            }
            true
        });
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
                continue;
            }
            self.revoke(node);
            if own_too {
                self.mapdb.remove_leaf(node);
                self.clear_pte(space, address);
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
