//! Copying to and from user memory: the one place the kernel touches a
//! user pointer.
//!
//! A system call like `write(fd, buf, n)` hands the kernel a number, `buf`,
//! that the user program chose. The kernel must never simply dereference
//! it: it may point into the kernel, at nothing, at a read-only page, or
//! (with `n`) wrap around the end of the address space. Instead, every
//! access goes through [`copy_from_user`] / [`copy_to_user`], which
//!
//! 1. check the whole range is in user space without overflow
//!    ([`UserRange::new`]);
//! 2. split it at page boundaries, since consecutive virtual pages can be
//!    backed by frames anywhere in physical memory;
//! 3. walk the page tables for each page and check what the MMU would
//!    check for a user-mode access: present, `USER`, and `WRITABLE` when
//!    writing ([`AddressSpace::effective_access`]);
//! 4. copy each page-sized chunk through the frame's kernel-window address.
//!
//! Step 3 matters even though the kernel could read the bytes anyway: the
//! copy goes through the kernel window, which is writable, so without the
//! check a program could make the kernel write into its read-only text (or
//! a copy-on-write page shared with its parent).
//!
//! A failed `copy_to_user` has written nothing: all pages are checked
//! before the first byte is copied (check, then commit). When a check fails
//! the error names the first bad address, so a kernel can resolve the
//! fault — break copy-on-write, say — and try again.
//!
//! The monolithic kernel reaches every user pointer through these functions
//! (`mono-kernel/src/vm.rs`, `UserVm`). The microkernel copies a message's
//! bytes between two address spaces instead (`micro-kernel/kernel/src/copy.rs`,
//! with the same checks), and its servers never see a client's pointer at
//! all: the bytes arrive in their receive buffers (`docs/design.md`, rule 4).

use core::fmt;

use super::addr::{AddrError, PAGE_SIZE, UserRange, VirtAddr, align_down};
use super::paging::{AddressSpace, PageTableFlags, PhysMemory};
use crate::abi::errno::Errno;

/// Why a page of a user range could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultReason {
    /// Nothing is mapped there.
    NotMapped,
    /// Mapped, but for the kernel only (`USER` clear at some level).
    NotUser,
    /// Mapped for the user but read-only, and the kernel was asked to write.
    ReadOnly,
    /// Mapped to a frame the kernel cannot reach (above the 1 GiB window).
    Unreachable,
}

/// Why a user copy failed. Nothing a user program passes can cause anything
/// worse than one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserCopyError {
    /// The range is not entirely in user space, or it wraps around.
    BadRange(AddrError),
    /// A page in the range failed the check; `addr` is the first byte of
    /// the range in that page.
    Fault { addr: VirtAddr, reason: FaultReason },
    /// [`copy_str_from_user`] found no NUL byte within the allowed length.
    StringTooLong,
}

impl fmt::Display for UserCopyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UserCopyError::BadRange(error) => write!(f, "bad user range: {error}"),
            UserCopyError::Fault { addr, reason } => {
                write!(f, "user page fault at {addr:?}: {reason:?}")
            }
            UserCopyError::StringTooLong => write!(f, "user string too long"),
        }
    }
}

impl From<UserCopyError> for Errno {
    /// Bad pointers are `EFAULT`; an unterminated string is `ENAMETOOLONG`
    /// (its usual use is a path; `exec` may prefer `E2BIG` for arguments).
    fn from(error: UserCopyError) -> Errno {
        match error {
            UserCopyError::BadRange(_) | UserCopyError::Fault { .. } => Errno::EFAULT,
            UserCopyError::StringTooLong => Errno::ENAMETOOLONG,
        }
    }
}

/// One piece of a user range that lies within a single page.
#[derive(Debug, Clone, Copy)]
struct Chunk {
    /// The user address where the chunk starts.
    addr: VirtAddr,
    /// Offset of `addr` inside its page.
    page_offset: usize,
    /// Offset of the chunk from the start of the whole range.
    range_offset: usize,
    /// Length in bytes (1..=4096).
    len: usize,
}

