//! Starting the root task: the first and only thread the kernel creates by
//! itself.
//!
//! The kernel embeds two root-task ELF files (see `build.rs`): the *test*
//! root task, which exercises every kernel feature and reports, and the
//! *real* one, which starts the servers. The command line chooses:
//! `-append roottest` runs the test root task, anything else the real one
//! (or the test one if no real one was built). `-append bench` is passed
//! on to the root task as `boot_flags::BENCH`, `-append inject` (fault
//! injection allowed) as `boot_flags::INJECT`.
//!
//! The root task gets
//! - its ELF segments, loaded at their addresses;
//! - a stack of `ROOT_STACK_PAGES` pages below `ROOT_STACK_TOP`;
//! - **all free physical memory**: every frame the kernel does not keep
//!   for itself is mapped into the root task, packed one after another from
//!   `ROOT_WINDOW_BASE`, read/write/execute, and recorded as the root of
//!   its frame's tree in the mapping database. This is L4's sigma0 folded
//!   into the root task: it owns the memory and hands it out by mapping;
//! - the legacy device memory (VGA buffers, 0xA0000..0x100000) at
//!   `ROOT_DEVICE_WINDOW + physical address`, uncached, also as tree roots,
//!   so a console server can be given the VGA text buffer;
//! - every privilege (create spaces, grant I/O ports, attach interrupts).
//!
//! Its first thread starts at the ELF entry point as
//! `_start(window_base, window_pages, own_thread_id, own_space_id, boot_flags)`.

use crate::global::Kernel;
use crate::lifecycle;
use crate::map::flags_for;
use crate::mapdb::MAX_NODES;
use crate::memory::KERNEL_RESERVE_FRAMES;
use crate::sched;
use crate::space;
use crate::space::ROOT_SPACE;
use crate::thread::{self, ThreadState};
use common::abi::micro::{
    DEVICE_MEMORY_END, DEVICE_MEMORY_START, ROOT_DEVICE_WINDOW, ROOT_PRIORITY, ROOT_STACK_PAGES, ROOT_STACK_TOP,
    ROOT_WINDOW_BASE, ThreadId, privilege, rights,
};
use common::arch::qemu;
use common::arch::trap::TrapFrame;
use common::elf::Executable;
use common::kprintln;
use common::mm::{PAGE_SIZE, PageTableFlags, PhysFrame, VirtAddr};

static TEST_ROOT_ELF: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/test-root.elf"));
static REAL_ROOT_ELF: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/root.elf"));

/// Mapping-database nodes kept free for mappings made after boot.
const NODES_KEPT_FREE: u32 = 32 * 1024;

/// Stops the machine after a boot error.
fn fail(what: core::fmt::Arguments) -> ! {
    kprintln!("micro: cannot start the root task: {what}");
    qemu::exit(qemu::ExitCode::Failure);
}

/// Builds the root task and switches to it, with `flags` (`boot_flags::*`)
/// as its fifth argument. Never returns.
pub fn start(k: &mut Kernel, run_tests: bool, flags: u64) -> ! {
    let (name, bytes) = if run_tests || REAL_ROOT_ELF.is_empty() {
        ("test root task", TEST_ROOT_ELF)
    } else {
        ("root task", REAL_ROOT_ELF)
    };
    if bytes.is_empty() {
        fail(format_args!("no {name} was built (build micro-kernel/user first; see docs/microkernel.md)"));
    }
    let image = Executable::parse(bytes)
        .unwrap_or_else(|error| fail(format_args!("{name}: bad ELF file: {}", error.message())));
    let space = k.spaces.create(&mut k.frames, ROOT_SPACE, privilege::ALL);
    if space != Some(ROOT_SPACE) {
        fail(format_args!("no memory for its address space"));
    }
    load_image(k, &image, bytes);
    for page in 0..ROOT_STACK_PAGES {
        let address = ROOT_STACK_TOP - (page + 1) * PAGE_SIZE;
        let frame = new_page(k, address, PageTableFlags::USER | PageTableFlags::WRITABLE | PageTableFlags::NO_EXECUTE);
        let _ = frame;
    }
    let window_pages = give_free_memory(k);
    give_device_memory(k);

    let slot = lifecycle::create_thread(k, ROOT_SPACE, ThreadId::NIL, ThreadId::NIL, ROOT_PRIORITY as u8)
        .unwrap_or_else(|_| fail(format_args!("no thread slot")));
    let f = thread::frame(slot);
    // Enter `_start` as if it had been called: rsp + 8 is 16-byte aligned.
    *f = TrapFrame::new_user(image.entry, ROOT_STACK_TOP - 8);
    f.rdi = ROOT_WINDOW_BASE;
    f.rsi = window_pages;
    f.rdx = k.threads.id(slot).0;
    f.rcx = k.spaces.id(ROOT_SPACE).0;
    f.r8 = flags;
    k.threads.get(slot).state = ThreadState::Running;
    k.booted = true;
    kprintln!("micro: starting the {name} with {} KiB of memory in its window", window_pages * 4);
    sched::switch_to(k, slot)
}

