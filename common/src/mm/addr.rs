//! Addresses: physical and virtual, the higher-half window, and user ranges.
//!
//! An address is just a number, but two kinds of number must never be mixed
//! up: a **physical** address names a byte of RAM (or of a device), a
//! **virtual** address is what a program uses and the MMU translates through
//! the page tables. [`PhysAddr`] and [`VirtAddr`] are separate types so the
//! compiler catches a physical address passed where a virtual one belongs.
//!
//! ## The layout of virtual memory (both kernels)
//!
//! ```text
//!  0xffff_ffff_ffff_ffff  +--------------------------------+
//!                         | kernel window: physical 0..1 GiB|  KERNEL_BASE + pa
//!  0xffff_ffff_8000_0000  +--------------------------------+  KERNEL_BASE
//!                         | (unused kernel half)            |
//!  0xffff_8000_0000_0000  +--------------------------------+
//!                         | non-canonical hole: any access  |
//!                         | raises a general-protection fault|
//!  0x0000_8000_0000_0000  +--------------------------------+
//!                         | one guard page, never mapped    |
//!  0x0000_7fff_ffff_f000  +--------------------------------+  USER_TOP
//!                         | user space                      |
//!  0x0000_0000_0000_0000  +--------------------------------+
//! ```
//!
//! The kernel is linked at `KERNEL_BASE + 1 MiB` and the boot code maps the
//! first 1 GiB of physical memory at `KERNEL_BASE`, so the same window is
//! both "where the kernel's code lives" and "the direct map": the kernel
//! reaches physical address `pa` at virtual `KERNEL_BASE + pa`
//! ([`phys_to_kernel_virt`]). That only works for `pa` below 1 GiB, which is
//! why the frame allocator never hands out frames above it.

use core::fmt;

/// log2 of the page size.
pub const PAGE_SHIFT: u32 = 12;

/// Size of a page (virtual) and of a frame (physical): 4 KiB.
pub const PAGE_SIZE: u64 = 1 << PAGE_SHIFT;

/// [`PAGE_SIZE`] as a `usize`, for slice lengths.
pub const PAGE_SIZE_BYTES: usize = PAGE_SIZE as usize;

/// Where the kernel window starts: virtual `KERNEL_BASE + pa` is physical `pa`.
pub const KERNEL_BASE: u64 = 0xffff_ffff_8000_0000;

/// How much physical memory the kernel window covers: the first 1 GiB.
///
/// The window ends at the top of the address space (`KERNEL_BASE` plus 1 GiB
/// wraps to 0), so it cannot grow without moving `KERNEL_BASE`.
pub const KERNEL_WINDOW_SIZE: u64 = 1 << 30;

/// The first address that is *not* user space: part of the user ABI, defined
/// in [`crate::abi::memory`] (which says why it stops one page short of the
/// lower half's end).
pub use crate::abi::memory::USER_TOP;

/// One past the highest physical address x86_64 page tables can hold (2^52).
pub const MAX_PHYS_ADDR: u64 = 1 << 52;

/// Why an address or a range was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddrError {
    /// A virtual address whose bits 63..47 are not all equal (see [`VirtAddr`]).
    NotCanonical(u64),
    /// A physical address at or above 2^52, which no page table can name.
    PhysTooLarge(u64),
    /// A physical address outside the kernel window (at or above 1 GiB).
    OutsideKernelWindow(u64),
    /// A virtual address that is not in the kernel window.
    NotKernelWindow(u64),
    /// A user range that reaches past [`USER_TOP`] (into kernel space).
    NotUserRange { start: u64, len: u64 },
    /// `start + len` does not fit in 64 bits: the range wraps around.
    RangeOverflows { start: u64, len: u64 },
    /// An address that had to be aligned (to a page, usually) but was not.
    NotAligned(u64),
}

