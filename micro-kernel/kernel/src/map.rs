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
//! pages can be mapped but not granted (they are the roots of the trees).
//! Whatever the receiver had at a destination page is unmapped first (with
//! everything derived from it).
//!
//! `unmap` takes pages of the caller and removes every mapping derived from
//! them, in every space, recursively ([`MapDb::revoke_descendants`]); with
//! `unmap_flags::SELF` also the caller's own mapping. With
//! `unmap_flags::WRITE_ONLY` the mappings stay but lose the write right
//! (copy-on-write).
//!
//! This file is the system-call side: decoding items, finding where the
//! pages land, checking `unmap`'s arguments. The work on page tables and the
//! mapping database is in the library module `mapping.rs`
//! ([`Memory`]), where host unit tests reach it.
//!
//! [`MapDb::revoke_descendants`]: crate::mapdb::MapDb::revoke_descendants

use crate::global::Kernel;
use crate::mapping::{MapPlan, MapRequest, Memory};
use crate::slot::{SpaceSlot, ThreadSlot};
use crate::space::SpaceTable;
use crate::thread::IpcKind;
use common::abi::micro::{Error, MAX_MAP_PAGES, fault_window_pages, unmap_flags};
use common::mm::{KernelFrames, KernelWindow, PAGE_SIZE, UserRange};

pub use crate::mapping::flags_for;

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

/// The kernel's memory state as `mapping.rs` works on it: the mapping
/// database, the spaces' page tables, and the kernel's frames for new page
/// tables, reached through the kernel window.
pub fn memory(k: &mut Kernel) -> Memory<'_, SpaceTable, KernelFrames<'_>> {
    // SAFETY: the kernel window is mapped in every space, and during a
    // kernel entry nothing else holds a reference into page-table frames.
    let free_frames = k.frames.free_count() as u32;
    let env = KernelFrames::new(unsafe { KernelWindow::new() }, &mut k.frames);
    Memory { mapdb: &mut k.mapdb, spaces: &mut k.spaces, env, free_frames }
}

/// Checks a map item from `sender` to `receiver` and reserves the page
/// tables its commit needs; nothing else changes. The plan must go to
/// [`commit`] (or its reservation back through `Memory::cancel`).
pub fn check(
    k: &mut Kernel,
    sender: ThreadSlot,
    item: &MapItem,
    receiver: ThreadSlot,
    grant: bool,
) -> Result<MapPlan, Error> {
    let target = k.threads.read(receiver);
    let (window_base, window_pages) = match target.ipc_kind {
        IpcKind::Normal => (target.window_base, target.window_pages),
        // A fault's reply may map the faulting page and the pages after it
        // to the end of its block of MAX_MAP_PAGES pages: a pager can map
        // ahead (L4 lets it map anywhere; this keeps the item's window
        // offset 0 the faulting page).
        IpcKind::PageFault { page, .. } => (page, fault_window_pages(page)),
        IpcKind::Exception => (0, 0),
    };
    let end = item.window_offset.checked_add(item.count).ok_or(Error::NoReceiveWindow)?;
    if window_pages == 0 || end > window_pages {
        return Err(Error::NoReceiveWindow);
    }
    let request = MapRequest {
        source_space: k.threads.read(sender).space,
        source: item.page,
        target_space: target.space,
        destination: window_base + item.window_offset * PAGE_SIZE,
        count: item.count,
        rights: item.rights,
        grant,
    };
    memory(k).check(&request)
}

/// Maps (or grants) the pages of a checked plan; cannot fail (see
/// `Memory::commit`). Returns the receiver's view of the item:
/// `(first page | rights of the first page, count)`.
pub fn commit(k: &mut Kernel, plan: MapPlan) -> (u64, u64) {
    memory(k).commit(plan)
}

/// `unmap(page, count, flags)` by a thread of space `space`.
pub fn sys_unmap(k: &mut Kernel, space: SpaceSlot, page: u64, count: u64, flags: u64) -> Result<(), Error> {
    let known = unmap_flags::SELF | unmap_flags::WRITE_ONLY;
    if !page.is_multiple_of(PAGE_SIZE) || flags & !known != 0 || count == 0 || count > MAX_MAP_PAGES {
        return Err(Error::InvalidArgument);
    }
    UserRange::new(page, count * PAGE_SIZE).map_err(|_| Error::BadAddress)?;
    memory(k).unmap(space, page, count, flags);
    Ok(())
}

/// Removes every mapping of a space that is being destroyed (and every
/// mapping derived from them).
pub fn unmap_all(k: &mut Kernel, space: SpaceSlot) {
    memory(k).unmap_all(space);
}
