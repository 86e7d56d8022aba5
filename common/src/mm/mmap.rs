//! The rules of `mmap` and `munmap`, and the list of a process's mappings:
//! the part of memory mapping both kernels share.
//!
//! A mapping is a *region*: a page-aligned range of the mmap area
//! (`MMAP_BASE..MMAP_TOP`, `common::abi::memory`) with a protection and a
//! backing — zero-filled memory, or a file from some offset. Nothing is
//! mapped when `mmap` returns: the region only says what a page *would*
//! hold, and the first touch of a page (a page fault, or a system call's
//! copy to or from it) makes it, as the region says. The page tables (mono)
//! or the pager's memory map (micro) hold the pages made so far; the
//! regions hold the promise.
//!
//! | here | mono-kernel (`mono-kernel/src/vm.rs`) | micro-kernel (proc, `memory.rs`, `main.rs`) |
//! |---|---|---|
//! | [`MmapArgs::check`], [`check_file`] | `sys_proc::mmap` | proc's `Mmap` request, vfs's `MapOpen` |
//! | [`Regions::place`], [`Regions::insert`] | `UserVm::mmap` | `Proc::mmap` |
//! | [`Regions::find`], [`Region::page_source`] | `UserVm::fault` | `AddressMap::fault` |
//! | [`munmap_range`], [`Regions::remove`] | `UserVm::munmap` | `Proc::munmap` |
//!
//! The file type `F` is whatever the kernel holds a file by: the
//! mono-kernel an `Rc` of an open inode, proc an `Rc` of a vfs handle.
//! Splitting a region (an `munmap` of its middle) clones it, so the two
//! halves hold the file both.
//!
//! Everything here is checked and bounded: a program can ask for any
//! numbers, and gets `EINVAL` or `ENOMEM` rather than a panic or an
//! unbounded list ([`MAX_MAPPINGS`]).

use alloc::vec::Vec;

use crate::abi::errno::Errno;
use crate::abi::memory::{MMAP_BASE, MMAP_TOP};
use crate::abi::mmap::{
    MAP_ANONYMOUS, MAP_FIXED, MAP_KNOWN, MAP_PRIVATE, MAP_SHARED, MAX_MAPPINGS, PROT_EXEC,
    PROT_KNOWN, PROT_READ, PROT_WRITE,
};

const PAGE: u64 = 4096;

/// What a mapping's pages may be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prot {
    pub read: bool,
    pub write: bool,
    pub execute: bool,
}

impl Prot {
    /// The protection `bits` (`PROT_*`) name, or `None` for unknown bits.
    pub fn from_bits(bits: u64) -> Option<Prot> {
        if bits & !u64::from(PROT_KNOWN) != 0 {
            return None;
        }
        Some(Prot {
            read: bits & u64::from(PROT_READ) != 0,
            write: bits & u64::from(PROT_WRITE) != 0,
            execute: bits & u64::from(PROT_EXEC) != 0,
        })
    }

    /// Whether a page with this protection may be mapped at all
    /// (`PROT_NONE` pages never are: every access kills).
    pub fn accessible(self) -> bool {
        self.read || self.write || self.execute
    }

    /// Whether an access (a read, or a write, or an instruction fetch) is
    /// allowed. On x86_64 every mapped page is readable, so any protection
    /// but `PROT_NONE` allows reading.
    pub fn allows(self, write: bool, execute: bool) -> bool {
        self.accessible() && (!write || self.write) && (!execute || self.execute)
    }
}

/// What a region's pages hold before they are first written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backing<F> {
    /// Zeros.
    Anonymous,
    /// The bytes of `file`, from `offset` for the region's first page (bytes
    /// past the end of the file read as zeros).
    File { file: F, offset: u64 },
}

/// One mapping: `start..end`, page-aligned and non-empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region<F> {
    pub start: u64,
    pub end: u64,
    pub prot: Prot,
    pub backing: Backing<F>,
}

/// Where the first bytes of one page of a region come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageSource<'a, F> {
    /// A zeroed page.
    Zero,
    /// A page of `file` from byte `offset` (at most 4096 bytes; the rest,
    /// past the end of the file, zero).
    File { file: &'a F, offset: u64 },
}