impl fmt::Display for AddrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            AddrError::NotCanonical(a) => write!(f, "{a:#x} is not a canonical virtual address"),
            AddrError::PhysTooLarge(a) => {
                write!(f, "{a:#x} is beyond 2^52, too large a physical address")
            }
            AddrError::OutsideKernelWindow(a) => {
                write!(f, "physical {a:#x} is above the 1 GiB kernel window")
            }
            AddrError::NotKernelWindow(a) => {
                write!(f, "virtual {a:#x} is not in the kernel window")
            }
            AddrError::NotUserRange { start, len } => {
                write!(f, "range {start:#x}+{len:#x} reaches past user space")
            }
            AddrError::RangeOverflows { start, len } => {
                write!(
                    f,
                    "range {start:#x}+{len:#x} wraps around the address space"
                )
            }
            AddrError::NotAligned(a) => write!(f, "{a:#x} is not aligned"),
        }
    }
}

/// Rounds `value` down to a multiple of `align` (a power of two).
///
/// # Panics
/// If `align` is not a power of two — alignments are constants in kernel
/// code, so that is a kernel bug, never user input.
pub const fn align_down(value: u64, align: u64) -> u64 {
    assert!(align.is_power_of_two(), "alignment must be a power of two");
    value & !(align - 1)
}

/// Rounds `value` up to a multiple of `align` (a power of two), or `None` if
/// the result does not fit in 64 bits.
///
/// # Panics
/// If `align` is not a power of two (a kernel bug, see [`align_down`]).
pub const fn align_up(value: u64, align: u64) -> Option<u64> {
    assert!(align.is_power_of_two(), "alignment must be a power of two");
    match value.checked_add(align - 1) {
        Some(bumped) => Some(bumped & !(align - 1)),
        None => None,
    }
}

/// A physical address.
///
/// Invariant: below [`MAX_PHYS_ADDR`] (2^52), so it fits in a page-table entry.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(transparent)]
pub struct PhysAddr(u64);

impl PhysAddr {
    /// Makes a physical address, or says why `addr` is not one.
    pub const fn try_new(addr: u64) -> Result<PhysAddr, AddrError> {
        if addr < MAX_PHYS_ADDR {
            Ok(PhysAddr(addr))
        } else {
            Err(AddrError::PhysTooLarge(addr))
        }
    }

    /// Makes a physical address from a value the kernel knows is valid.
    ///
    /// # Panics
    /// If `addr >= 2^52`. Use [`PhysAddr::try_new`] for values that come
    /// from outside the kernel.
    pub const fn new(addr: u64) -> PhysAddr {
        match PhysAddr::try_new(addr) {
            Ok(pa) => pa,
            Err(_) => panic!("physical address beyond 2^52"),
        }
    }

    /// The address as a number.
    pub const fn as_u64(self) -> u64 {
        self.0
    }

    /// Rounds down to a multiple of `align` (a power of two).
    pub const fn align_down(self, align: u64) -> PhysAddr {
        // Rounding down never makes an address larger, so the invariant holds.
        PhysAddr(align_down(self.0, align))
    }

    /// Rounds up to a multiple of `align`; `None` if that leaves the valid range.
    pub const fn align_up(self, align: u64) -> Option<PhysAddr> {
        match align_up(self.0, align) {
            Some(up) if up < MAX_PHYS_ADDR => Some(PhysAddr(up)),
            _ => None,
        }
    }

    /// Whether the address is a multiple of `align` (a power of two).
    pub const fn is_aligned(self, align: u64) -> bool {
        align_down(self.0, align) == self.0
    }

    /// The byte offset inside its 4 KiB frame (the low 12 bits).
    pub const fn page_offset(self) -> u64 {
        self.0 & (PAGE_SIZE - 1)
    }

    /// `self + offset`, or `None` if that leaves the valid range.
    pub const fn checked_add(self, offset: u64) -> Option<PhysAddr> {
        match self.0.checked_add(offset) {
            Some(sum) if sum < MAX_PHYS_ADDR => Some(PhysAddr(sum)),
            _ => None,
        }
    }
}