/// Splits a checked user range at page boundaries.
fn chunks(range: UserRange) -> impl Iterator<Item = Chunk> {
    let end = range.end().as_u64();
    let mut addr = range.start().as_u64();
    core::iter::from_fn(move || {
        if addr >= end {
            return None;
        }
        // The page holding `addr` ends at or below USER_TOP, so no overflow.
        let page_end = align_down(addr, PAGE_SIZE) + PAGE_SIZE;
        let chunk_end = page_end.min(end);
        let chunk = Chunk {
            addr: VirtAddr::new(addr),
            page_offset: (addr % PAGE_SIZE) as usize,
            range_offset: (addr - range.start().as_u64()) as usize,
            len: (chunk_end - addr) as usize,
        };
        addr = chunk_end;
        Some(chunk)
    })
}

/// Checks the page holding `addr` allows a user access with `needed`
/// permissions, and returns its bytes in the kernel's view.
fn user_page<'m, M: PhysMemory>(
    space: &AddressSpace,
    mem: &'m mut M,
    addr: VirtAddr,
    needed: PageTableFlags,
) -> Result<&'m mut [u8; PAGE_SIZE as usize], UserCopyError> {
    let fault = |reason| UserCopyError::Fault { addr, reason };
    let mapping = space
        .effective_access(mem, addr)
        .ok_or(fault(FaultReason::NotMapped))?;
    if !mapping.flags.contains(PageTableFlags::USER) {
        return Err(fault(FaultReason::NotUser));
    }
    if !mapping.flags.contains(needed) {
        return Err(fault(FaultReason::ReadOnly));
    }
    mem.frame_bytes(mapping.frame)
        .ok_or(fault(FaultReason::Unreachable))
}

/// Copies `dst.len()` bytes from user address `user_addr` in `space` into `dst`.
///
/// Errors: `BadRange` if the range leaves user space or wraps; `Fault` at
/// the first page that is unmapped, kernel-only or unreachable. On error
/// `dst` may hold some of the bytes.
pub fn copy_from_user(
    space: &AddressSpace,
    mem: &mut impl PhysMemory,
    user_addr: u64,
    dst: &mut [u8],
) -> Result<(), UserCopyError> {
    let range = UserRange::new(user_addr, dst.len() as u64).map_err(UserCopyError::BadRange)?;
    for chunk in chunks(range) {
        let page = user_page(space, mem, chunk.addr, PageTableFlags::USER)?;
        dst[chunk.range_offset..][..chunk.len]
            .copy_from_slice(&page[chunk.page_offset..][..chunk.len]);
    }
    Ok(())
}

/// Copies `src` to user address `user_addr` in `space`.
///
/// Errors: `BadRange` if the range leaves user space or wraps; `Fault` at
/// the first page that is unmapped, kernel-only, read-only or unreachable.
/// Every page is checked before any byte is written, so on error user
/// memory is unchanged.
pub fn copy_to_user(
    space: &AddressSpace,
    mem: &mut impl PhysMemory,
    user_addr: u64,
    src: &[u8],
) -> Result<(), UserCopyError> {
    let range = UserRange::new(user_addr, src.len() as u64).map_err(UserCopyError::BadRange)?;
    let writable = PageTableFlags::USER | PageTableFlags::WRITABLE;
    // Check: every page must take the write ...
    for chunk in chunks(range) {
        user_page(space, mem, chunk.addr, writable)?;
    }
    // ... then commit. Nothing can change the tables in between: we hold
    // `mem` exclusively.
    for chunk in chunks(range) {
        let page = user_page(space, mem, chunk.addr, writable)?;
        page[chunk.page_offset..][..chunk.len]
            .copy_from_slice(&src[chunk.range_offset..][..chunk.len]);
    }
    Ok(())
}

/// Copies `src` into `space` at `addr` with the kernel's privileges: pages
/// must be mapped, but may be read-only or kernel-only.
///
/// This is for building an address space, not for serving a request: `exec`
/// loading program text into pages it has already mapped read-only, or the
/// micro-kernel setting up its first task. `addr` still must be a user
/// range. Errors as for [`copy_to_user`] (only `NotMapped`/`Unreachable`
/// faults); on error nothing has been written.
pub fn load_into_space(
    space: &AddressSpace,
    mem: &mut impl PhysMemory,
    addr: u64,
    src: &[u8],
) -> Result<(), UserCopyError> {
    let range = UserRange::new(addr, src.len() as u64).map_err(UserCopyError::BadRange)?;
    for chunk in chunks(range) {
        present_page(space, mem, chunk.addr)?;
    }
    for chunk in chunks(range) {
        let page = present_page(space, mem, chunk.addr)?;
        page[chunk.page_offset..][..chunk.len]
            .copy_from_slice(&src[chunk.range_offset..][..chunk.len]);
    }
    Ok(())
}

