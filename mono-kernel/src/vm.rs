//! A process's user address space: its page tables, what is mapped there,
//! and what a page fault in it means.
//!
//! ```text
//!   0x0000_7fff_f000_0000  ┌──────────────┐  USER_STACK_TOP
//!                          │ stack (64 KiB)│  grows down
//!                          ├──────────────┤
//!                          │ guard page    │  never mapped: overflow faults
//!   0x0000_7fff_0000_0000  ├──────────────┤  MMAP_TOP
//!                          │ mmap area     │  regions, pages made at first touch
//!   0x0000_7000_0000_0000  ├──────────────┤  MMAP_BASE = HEAP_LIMIT
//!                          │ heap          │  grows up with sbrk, from heap_start
//!                          ├──────────────┤  heap_start (page-aligned image end)
//!                          │ data, bss     │
//!                          │ text, rodata  │  from the ELF file
//!   0x0000_0000_0040_0000  └──────────────┘  (page 0 stays unmapped: null faults)
//! ```
//!
//! The landmarks are part of the user ABI (`common::abi::memory`), shared
//! with the micro-kernel's proc server, which builds the same layout.
//!
//! The kernel half (PML4 entries 256..512) is copied from the boot page
//! tables into every space, so the kernel runs unchanged whichever process's
//! CR3 is loaded.
//!
//! **Copy-on-write.** `fork` does not copy the user pages: the child's
//! tables name the parent's frames ([`UserVm::fork_copy`]), and every
//! writable page becomes read-only with the software bit `COPY_ON_WRITE` in
//! both. A frame named by several page tables has a reference count
//! (`memory::share_user_frame`), and is freed when the last entry goes
//! (`memory::release_user_frame`). The first write to such a page faults,
//! and [`UserVm::fault`] gives the writer a copy of its own — or, if it is
//! the last holder, just makes the page writable again.
//!
//! **mmap.** A mapping is a region (`common::mm::mmap`): nothing is mapped
//! when `mmap` returns. The first touch of a page faults, and `fault` makes
//! it: zeros, or the file's bytes, read by [`handle_fault`] without any
//! borrow held (reading may sleep on the disk).
//!
//! **Faults of system calls.** The kernel copies user memory through the
//! kernel window (`common::mm::user_copy`), so a page that is not made yet,
//! or shared copy-on-write, is found by the copy, not by the CPU. The copy
//! reports the page; [`copy_in`], [`copy_out`] and [`copy_str_in`] resolve
//! it as a page fault would ([`handle_fault`]) and copy again — so `read()`
//! into a copy-on-write page or into fresh mmap memory works, and a pointer
//! the program could not use itself is still `EFAULT`.
//!
//! A `UserVm` must not be dropped while its CR3 is loaded, nor while the
//! file-system lock is held (releasing a mapped file takes it).

use crate::fsys;
use crate::memory;
use crate::proc::Proc;
use alloc::rc::Rc;
use alloc::vec::Vec;
use common::abi::errno::Errno;
pub use common::abi::memory::HEAP_LIMIT;
use common::fs::Ino;
use common::mm::addr::{PAGE_SIZE, PAGE_SIZE_BYTES, VirtAddr, align_down, is_user_address};
use common::mm::kernel_window::KernelWindow;
use common::mm::mmap::{Backing, Prot, Region, Regions};
use common::mm::paging::{AddressSpace, FrameSource, PageTableFlags, PhysMemory};
use common::mm::user_copy::{self, FaultReason, UserCopyError};
use common::trace::{self, Kind};

/// Size of the user stack.
pub const USER_STACK_SIZE: u64 = 64 * 1024;

/// Free frames `sbrk` leaves for everyone's page faults: a process that
/// took all memory with `sbrk` must still be able to write the pages it
/// shares copy-on-write (its stack, its data) and to `exec`. The micro
/// kernel's proc keeps the same reserve (`RESERVED_PAGES`).
const RESERVED_PAGES: u64 = 64;

/// An inode an mmap region holds open: it stays readable after its
/// descriptor is closed, or its name unlinked, until the last region of it
/// goes (then the inode is released, which may free it). Regions split by
/// `munmap` or copied by `fork` share it through an `Rc`.
pub struct MappedInode {
    pub ino: Ino,
}