impl fmt::Debug for PhysAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhysAddr({:#x})", self.0)
    }
}

/// A canonical virtual address.
///
/// x86_64 CPUs translate only 48 bits of a virtual address. The other 16 must
/// be copies of bit 47 ("sign extension"); such an address is *canonical*.
/// So the address space is two halves with a huge hole between them:
/// `0..0x0000_8000_0000_0000` (the lower half: user space) and
/// `0xffff_8000_0000_0000..` (the upper half: the kernel). Using a
/// non-canonical address raises a general-protection fault.
///
/// Invariant: the value is canonical.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(transparent)]
pub struct VirtAddr(u64);

impl VirtAddr {
    /// Makes a virtual address, or `NotCanonical` if bits 63..47 disagree.
    pub const fn try_new(addr: u64) -> Result<VirtAddr, AddrError> {
        // Shift bit 47 up to bit 63, then arithmetic-shift back down: that
        // copies bit 47 into bits 63..48. A canonical address is unchanged.
        let sign_extended = (((addr << 16) as i64) >> 16) as u64;
        if sign_extended == addr {
            Ok(VirtAddr(addr))
        } else {
            Err(AddrError::NotCanonical(addr))
        }
    }

    /// Makes a virtual address from a value the kernel knows is canonical.
    ///
    /// # Panics
    /// If `addr` is not canonical. Use [`VirtAddr::try_new`] for anything a
    /// user program supplied.
    pub const fn new(addr: u64) -> VirtAddr {
        match VirtAddr::try_new(addr) {
            Ok(va) => va,
            Err(_) => panic!("virtual address is not canonical"),
        }
    }

    /// The address as a number.
    pub const fn as_u64(self) -> u64 {
        self.0
    }

    /// The address as a pointer (only meaningful in the address space it
    /// belongs to).
    pub const fn as_ptr<T>(self) -> *const T {
        self.0 as *const T
    }

    /// The address as a mutable pointer (see [`VirtAddr::as_ptr`]).
    pub const fn as_mut_ptr<T>(self) -> *mut T {
        self.0 as *mut T
    }

    /// Rounds down to a multiple of `align`, a power of two no larger than
    /// 4 KiB × 512³ (512 GiB, what one top-level entry covers), so the result
    /// stays canonical.
    ///
    /// # Panics
    /// If `align` is not a power of two or is larger than 512 GiB.
    pub const fn align_down(self, align: u64) -> VirtAddr {
        assert!(align <= 1 << 39, "alignment larger than a PML4 entry");
        // Clearing bits below bit 39 leaves bits 63..47 alone: still canonical.
        VirtAddr(align_down(self.0, align))
    }

    /// Rounds up to a multiple of `align`; `None` if the result would not be
    /// canonical (it ran into the hole or past the top).
    pub const fn align_up(self, align: u64) -> Option<VirtAddr> {
        match align_up(self.0, align) {
            Some(up) => match VirtAddr::try_new(up) {
                Ok(va) => Some(va),
                Err(_) => None,
            },
            None => None,
        }
    }

    /// Whether the address is a multiple of `align` (a power of two).
    pub const fn is_aligned(self, align: u64) -> bool {
        align_down(self.0, align) == self.0
    }

    /// The byte offset inside its 4 KiB page (the low 12 bits).
    pub const fn page_offset(self) -> u64 {
        self.0 & (PAGE_SIZE - 1)
    }

    /// `self + offset`, or `None` if the result is not canonical or wraps.
    pub const fn checked_add(self, offset: u64) -> Option<VirtAddr> {
        match self.0.checked_add(offset) {
            Some(sum) => match VirtAddr::try_new(sum) {
                Ok(va) => Some(va),
                Err(_) => None,
            },
            None => None,
        }
    }