/// Maps a fresh zeroed page at `address` in the root space (or returns the
/// frame already there, adding `flags`).
fn new_page(k: &mut Kernel, address: u64, flags: PageTableFlags) -> PhysFrame {
    let va = VirtAddr::new(address);
    let tables = k.spaces.tables(ROOT_SPACE);
    if let Some(mapping) = tables.translate(&mut space::window(), va) {
        let _ = tables.update_flags(&mut space::window(), va, mapping.flags | flags);
        return mapping.frame;
    }
    let frame = k.frames.alloc().unwrap_or_else(|| fail(format_args!("out of memory")));
    zero_frame(frame);
    if k.spaces.map(&mut k.frames, ROOT_SPACE, address, frame, flags).is_err() {
        fail(format_args!("cannot map {address:#x}"));
    }
    frame
}

fn zero_frame(frame: PhysFrame) {
    let va = common::arch::phys_to_virt(frame.start_address().as_u64());
    // SAFETY: a frame just taken from the allocator, reached through the
    // kernel window; nobody else uses it.
    unsafe { core::ptr::write_bytes(va as *mut u8, 0, PAGE_SIZE as usize) };
}

/// Loads every segment of `image` (parsed from `file`) into the root space.
fn load_image(k: &mut Kernel, image: &Executable, file: &[u8]) {
    for segment in image.segments() {
        // In bounds: `Executable::parse` checked offset + filesz <= file length.
        let data = &file[segment.offset as usize..(segment.offset + segment.filesz) as usize];
        let mut flags = PageTableFlags::USER;
        if segment.writable() {
            flags |= PageTableFlags::WRITABLE;
        }
        if !segment.executable() {
            flags |= PageTableFlags::NO_EXECUTE;
        }
        let first_page = segment.vaddr & !(PAGE_SIZE - 1);
        let end = segment.vaddr + segment.memsz;
        let mut page = first_page;
        while page < end {
            let frame = new_page(k, page, flags);
            // Copy the part of the file bytes that falls into this page.
            let page_end = page + PAGE_SIZE;
            let copy_start = segment.vaddr.max(page);
            let copy_end = (segment.vaddr + data.len() as u64).min(page_end);
            if copy_start < copy_end {
                let source = &data[(copy_start - segment.vaddr) as usize..(copy_end - segment.vaddr) as usize];
                let target = common::arch::phys_to_virt(frame.start_address().as_u64()) + (copy_start - page);
                // SAFETY: `target..target + len` lies inside `frame` (the
                // copy is clipped to the page), reached through the window.
                unsafe { core::ptr::copy_nonoverlapping(source.as_ptr(), target as *mut u8, source.len()) };
            }
            page = page_end;
        }
    }
}

/// Maps every frame the kernel can spare into the root task's window and
/// records each as the root of its mapping tree. Returns the page count.
fn give_free_memory(k: &mut Kernel) -> u64 {
    let flags = flags_for(rights::ALL as u8) | PageTableFlags::WRITABLE;
    let mut pages = 0u64;
    while k.frames.free_count() > KERNEL_RESERVE_FRAMES && k.mapdb.free_nodes() > NODES_KEPT_FREE.min(MAX_NODES as u32)
    {
        let Some(frame) = k.frames.alloc() else { break };
        let address = ROOT_WINDOW_BASE + pages * PAGE_SIZE;
        if k.spaces.map(&mut k.frames, ROOT_SPACE, address, frame, flags).is_err()
            || k.mapdb.add_root(frame.number() as u32, ROOT_SPACE, address / PAGE_SIZE, rights::ALL as u8).is_err()
        {
            break;
        }
        pages += 1;
    }
    pages
}

/// Maps the legacy device memory into the root task's device window, as
/// roots of the mapping database (read/write, uncached, never executable).
fn give_device_memory(k: &mut Kernel) {
    let flags = PageTableFlags::USER | PageTableFlags::WRITABLE | PageTableFlags::NO_EXECUTE | PageTableFlags::NO_CACHE;
    let device_rights = (rights::READ | rights::WRITE) as u8;
    for physical in (DEVICE_MEMORY_START..DEVICE_MEMORY_END).step_by(PAGE_SIZE as usize) {
        let address = ROOT_DEVICE_WINDOW + physical;
        let frame = PhysFrame::containing_address(common::mm::PhysAddr::new(physical));
        if k.spaces.map(&mut k.frames, ROOT_SPACE, address, frame, flags).is_err()
            || k.mapdb.add_root(frame.number() as u32, ROOT_SPACE, address / PAGE_SIZE, device_rights).is_err()
        {
            fail(format_args!("cannot map the device memory"));
        }
    }
}