impl Drop for MappedInode {
    fn drop(&mut self) {
        if let Err(error) = fsys::lock().fs().release_inode(self.ino) {
            common::kprintln!("munmap: releasing inode {}: {error}", self.ino);
        }
    }
}

/// A process's mmap regions.
pub type MmapRegions = Regions<Rc<MappedInode>>;

/// A user address space.
pub struct UserVm {
    space: AddressSpace,
    /// Where the heap starts: the page-aligned end of the loaded program.
    heap_start: u64,
    /// The current program break: the heap is `heap_start..brk`.
    brk: u64,
    /// What `mmap` promised; the pages made so far are in `space`.
    regions: MmapRegions,
}

/// What a faulting access wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    pub write: bool,
    pub execute: bool,
}

impl Access {
    /// The access a page fault's error code describes (bit 1: write, bit
    /// 4: instruction fetch).
    pub fn from_error_code(code: u64) -> Access {
        Access {
            write: code & 0x2 != 0,
            execute: code & 0x10 != 0,
        }
    }
}

/// What [`UserVm::fault`] decided.
pub enum FaultPlan {
    /// The page is there now: do the access again.
    Retry,
    /// A page of a mapped file: read `PAGE_SIZE` bytes of the file from
    /// `offset` and hand them to [`UserVm::install_file_page`]. (Reading
    /// may sleep, so the caller does it with no borrow held.)
    ReadFile {
        page: u64,
        file: Rc<MappedInode>,
        offset: u64,
        flags: PageTableFlags,
    },
    /// The access is not allowed: the program is killed, a system call
    /// fails with `EFAULT`.
    Refuse,
    /// Allowed, but there is no frame for it.
    OutOfMemory,
}

/// Page permissions for user memory.
pub fn user_flags(writable: bool, executable: bool) -> PageTableFlags {
    let mut flags = PageTableFlags::PRESENT | PageTableFlags::USER;
    if writable {
        flags |= PageTableFlags::WRITABLE;
    }
    if !executable {
        flags |= PageTableFlags::NO_EXECUTE;
    }
    flags
}

/// The page permissions of an mmap region's pages.
fn region_flags(prot: Prot) -> PageTableFlags {
    user_flags(prot.write, prot.execute)
}

impl UserVm {
    /// An empty user space sharing the kernel half of the boot page tables.
    pub fn new() -> Result<UserVm, Errno> {
        memory::with_frames(|frames| {
            let mut space = AddressSpace::new(frames).map_err(|_| Errno::ENOMEM)?;
            // SAFETY: the boot PML4 is the kernel's own top-level table; it
            // stays alive for the whole run.
            let kernel = unsafe { AddressSpace::from_root(boot_root()) };
            space.copy_kernel_half_from(frames, &kernel);
            Ok(UserVm {
                space,
                heap_start: 0,
                brk: 0,
                regions: Regions::new(),
            })
        })
    }

    /// Physical address of the PML4, for CR3.
    pub fn root_phys(&self) -> u64 {
        self.space.root().start_address().as_u64()
    }

    /// Sets where the heap starts (after exec loaded the program).
    pub fn set_heap_start(&mut self, image_end: u64) {
        let start = image_end.div_ceil(PAGE_SIZE) * PAGE_SIZE;
        self.heap_start = start;
        self.brk = start;
    }

    /// Maps fresh zeroed frames over `start..end` (rounded out to pages).
    /// On failure every page mapped by this call is unmapped and freed again.
    pub fn map_zeroed(&mut self, start: u64, end: u64, flags: PageTableFlags) -> Result<(), Errno> {
        let first = align_down(start, PAGE_SIZE);
        let mut page = first;
        let result = memory::with_frames(|frames| {
            while page < end {
                let frame = frames.alloc_zeroed_frame().ok_or(Errno::ENOMEM)?;
                if let Err(error) = self.space.map(frames, VirtAddr::new(page), frame, flags) {
                    frames.free_frame(frame);
                    return Err(match error {
                        common::mm::paging::MapError::OutOfMemory => Errno::ENOMEM,
                        _ => Errno::EINVAL,
                    });
                }
                page += PAGE_SIZE;
            }
            Ok(())
        });
        if result.is_err() {
            self.unmap_and_free(first, page);
        }
        result
    }