impl<F> Region<F> {
    /// Whether `address` lies in the region.
    pub fn contains(&self, address: u64) -> bool {
        (self.start..self.end).contains(&address)
    }

    /// What the page at `page` (a page of this region) starts as.
    pub fn page_source(&self, page: u64) -> PageSource<'_, F> {
        match &self.backing {
            Backing::Anonymous => PageSource::Zero,
            Backing::File { file, offset } => PageSource::File {
                file,
                offset: offset + (page - self.start),
            },
        }
    }

    /// The part `from..to` of this region (which must lie inside it), with
    /// its file offset moved along.
    fn piece(&self, from: u64, to: u64) -> Region<F>
    where
        F: Clone,
    {
        let backing = match &self.backing {
            Backing::Anonymous => Backing::Anonymous,
            Backing::File { file, offset } => Backing::File {
                file: file.clone(),
                offset: offset + (from - self.start),
            },
        };
        Region {
            start: from,
            end: to,
            prot: self.prot,
            backing,
        }
    }
}

/// An `mmap` request, checked: what to map, before any file is looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MmapArgs {
    /// The length, rounded up to whole pages.
    pub length: u64,
    pub prot: Prot,
    /// `None` for `MAP_ANONYMOUS`; otherwise the descriptor (as the program
    /// passed it: the kernel answers `EBADF` for one it does not know) and
    /// the page-aligned offset in the file.
    pub file: Option<(u64, u64)>,
}

impl MmapArgs {
    /// Checks `mmap(hint, length, prot, flags, fd, offset)`'s numbers (the
    /// hint is ignored, so it is not passed). Errors, in this order:
    ///
    /// - `EINVAL`: unknown `prot` or `flags` bits; `MAP_SHARED` or
    ///   `MAP_FIXED` (not supported); no `MAP_PRIVATE`; a length of 0;
    ///   for a file, an offset that is not a multiple of 4096 or that with
    ///   the length passes 2^64;
    /// - `ENOMEM`: a length larger than the whole mmap area.
    ///
    /// `EBADF`, `EACCES` and `ENODEV` (the descriptor) are the kernel's to
    /// find; `ENOMEM` for an area with no room or too many mappings is
    /// [`Regions::place`]'s.
    pub fn check(
        length: u64,
        prot: u64,
        flags: u64,
        fd: u64,
        offset: u64,
    ) -> Result<MmapArgs, Errno> {
        let prot = Prot::from_bits(prot).ok_or(Errno::EINVAL)?;
        if flags & !u64::from(MAP_KNOWN) != 0 || flags & u64::from(MAP_SHARED | MAP_FIXED) != 0 {
            return Err(Errno::EINVAL);
        }
        if flags & u64::from(MAP_PRIVATE) == 0 || length == 0 {
            return Err(Errno::EINVAL);
        }
        let anonymous = flags & u64::from(MAP_ANONYMOUS) != 0;
        if !anonymous && (!offset.is_multiple_of(PAGE) || offset.checked_add(length).is_none()) {
            return Err(Errno::EINVAL);
        }
        if length > MMAP_TOP - MMAP_BASE {
            return Err(Errno::ENOMEM);
        }
        Ok(MmapArgs {
            length: length.div_ceil(PAGE) * PAGE,
            prot,
            file: (!anonymous).then_some((fd, offset)),
        })
    }
}

/// Checks the open file an `mmap` of a descriptor names (after the
/// kernel found the descriptor: `EBADF` otherwise): `ENODEV` unless it is
/// a regular file (a pipe, the console, a directory), then `EACCES` unless
/// it was opened for reading. Writing to a private mapping of a read-only
/// file is allowed: the writes never reach the file.
pub fn check_file(regular_file: bool, readable: bool) -> Result<(), Errno> {
    if !regular_file {
        Err(Errno::ENODEV)
    } else if !readable {
        Err(Errno::EACCES)
    } else {
        Ok(())
    }
}

