//! Memory as mappings: map items in IPC messages, and `unmap`.
//!
//! A map item names `count` pages of the sender, from a page-aligned
//! address, and the rights to pass on. The receiver decides where they may
//! land: its *receive window* (`set_receive_window`), or — for the reply to
//! a page fault — exactly the faulting page. Each page is
//!
//! - **mapped**: the receiver's page table gets the same frame, with the
//!   sender's rights intersected with the item's, and the mapping database
//!   records the new mapping as a child of the sender's;
//! - or **granted**: the sender's mapping moves to the receiver (its node in
//!   the database changes owner; mappings derived from it stay).
//!
//! Only pages that are in the mapping database can be passed on: the root
//! task's window and everything mapped from it. The root task's own window
//! pages can be mapped but not granted (they are the roots of the trees). Whatever the receiver had
//! at a destination page is unmapped first (with everything derived from it).
//!
//! `unmap` takes pages of the caller and removes every mapping derived from
//! them, in every space, recursively ([`MapDb::revoke_descendants`]); with
//! `unmap_flags::SELF` also the caller's own mapping. With
//! `unmap_flags::WRITE_ONLY` the mappings stay but lose the write right
//! (copy-on-write).
//!
//! [`MapDb::revoke_descendants`]: crate::mapdb::MapDb::revoke_descendants

use crate::global::Kernel;
use crate::mapdb::NONE;
use crate::slot::{SpaceSlot, ThreadSlot};
use crate::space;
use crate::thread::IpcKind;
use common::abi::micro::{Error, MAX_MAP_PAGES, rights, unmap_flags};
use common::arch::cpu;
use common::mm::{PAGE_SIZE, PageTableFlags, UserRange, VirtAddr};

/// A decoded map item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MapItem {
    /// First source page (page-aligned).
    pub page: u64,
    /// `rights::*` to pass on (intersected with the sender's).
    pub rights: u64,
    /// Number of pages.
    pub count: u64,
    /// Where in the receive window the first page lands, in pages.
    pub window_offset: u64,
}

impl MapItem {
    /// Decodes the two message registers of a map item.
    pub fn decode(word0: u64, word1: u64) -> MapItem {
        MapItem {
            page: word0 & !(PAGE_SIZE - 1),
            rights: word0 & (PAGE_SIZE - 1),
            count: word1 & 0xffff,
            window_offset: word1 >> 16,
        }
    }
}