    /// Maps the pages of one program segment, `start..end`. A page that an
    /// earlier segment of the same program already mapped is kept, with the
    /// permissions of both (two segments may share a page at their ends).
    pub fn map_segment(
        &mut self,
        start: u64,
        end: u64,
        flags: PageTableFlags,
    ) -> Result<(), Errno> {
        let mut page = align_down(start, PAGE_SIZE);
        while page < end {
            let existing =
                memory::with_frames(|frames| self.space.translate(frames, VirtAddr::new(page)));
            match existing {
                None => self.map_zeroed(page, page + PAGE_SIZE, flags)?,
                Some(mapping) => {
                    let mut merged = mapping.flags | (flags & PageTableFlags::WRITABLE);
                    if !flags.contains(PageTableFlags::NO_EXECUTE) {
                        merged.remove(PageTableFlags::NO_EXECUTE);
                    }
                    memory::with_frames(|frames| {
                        self.space.update_flags(frames, VirtAddr::new(page), merged)
                    })
                    .map_err(|_| Errno::ENOEXEC)?;
                }
            }
            page += PAGE_SIZE;
        }
        Ok(())
    }

    /// Unmaps the pages mapped in `start..end` (page-aligned) and releases
    /// their frames; pages not mapped are skipped, so only the mapped ones
    /// cost anything, however large the range.
    fn unmap_and_free(&mut self, start: u64, end: u64) {
        memory::with_frames(|frames| {
            let mut cursor = self.space.user_mappings_from(VirtAddr::new(start));
            while let Some(mapping) = cursor.next(frames) {
                let page = mapping.page.as_u64();
                if page >= end {
                    break;
                }
                if self.space.unmap(frames, mapping.page).is_ok() {
                    memory::release_user_frame(frames, mapping.frame);
                    common::arch::cpu::invalidate_page(page);
                }
            }
        });
    }

    /// Writes `data` at `addr` regardless of page permissions (the loader
    /// filling read-only text). The pages must be mapped.
    pub fn write_unchecked(&mut self, addr: u64, data: &[u8]) -> Result<(), Errno> {
        memory::with_frames(|frames| {
            let mut done = 0;
            while done < data.len() {
                let va = addr + done as u64;
                let mapping = self
                    .space
                    .translate(frames, VirtAddr::new(va))
                    .ok_or(Errno::EFAULT)?;
                let offset = (va % PAGE_SIZE) as usize;
                let chunk = (PAGE_SIZE as usize - offset).min(data.len() - done);
                let bytes = frames.frame_bytes(mapping.frame).ok_or(Errno::EFAULT)?;
                bytes[offset..offset + chunk].copy_from_slice(&data[done..done + chunk]);
                done += chunk;
            }
            Ok(())
        })
    }