    /// The index into the page table at `level` (4 = PML4 … 1 = PT).
    ///
    /// A virtual address splits into five fields:
    ///
    /// ```text
    ///  63    48 47    39 38    30 29    21 20    12 11       0
    /// | sign   | PML4   | PDPT   | PD     | PT     | offset    |
    /// | ext.   | lvl 4  | lvl 3  | lvl 2  | lvl 1  | in page   |
    /// ```
    ///
    /// Each index is 9 bits (0..512), because a 4 KiB table holds 512
    /// eight-byte entries.
    ///
    /// # Panics
    /// If `level` is not 1..=4 (a kernel bug).
    pub const fn table_index(self, level: u8) -> usize {
        assert!(level >= 1 && level <= 4, "page-table levels are 1..=4");
        let shift = PAGE_SHIFT + 9 * (level as u32 - 1);
        ((self.0 >> shift) & 0x1ff) as usize
    }

    /// Index into the PML4, the top-level table (bits 47..39).
    pub const fn p4_index(self) -> usize {
        self.table_index(4)
    }

    /// Index into the page-directory-pointer table (bits 38..30).
    pub const fn p3_index(self) -> usize {
        self.table_index(3)
    }

    /// Index into the page directory (bits 29..21).
    pub const fn p2_index(self) -> usize {
        self.table_index(2)
    }

    /// Index into the page table, the last level (bits 20..12).
    pub const fn p1_index(self) -> usize {
        self.table_index(1)
    }

    /// Builds the address a set of four table indices and an offset name:
    /// the inverse of the `pN_index` methods. Sign-extends bit 47, so the
    /// result is always canonical.
    ///
    /// # Panics
    /// If an index is 512 or more, or the offset is 4096 or more.
    pub const fn from_table_indices(
        p4: usize,
        p3: usize,
        p2: usize,
        p1: usize,
        offset: u64,
    ) -> VirtAddr {
        assert!(p4 < 512 && p3 < 512 && p2 < 512 && p1 < 512 && offset < PAGE_SIZE);
        let raw = ((p4 as u64) << 39)
            | ((p3 as u64) << 30)
            | ((p2 as u64) << 21)
            | ((p1 as u64) << 12)
            | offset;
        VirtAddr((((raw << 16) as i64) >> 16) as u64)
    }
}

impl fmt::Debug for VirtAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VirtAddr({:#x})", self.0)
    }
}

/// The kernel-window address of physical address `pa`: `KERNEL_BASE + pa`.
///
/// Returns `OutsideKernelWindow` for `pa` at or above 1 GiB — the boot page
/// tables map nothing there, so such a pointer would fault.
pub const fn phys_to_kernel_virt(pa: PhysAddr) -> Result<VirtAddr, AddrError> {
    if pa.0 < KERNEL_WINDOW_SIZE {
        // KERNEL_BASE + (< 1 GiB) stays below 2^64 and keeps the top bits set.
        Ok(VirtAddr(KERNEL_BASE + pa.0))
    } else {
        Err(AddrError::OutsideKernelWindow(pa.0))
    }
}

/// The physical address behind a kernel-window address: `va - KERNEL_BASE`.
///
/// Returns `NotKernelWindow` for any address below `KERNEL_BASE` (user
/// addresses and the rest of the kernel half are not in the window).
pub const fn kernel_virt_to_phys(va: VirtAddr) -> Result<PhysAddr, AddrError> {
    if va.0 >= KERNEL_BASE {
        Ok(PhysAddr(va.0 - KERNEL_BASE))
    } else {
        Err(AddrError::NotKernelWindow(va.0))
    }
}

/// Whether `addr` is in user space (`addr < USER_TOP`).
pub const fn is_user_address(addr: u64) -> bool {
    addr < USER_TOP
}