/// A checked map item: where the pages land.
pub struct MapPlan {
    item: MapItem,
    /// The first destination page in the receiver.
    destination: u64,
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

/// The mapping-database node behind `address` in `space`, if any.
fn node_at(k: &mut Kernel, space: SpaceSlot, address: u64) -> Option<u32> {
    let va = VirtAddr::try_new(address).ok()?;
    let mapping = k.spaces.tables(space).translate(&mut space::window(), va)?;
    k.mapdb.find(mapping.frame.number() as u32, space, address / PAGE_SIZE)
}

/// Checks a map item from `sender` to `receiver` without changing anything.
pub fn check(
    k: &mut Kernel,
    sender: ThreadSlot,
    item: &MapItem,
    receiver: ThreadSlot,
    grant: bool,
) -> Result<MapPlan, Error> {
    let target = k.threads.get(receiver);
    let (window_base, window_pages) = match target.ipc_kind {
        IpcKind::Normal => (target.window_base, target.window_pages),
        IpcKind::PageFault { page } => (page, 1),
        IpcKind::Exception => (0, 0),
    };
    let end = item.window_offset.checked_add(item.count).ok_or(Error::NoReceiveWindow)?;
    if window_pages == 0 || end > window_pages {
        return Err(Error::NoReceiveWindow);
    }
    if k.mapdb.free_nodes() < item.count as u32 {
        return Err(Error::OutOfResources);
    }
    let source_space = k.threads.get(sender).space;
    for i in 0..item.count {
        let node = node_at(k, source_space, item.page + i * PAGE_SIZE).ok_or(Error::NotMappable)?;
        // The roots of the trees stay with the root task: it lends its
        // memory by mapping, and granting a root away would leave a tree
        // without an owner that can take it back.
        if grant && k.mapdb.node(node).parent == NONE {
            return Err(Error::NotMappable);
        }
    }
    Ok(MapPlan { item: *item, destination: window_base + item.window_offset * PAGE_SIZE })
}

/// Maps (or grants) the pages of a checked plan. Returns the receiver's
/// view of the item: `(first page | rights of the first page, count)`.
pub fn commit(
    k: &mut Kernel,
    sender: ThreadSlot,
    plan: &MapPlan,
    receiver: ThreadSlot,
    grant: bool,
) -> Result<(u64, u64), Error> {
    let source_space = k.threads.get(sender).space;
    let target_space = k.threads.get(receiver).space;
    let mut first_rights = 0;
    for i in 0..plan.item.count {
        let source = plan.item.page + i * PAGE_SIZE;
        let destination = plan.destination + i * PAGE_SIZE;
        if grant && source_space == target_space && source == destination {
            continue; // granting a page to where it already is
        }
        let node = node_at(k, source_space, source).ok_or(Error::NotMappable)?;
        // Never let the destination's old mapping be an ancestor of the source:
        // unmapping it would revoke the very page being passed on.
        if let Some(old) = node_at(k, target_space, destination) {
            let mut at = node;
            while at != NONE {
                if at == old {
                    return Err(Error::InvalidArgument);
                }
                at = k.mapdb.node(at).parent;
            }
        }
        remove_page(k, target_space, destination);
        let given = k.mapdb.node(node).rights & (plan.item.rights | rights::READ) as u8;
        let frame = common::mm::PhysFrame::from_number(k.mapdb.node(node).frame as u64).ok_or(Error::NotMappable)?;
        if i == 0 {
            first_rights = given as u64;
        }
        let new_node = if grant {
            clear_pte(k, source_space, source);
            k.mapdb.move_to(node, target_space, destination / PAGE_SIZE, given);
            node
        } else {
            k.mapdb.add_child(node, target_space, destination / PAGE_SIZE, given).map_err(|_| Error::OutOfResources)?
        };
        if k.spaces.map(&mut k.frames, target_space, destination, frame, flags_for(given)).is_err() {
            k.mapdb.remove_leaf(new_node);
            return Err(Error::OutOfResources);
        }
    }
    Ok((plan.destination | first_rights, plan.item.count))
}

/// Clears the page-table entry of `address` in `space` (flushing the TLB if
/// that space is loaded). Does not touch the mapping database.
pub fn clear_pte(k: &mut Kernel, space: SpaceSlot, address: u64) {
    let va = VirtAddr::new(address);
    let tables = k.spaces.tables(space);
    if tables.unmap(&mut space::window(), va).is_ok() && cpu::read_cr3() == tables.root().start_address().as_u64() {
        cpu::invalidate_page(address);
    }
}

/// Removes whatever `space` has at `address`: everything derived from it,
/// its database node, and its page-table entry.
pub fn remove_page(k: &mut Kernel, space: SpaceSlot, address: u64) {
    if let Some(node) = node_at(k, space, address) {
        revoke(k, node);
        if k.mapdb.node(node).parent != NONE {
            k.mapdb.remove_leaf(node);
        }
    }
    clear_pte(k, space, address);
}

/// Removes every mapping derived from `node`.
fn revoke(k: &mut Kernel, node: u32) {
    let mut removed = [(SpaceSlot::new(0), 0u64); 64];
    // Revoke in batches: the database hands out the pages to clear, and
    // the page tables are changed after each batch.
    loop {
        let mut count = 0;
        let mut more = false;
        k.mapdb.revoke_descendants(node, |space, vpage| {
            if count == removed.len() {
                more = true;
                return false;
            }
            removed[count] = (space, vpage);
            count += 1;
            true
        });
        for &(space, vpage) in &removed[..count] {
            clear_pte(k, space, vpage * PAGE_SIZE);
        }
        if !more {
            return;
        }
    }
}

/// Takes the write right away from every mapping derived from `node`: they
/// stay, read-only (what a copy-on-write pager needs at `fork`).
fn revoke_write(k: &mut Kernel, node: u32) {
    let mut at = node;
    while let Some(next) = k.mapdb.next_in_subtree(node, at) {
        at = next;
        downgrade(k, at);
    }
}

/// Removes the write right from mapping `node` (database and page table).
fn downgrade(k: &mut Kernel, node: u32) {
    let entry = *k.mapdb.node(node);
    let rights = entry.rights & !(rights::WRITE as u8);
    k.mapdb.set_rights(node, rights);
    let address = entry.vpage * PAGE_SIZE;
    let tables = k.spaces.tables(entry.space);
    let flags = flags_for(rights) | PageTableFlags::PRESENT;
    if tables.update_flags(&mut space::window(), VirtAddr::new(address), flags).is_ok()
        && cpu::read_cr3() == tables.root().start_address().as_u64()
    {
        cpu::invalidate_page(address);
    }
}

/// `unmap(page, count, flags)` by a thread of space `space`.
pub fn sys_unmap(k: &mut Kernel, space: SpaceSlot, page: u64, count: u64, flags: u64) -> Result<(), Error> {
    let known = unmap_flags::SELF | unmap_flags::WRITE_ONLY;
    if !page.is_multiple_of(PAGE_SIZE) || flags & !known != 0 || count == 0 || count > MAX_MAP_PAGES {
        return Err(Error::InvalidArgument);
    }
    UserRange::new(page, count * PAGE_SIZE).map_err(|_| Error::BadAddress)?;
    for i in 0..count {
        let address = page + i * PAGE_SIZE;
        let Some(node) = node_at(k, space, address) else {
            continue;
        };
        // The root task's window mappings are the roots of the trees: it
        // may lend its memory out and take it back, but not throw it away.
        let own_too = flags & unmap_flags::SELF != 0 && k.mapdb.node(node).parent != NONE;
        if flags & unmap_flags::WRITE_ONLY != 0 {
            revoke_write(k, node);
            if own_too {
                downgrade(k, node);
            }
            continue;
        }
        revoke(k, node);
        if own_too {
            k.mapdb.remove_leaf(node);
            clear_pte(k, space, address);
        }
    }
    Ok(())
}

/// Removes every mapping of a space that is being destroyed (and every
/// mapping derived from them).
pub fn unmap_all(k: &mut Kernel, space: SpaceSlot) {
    let mut cursor = k.spaces.tables(space).user_mappings();
    while let Some(mapping) = cursor.next(&mut space::window()) {
        remove_page(k, space, mapping.page.as_u64());
    }
}