/// The bytes of the page holding `addr`, whatever its permissions.
fn present_page<'m, M: PhysMemory>(
    space: &AddressSpace,
    mem: &'m mut M,
    addr: VirtAddr,
) -> Result<&'m mut [u8; PAGE_SIZE as usize], UserCopyError> {
    let fault = |reason| UserCopyError::Fault { addr, reason };
    let mapping = space
        .translate(mem, addr)
        .ok_or(fault(FaultReason::NotMapped))?;
    mem.frame_bytes(mapping.frame)
        .ok_or(fault(FaultReason::Unreachable))
}

/// Copies a NUL-terminated string from user address `user_addr` into `buf`
/// and returns its length (without the NUL): the string is `buf[..len]`.
///
/// At most `buf.len()` bytes are read, the NUL included, so the longest
/// string accepted is `buf.len() - 1` bytes. Pages are read one at a time
/// and only until the NUL, so a string that ends just before an unmapped
/// page is fine.
///
/// Errors: `StringTooLong` if no NUL is among the first `buf.len()` bytes;
/// `BadRange` or `Fault` if the string runs into kernel space, off the end
/// of user space, or into a page that is not readable before its NUL.
pub fn copy_str_from_user(
    space: &AddressSpace,
    mem: &mut impl PhysMemory,
    user_addr: u64,
    buf: &mut [u8],
) -> Result<usize, UserCopyError> {
    let mut copied = 0;
    while copied < buf.len() {
        // The next chunk: up to the end of the current page or of `buf`.
        let addr = user_addr
            .checked_add(copied as u64)
            .ok_or(UserCopyError::BadRange(AddrError::RangeOverflows {
                start: user_addr,
                len: buf.len() as u64,
            }))?;
        let to_page_end = PAGE_SIZE - addr % PAGE_SIZE;
        let len = to_page_end.min((buf.len() - copied) as u64) as usize;
        let range = UserRange::new(addr, len as u64).map_err(UserCopyError::BadRange)?;
        let page = user_page(space, mem, range.start(), PageTableFlags::USER)?;
        let offset = (addr % PAGE_SIZE) as usize;
        let chunk = &page[offset..][..len];
        buf[copied..][..len].copy_from_slice(chunk);
        if let Some(nul) = chunk.iter().position(|&b| b == 0) {
            return Ok(copied + nul);
        }
        copied += len;
    }
    Err(UserCopyError::StringTooLong)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mm::addr::{KERNEL_BASE, USER_TOP};
    use crate::mm::fake_ram::FakeRam;
    use crate::mm::frame::PhysFrame;
    use crate::mm::paging::FrameSource;

    const RW_USER: PageTableFlags = PageTableFlags::PRESENT
        .union(PageTableFlags::WRITABLE)
        .union(PageTableFlags::USER);
    const RO_USER: PageTableFlags = PageTableFlags::PRESENT.union(PageTableFlags::USER);

    /// A space with user pages at 0x1000 and 0x2000 (read-write, adjacent
    /// virtually but in frames far apart physically), 0x3000 read-only,
    /// 0x5000 kernel-only, and nothing at 0x4000.
    fn setup() -> (FakeRam, AddressSpace) {
        let mut ram = FakeRam::new(64);
        let mut space = AddressSpace::new(&mut ram).unwrap();
        let pages = [
            (0x1000, RW_USER),
            (0x2000, RW_USER),
            (0x3000, RO_USER),
            (0x5000, PageTableFlags::WRITABLE),
        ];
        for (i, (page, flags)) in pages.into_iter().enumerate() {
            // Waste a few frames so virtual neighbours are not physical ones.
            for _ in 0..i {
                ram.alloc_frame();
            }
            let frame = ram.alloc_zeroed_frame().unwrap();
            space
                .map(&mut ram, VirtAddr::new(page), frame, flags)
                .unwrap();
        }
        (ram, space)
    }

    fn fault(addr: u64, reason: FaultReason) -> UserCopyError {
        UserCopyError::Fault {
            addr: VirtAddr::new(addr),
            reason,
        }
    }

    #[test]
    fn a_copy_across_a_page_boundary_lands_in_both_frames() {
        let (mut ram, space) = setup();
        let message = b"hello, page boundary";
        let at = 0x2000 - 5;
        copy_to_user(&space, &mut ram, at, message).unwrap();
        let mut back = [0u8; 20];
        copy_from_user(&space, &mut ram, at, &mut back).unwrap();
        assert_eq!(&back, message);
        // The second half really is at the start of the frame behind 0x2000.
        let second = space
            .translate(&mut ram, VirtAddr::new(0x2000))
            .unwrap()
            .frame;
        assert_eq!(ram.read_phys(second.start_address(), 15), &message[5..]);
    }

    #[test]
    fn empty_copies_succeed_without_touching_pages() {
        let (mut ram, space) = setup();
        assert_eq!(copy_from_user(&space, &mut ram, 0x4000, &mut []), Ok(()));
        assert_eq!(copy_to_user(&space, &mut ram, 0x4000, &[]), Ok(()));
    }

    #[test]
    fn unmapped_kernel_only_and_read_only_pages_fault() {
        let (mut ram, space) = setup();
        let mut buf = [0u8; 8];
        assert_eq!(
            copy_from_user(&space, &mut ram, 0x4000, &mut buf),
            Err(fault(0x4000, FaultReason::NotMapped))
        );
        // A range that starts mapped and runs into the hole faults at the hole.
        assert_eq!(
            copy_from_user(&space, &mut ram, 0x3ffc, &mut buf),
            Err(fault(0x4000, FaultReason::NotMapped))
        );
        assert_eq!(
            copy_from_user(&space, &mut ram, 0x5000, &mut buf),
            Err(fault(0x5000, FaultReason::NotUser))
        );
        // Read-only pages can be read but not written.
        assert_eq!(copy_from_user(&space, &mut ram, 0x3000, &mut buf), Ok(()));
        assert_eq!(
            copy_to_user(&space, &mut ram, 0x3000, &buf),
            Err(fault(0x3000, FaultReason::ReadOnly))
        );
    }

    #[test]
    fn a_failed_copy_to_user_writes_nothing() {
        let (mut ram, space) = setup();
        // 0x2ffc..0x3004: the first 4 bytes are writable, the rest read-only.
        assert_eq!(
            copy_to_user(&space, &mut ram, 0x2ffc, b"ABCDEFGH"),
            Err(fault(0x3000, FaultReason::ReadOnly))
        );
        let mut tail = [0xffu8; 4];
        copy_from_user(&space, &mut ram, 0x2ffc, &mut tail).unwrap();
        assert_eq!(tail, [0; 4], "the writable part must be untouched");
    }

    #[test]
    fn kernel_addresses_and_wrapping_ranges_are_bad_ranges() {
        let (mut ram, space) = setup();
        let mut buf = [0u8; 16];
        assert!(matches!(
            copy_from_user(&space, &mut ram, KERNEL_BASE, &mut buf),
            Err(UserCopyError::BadRange(AddrError::NotUserRange { .. }))
        ));
        // Starts in user space, ends past USER_TOP.
        assert!(matches!(
            copy_to_user(&space, &mut ram, USER_TOP - 8, &buf),
            Err(UserCopyError::BadRange(AddrError::NotUserRange { .. }))
        ));
        // u64::MAX - 3 + 16 wraps around to a small, "user-looking" address.
        assert!(matches!(
            copy_from_user(&space, &mut ram, u64::MAX - 3, &mut buf),
            Err(UserCopyError::BadRange(AddrError::RangeOverflows { .. }))
        ));
        // A non-canonical address is not in user space either.
        assert!(copy_from_user(&space, &mut ram, 0x0000_8000_0000_0000, &mut buf).is_err());
        assert_eq!(
            Errno::from(UserCopyError::BadRange(AddrError::NotAligned(0))),
            Errno::EFAULT
        );
    }

    #[test]
    fn pages_mapped_beyond_reach_fault_instead_of_panicking() {
        let (mut ram, mut space) = setup();
        // A user page backed by a frame outside the fake RAM (like device
        // memory above the kernel window).
        let far = PhysFrame::from_number(0x10_0000).unwrap();
        space
            .map(&mut ram, VirtAddr::new(0x8000), far, RW_USER)
            .unwrap();
        let mut buf = [0u8; 4];
        assert_eq!(
            copy_from_user(&space, &mut ram, 0x8000, &mut buf),
            Err(fault(0x8000, FaultReason::Unreachable))
        );
    }

    #[test]
    fn strings_stop_at_nul_and_may_end_before_an_unmapped_page() {
        let (mut ram, space) = setup();
        // "/bin/sh\0" written so that the NUL is the last byte of page 0x3000,
        // with the unmapped page 0x4000 right after it. (0x3000 is read-only,
        // so put the bytes there through physical memory.)
        let frame = space
            .translate(&mut ram, VirtAddr::new(0x3000))
            .unwrap()
            .frame;
        let pa = frame.start_address().checked_add(0x1000 - 8).unwrap();
        ram.write_phys(pa, b"/bin/sh\0");
        let mut buf = [0u8; 64];
        let len = copy_str_from_user(&space, &mut ram, 0x3ff8, &mut buf).unwrap();
        assert_eq!(&buf[..len], b"/bin/sh");

        // Crossing from 0x1000 into 0x2000.
        copy_to_user(&space, &mut ram, 0x1ffd, b"cross\0").unwrap();
        assert_eq!(
            copy_str_from_user(&space, &mut ram, 0x1ffd, &mut buf),
            Ok(5)
        );
        assert_eq!(&buf[..5], b"cross");
    }

    #[test]
    fn unterminated_strings_are_errors() {
        let (mut ram, space) = setup();
        copy_to_user(&space, &mut ram, 0x1000, b"abcdefgh").unwrap();
        // Room for 8 bytes: "abcdefgh" has no NUL within them.
        let mut small = [0u8; 8];
        assert_eq!(
            copy_str_from_user(&space, &mut ram, 0x1000, &mut small),
            Err(UserCopyError::StringTooLong)
        );
        assert_eq!(
            Errno::from(UserCopyError::StringTooLong),
            Errno::ENAMETOOLONG
        );
        // Running off the readable pages before a NUL is a fault. Page 0x3000
        // is zeroed, so fill its end with non-NUL bytes through physical memory.
        let frame = space
            .translate(&mut ram, VirtAddr::new(0x3000))
            .unwrap()
            .frame;
        ram.write_phys(
            frame.start_address().checked_add(0xff0).unwrap(),
            &[b'x'; 16],
        );
        let mut big = [0u8; 64];
        assert_eq!(
            copy_str_from_user(&space, &mut ram, 0x3ff0, &mut big),
            Err(fault(0x4000, FaultReason::NotMapped))
        );
        // A string running off the top of user space is a bad range: map
        // the last user page with junk (no NUL) and start near its end.
        let mut space = space;
        let last_page = USER_TOP - PAGE_SIZE;
        let junk = ram.alloc_frame(); // not zeroed: FakeRam fills it with 0xa5
        space
            .map(&mut ram, VirtAddr::new(last_page), junk, RO_USER)
            .unwrap();
        assert!(matches!(
            copy_str_from_user(&space, &mut ram, USER_TOP - 4, &mut big),
            Err(UserCopyError::BadRange(AddrError::NotUserRange { .. }))
        ));
        // So is one that starts in kernel space.
        assert!(matches!(
            copy_str_from_user(&space, &mut ram, KERNEL_BASE, &mut big),
            Err(UserCopyError::BadRange(_))
        ));
    }

    #[test]
    fn loading_ignores_permissions_but_not_missing_pages() {
        let (mut ram, space) = setup();
        // Read-only 0x3000 and kernel-only 0x5000 can be loaded by the kernel.
        load_into_space(&space, &mut ram, 0x3000, b"text").unwrap();
        load_into_space(&space, &mut ram, 0x5000, b"data").unwrap();
        let mut buf = [0u8; 4];
        copy_from_user(&space, &mut ram, 0x3000, &mut buf).unwrap();
        assert_eq!(&buf, b"text");
        // 0x3ffe..0x4002 runs into the unmapped page: nothing was written.
        assert_eq!(
            load_into_space(&space, &mut ram, 0x3ffe, b"xyzw"),
            Err(fault(0x4000, FaultReason::NotMapped))
        );
        copy_from_user(&space, &mut ram, 0x3ffe, &mut buf[..2]).unwrap();
        assert_eq!(&buf[..2], &[0, 0]);
    }
}