/// Checks `munmap(addr, length)`: returns the page range to remove.
/// `EINVAL` for an address that is not page-aligned, a length of 0, or a
/// range not inside the mmap area (`munmap` cannot remove the heap, the
/// stack or the program). Pages of the range that are not mapped are no
/// error, as on Linux.
pub fn munmap_range(address: u64, length: u64) -> Result<(u64, u64), Errno> {
    if !address.is_multiple_of(PAGE) || length == 0 {
        return Err(Errno::EINVAL);
    }
    let end = length
        .checked_next_multiple_of(PAGE)
        .and_then(|length| address.checked_add(length))
        .ok_or(Errno::EINVAL)?;
    if address < MMAP_BASE || end > MMAP_TOP {
        return Err(Errno::EINVAL);
    }
    Ok((address, end))
}

/// A process's mappings, sorted by address and never overlapping;
/// at most [`MAX_MAPPINGS`] of them.
#[derive(Debug, Clone)]
pub struct Regions<F> {
    /// Invariant: sorted by `start`, each `end` at most the next `start`.
    list: Vec<Region<F>>,
}

impl<F> Default for Regions<F> {
    fn default() -> Regions<F> {
        Regions::new()
    }
}

impl<F> Regions<F> {
    /// No mappings.
    pub const fn new() -> Regions<F> {
        Regions { list: Vec::new() }
    }

    /// The region holding `address`, if any.
    pub fn find(&self, address: u64) -> Option<&Region<F>> {
        let after = self.list.partition_point(|region| region.start <= address);
        let region = self.list.get(after.checked_sub(1)?)?;
        region.contains(address).then_some(region)
    }

    /// Every region, in address order.
    pub fn iter(&self) -> impl Iterator<Item = &Region<F>> {
        self.list.iter()
    }

    /// How many regions there are.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Where a new mapping of `length` bytes (a multiple of 4096) would go:
    /// the lowest gap of the mmap area that fits it (first fit). `ENOMEM`
    /// if none does, or if the process has [`MAX_MAPPINGS`] already.
    pub fn place(&self, length: u64) -> Result<u64, Errno> {
        if self.list.len() >= MAX_MAPPINGS {
            return Err(Errno::ENOMEM);
        }
        let mut start = MMAP_BASE;
        for region in &self.list {
            if region.start - start >= length {
                return Ok(start);
            }
            start = region.end;
        }
        if MMAP_TOP - start >= length {
            Ok(start)
        } else {
            Err(Errno::ENOMEM)
        }
    }

    /// Adds `region`, which must lie in a gap [`Regions::place`] found.
    pub fn insert(&mut self, region: Region<F>) {
        let at = self
            .list
            .partition_point(|other| other.start < region.start);
        debug_assert!(at == 0 || self.list[at - 1].end <= region.start);
        debug_assert!(at == self.list.len() || region.end <= self.list[at].start);
        self.list.insert(at, region);
    }

    /// Takes every region out (exit, exec).
    pub fn take_all(&mut self) -> Vec<Region<F>> {
        core::mem::take(&mut self.list)
    }
}

