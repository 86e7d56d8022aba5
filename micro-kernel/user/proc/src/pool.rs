//! The frame pool's memory: where a [`Frame`] is in proc's own address
//! space, and the operations that touch frames (zeroing, copying, copying
//! to and from a user process's memory through its [`AddressMap`], and
//! revoking mappings with `unmap`).
//!
//! Frame `n` is the page at `PROC_POOL_BASE + n * 4096` of proc's space.
//! The first time proc touches it, root backs it with a zeroed frame (proc
//! is a server, root is its pager). From then on proc can map it on into
//! user processes.
//!
//! `copy_from_user`/`copy_to_user` are the microkernel's `copyin` and
//! `copyout`: proc holds every page of every process, so it reads and
//! writes them directly, and answers `EFAULT` for any address the process
//! could not access itself — the same rule as the monolithic kernel's. A
//! page the process may use but that is not made yet (an mmap page) is
//! made first ([`make_page`]), as a page fault would make it.

use alloc::vec::Vec;
use common::abi::errno::Errno;
use common::abi::memory::USER_STACK_TOP;
use common::abi::micro::{MAX_MAP_PAGES, unmap_flags};
use common::abi::proto::root::PROC_POOL_BASE;
use proc_core::frames::{Frame, FrameTable, Origin};
use proc_core::memory::{
    AddressMap, NewPage, PAGE, PageEntry, Permissions, USER_STACK_BOTTOM, frame_runs,
};
use server_lib::Server;

/// The address of `frame` in proc's space.
pub fn address(frame: Frame) -> u64 {
    PROC_POOL_BASE + frame.0 as u64 * PAGE
}

/// The bytes of `frame`.
fn bytes(frame: Frame) -> &'static mut [u8; PAGE as usize] {
    // SAFETY: pool pages are proc's own memory (root maps them on first
    // touch) and proc is one thread: the borrow lasts for one copy and no
    // other reference to the page exists meanwhile.
    unsafe { &mut *(address(frame) as *mut [u8; PAGE as usize]) }
}

/// A zeroed frame with reference count 1, or `None` if the pool is full.
pub fn alloc_zeroed(frames: &mut FrameTable) -> Option<Frame> {
    let (frame, origin) = frames.alloc()?;
    match origin {
        // Root gives zeroed pages; touching one makes root map it.
        // SAFETY: as in `bytes`; a volatile write so the touch happens.
        Origin::Fresh => unsafe { (address(frame) as *mut u8).write_volatile(0) },
        Origin::Reused => bytes(frame).fill(0),
    }
    Some(frame)
}

/// A new frame holding a copy of `from`, or `None` if the pool is full.
pub fn alloc_copy(frames: &mut FrameTable, from: Frame) -> Option<Frame> {
    let frame = alloc_zeroed(frames)?;
    bytes(frame).copy_from_slice(bytes(from));
    Some(frame)
}

/// A new frame holding what `contents` says: zeros, or one page of a
/// mapped file, read through `vfs` into the frame itself (a short read at
/// the end of the file leaves zeros). `ENOMEM` if the pool is full; vfs's
/// error if the read fails.
pub fn make_page(frames: &mut FrameTable, vfs: Server, contents: NewPage) -> Result<Frame, Errno> {
    let frame = alloc_zeroed(frames).ok_or(Errno::ENOMEM)?;
    match contents {
        NewPage::Zero => Ok(frame),
        NewPage::File { handle, offset } => {
            // LAB mmap BEGIN
            let request = common::abi::proto::vfs::VfsRequest::ExecRead {
                handle,
                offset,
                len: PAGE,
            };
            match server_lib::call_into(vfs, &request.to_wire(), bytes(frame)) {
                Ok(_) => Ok(frame),
                Err(errno) => {
                    frames.release(frame);
                    Err(errno)
                }
            }
            // LAB mmap STUB
            //~ // Task 2: read the page of the file (vfs `ExecRead`) into the frame.
            //~ let _ = (vfs, handle, offset);
            //~ frames.release(frame);
            //~ Err(Errno::ENOSYS)
            // LAB mmap END
        }
    }
}