    /// A copy of this space for `fork`, copy-on-write: the child's tables
    /// name the same frames, and every writable page becomes read-only and
    /// `COPY_ON_WRITE` in both spaces, so that the first write to it on
    /// either side faults and copies ([`UserVm::fault`]). The mmap regions
    /// are copied too (sharing their files).
    pub fn fork_copy(&mut self) -> Result<UserVm, Errno> {
        let mut child = UserVm::new()?;
        child.heap_start = self.heap_start;
        child.brk = self.brk;
        child.regions = self.regions.clone();
        let copied = memory::with_frames(|frames| {
            // LAB cow BEGIN
            let mut cursor = self.space.user_mappings();
            while let Some(mapping) = cursor.next(frames) {
                let mut flags = mapping.flags - PageTableFlags::ACCESSED - PageTableFlags::DIRTY;
                if flags.contains(PageTableFlags::WRITABLE) {
                    flags = (flags - PageTableFlags::WRITABLE) | PageTableFlags::COPY_ON_WRITE;
                    self.space
                        .update_flags(frames, mapping.page, flags)
                        .map_err(|_| Errno::ENOMEM)?;
                }
                child
                    .space
                    .map(frames, mapping.page, mapping.frame, flags)
                    .map_err(|_| Errno::ENOMEM)?;
                memory::share_user_frame(mapping.frame);
            }
            // The parent's pages just became read-only: forget the
            // writable translations the TLB may hold (reloading CR3
            // flushes every user entry at once).
            // SAFETY: the same tables, reloaded.
            unsafe { common::arch::cpu::write_cr3(common::arch::cpu::read_cr3()) };
            Ok(())
            // LAB cow STUB
            //~ // Task 2: share the frames instead of copying them.
            //~ let mut cursor = self.space.user_mappings();
            //~ while let Some(mapping) = cursor.next(frames) {
            //~     let frame = frames.alloc_zeroed_frame().ok_or(Errno::ENOMEM)?;
            //~     if frames.copy_frame(mapping.frame, frame).is_err() {
            //~         frames.free_frame(frame);
            //~         return Err(Errno::ENOMEM);
            //~     }
            //~     let flags = mapping.flags - PageTableFlags::ACCESSED - PageTableFlags::DIRTY;
            //~     if child.space.map(frames, mapping.page, frame, flags).is_err() {
            //~         frames.free_frame(frame);
            //~         return Err(Errno::ENOMEM);
            //~     }
            //~ }
            //~ Ok(())
            // LAB cow END
        });
        // On failure `child` is dropped here, which releases what it holds.
        copied.map(|()| child)
    }

    /// What a fault at `addr` with `access` means, and whatever can be done
    /// about it at once: copying a copy-on-write page, making a page of an
    /// anonymous mapping. A page of a mapped file must be read first: that
    /// is the caller's ([`handle_fault`]).
    pub fn fault(&mut self, addr: u64, access: Access) -> FaultPlan {
        if !is_user_address(addr) {
            return FaultPlan::Refuse;
        }
        let page = align_down(addr, PAGE_SIZE);
        let mapping =
            memory::with_frames(|frames| self.space.translate(frames, VirtAddr::new(page)));
        if let Some(mapping) = mapping {
            let flags = mapping.flags;
            if !flags.contains(PageTableFlags::USER)
                || (access.execute && flags.contains(PageTableFlags::NO_EXECUTE))
            {
                return FaultPlan::Refuse;
            }
            if access.write && !flags.contains(PageTableFlags::WRITABLE) {
                if !flags.contains(PageTableFlags::COPY_ON_WRITE) {
                    return FaultPlan::Refuse; // text, rodata, a read-only mapping
                }
                // LAB cow BEGIN
                return self.break_copy_on_write(mapping);
                // LAB cow STUB
                //~ // Task 3: give the writer a page of its own.
                //~ return FaultPlan::Refuse;
                // LAB cow END
            }
            // Allowed already: the TLB held an older translation.
            common::arch::cpu::invalidate_page(page);
            return FaultPlan::Retry;
        }
        let Some(region) = self.regions.find(addr) else {
            return FaultPlan::Refuse;
        };
        if !region.prot.allows(access.write, access.execute) {
            return FaultPlan::Refuse;
        }
        // LAB mmap BEGIN
        let flags = region_flags(region.prot);
        match region.page_source(page) {
            common::mm::mmap::PageSource::Zero => {
                match self.map_zeroed(page, page + PAGE_SIZE, flags) {
                    Ok(()) => FaultPlan::Retry,
                    Err(_) => FaultPlan::OutOfMemory,
                }
            }
            common::mm::mmap::PageSource::File { file, offset } => FaultPlan::ReadFile {
                page,
                file: file.clone(),
                offset,
                flags,
            },
        }
        // LAB mmap STUB
        //~ // Task 2: make the page the region promises (zeros, or the file's bytes).
        //~ FaultPlan::Refuse
        // LAB mmap END
    }

