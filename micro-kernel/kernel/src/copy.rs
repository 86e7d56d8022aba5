//! Byte items: the bytes a message carries from one address space to
//! another, copied once, by the kernel, through its window onto physical
//! memory.
//!
//! A sender names bytes of its own memory (`[address, length]`, or a
//! NUL-terminated *string* of at most `length` bytes); the receiver has
//! named a *receive area* of its own (`abi::micro`, "the message tag"). The
//! kernel checks both sides page by page and copies the items one after
//! the other into the area.
//!
//! Two checks, at two moments:
//!
//! 1. **When a thread enters an IPC**, its *own* memory must be there: the
//!    pages of its byte items readable, the pages of its receive area
//!    writable. A page that is not ([`Missing`]) becomes a page fault of the
//!    system call (`fault::system_call_fault`): the pager maps it and the
//!    thread executes the `syscall` again — or the pager refuses and the
//!    call fails with `BadAddress`. So a page that is merely not mapped
//!    *yet* never makes a call fail.
//! 2. **When the message moves** ([`plan`], then [`commit`]), both sides are
//!    checked again and translated, and only then copied: check, then
//!    commit. (Between the two moments a thread waits in its IPC; only its
//!    pager could unmap its pages then, and if it did, the copy fails with
//!    `BadAddress` instead of touching anything.)

use crate::global::Kernel;
use crate::slot::SpaceSlot;
use crate::space;
use common::abi::micro::{Error, MAX_BUFFER_BYTES, MAX_BYTE_ITEMS, STRING};
use common::mm::addr::phys_to_kernel_virt;
use common::mm::{PAGE_SIZE, UserRange};
use common::trace::Kind;

/// A byte item as the sender wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteItem {
    /// Where the bytes start in the sender's memory.
    pub address: u64,
    /// How many bytes (for a string: the most to copy).
    pub length: u64,
    /// The bytes end at the first NUL (not copied).
    pub string: bool,
}

impl ByteItem {
    /// Decodes the two registers of a byte item.
    pub fn decode(address: u64, length_word: u64) -> ByteItem {
        ByteItem { address, length: length_word & !STRING, string: length_word & STRING != 0 }
    }

    /// Checks what can be checked without looking at memory: at most
    /// [`MAX_BUFFER_BYTES`], and inside user space.
    pub fn check_shape(&self) -> Result<(), Error> {
        if self.length > MAX_BUFFER_BYTES {
            return Err(Error::MessageTooLong);
        }
        UserRange::new(self.address, self.length).map_err(|_| Error::BadAddress)?;
        Ok(())
    }
}

/// A page an IPC needs that its owner does not have mapped as needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Missing {
    /// An address in the page.
    pub address: u64,
    /// The page must be writable (a receive area), not just readable.
    pub write: bool,
    /// The page is mapped, but without the needed right.
    pub present: bool,
}

/// The kernel-window address of user byte `address` in `space`, if mapped
/// for user access (and writable, if `write`).
pub fn user_byte(k: &mut Kernel, space: SpaceSlot, address: u64, write: bool) -> Option<u64> {
    let physical = k.spaces.tables(space).user_access(&mut space::window(), address, write)?;
    Some(phys_to_kernel_virt(physical).ok()?.as_u64())
}

/// Bytes from `address` to the end of its page.
fn to_page_end(address: u64) -> u64 {
    PAGE_SIZE - address % PAGE_SIZE
}

/// The first page of `address..address + length` in `space` that is not
/// mapped readable (or writable, if `write`), if any. The range must be a
/// checked user range.
pub fn first_missing(k: &mut Kernel, space: SpaceSlot, address: u64, length: u64, write: bool) -> Option<Missing> {
    let mut offset = 0;
    while offset < length {
        let at = address + offset;
        if user_byte(k, space, at, write).is_none() {
            let present = write && user_byte(k, space, at, false).is_some();
            return Some(Missing { address: at, write, present });
        }
        offset += to_page_end(at);
    }
    None
}

/// How many bytes byte item `item` of `space` carries: its length, or for a
/// string the bytes before the first NUL (at most its length). `Err` names
/// the first page it needs that is not mapped readable; for a string that
/// is only a page before the NUL.
pub fn item_length(k: &mut Kernel, space: SpaceSlot, item: &ByteItem) -> Result<u64, Missing> {
    if !item.string {
        return match first_missing(k, space, item.address, item.length, false) {
            Some(missing) => Err(missing),
            None => Ok(item.length),
        };
    }
    let mut offset = 0;
    while offset < item.length {
        let at = item.address + offset;
        let Some(source) = user_byte(k, space, at, false) else {
            return Err(Missing { address: at, write: false, present: false });
        };
        let chunk = (item.length - offset).min(to_page_end(at));
        // SAFETY: `source..source + chunk` lies in one mapped user frame,
        // reached through the kernel window (checked by `user_byte`).
        let bytes = unsafe { core::slice::from_raw_parts(source as *const u8, chunk as usize) };
        if let Some(nul) = bytes.iter().position(|&byte| byte == 0) {
            return Ok(offset + nul as u64);
        }
        offset += chunk;
    }
    Ok(item.length)
}

/// The most contiguous pieces one message's bytes are copied in: each byte
/// item (at most a page) may cross a page boundary on either side, so it
/// takes at most three pieces.
const MAX_CHUNKS: usize = 3 * MAX_BYTE_ITEMS;