// LAB cow BEGIN
// LAB cow STUB
//~ /// The starter's fork: a private copy of every page of `map`, nothing
//~ /// shared; `None` (and nothing taken) if the pool runs out.
//~ pub fn copy_for_fork(frames: &mut FrameTable, map: &AddressMap) -> Option<AddressMap> {
//~     let mut copy = AddressMap::new();
//~     copy.heap_start = map.heap_start;
//~     copy.brk = map.brk;
//~     copy.regions = map.regions.clone();
//~     for (page, entry) in map.iter() {
//~         let Some(frame) = alloc_copy(frames, entry.frame) else {
//~             copy.release_all(frames);
//~             return None;
//~         };
//~         copy.insert(
//~             page,
//~             PageEntry {
//~                 frame,
//~                 permissions: entry.permissions,
//~             },
//~         );
//~     }
//~     Some(copy)
//~ }
// LAB cow END

/// Removes every mapping of these frames from the user processes (proc's
/// own stay), in runs of consecutive frames.
pub fn revoke(sorted: &[Frame]) {
    unmap_runs(sorted, 0);
}

/// Takes the write right away from every mapping of these frames in the
/// user processes (they stay mapped, read-only): what fork does to the
/// parent's writable pages, so its next write faults (copy-on-write).
pub fn revoke_write(sorted: &[Frame]) {
    unmap_runs(sorted, unmap_flags::WRITE_ONLY);
}

fn unmap_runs(sorted: &[Frame], flags: u64) {
    for (first, count) in frame_runs(sorted, MAX_MAP_PAGES as u32) {
        // SAFETY: without `SELF`, unmap only changes mappings derived from
        // ours, in the user spaces; proc's own pages stay.
        if let Err(error) = unsafe { l4::memory::unmap(address(first), count as u64, flags) } {
            l4::println!("proc: unmap of frame {} failed: {error:?}", first.0);
        }
    }
}

/// Adds zeroed pages `start..end` (page-aligned) to `map` with
/// `permissions`, skipping pages already there. `ENOMEM` if the pool runs
/// out (the pages added so far stay in the map: the caller releases it).
pub fn add_zeroed(
    frames: &mut FrameTable,
    map: &mut AddressMap,
    start: u64,
    end: u64,
    permissions: Permissions,
) -> Result<(), Errno> {
    let mut page = start;
    while page < end {
        if map.entry(page).is_none() {
            let frame = alloc_zeroed(frames).ok_or(Errno::ENOMEM)?;
            map.insert(page, PageEntry { frame, permissions });
        }
        page += PAGE;
    }
    Ok(())
}

/// Writes `data` at `address` of a map being built (no copy-on-write, no
/// permission checks: the loader fills pages before anyone maps them).
pub fn write_new(map: &AddressMap, address: u64, data: &[u8]) -> Result<(), Errno> {
    let mut done = 0;
    while done < data.len() {
        let at = address + done as u64;
        let offset = (at % PAGE) as usize;
        let length = (PAGE as usize - offset).min(data.len() - done);
        let entry = map.entry(at).ok_or(Errno::EFAULT)?;
        bytes(entry.frame)[offset..offset + length].copy_from_slice(&data[done..done + length]);
        done += length;
    }
    Ok(())
}

/// Whether `address..address + length` is a plausible user range.
fn check_range(address: u64, length: usize) -> Result<(), Errno> {
    match address.checked_add(length as u64) {
        Some(end) if end <= common::mm::addr::USER_TOP => Ok(()),
        _ => Err(Errno::EFAULT),
    }
}

/// A process's memory as `copy_from_user` and `copy_to_user` reach it:
/// its map, the pool, and vfs (to read the pages of mapped files).
pub struct UserMemory<'a> {
    pub frames: &'a mut FrameTable,
    pub map: &'a mut AddressMap,
    pub vfs: Server,
}

impl UserMemory<'_> {
    /// The frame of the page at `page` for reading: the page's own, or a
    /// new one if the page is promised but not made yet (mmap); `None` for
    /// an untouched stack page (zeros, and no frame spent on them).
    /// `EFAULT` if the process cannot read there.
    fn frame_for_reading(&mut self, page: u64) -> Result<Option<Frame>, Errno> {
        if let Some(entry) = self.map.entry(page) {
            return Ok(Some(entry.frame));
        }
        if (USER_STACK_BOTTOM..USER_STACK_TOP).contains(&page) {
            return Ok(None);
        }
        let (contents, permissions) = self.map.missing(page).ok_or(Errno::EFAULT)?;
        let frame = make_page(self.frames, self.vfs, contents)?;
        self.map.insert(page, PageEntry { frame, permissions });
        Ok(Some(frame))
    }
}