    // LAB cow BEGIN
    /// A write to a copy-on-write page: a copy of its own for the writer,
    /// or, if nobody else holds the frame any more, the page made writable.
    fn break_copy_on_write(&mut self, mapping: common::mm::paging::Mapping) -> FaultPlan {
        let page = mapping.page;
        let flags = (mapping.flags
            - PageTableFlags::COPY_ON_WRITE
            - PageTableFlags::ACCESSED
            - PageTableFlags::DIRTY)
            | PageTableFlags::WRITABLE;
        let plan = memory::with_frames(|frames| {
            if !memory::user_frame_is_shared(mapping.frame) {
                // The last holder: the frame is ours alone.
                return match self.space.update_flags(frames, page, flags) {
                    Ok(_) => FaultPlan::Retry,
                    Err(_) => FaultPlan::Refuse,
                };
            }
            // Not zeroed: the copy overwrites every byte.
            let Some(copy) = frames.allocator().alloc() else {
                return FaultPlan::OutOfMemory;
            };
            if frames.copy_frame(mapping.frame, copy).is_err()
                || self.space.unmap(frames, page).is_err()
            {
                let _ = frames.allocator().free(copy);
                return FaultPlan::Refuse;
            }
            if self.space.map(frames, page, copy, flags).is_err() {
                // Cannot happen (the tables are there); put the old page back.
                let _ = frames.allocator().free(copy);
                let _ = self.space.map(frames, page, mapping.frame, mapping.flags);
                return FaultPlan::Refuse;
            }
            memory::release_user_frame(frames, mapping.frame);
            FaultPlan::Retry
        });
        common::arch::cpu::invalidate_page(page.as_u64());
        plan
    }
    // LAB cow STUB
    // LAB cow END

    /// Maps a page of a file mapping, holding `data` (one page read from
    /// the file), after [`FaultPlan::ReadFile`]. If the page was made
    /// meanwhile, or its region is gone, nothing changes.
    pub fn install_file_page(
        &mut self,
        page: u64,
        data: &[u8],
        flags: PageTableFlags,
    ) -> Result<(), Errno> {
        let va = VirtAddr::new(page);
        if self.regions.find(page).is_none() {
            return Err(Errno::EFAULT);
        }
        memory::with_frames(|frames| {
            if self.space.translate(frames, va).is_some() {
                return Ok(());
            }
            let frame = frames.alloc_zeroed_frame().ok_or(Errno::ENOMEM)?;
            if let Some(bytes) = frames.frame_bytes(frame) {
                let length = data.len().min(PAGE_SIZE_BYTES);
                bytes[..length].copy_from_slice(&data[..length]);
            }
            self.space.map(frames, va, frame, flags).map_err(|_| {
                frames.free_frame(frame);
                Errno::ENOMEM
            })
        })
    }

    /// `mmap`: records a region of `length` bytes (a multiple of 4096)
    /// with `prot` and `backing` where there is room, and returns its
    /// address. Maps nothing: the pages are made at their first touch.
    /// `ENOMEM` if there is no room, or too many mappings.
    pub fn mmap(
        &mut self,
        length: u64,
        prot: Prot,
        backing: Backing<Rc<MappedInode>>,
    ) -> Result<u64, Errno> {
        let start = self.regions.place(length)?;
        self.regions.insert(Region {
            start,
            end: start + length,
            prot,
            backing,
        });
        Ok(start)
    }

    /// Where a mapping of `length` bytes would go (`ENOMEM` if nowhere):
    /// `mmap` asks before it opens a file, so that nothing needs undoing.
    pub fn mmap_room(&self, length: u64) -> Result<u64, Errno> {
        self.regions.place(length)
    }

    /// `munmap`: removes the mappings of `start..end` (a range of the mmap
    /// area, checked by `common::mm::mmap::munmap_range`), unmapping and
    /// releasing every page made in it. Returns the regions removed: the
    /// caller drops them once no borrow is held (the last region of a file
    /// releases its inode, which may sleep).
    pub fn munmap(&mut self, start: u64, end: u64) -> Result<Vec<Region<Rc<MappedInode>>>, Errno> {
        // LAB mmap BEGIN
        let removed = self.regions.remove(start, end)?;
        for region in &removed {
            self.unmap_and_free(region.start, region.end);
        }
        Ok(removed)
        // LAB mmap STUB
        //~ // Task 3: forget the regions, unmap and release their pages.
        //~ let _ = (start, end);
        //~ Err(Errno::ENOSYS)
        // LAB mmap END
    }

