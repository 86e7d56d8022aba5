//! I/O ports as part of an address space.
//!
//! L4 treats the x86 I/O ports like pages: a space may use the ports it was
//! given. The CPU checks ring-3 `in`/`out` against the I/O-permission bitmap
//! in the TSS (`common/src/arch/gdt.rs`), so the kernel keeps each space's
//! port ranges and rewrites the bitmap when a different space starts to run.
//! The bitmap holds one space's ports at a time (`Kernel::io_loaded`), and
//! is *in force* only while that space runs: for any other space [`load`]
//! takes it out of force with one store (`gdt::set_io_bitmap_in_force`),
//! and the CPU then denies every port. So a message between a driver and a
//! port-less client costs two stores, and the bits are rewritten only when
//! a different space with ports runs (then only the bits of the two
//! spaces' ranges).
//!
//! Rule for `ioport_grant` (who may give ports): a space holding the IO
//! privilege (the root task) may grant any port; any other space may pass
//! on ports it holds itself. The target must be the caller's own space or
//! one it created.

use crate::global::Kernel;
use crate::slot::SpaceSlot;
use common::abi::micro::{Error, MAX_IO_RANGES, SpaceId, privilege};
use common::arch::gdt;

/// Makes the CPU's I/O permissions those of `space`, which is about to run.
#[inline(always)]
pub fn load(k: &mut Kernel, space: SpaceSlot) {
    if k.io_loaded == Some(space) {
        gdt::set_io_bitmap_in_force(true);
        return;
    }
    if k.spaces.get(space).io_range_count == 0 {
        gdt::set_io_bitmap_in_force(false);
        return;
    }
    rewrite(k, space);
}

/// Writes `space`'s ports into the bitmap in place of the previous
/// space's, and puts it in force (out of line: the rare case).
#[cold]
#[inline(never)]
fn rewrite(k: &mut Kernel, space: SpaceSlot) {
    if let Some(old) = k.io_loaded.take() {
        set_ranges(k, old, false);
    }
    set_ranges(k, space, true);
    k.io_loaded = Some(space);
    gdt::set_io_bitmap_in_force(true);
}

fn set_ranges(k: &mut Kernel, space: SpaceSlot, allowed: bool) {
    let space = k.spaces.get(space);
    for &(first, count) in &space.io_ranges[..space.io_range_count] {
        for port in first as u32..first as u32 + count {
            gdt::set_io_port_allowed(port as u16, allowed);
        }
    }
}

/// `ioport_grant(space, first, count)` by a thread of space `caller`.
pub fn grant(k: &mut Kernel, caller: SpaceSlot, target: SpaceId, first: u64, count: u64) -> Result<(), Error> {
    let target = k.spaces.lookup(target).ok_or(Error::NoSuchThread)?;
    if count == 0 || first.checked_add(count).is_none_or(|end| end > 0x1_0000) {
        return Err(Error::InvalidArgument);
    }
    let (first, count) = (first as u16, count as u32);
    if target != caller && k.spaces.get(target).creator != caller {
        return Err(Error::NoPermission);
    }
    let holder = k.spaces.get(caller);
    if holder.privileges & privilege::IO == 0 && !holder.holds_ports(first, count) {
        return Err(Error::NoPermission);
    }
    let space = k.spaces.get(target);
    if space.holds_ports(first, count) {
        return Ok(());
    }
    if space.io_range_count == MAX_IO_RANGES {
        return Err(Error::OutOfResources);
    }
    space.io_ranges[space.io_range_count] = (first, count);
    space.io_range_count += 1;
    // If the target's ports are open right now, open the new range too; if
    // the target is the caller's own space, open all of its ports now (it
    // runs next); otherwise the next switch to it will (`load`).
    if k.io_loaded == Some(target) {
        for port in first as u32..first as u32 + count {
            gdt::set_io_port_allowed(port as u16, true);
        }
    } else if target == caller {
        load(k, caller);
    }
    Ok(())
}

/// Forgets a destroyed space's ports.
pub fn forget(k: &mut Kernel, space: SpaceSlot) {
    if k.io_loaded == Some(space) {
        set_ranges(k, space, false);
        k.io_loaded = None;
    }
    k.spaces.get(space).io_range_count = 0;
}
