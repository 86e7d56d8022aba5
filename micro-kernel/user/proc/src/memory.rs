//! One user process's memory, as proc keeps it: which page of the process
//! is which frame of the pool, with what permissions — and what a page
//! fault there means.
//!
//! The layout is the monolithic kernel's (`mono-kernel/src/vm.rs`;
//! `USER_STACK_TOP` is `common::abi::memory`'s), so the same programs see
//! the same addresses:
//!
//! ```text
//!   USER_STACK_TOP  0x7fff_f000_0000  ┌───────────┐
//!                                     │ stack     │ 64 KiB, zero pages on demand
//!                                     ├───────────┤
//!                                     │ guard     │ never mapped
//!                   MMAP_TOP          ├───────────┤
//!                                     │ mmap      │ regions: pages made at first touch
//!                   MMAP_BASE         ├───────────┤ = HEAP_LIMIT
//!                                     │ heap      │ heap_start..brk, sbrk (eager)
//!                                     ├───────────┤ heap_start
//!                                     │ ELF image │ loaded by exec (eager)
//!                  0x40_0000          └───────────┘
//! ```
//!
//! The map is the *truth*; the process's page tables are only a cache of
//! it, filled fault by fault and emptied by unmap. A fault maps the
//! faulting page and, with the same item, the pages after it whose frames
//! follow its frame and that a fault would map with the same rights
//! ([`AddressMap::run_from`]: fault-ahead, up to [`FAULT_AHEAD_PAGES`]). So a page may be in the map and not yet mapped: the
//! first touch faults, and [`AddressMap::fault`] says what to map.
//!
//! Copy-on-write: after fork, parent and child name the same frames; a
//! frame with more than one reference is only ever mapped read-only. A
//! write fault on a page whose permissions allow writing then copies the
//! frame (or, if the others have let go of it meanwhile, just maps it
//! writable).
//!
//! mmap: the map also keeps the process's mmap *regions*
//! (`common::mm::mmap::Regions`, the rules both kernels share). A region
//! promises pages; the first fault in one makes the page
//! ([`FaultAction::New`]): zeros, or a page of a file read through vfs by
//! the handle [`MappedFile`] names.

use crate::frames::{Frame, FrameTable};
use alloc::collections::BTreeMap;
use alloc::rc::Rc;
use alloc::vec::Vec;
use common::abi::errno::Errno;
pub use common::abi::memory::HEAP_LIMIT;
use common::abi::memory::USER_STACK_TOP;
use common::abi::micro::{fault_access, rights};
use common::mm::mmap::{PageSource, Prot, Regions};

/// The size of a page.
pub const PAGE: u64 = 4096;

/// The most pages one page fault maps (the faulting one included): a run
/// of pages touched in order faults once every this many pages. A bound,
/// so that pages touched in reverse order are not mapped again and again
/// for long.
pub const FAULT_AHEAD_PAGES: u64 = 16;
/// The stack's size.
pub const USER_STACK_SIZE: u64 = 64 * 1024;
/// The lowest stack address.
pub const USER_STACK_BOTTOM: u64 = USER_STACK_TOP - USER_STACK_SIZE;

/// What a process may do with a page (reading is always allowed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permissions {
    pub write: bool,
    pub execute: bool,
}

impl Permissions {
    /// Read and write (heap, stack, data).
    pub const DATA: Permissions = Permissions {
        write: true,
        execute: false,
    };

    /// The permissions of an mmap region's pages (reading is always
    /// allowed; a `PROT_NONE` region never gets a page).
    pub fn of(prot: Prot) -> Permissions {
        Permissions {
            write: prot.write,
            execute: prot.execute,
        }
    }

    /// The `rights::*` bits for a mapping, without write if `shared`.
    pub fn rights(self, shared: bool) -> u64 {
        let mut bits = rights::READ;
        if self.write && !shared {
            bits |= rights::WRITE;
        }
        if self.execute {
            bits |= rights::EXECUTE;
        }
        bits
    }
}