/// Reads `out.len()` bytes at `address` of a process (`copyin`). Untouched
/// stack pages read as zeros, as they would for the process.
pub fn copy_from_user(memory: &mut UserMemory, address: u64, out: &mut [u8]) -> Result<(), Errno> {
    check_range(address, out.len())?;
    let mut done = 0;
    while done < out.len() {
        let at = address + done as u64;
        let offset = (at % PAGE) as usize;
        let length = (PAGE as usize - offset).min(out.len() - done);
        match memory.frame_for_reading(at & !(PAGE - 1))? {
            Some(frame) => {
                out[done..done + length].copy_from_slice(&bytes(frame)[offset..offset + length])
            }
            None => out[done..done + length].fill(0),
        }
        done += length;
    }
    Ok(())
}

/// Reads a NUL-terminated string of at most `max` bytes (without the NUL)
/// at `address` of a process. `ENAMETOOLONG` if there is no NUL within
/// `max + 1` bytes, `EFAULT` if it runs into memory the process cannot read.
pub fn copy_string_from_user(
    memory: &mut UserMemory,
    address: u64,
    max: usize,
) -> Result<Vec<u8>, Errno> {
    let mut string = Vec::new();
    let mut at = address;
    while string.len() <= max {
        let room = (PAGE - at % PAGE) as usize;
        let length = room.min(max + 1 - string.len());
        let mut chunk = [0u8; PAGE as usize];
        copy_from_user(memory, at, &mut chunk[..length])?;
        if let Some(nul) = chunk[..length].iter().position(|&byte| byte == 0) {
            string.extend_from_slice(&chunk[..nul]);
            return Ok(string);
        }
        string.extend_from_slice(&chunk[..length]);
        at += length as u64;
    }
    Err(Errno::ENAMETOOLONG)
}

/// Writes `data` at `address` of a process (`copyout`): every page must be
/// writable for the process. A shared (copy-on-write) page is copied first,
/// as a write fault would; a page not made yet (stack, mmap) is made.
pub fn copy_to_user(memory: &mut UserMemory, address: u64, data: &[u8]) -> Result<(), Errno> {
    check_range(address, data.len())?;
    // Check every page first, so that nothing is written on failure.
    let mut page = address & !(PAGE - 1);
    while page < address + data.len() as u64 {
        let writable = match memory.map.entry(page) {
            Some(entry) => entry.permissions.write,
            None => memory
                .map
                .missing(page)
                .is_some_and(|(_, permissions)| permissions.write),
        };
        if !writable {
            return Err(Errno::EFAULT);
        }
        page += PAGE;
    }
    let mut done = 0;
    while done < data.len() {
        let at = address + done as u64;
        let page = at & !(PAGE - 1);
        let offset = (at % PAGE) as usize;
        let length = (PAGE as usize - offset).min(data.len() - done);
        let frame = private_frame(memory, page)?;
        bytes(frame)[offset..offset + length].copy_from_slice(&data[done..done + length]);
        done += length;
    }
    Ok(())
}

/// The frame at `page` of a process, made private (copied if shared, made
/// if it is a page not made yet), so proc may write it.
fn private_frame(memory: &mut UserMemory, page: u64) -> Result<Frame, Errno> {
    let UserMemory { frames, map, vfs } = memory;
    match map.entry(page) {
        Some(entry) if frames.is_shared(entry.frame) => {
            // LAB cow BEGIN
            let copy = alloc_copy(frames, entry.frame).ok_or(Errno::ENOMEM)?;
            map.replace_frame(page, copy);
            frames.release(entry.frame);
            // The process may have the old frame mapped (read-only): take
            // it away, so its next access faults in the copy.
            revoke(&[entry.frame]);
            Ok(copy)
            // LAB cow STUB
            //~ // Task 3: copy the shared page, as a write fault would.
            //~ Err(Errno::EFAULT)
            // LAB cow END
        }
        Some(entry) => Ok(entry.frame),
        None => {
            let (contents, permissions) = map.missing(page).ok_or(Errno::EFAULT)?;
            let frame = make_page(frames, *vfs, contents)?;
            map.insert(page, PageEntry { frame, permissions });
            Ok(frame)
        }
    }
}