    /// Grows or shrinks the heap by `delta` bytes; returns the old break.
    /// Growing maps zeroed pages; shrinking unmaps and frees whole pages.
    /// Errors: `ENOMEM` if the new break is below the heap start, above the
    /// heap limit, or the pages would leave fewer than `RESERVED_PAGES`
    /// free frames (then nothing changed).
    pub fn sbrk(&mut self, delta: i64) -> Result<u64, Errno> {
        let old = self.brk;
        let new = old.checked_add_signed(delta).ok_or(Errno::ENOMEM)?;
        if new < self.heap_start || new > HEAP_LIMIT {
            return Err(Errno::ENOMEM);
        }
        let old_top = old.div_ceil(PAGE_SIZE) * PAGE_SIZE;
        let new_top = new.div_ceil(PAGE_SIZE) * PAGE_SIZE;
        if new_top > old_top {
            let needed = (new_top - old_top) / PAGE_SIZE;
            if needed.saturating_add(RESERVED_PAGES) > memory::free_frames() as u64 {
                return Err(Errno::ENOMEM);
            }
            self.map_zeroed(old_top, new_top, user_flags(true, false))?;
        } else if new_top < old_top {
            self.unmap_and_free(new_top, old_top);
        }
        self.brk = new;
        Ok(old)
    }

    /// Copies `dst.len()` bytes from user address `addr`. Fails at the
    /// first page not mapped readable for the user (which may be one the
    /// process may use but that is not made yet: see [`copy_in`]).
    pub fn try_copy_in(&self, addr: u64, dst: &mut [u8]) -> Result<(), UserCopyError> {
        trace::point(
            Kind::Copy,
            dst.len() as u64,
            crate::trace::current_space(),
            0,
        );
        let mut window = kernel_window();
        user_copy::copy_from_user(&self.space, &mut window, addr, dst)
    }

    /// Copies `src` to user address `addr`. Fails, having written nothing,
    /// at the first page not mapped writable for the user (which may be a
    /// copy-on-write page: see [`copy_out`]).
    pub fn try_copy_out(&self, addr: u64, src: &[u8]) -> Result<(), UserCopyError> {
        trace::point(
            Kind::Copy,
            src.len() as u64,
            0,
            crate::trace::current_space(),
        );
        let mut window = kernel_window();
        user_copy::copy_to_user(&self.space, &mut window, addr, src)
    }

    /// Copies a NUL-terminated string from `addr` into `buf`; returns its
    /// length (without the NUL).
    pub fn try_copy_str_in(&self, addr: u64, buf: &mut [u8]) -> Result<usize, UserCopyError> {
        let mut window = kernel_window();
        user_copy::copy_str_from_user(&self.space, &mut window, addr, buf)
    }
}

impl Drop for UserVm {
    fn drop(&mut self) {
        debug_assert_ne!(
            common::arch::cpu::read_cr3() & !0xfff,
            self.root_phys(),
            "dropping the loaded address space"
        );
        memory::with_frames(|frames| {
            // SAFETY: `self.space` is not used after this; take it out by
            // value with a dummy left behind (the root frame is freed by
            // `destroy`, and Drop runs only once).
            let space = core::mem::replace(&mut self.space, unsafe {
                AddressSpace::from_root(boot_root())
            });
            space.destroy(frames, |frames, mapping| {
                memory::release_user_frame(frames, mapping.frame)
            });
        });
        // `regions` is dropped after this, outside `with_frames`: the last
        // region of a file releases its inode.
    }
}

/// Resolves a fault of process `proc` at `addr` — of the program (a page
/// fault) or of a system call's copy — as [`UserVm::fault`] decides,
/// reading the page of a mapped file if it must. `Ok` when the access can
/// be made again; `EFAULT` if it is not allowed (the trap handler then
/// kills the program); `ENOMEM` without a frame; `EIO` if the file cannot
/// be read.
pub fn handle_fault(proc: &Proc, addr: u64, access: Access) -> Result<(), Errno> {
    let plan = match proc.vm.borrow_mut().as_mut() {
        Some(vm) => vm.fault(addr, access),
        None => FaultPlan::Refuse,
    };
    match plan {
        FaultPlan::Retry => Ok(()),
        FaultPlan::Refuse => Err(Errno::EFAULT),
        FaultPlan::OutOfMemory => Err(Errno::ENOMEM),
        FaultPlan::ReadFile {
            page,
            file,
            offset,
            flags,
        } => {
            // LAB mmap BEGIN
            // No borrow is held here: reading may sleep for the disk.
            let mut data = alloc::vec![0u8; PAGE_SIZE_BYTES];
            fsys::lock()
                .fs()
                .read(file.ino, offset, &mut data)
                .map_err(|error| error.errno())?;
            drop(file);
            let mut vm = proc.vm.borrow_mut();
            vm.as_mut()
                .ok_or(Errno::EFAULT)?
                .install_file_page(page, &data, flags)
            // LAB mmap STUB
            //~ // Task 2: read the page of the file and map it.
            //~ let _ = (page, file, offset, flags);
            //~ Err(Errno::EFAULT)
            // LAB mmap END
        }
    }
}