/// One page of a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageEntry {
    pub frame: Frame,
    pub permissions: Permissions,
}

/// A file an mmap region maps: a vfs handle proc holds open (`MapOpen`),
/// read with `ExecRead` and given back with `ExecClose` when the last
/// region naming it goes (regions split by `munmap` or copied by `fork`
/// share it through an `Rc`).
#[derive(Debug, PartialEq, Eq)]
pub struct MappedFile {
    pub handle: u64,
}

/// A process's mmap regions.
pub type MmapRegions = Regions<Rc<MappedFile>>;

/// What a page that is not in the map yet starts as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewPage {
    /// Zeros (a stack page, a page of an anonymous mapping).
    Zero,
    /// One page of the file behind vfs `handle`, from byte `offset` (zeros
    /// past its end).
    File { handle: u64, offset: u64 },
}

/// What to do about a page fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultAction {
    /// Map `frame` at the page with `rights`.
    Map { frame: Frame, rights: u64 },
    /// Copy-on-write: copy `from` into a new frame, put the new frame in
    /// the map (releasing `from`), and map it read/write.
    Copy {
        from: Frame,
        permissions: Permissions,
    },
    /// A page not made yet: a new frame holding `contents`, put in the map
    /// with `permissions` (demand-zero stack pages, mmap pages).
    New {
        contents: NewPage,
        permissions: Permissions,
    },
    /// No valid access: the process dies (`usertrap: ... killed`).
    Kill,
}

/// A process's memory map.
#[derive(Debug, Clone, Default)]
pub struct AddressMap {
    /// Page address → entry.
    pages: BTreeMap<u64, PageEntry>,
    /// Where the heap starts (page-aligned end of the program image).
    pub heap_start: u64,
    /// The program break.
    pub brk: u64,
    /// What `mmap` promised; the pages made so far are in `pages`.
    pub regions: MmapRegions,
    /// The page after the last run of pages a fault mapped: a fault here
    /// continues a walk through memory in order, and maps ahead
    /// ([`AddressMap::fault_run`]).
    next_in_sequence: u64,
}

/// What `sbrk` must do, decided before anything changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SbrkPlan {
    /// The break before (what sbrk returns).
    pub old: u64,
    /// The break after.
    pub new: u64,
    /// Pages to add (zeroed), as page addresses.
    pub grow: core::ops::Range<u64>,
    /// Pages to remove.
    pub shrink: core::ops::Range<u64>,
}

impl SbrkPlan {
    /// Number of pages the plan adds.
    pub fn pages_needed(&self) -> u64 {
        (self.grow.end - self.grow.start) / PAGE
    }
}

/// Rounds up to a page boundary (saturating at the top).
pub fn page_up(address: u64) -> u64 {
    address.div_ceil(PAGE).saturating_mul(PAGE)
}

impl AddressMap {
    /// An empty map.
    pub fn new() -> AddressMap {
        AddressMap::default()
    }

    /// The entry of the page holding `address`.
    pub fn entry(&self, address: u64) -> Option<PageEntry> {
        self.pages.get(&(address & !(PAGE - 1))).copied()
    }

    /// Puts `frame` at `page` (which must be free in the map).
    pub fn insert(&mut self, page: u64, entry: PageEntry) {
        let old = self.pages.insert(page, entry);
        debug_assert!(old.is_none(), "page {page:#x} mapped twice");
    }

    /// Replaces the frame at `page` (copy-on-write); returns the old entry.
    pub fn replace_frame(&mut self, page: u64, frame: Frame) -> Option<PageEntry> {
        let entry = self.pages.get_mut(&page)?;
        let old = *entry;
        entry.frame = frame;
        Some(old)
    }

    /// Removes the page at `page`, returning its entry.
    pub fn remove(&mut self, page: u64) -> Option<PageEntry> {
        self.pages.remove(&page)
    }

    /// Number of pages.
    pub fn len(&self) -> usize {
        self.pages.len()
    }

    /// Whether the map has no pages.
    pub fn is_empty(&self) -> bool {
        self.pages.is_empty()
    }

