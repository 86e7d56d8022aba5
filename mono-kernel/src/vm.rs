//! A process's user address space: its page tables and what is mapped there.
//!
//! ```text
//!   0x0000_7fff_f000_0000  ┌──────────────┐  USER_STACK_TOP
//!                          │ stack (64 KiB)│  grows down
//!                          ├──────────────┤
//!                          │ guard page    │  never mapped: overflow faults
//!                          │   ...         │
//!                          │ heap          │  grows up with sbrk, from heap_start
//!                          ├──────────────┤  heap_start (page-aligned image end)
//!                          │ data, bss     │
//!                          │ text, rodata  │  from the ELF file
//!   0x0000_0000_0040_0000  └──────────────┘  (page 0 stays unmapped: null faults)
//! ```
//!
//! `USER_STACK_TOP` is part of the user ABI (`common::abi::memory`), shared
//! with the micro-kernel's proc server, which builds the same layout.
//!
//! The kernel half (PML4 entries 256..512) is copied from the boot page
//! tables into every space, so the kernel runs unchanged whichever process's
//! CR3 is loaded. User pages are private: `fork` copies them eagerly, as xv6
//! does (the microkernel's pager shows the copy-on-write alternative).
//!
//! Every frame mapped in the user half belongs to this space and is freed
//! when the `UserVm` is dropped — which must not happen while its CR3 is
//! loaded.

use crate::memory;
use common::abi::errno::Errno;
use common::abi::memory::USER_STACK_TOP;
use common::mm::addr::{PAGE_SIZE, VirtAddr, align_down};
use common::mm::kernel_window::KernelWindow;
use common::mm::paging::{AddressSpace, FrameSource, PageTableFlags, PhysMemory};
use common::mm::user_copy;
use common::trace::{self, Kind};

/// Size of the user stack.
pub const USER_STACK_SIZE: u64 = 64 * 1024;
/// The lowest address the heap may not grow into (keeps the guard page).
pub const HEAP_LIMIT: u64 = USER_STACK_TOP - USER_STACK_SIZE - PAGE_SIZE;

/// A user address space.
pub struct UserVm {
    space: AddressSpace,
    /// Where the heap starts: the page-aligned end of the loaded program.
    heap_start: u64,
    /// The current program break: the heap is `heap_start..brk`.
    brk: u64,
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

    /// Unmaps `start..end` (page-aligned) and frees the frames; pages not
    /// mapped are skipped.
    fn unmap_and_free(&mut self, start: u64, end: u64) {
        memory::with_frames(|frames| {
            let mut page = start;
            while page < end {
                if let Ok(mapping) = self.space.unmap(frames, VirtAddr::new(page)) {
                    frames.free_frame(mapping.frame);
                    common::arch::cpu::invalidate_page(page);
                }
                page += PAGE_SIZE;
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

    /// A copy of this space for `fork`: every user page copied into a new
    /// frame with the same permissions.
    pub fn fork_copy(&self) -> Result<UserVm, Errno> {
        let mut child = UserVm::new()?;
        child.heap_start = self.heap_start;
        child.brk = self.brk;
        let copied = memory::with_frames(|frames| {
            let mut cursor = self.space.user_mappings();
            while let Some(mapping) = cursor.next(frames) {
                let frame = frames.alloc_zeroed_frame().ok_or(Errno::ENOMEM)?;
                let source = *frames.frame_bytes(mapping.frame).ok_or(Errno::EFAULT)?;
                match frames.frame_bytes(frame) {
                    Some(bytes) => *bytes = source,
                    None => {
                        frames.free_frame(frame);
                        return Err(Errno::ENOMEM);
                    }
                }
                let flags = mapping.flags - PageTableFlags::ACCESSED - PageTableFlags::DIRTY;
                if child.space.map(frames, mapping.page, frame, flags).is_err() {
                    frames.free_frame(frame);
                    return Err(Errno::ENOMEM);
                }
            }
            Ok(())
        });
        // On failure `child` is dropped here, which frees what was copied.
        copied.map(|()| child)
    }

    /// Grows or shrinks the heap by `delta` bytes; returns the old break.
    /// Growing maps zeroed pages; shrinking unmaps and frees whole pages.
    /// Errors: `ENOMEM` if the new break is below the heap start, above the
    /// heap limit, or memory ran out (then nothing changed).
    pub fn sbrk(&mut self, delta: i64) -> Result<u64, Errno> {
        let old = self.brk;
        let new = old.checked_add_signed(delta).ok_or(Errno::ENOMEM)?;
        if new < self.heap_start || new > HEAP_LIMIT {
            return Err(Errno::ENOMEM);
        }
        let old_top = old.div_ceil(PAGE_SIZE) * PAGE_SIZE;
        let new_top = new.div_ceil(PAGE_SIZE) * PAGE_SIZE;
        if new_top > old_top {
            self.map_zeroed(old_top, new_top, user_flags(true, false))?;
        } else if new_top < old_top {
            self.unmap_and_free(new_top, old_top);
        }
        self.brk = new;
        Ok(old)
    }

    /// Copies `dst.len()` bytes from user address `addr`. `EFAULT` if any
    /// byte is not mapped readable for the user.
    pub fn copy_in(&self, addr: u64, dst: &mut [u8]) -> Result<(), Errno> {
        trace::point(
            Kind::Copy,
            dst.len() as u64,
            crate::trace::current_space(),
            0,
        );
        let mut window = kernel_window();
        user_copy::copy_from_user(&self.space, &mut window, addr, dst).map_err(Errno::from)
    }

    /// Copies `src` to user address `addr`. `EFAULT` (and nothing written)
    /// if any byte is not mapped writable for the user.
    pub fn copy_out(&self, addr: u64, src: &[u8]) -> Result<(), Errno> {
        trace::point(
            Kind::Copy,
            src.len() as u64,
            0,
            crate::trace::current_space(),
        );
        let mut window = kernel_window();
        user_copy::copy_to_user(&self.space, &mut window, addr, src).map_err(Errno::from)
    }

    /// Copies a NUL-terminated string from `addr` into `buf`; returns its
    /// length (without the NUL). `ENAMETOOLONG` if it does not fit.
    pub fn copy_str_in(&self, addr: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        let mut window = kernel_window();
        user_copy::copy_str_from_user(&self.space, &mut window, addr, buf).map_err(Errno::from)
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
            space.destroy(frames, |frames, mapping| frames.free_frame(mapping.frame));
        });
    }
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