/// Retries a user copy after resolving the faults it reports, as a page
/// fault of the program would be resolved: a page not made yet (mmap) is
/// made, a copy-on-write page copied. A fault that cannot be resolved, or
/// that comes back at the same address, is the copy's error (`EFAULT`).
#[derive(Debug, Default)]
pub struct FaultRetry {
    last: Option<VirtAddr>,
}

impl FaultRetry {
    /// Resolves the fault `error` reports, for a copy that `write`s or
    /// reads; `Err` if the copy should give up with that error.
    pub fn resolve(&mut self, proc: &Proc, error: UserCopyError, write: bool) -> Result<(), Errno> {
        match error {
            UserCopyError::Fault {
                addr,
                reason: FaultReason::NotMapped | FaultReason::ReadOnly,
            } if self.last != Some(addr) => {
                self.last = Some(addr);
                let access = Access {
                    write,
                    execute: false,
                };
                handle_fault(proc, addr.as_u64(), access).map_err(|errno| match errno {
                    Errno::ENOMEM | Errno::EIO => errno,
                    _ => Errno::EFAULT,
                })
            }
            error => Err(Errno::from(error)),
        }
    }
}

/// Runs `copy` on `proc`'s address space until it succeeds, resolving the
/// faults it reports in between (with no borrow held).
fn retrying<T>(
    proc: &Proc,
    write: bool,
    mut copy: impl FnMut(&UserVm) -> Result<T, UserCopyError>,
) -> Result<T, Errno> {
    let mut retry = FaultRetry::default();
    loop {
        let attempt = {
            let vm = proc.vm.borrow();
            copy(vm.as_ref().ok_or(Errno::EFAULT)?)
        };
        match attempt {
            Ok(value) => return Ok(value),
            Err(error) => retry.resolve(proc, error, write)?,
        }
    }
}

/// Copies `dst.len()` bytes from `proc`'s memory at `addr` (`copyin`).
/// `EFAULT` if the program could not read them itself.
pub fn copy_in(proc: &Proc, addr: u64, dst: &mut [u8]) -> Result<(), Errno> {
    retrying(proc, false, |vm| vm.try_copy_in(addr, dst))
}

/// Copies `src` to `proc`'s memory at `addr` (`copyout`): copy-on-write
/// pages are copied first. `EFAULT` (and nothing written) if the program
/// could not write there itself.
pub fn copy_out(proc: &Proc, addr: u64, src: &[u8]) -> Result<(), Errno> {
    retrying(proc, true, |vm| vm.try_copy_out(addr, src))
}

/// Copies a NUL-terminated string from `proc`'s memory at `addr` into
/// `buf`; returns its length. `ENAMETOOLONG` if it does not fit.
pub fn copy_str_in(proc: &Proc, addr: u64, buf: &mut [u8]) -> Result<usize, Errno> {
    retrying(proc, false, |vm| vm.try_copy_str_in(addr, buf))
}

fn boot_root() -> common::mm::PhysFrame {
    let phys = common::mm::PhysAddr::new(common::arch::boot::boot_pml4_phys());
    common::mm::PhysFrame::containing_address(phys)
}

fn kernel_window() -> KernelWindow {
    // SAFETY: the window is mapped in every address space; user copies only
    // read and write user frames of the space being copied to or from, which
    // nothing else touches during the copy (one CPU, no sleeping).
    unsafe { KernelWindow::new() }
}