    /// Every (page, entry).
    pub fn iter(&self) -> impl Iterator<Item = (u64, PageEntry)> + '_ {
        self.pages.iter().map(|(&page, &entry)| (page, entry))
    }

    /// What the page holding `address`, not in the map, would start as,
    /// and with what permissions: a stack page is zeros, a page of an
    /// mmap region what the region says; `None` anywhere else (and in a
    /// `PROT_NONE` region).
    pub fn missing(&self, address: u64) -> Option<(NewPage, Permissions)> {
        if (USER_STACK_BOTTOM..USER_STACK_TOP).contains(&address) {
            return Some((NewPage::Zero, Permissions::DATA));
        }
        let region = self.regions.find(address)?;
        if !region.prot.accessible() {
            return None;
        }
        let contents = match region.page_source(address & !(PAGE - 1)) {
            PageSource::Zero => NewPage::Zero,
            PageSource::File { file, offset } => NewPage::File {
                handle: file.handle,
                offset,
            },
        };
        Some((contents, Permissions::of(region.prot)))
    }

    /// What a fault at `address` with `access` (`fault_access` bits) means.
    pub fn fault(&self, frames: &FrameTable, address: u64, access: u64) -> FaultAction {
        let write = access & fault_access::WRITE != 0;
        let execute = access & fault_access::EXECUTE != 0;
        let Some(entry) = self.entry(address) else {
            return match self.missing(address) {
                Some((_, permissions))
                    if (write && !permissions.write) || (execute && !permissions.execute) =>
                {
                    FaultAction::Kill
                }
                Some((contents, permissions)) => FaultAction::New {
                    contents,
                    permissions,
                },
                None => FaultAction::Kill,
            };
        };
        if (write && !entry.permissions.write) || (execute && !entry.permissions.execute) {
            return FaultAction::Kill;
        }
        let shared = frames.is_shared(entry.frame);
        if write && shared {
            FaultAction::Copy {
                from: entry.frame,
                permissions: entry.permissions,
            }
        } else {
            FaultAction::Map {
                frame: entry.frame,
                rights: entry.permissions.rights(shared),
            }
        }
    }

    /// How many pages, from `page` on, one map item can bring in when
    /// `page` faults and is given `frame` with `rights`: `page` itself and
    /// each following page whose entry holds the next frame, is the
    /// process's alone and would be mapped with the same rights by a fault
    /// of its own — at most `limit` (at least 1). Mapping them now is
    /// exactly what their own faults would do, minus the faults. (A page
    /// mapped already is mapped again, to the same frame: harmless, and
    /// rare when pages are touched in order.)
    ///
    /// Shared (copy-on-write) frames are never mapped ahead: after `fork`
    /// most are about to be copied, or dropped by a child that execs, and
    /// mapping them only to revoke them costs more than their faults.
    pub fn run_from(
        &self,
        frames: &FrameTable,
        page: u64,
        frame: Frame,
        rights: u64,
        limit: u64,
    ) -> u64 {
        if frames.is_shared(frame) {
            return 1;
        }
        let mut count = 1;
        let after = page.saturating_add(PAGE);
        for (&next, entry) in self.pages.range(after..) {
            if count >= limit
                || next != page + count * PAGE
                || entry.frame.0 != frame.0.wrapping_add(count as u32)
                || frames.is_shared(entry.frame)
                || entry.permissions.rights(false) != rights
            {
                break;
            }
            count += 1;
        }
        count
    }

    /// How many pages to map for a fault at `page`, given `frame` with
    /// `rights`, when the kernel lets the reply map `window` pages: only
    /// the one page, unless the fault continues a walk in order (it is at
    /// the page after the run the last fault mapped); then the run from
    /// it ([`AddressMap::run_from`]), up to [`FAULT_AHEAD_PAGES`]. A
    /// program that touches its memory in order (a fresh heap, an array)
    /// faults once every [`FAULT_AHEAD_PAGES`] pages; one that touches a
    /// few pages here and there (a short program's code, data and stack)
    /// is mapped no page it does not touch.
    pub fn fault_run(
        &mut self,
        frames: &FrameTable,
        page: u64,
        frame: Frame,
        rights: u64,
        window: u64,
    ) -> u64 {
        let limit = if page == self.next_in_sequence {
            FAULT_AHEAD_PAGES.min(window)
        } else {
            1
        };
        let count = self.run_from(frames, page, frame, rights, limit);
        self.next_in_sequence = page + count * PAGE;
        count
    }

    /// A copy of this map for a forked child: every frame gains a
    /// reference. Afterwards both maps share everything copy-on-write; the
    /// caller must revoke the parent's writable mappings
    /// ([`AddressMap::writable_frames`]).
    pub fn share_for_fork(&self, frames: &mut FrameTable) -> AddressMap {
        for entry in self.pages.values() {
            frames.share(entry.frame);
        }
        self.clone()
    }

    /// The frames of pages the process may write (those it may have mapped
    /// writable), sorted — runs of consecutive frames can be unmapped in
    /// one call.
    pub fn writable_frames(&self) -> Vec<Frame> {
        let mut list: Vec<Frame> = self
            .pages
            .values()
            .filter(|e| e.permissions.write)
            .map(|e| e.frame)
            .collect();
        list.sort_unstable();
        list
    }

    /// Removes the pages in `start..end` (page-aligned) from the map,
    /// releasing their frames; returns the frames (sorted; the caller
    /// unmaps them). Only pages that were made cost anything.
    pub fn remove_pages(&mut self, frames: &mut FrameTable, start: u64, end: u64) -> Vec<Frame> {
        let pages: Vec<u64> = self
            .pages
            .range(start..end)
            .map(|(&page, _)| page)
            .collect();
        let mut list = Vec::with_capacity(pages.len());
        for page in pages {
            if let Some(entry) = self.pages.remove(&page) {
                frames.release(entry.frame);
                list.push(entry.frame);
            }
        }
        list.sort_unstable();
        list
    }

    /// Empties the map, releasing every frame; returns every frame the map
    /// had (sorted; the caller unmaps them if the space lives on). The
    /// regions stay: the caller takes them (`regions.take_all()`) to give
    /// their files back.
    pub fn release_all(&mut self, frames: &mut FrameTable) -> Vec<Frame> {
        let mut list: Vec<Frame> = self.pages.values().map(|e| e.frame).collect();
        for &frame in &list {
            frames.release(frame);
        }
        self.pages.clear();
        list.sort_unstable();
        list
    }

    /// Plans `sbrk(increment)` with the monolithic kernel's rules: the new
    /// break must stay within `heap_start..=HEAP_LIMIT` (else `ENOMEM`).
    pub fn plan_sbrk(&self, increment: i64) -> Result<SbrkPlan, Errno> {
        let old = self.brk;
        let new = old.checked_add_signed(increment).ok_or(Errno::ENOMEM)?;
        if new < self.heap_start || new > HEAP_LIMIT {
            return Err(Errno::ENOMEM);
        }
        let (old_top, new_top) = (page_up(old), page_up(new));
        let (grow, shrink) = if new_top > old_top {
            (old_top..new_top, 0..0)
        } else {
            (0..0, new_top..old_top)
        };
        Ok(SbrkPlan {
            old,
            new,
            grow,
            shrink,
        })
    }
}