/// One contiguous piece of a copy, as kernel-window addresses: both ends
/// lie inside a single frame.
#[derive(Debug, Clone, Copy, Default)]
struct Chunk {
    source: u64,
    destination: u64,
    length: u64,
}

/// A message's byte items, checked against both address spaces and
/// translated, ready to copy.
#[derive(Debug, Clone, Copy, Default)]
pub struct CopyPlan {
    /// The spaces the bytes go from and to (for the trace).
    source_space: u64,
    destination_space: u64,
    chunks: [Chunk; MAX_CHUNKS],
    chunk_count: usize,
    /// For each item, what the receiver finds in its registers.
    received: [[u64; 2]; MAX_BYTE_ITEMS],
    item_count: usize,
}

impl CopyPlan {
    /// What the receiver finds in the item registers: for each item,
    /// `[where it landed, length]`.
    pub fn received(&self) -> &[[u64; 2]] {
        &self.received[..self.item_count]
    }
}

/// Checks `items` of `source_space` against the receive area
/// `area = (address, length)` of `destination_space`: they must fit (one
/// after the other, at most [`MAX_BUFFER_BYTES`] in all), and every page
/// on both sides must be mapped for user access (writable on the receiving
/// side). Each page is walked once, and the plan remembers where it is, so
/// that [`commit`] only copies. Changes nothing.
pub fn plan(
    k: &mut Kernel,
    source_space: SpaceSlot,
    items: &[ByteItem],
    destination_space: SpaceSlot,
    area: (u64, u64),
) -> Result<CopyPlan, Error> {
    let (area_address, area_length) = area;
    let capacity = area_length.min(MAX_BUFFER_BYTES);
    let mut plan = CopyPlan {
        source_space: u64::from(source_space.number()),
        destination_space: u64::from(destination_space.number()),
        ..CopyPlan::default()
    };
    let mut used = 0;
    for item in items.iter().take(MAX_BYTE_ITEMS) {
        let length =
            if item.string { item_length(k, source_space, item).map_err(|_| Error::BadAddress)? } else { item.length };
        if used + length > capacity {
            return Err(Error::MessageTooLong);
        }
        let destination = area_address + used;
        let mut offset = 0;
        while offset < length {
            let (from, to) = (item.address + offset, destination + offset);
            let source = user_byte(k, source_space, from, false).ok_or(Error::BadAddress)?;
            let target = user_byte(k, destination_space, to, true).ok_or(Error::BadAddress)?;
            let chunk = (length - offset).min(to_page_end(from)).min(to_page_end(to));
            // At most three chunks per item of at most a page: always room.
            *plan.chunks.get_mut(plan.chunk_count).ok_or(Error::MessageTooLong)? =
                Chunk { source, destination: target, length: chunk };
            plan.chunk_count += 1;
            offset += chunk;
        }
        plan.received[plan.item_count] = [destination, length];
        plan.item_count += 1;
        used += length;
    }
    Ok(plan)
}

/// Copies the planned bytes. Cannot fail: [`plan`] checked and translated
/// every page, and nothing ran in between.
pub fn commit(plan: &CopyPlan) {
    if crate::trace::on() && plan.item_count > 0 {
        let bytes: u64 = plan.received().iter().map(|&[_, length]| length).sum();
        crate::trace::here(Kind::Copy, [bytes, plan.source_space, plan.destination_space]);
    }
    for chunk in &plan.chunks[..plan.chunk_count] {
        // SAFETY: both ranges lie inside single frames reached through the
        // kernel window (checked by `plan` through `user_byte`), `length`
        // bytes long; they overlap only if both sides map the same frame,
        // which `copy` (memmove semantics) handles.
        unsafe { core::ptr::copy(chunk.source as *const u8, chunk.destination as *mut u8, chunk.length as usize) };
    }
}

/// Copies `bytes` from the kernel into user memory of `space` at
/// `address`, page by page. `None` if a page is not mapped writable (then
/// a prefix may have been written: callers check the pages first).
pub fn copy_to_user(k: &mut Kernel, space: SpaceSlot, address: u64, bytes: &[u8]) -> Option<()> {
    let mut offset = 0;
    while offset < bytes.len() {
        let at = address.checked_add(offset as u64)?;
        let target = user_byte(k, space, at, true)?;
        let chunk = (bytes.len() - offset).min(to_page_end(at) as usize);
        // SAFETY: `target..target + chunk` lies inside one user frame mapped
        // writable, reached through the kernel window (`user_byte`).
        unsafe { core::ptr::copy_nonoverlapping(bytes[offset..].as_ptr(), target as *mut u8, chunk) };
        offset += chunk;
    }
    Some(())
}

/// Copies up to `length` bytes from user memory of `space` into `buffer`
/// (for `debug_print`). Returns the bytes copied, or `None` if unmapped.
pub fn copy_from_user<'a>(k: &mut Kernel, space: SpaceSlot, address: u64, buffer: &'a mut [u8]) -> Option<&'a [u8]> {
    for (i, byte) in buffer.iter_mut().enumerate() {
        let source = user_byte(k, space, address.checked_add(i as u64)?, false)?;
        // SAFETY: `source` is a kernel-window address of a mapped user byte.
        *byte = unsafe { *(source as *const u8) };
    }
    Some(buffer)
}