/// A range of user virtual addresses `start..start + len` that has been
/// checked: it does not wrap around and ends at or below [`USER_TOP`].
///
/// Build one with [`UserRange::new`] from the raw numbers a system call
/// received, before touching any page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserRange {
    start: u64,
    len: u64,
}

impl UserRange {
    /// Checks a pointer and a length a user program passed in.
    ///
    /// The obvious test `start + len <= USER_TOP` is wrong: with
    /// `start = 0x1000` and `len = u64::MAX` the addition wraps around to
    /// `0xfff`, which *is* below `USER_TOP`, and the kernel would go on to
    /// copy 2^64 bytes starting in user space and running through the
    /// kernel. So the sum is computed with `checked_add`, and a wrap is an
    /// error of its own.
    ///
    /// An empty range (`len == 0`) is valid if `start <= USER_TOP`.
    pub const fn new(start: u64, len: u64) -> Result<UserRange, AddrError> {
        let end = match start.checked_add(len) {
            Some(end) => end,
            None => return Err(AddrError::RangeOverflows { start, len }),
        };
        if end > USER_TOP {
            return Err(AddrError::NotUserRange { start, len });
        }
        Ok(UserRange { start, len })
    }

    /// The first address of the range.
    pub const fn start(self) -> VirtAddr {
        // start <= end <= USER_TOP, so start is in the (canonical) lower half.
        VirtAddr(self.start)
    }

    /// One past the last address of the range.
    pub const fn end(self) -> VirtAddr {
        VirtAddr(self.start + self.len)
    }

    /// The length in bytes.
    pub const fn len(self) -> u64 {
        self.len
    }

    /// Whether the range holds no bytes.
    pub const fn is_empty(self) -> bool {
        self.len == 0
    }
}