/// Runs of consecutive frames in a sorted list, as (first, count) with
/// count at most `max_run`: what one `unmap` call can take.
pub fn frame_runs(sorted: &[Frame], max_run: u32) -> Vec<(Frame, u32)> {
    let mut runs: Vec<(Frame, u32)> = Vec::new();
    for &frame in sorted {
        match runs.last_mut() {
            Some((first, count)) if first.0 + *count == frame.0 && *count < max_run => *count += 1,
            Some((first, count)) if first.0 + *count > frame.0 => {} // duplicate
            _ => runs.push((frame, 1)),
        }
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: Permissions = Permissions {
        write: false,
        execute: true,
    };

    fn with_page(
        frames: &mut FrameTable,
        page: u64,
        permissions: Permissions,
    ) -> (AddressMap, Frame) {
        let mut map = AddressMap::new();
        let (frame, _) = frames.alloc().unwrap();
        map.insert(page, PageEntry { frame, permissions });
        (map, frame)
    }

    #[test]
    fn a_fault_maps_ahead_the_neighbouring_frames_with_the_same_rights() {
        const READ_ONLY: Permissions = Permissions {
            write: false,
            execute: false,
        };
        let mut frames = FrameTable::new(16);
        let mut map = AddressMap::new();
        let base = 0x60_0000;
        // Pages 0..6 on frames 0..6; page 6 is read-only; page 8 (after a
        // hole at 7) on frame 7.
        for i in 0..7u64 {
            let (frame, _) = frames.alloc().unwrap();
            let permissions = if i == 6 { READ_ONLY } else { Permissions::DATA };
            map.insert(base + i * PAGE, PageEntry { frame, permissions });
        }
        let (frame, _) = frames.alloc().unwrap();
        map.insert(
            base + 8 * PAGE,
            PageEntry {
                frame,
                permissions: Permissions::DATA,
            },
        );
        let rw = Permissions::DATA.rights(false);
        assert_eq!(
            map.run_from(&frames, base, Frame(0), rw, 16),
            6,
            "stops where the rights change"
        );
        assert_eq!(map.run_from(&frames, base + 2 * PAGE, Frame(2), rw, 16), 4);
        assert_eq!(
            map.run_from(&frames, base, Frame(0), rw, 3),
            3,
            "stops at the limit"
        );
        assert_eq!(
            map.run_from(
                &frames,
                base + 6 * PAGE,
                Frame(6),
                READ_ONLY.rights(false),
                16
            ),
            1,
            "stops at a hole"
        );
        // Frames that do not follow one another: one page only.
        map.replace_frame(base + PAGE, Frame(9));
        assert_eq!(map.run_from(&frames, base, Frame(0), rw, 16), 1);
        // Shared (copy-on-write) frames are not mapped ahead, nor is
        // anything from a shared one.
        assert_eq!(map.run_from(&frames, base + 2 * PAGE, Frame(2), rw, 16), 4);
        frames.share(Frame(4));
        assert_eq!(map.run_from(&frames, base + 2 * PAGE, Frame(2), rw, 16), 2);
        frames.share(Frame(2));
        let read = Permissions::DATA.rights(true);
        assert_eq!(
            map.run_from(&frames, base + 2 * PAGE, Frame(2), read, 16),
            1
        );
    }

    #[test]
    fn only_faults_in_order_map_ahead() {
        let mut frames = FrameTable::new(34);
        let mut map = AddressMap::new();
        let base = 0x60_0000;
        for i in 0..34u64 {
            let (frame, _) = frames.alloc().unwrap();
            map.insert(
                base + i * PAGE,
                PageEntry {
                    frame,
                    permissions: Permissions::DATA,
                },
            );
        }
        let rw = Permissions::DATA.rights(false);
        let fault = |map: &mut AddressMap, i: u64| {
            map.fault_run(&frames, base + i * PAGE, Frame(i as u32), rw, 64)
        };
        assert_eq!(fault(&mut map, 5), 1, "a first fault maps its page");
        assert_eq!(
            fault(&mut map, 6),
            FAULT_AHEAD_PAGES,
            "the next page: a walk in order"
        );
        assert_eq!(
            fault(&mut map, 22),
            34 - 22,
            "the page after that run: up to the last page"
        );
        assert_eq!(fault(&mut map, 2), 1, "anywhere else: one page");
        let near_the_block_end = map.fault_run(&frames, base + 3 * PAGE, Frame(3), rw, 2);
        assert_eq!(near_the_block_end, 2, "never past the kernel's window");
    }

    #[test]
    fn private_pages_map_with_their_permissions() {
        let mut frames = FrameTable::new(8);
        let (map, frame) = with_page(&mut frames, 0x40_0000, TEXT);
        assert_eq!(
            map.fault(&frames, 0x40_0123, 0),
            FaultAction::Map {
                frame,
                rights: rights::READ | rights::EXECUTE
            }
        );
        assert_eq!(
            map.fault(&frames, 0x40_0123, fault_access::WRITE),
            FaultAction::Kill,
            "text is read-only"
        );
        let (data, frame) = with_page(&mut frames, 0x60_0000, Permissions::DATA);
        assert_eq!(
            data.fault(&frames, 0x60_0000, 0),
            FaultAction::Map {
                frame,
                rights: rights::READ | rights::WRITE
            },
            "a private writable page is mapped writable at once"
        );
        assert_eq!(
            data.fault(&frames, 0x60_0000, fault_access::EXECUTE),
            FaultAction::Kill,
            "NX"
        );
    }

    #[test]
    fn fork_shares_copy_on_write_until_one_side_lets_go() {
        let mut frames = FrameTable::new(8);
        let (mut parent, frame) = with_page(&mut frames, 0x60_0000, Permissions::DATA);
        let mut child = parent.share_for_fork(&mut frames);
        assert_eq!(frames.count(frame), 2);
        assert_eq!(parent.writable_frames(), [frame]);
        // Reads map the shared frame read-only; writes copy.
        assert_eq!(
            child.fault(&frames, 0x60_0008, 0),
            FaultAction::Map {
                frame,
                rights: rights::READ
            }
        );
        assert_eq!(
            child.fault(
                &frames,
                0x60_0008,
                fault_access::WRITE | fault_access::PRESENT
            ),
            FaultAction::Copy {
                from: frame,
                permissions: Permissions::DATA
            }
        );
        // The child copies: new frame in its map, the old one released.
        let (copy, _) = frames.alloc().unwrap();
        let old = child.replace_frame(0x60_0000, copy).unwrap();
        frames.release(old.frame);
        // Now the parent is the only owner: a write just maps it writable.
        assert_eq!(
            parent.fault(
                &frames,
                0x60_0000,
                fault_access::WRITE | fault_access::PRESENT
            ),
            FaultAction::Map {
                frame,
                rights: rights::READ | rights::WRITE
            }
        );
        assert_eq!(child.release_all(&mut frames), [copy]);
        assert_eq!(parent.release_all(&mut frames), [frame]);
        assert_eq!(frames.available(), 8, "everything returned");
    }

    #[test]
    fn stack_pages_are_demand_zero_and_the_rest_kills() {
        let frames = FrameTable::new(1);
        let map = AddressMap::new();
        let zero = FaultAction::New {
            contents: NewPage::Zero,
            permissions: Permissions::DATA,
        };
        assert_eq!(
            map.fault(&frames, USER_STACK_TOP - 8, fault_access::WRITE),
            zero
        );
        assert_eq!(map.fault(&frames, USER_STACK_BOTTOM, 0), zero);
        assert_eq!(
            map.fault(&frames, USER_STACK_BOTTOM - 1, fault_access::WRITE),
            FaultAction::Kill,
            "guard"
        );
        assert_eq!(map.fault(&frames, USER_STACK_TOP, 0), FaultAction::Kill);
        assert_eq!(map.fault(&frames, 0, 0), FaultAction::Kill, "null page");
        assert_eq!(
            map.fault(&frames, 0xffff_8000_0000_0000, fault_access::PRESENT),
            FaultAction::Kill
        );
    }

    #[test]
    fn mmap_regions_promise_pages() {
        use common::abi::memory::MMAP_BASE;
        use common::mm::mmap::{Backing, Region};
        let mut frames = FrameTable::new(4);
        let mut map = AddressMap::new();
        let read_only = Prot {
            read: true,
            write: false,
            execute: false,
        };
        let file = Rc::new(MappedFile { handle: 9 });
        map.regions.insert(Region {
            start: MMAP_BASE,
            end: MMAP_BASE + 2 * PAGE,
            prot: read_only,
            backing: Backing::File {
                file: file.clone(),
                offset: 4 * PAGE,
            },
        });
        map.regions.insert(Region {
            start: MMAP_BASE + 2 * PAGE,
            end: MMAP_BASE + 3 * PAGE,
            prot: Prot {
                read: false,
                write: false,
                execute: false,
            },
            backing: Backing::Anonymous,
        });
        assert_eq!(
            map.fault(&frames, MMAP_BASE + PAGE + 5, 0),
            FaultAction::New {
                contents: NewPage::File {
                    handle: 9,
                    offset: 5 * PAGE
                },
                permissions: Permissions {
                    write: false,
                    execute: false
                }
            },
            "the second page of the region is the file's fifth"
        );
        assert_eq!(
            map.fault(&frames, MMAP_BASE, fault_access::WRITE),
            FaultAction::Kill,
            "a read-only mapping"
        );
        assert_eq!(
            map.fault(&frames, MMAP_BASE + 2 * PAGE, 0),
            FaultAction::Kill,
            "PROT_NONE"
        );
        assert_eq!(
            map.fault(&frames, MMAP_BASE + 3 * PAGE, 0),
            FaultAction::Kill
        );
        // A page made, then removed with its region's range.
        let (frame, _) = frames.alloc().unwrap();
        map.insert(
            MMAP_BASE,
            PageEntry {
                frame,
                permissions: Permissions::of(read_only),
            },
        );
        let removed = map.regions.remove(MMAP_BASE, MMAP_BASE + PAGE).unwrap();
        assert_eq!(
            map.remove_pages(&mut frames, MMAP_BASE, MMAP_BASE + PAGE),
            [frame]
        );
        assert_eq!(frames.available(), 4, "the frame is free again");
        assert_eq!(
            Rc::strong_count(&file),
            3,
            "here, the region left and the one removed"
        );
        drop(removed);
        assert_eq!(map.fault(&frames, MMAP_BASE, 0), FaultAction::Kill);
    }

    #[test]
    fn sbrk_plans_follow_the_mono_kernel() {
        let mut map = AddressMap::new();
        map.heap_start = 0x60_0000;
        map.brk = 0x60_0000;
        let plan = map.plan_sbrk(1).unwrap();
        assert_eq!(
            (plan.old, plan.new, plan.grow.clone()),
            (0x60_0000, 0x60_0001, 0x60_0000..0x60_1000)
        );
        assert_eq!(plan.pages_needed(), 1);
        map.brk = 0x60_0001;
        let plan = map.plan_sbrk(100).unwrap();
        assert_eq!(plan.pages_needed(), 0, "still inside the first page");
        let plan = map.plan_sbrk(-1).unwrap();
        assert_eq!(plan.shrink, 0x60_0000..0x60_1000);
        assert_eq!(
            map.plan_sbrk(-2),
            Err(Errno::ENOMEM),
            "below the heap start"
        );
        assert_eq!(map.plan_sbrk(i64::MIN), Err(Errno::ENOMEM));
        assert_eq!(map.plan_sbrk(i64::MAX), Err(Errno::ENOMEM));
        assert_eq!(
            map.plan_sbrk((HEAP_LIMIT - 0x60_0001) as i64)
                .map(|p| p.new),
            Ok(HEAP_LIMIT)
        );
        assert_eq!(
            map.plan_sbrk((HEAP_LIMIT - 0x60_0000) as i64),
            Err(Errno::ENOMEM),
            "into the guard"
        );
    }

    #[test]
    fn frame_runs_group_consecutive_frames() {
        let list = [Frame(1), Frame(2), Frame(3), Frame(3), Frame(7), Frame(8)];
        assert_eq!(frame_runs(&list, 64), [(Frame(1), 3), (Frame(7), 2)]);
        assert_eq!(
            frame_runs(&list, 2),
            [(Frame(1), 2), (Frame(3), 1), (Frame(7), 2)]
        );
        assert_eq!(frame_runs(&[], 64), []);
    }
}