impl<F: Clone> Regions<F> {
    /// Removes `start..end` (page-aligned) from the mappings and returns
    /// what was there, piece by piece (each clipped to the range). A region
    /// cut in the middle becomes two; if that would make more than
    /// [`MAX_MAPPINGS`], nothing changes and the answer is `ENOMEM`.
    pub fn remove(&mut self, start: u64, end: u64) -> Result<Vec<Region<F>>, Errno> {
        let splits = self
            .list
            .iter()
            .filter(|region| region.start < start && end < region.end)
            .count();
        if self.list.len() + splits > MAX_MAPPINGS {
            return Err(Errno::ENOMEM);
        }
        let mut removed = Vec::new();
        let mut kept = Vec::with_capacity(self.list.len() + splits);
        for region in self.list.drain(..) {
            if region.end <= start || end <= region.start {
                kept.push(region);
                continue;
            }
            let (cut_from, cut_to) = (region.start.max(start), region.end.min(end));
            if region.start < cut_from {
                kept.push(region.piece(region.start, cut_from));
            }
            removed.push(region.piece(cut_from, cut_to));
            if cut_to < region.end {
                kept.push(region.piece(cut_to, region.end));
            }
        }
        self.list = kept;
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RW: Prot = Prot {
        read: true,
        write: true,
        execute: false,
    };

    fn anonymous(start: u64, pages: u64) -> Region<u32> {
        Region {
            start,
            end: start + pages * PAGE,
            prot: RW,
            backing: Backing::Anonymous,
        }
    }

    #[test]
    fn arguments_are_checked() {
        let private = u64::from(MAP_PRIVATE);
        let anon = u64::from(MAP_PRIVATE | MAP_ANONYMOUS);
        let rw = u64::from(PROT_READ | PROT_WRITE);
        let args = MmapArgs::check(1, rw, anon, u64::MAX, 123).unwrap();
        assert_eq!((args.length, args.prot, args.file), (PAGE, RW, None));
        let file = MmapArgs::check(5000, u64::from(PROT_READ), private, 3, 8192).unwrap();
        assert_eq!((file.length, file.file), (2 * PAGE, Some((3, 8192))));
        assert!(!file.prot.write && file.prot.read);
        let none = MmapArgs::check(PAGE, 0, anon, 0, 0).unwrap();
        assert!(!none.prot.accessible());
        for (length, prot, flags, offset) in [
            (0, rw, anon, 0),                           // empty
            (PAGE, 8, anon, 0),                         // unknown prot bit
            (PAGE, rw, anon | 0x100, 0),                // unknown flag
            (PAGE, rw, u64::from(MAP_SHARED), 0),       // shared: not supported
            (PAGE, rw, anon | u64::from(MAP_FIXED), 0), // fixed: not supported
            (PAGE, rw, u64::from(MAP_ANONYMOUS), 0),    // neither private nor shared
            (PAGE, rw, private, 100),                   // unaligned offset
            (PAGE, rw, private, u64::MAX - PAGE + 1),   // offset + length wraps
            (PAGE, rw | (1 << 40), anon, 0),            // prot beyond 32 bits
        ] {
            assert_eq!(
                MmapArgs::check(length, prot, flags, 3, offset),
                Err(Errno::EINVAL),
                "{length} {prot:#x} {flags:#x} {offset}"
            );
        }
        assert_eq!(
            MmapArgs::check(u64::MAX, rw, anon, 0, 0),
            Err(Errno::ENOMEM)
        );
        assert_eq!(
            MmapArgs::check(MMAP_TOP - MMAP_BASE + 1, rw, anon, 0, 0),
            Err(Errno::ENOMEM)
        );
    }

    #[test]
    fn files_must_be_regular_and_readable() {
        assert_eq!(check_file(true, true), Ok(()));
        assert_eq!(check_file(false, true), Err(Errno::ENODEV));
        assert_eq!(check_file(false, false), Err(Errno::ENODEV));
        assert_eq!(check_file(true, false), Err(Errno::EACCES));
    }

    #[test]
    fn munmap_ranges_stay_in_the_area() {
        assert_eq!(
            munmap_range(MMAP_BASE, 1),
            Ok((MMAP_BASE, MMAP_BASE + PAGE))
        );
        assert_eq!(munmap_range(MMAP_BASE + 1, PAGE), Err(Errno::EINVAL));
        assert_eq!(munmap_range(MMAP_BASE, 0), Err(Errno::EINVAL));
        assert_eq!(munmap_range(MMAP_BASE, u64::MAX), Err(Errno::EINVAL));
        assert_eq!(munmap_range(MMAP_TOP - PAGE, 2 * PAGE), Err(Errno::EINVAL));
        assert_eq!(munmap_range(0x40_0000, PAGE), Err(Errno::EINVAL));
        assert_eq!(munmap_range(!(PAGE - 1), PAGE), Err(Errno::EINVAL));
    }

    #[test]
    fn placement_is_first_fit_and_bounded() {
        let mut regions: Regions<u32> = Regions::new();
        assert_eq!(regions.place(PAGE), Ok(MMAP_BASE));
        regions.insert(anonymous(MMAP_BASE, 2));
        let next = regions.place(3 * PAGE).unwrap();
        assert_eq!(next, MMAP_BASE + 2 * PAGE);
        regions.insert(anonymous(next, 3));
        // A hole of two pages at the start after removing the first region.
        regions.remove(MMAP_BASE, MMAP_BASE + 2 * PAGE).unwrap();
        assert_eq!(regions.place(2 * PAGE), Ok(MMAP_BASE));
        assert_eq!(regions.place(3 * PAGE), Ok(MMAP_BASE + 5 * PAGE));
        assert_eq!(regions.place(MMAP_TOP - MMAP_BASE), Err(Errno::ENOMEM));
        assert!(regions.find(MMAP_BASE).is_none());
        assert_eq!(
            regions.find(next + 3 * PAGE - 1).map(|r| r.start),
            Some(next)
        );
        assert!(regions.find(next + 3 * PAGE).is_none());
        while regions.len() < MAX_MAPPINGS {
            let at = regions.place(PAGE).unwrap();
            regions.insert(anonymous(at, 1));
        }
        assert_eq!(regions.place(PAGE), Err(Errno::ENOMEM), "too many mappings");
    }

    #[test]
    fn removing_clips_and_splits() {
        let mut regions = Regions::new();
        regions.insert(Region {
            start: MMAP_BASE,
            end: MMAP_BASE + 4 * PAGE,
            prot: RW,
            backing: Backing::File {
                file: 7u32,
                offset: 8192,
            },
        });
        // The middle two pages: the region becomes two, offsets follow.
        let removed = regions
            .remove(MMAP_BASE + PAGE, MMAP_BASE + 3 * PAGE)
            .unwrap();
        assert_eq!(removed.len(), 1);
        assert_eq!(
            removed[0].backing,
            Backing::File {
                file: 7,
                offset: 8192 + 4096
            }
        );
        let left: Vec<_> = regions.iter().map(|r| (r.start, r.end)).collect();
        assert_eq!(
            left,
            [
                (MMAP_BASE, MMAP_BASE + PAGE),
                (MMAP_BASE + 3 * PAGE, MMAP_BASE + 4 * PAGE)
            ]
        );
        let right = regions.find(MMAP_BASE + 3 * PAGE).unwrap();
        assert_eq!(
            right.page_source(MMAP_BASE + 3 * PAGE),
            PageSource::File {
                file: &7,
                offset: 8192 + 3 * 4096
            }
        );
        // A range covering both and more removes both, clipped.
        let removed = regions.remove(MMAP_BASE, MMAP_BASE + 10 * PAGE).unwrap();
        assert_eq!(removed.len(), 2);
        assert!(regions.is_empty());
        // Nothing there: nothing removed, no error.
        assert_eq!(regions.remove(MMAP_BASE, MMAP_BASE + PAGE), Ok(Vec::new()));
    }

    #[test]
    fn a_split_beyond_the_limit_changes_nothing() {
        let mut regions: Regions<u32> = Regions::new();
        while regions.len() < MAX_MAPPINGS {
            let at = regions.place(3 * PAGE).unwrap();
            regions.insert(anonymous(at, 3));
        }
        assert_eq!(
            regions.remove(MMAP_BASE + PAGE, MMAP_BASE + 2 * PAGE),
            Err(Errno::ENOMEM)
        );
        assert_eq!(regions.len(), MAX_MAPPINGS);
        // Cutting an end does not split: allowed.
        assert_eq!(
            regions
                .remove(MMAP_BASE, MMAP_BASE + PAGE)
                .map(|removed| removed.len()),
            Ok(1)
        );
    }

    #[test]
    fn protections() {
        assert_eq!(Prot::from_bits(8), None);
        let read = Prot::from_bits(u64::from(PROT_READ)).unwrap();
        assert!(read.allows(false, false) && !read.allows(true, false));
        assert!(!read.allows(false, true));
        let write_only = Prot::from_bits(u64::from(PROT_WRITE)).unwrap();
        assert!(write_only.allows(false, false), "x86: writable is readable");
        let none = Prot::from_bits(0).unwrap();
        assert!(!none.allows(false, false));
    }
}