/// Whether `start..start + len` lies entirely in user space (see [`UserRange::new`]).
pub const fn is_user_range(start: u64, len: u64) -> bool {
    UserRange::new(start, len).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_addresses_are_accepted_and_the_hole_is_rejected() {
        assert!(VirtAddr::try_new(0).is_ok());
        assert!(VirtAddr::try_new(0x0000_7fff_ffff_ffff).is_ok());
        assert!(VirtAddr::try_new(0xffff_8000_0000_0000).is_ok());
        assert!(VirtAddr::try_new(KERNEL_BASE).is_ok());
        assert!(VirtAddr::try_new(u64::MAX).is_ok());
        assert_eq!(
            VirtAddr::try_new(0x0000_8000_0000_0000),
            Err(AddrError::NotCanonical(0x0000_8000_0000_0000))
        );
        assert!(VirtAddr::try_new(0xffff_7fff_ffff_ffff).is_err());
        assert!(VirtAddr::try_new(0x1234_0000_0000_0000).is_err());
    }

    #[test]
    fn physical_addresses_stop_at_2_to_the_52() {
        assert!(PhysAddr::try_new(MAX_PHYS_ADDR - 1).is_ok());
        assert_eq!(
            PhysAddr::try_new(MAX_PHYS_ADDR),
            Err(AddrError::PhysTooLarge(MAX_PHYS_ADDR))
        );
        assert_eq!(PhysAddr::new(MAX_PHYS_ADDR - 1).align_up(PAGE_SIZE), None);
    }

    #[test]
    fn alignment_rounds_the_right_way() {
        assert_eq!(align_down(0x1fff, PAGE_SIZE), 0x1000);
        assert_eq!(align_up(0x1001, PAGE_SIZE), Some(0x2000));
        assert_eq!(align_up(0x2000, PAGE_SIZE), Some(0x2000));
        assert_eq!(align_up(u64::MAX - 5, PAGE_SIZE), None);
        let va = VirtAddr::new(0x1234_5678);
        assert_eq!(va.align_down(PAGE_SIZE).as_u64(), 0x1234_5000);
        assert_eq!(
            va.align_up(PAGE_SIZE).map(VirtAddr::as_u64),
            Some(0x1234_6000)
        );
        assert_eq!(va.page_offset(), 0x678);
        assert!(!va.is_aligned(PAGE_SIZE));
        assert!(va.align_down(PAGE_SIZE).is_aligned(PAGE_SIZE));
        // Rounding the last lower-half byte up runs into the hole.
        assert_eq!(
            VirtAddr::new(0x0000_7fff_ffff_ffff).align_up(PAGE_SIZE),
            None
        );
        // Rounding up the last byte of memory wraps.
        assert_eq!(VirtAddr::new(u64::MAX).align_up(PAGE_SIZE), None);
    }

    #[test]
    fn table_indices_split_and_rebuild_an_address() {
        // KERNEL_BASE is PML4 entry 511, PDPT entry 510: what the boot code maps.
        let kb = VirtAddr::new(KERNEL_BASE);
        assert_eq!(
            (kb.p4_index(), kb.p3_index(), kb.p2_index(), kb.p1_index()),
            (511, 510, 0, 0)
        );

        // 1 << 39 | 2 << 30 | 3 << 21 | 4 << 12 | 0x567, written out in hex:
        let va = VirtAddr::new(0x0000_0080_8060_4567);
        assert_eq!(
            (va.p4_index(), va.p3_index(), va.p2_index(), va.p1_index()),
            (1, 2, 3, 4)
        );
        assert_eq!(va.page_offset(), 0x567);
        let rebuilt = VirtAddr::from_table_indices(
            va.p4_index(),
            va.p3_index(),
            va.p2_index(),
            va.p1_index(),
            va.page_offset(),
        );
        assert_eq!(rebuilt, va);

        // Index 256 of the PML4 is the first kernel-half entry: sign-extended.
        assert_eq!(
            VirtAddr::from_table_indices(256, 0, 0, 0, 0).as_u64(),
            0xffff_8000_0000_0000
        );
    }

    #[test]
    fn kernel_window_converts_only_below_1_gib() {
        let pa = PhysAddr::new(0x10_0000);
        let va = phys_to_kernel_virt(pa).unwrap();
        assert_eq!(va.as_u64(), 0xffff_ffff_8010_0000);
        assert_eq!(kernel_virt_to_phys(va), Ok(pa));
        assert_eq!(
            phys_to_kernel_virt(PhysAddr::new(KERNEL_WINDOW_SIZE)),
            Err(AddrError::OutsideKernelWindow(KERNEL_WINDOW_SIZE))
        );
        assert!(phys_to_kernel_virt(PhysAddr::new(KERNEL_WINDOW_SIZE - 1)).is_ok());
        assert_eq!(
            kernel_virt_to_phys(VirtAddr::new(0x1000)),
            Err(AddrError::NotKernelWindow(0x1000))
        );
    }

    #[test]
    fn user_ranges_reject_kernel_addresses_and_wrapping() {
        assert!(is_user_address(0));
        assert!(is_user_address(USER_TOP - 1));
        assert!(!is_user_address(USER_TOP));
        assert!(!is_user_address(KERNEL_BASE));

        assert!(is_user_range(0x1000, 0x1000));
        assert!(is_user_range(USER_TOP - 10, 10));
        assert!(is_user_range(USER_TOP, 0));
        assert!(!is_user_range(USER_TOP - 10, 11));
        assert!(!is_user_range(KERNEL_BASE, 1));
        // The classic bug: 0x1000 + u64::MAX wraps to 0xfff, which looks fine.
        assert_eq!(
            UserRange::new(0x1000, u64::MAX),
            Err(AddrError::RangeOverflows {
                start: 0x1000,
                len: u64::MAX
            })
        );
        let range = UserRange::new(0x4000, 0x10).unwrap();
        assert_eq!(
            (range.start().as_u64(), range.end().as_u64(), range.len()),
            (0x4000, 0x4010, 0x10)
        );
        assert!(!range.is_empty());
    }
}
