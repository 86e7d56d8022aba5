//! The global descriptor table, the task-state segment, and I/O permissions.
//!
//! In 64-bit mode segments barely matter — base and limit are ignored — but
//! the CPU still needs code and data descriptors to know the privilege level
//! (ring 0 for the kernel, ring 3 for user code), and a TSS to know
//! - which stack to switch to when an interrupt arrives in user mode
//!   (`rsp0`, set on every context switch with `trap::set_kernel_stack`);
//! - a separate known-good stack for double faults (`ist1`), so even a kernel
//!   stack overflow produces a readable report;
//! - which I/O ports ring-3 code may touch (the I/O-permission bitmap). The
//!   microkernel's I/O-port grant flips bits here; the monolithic kernel
//!   leaves every port denied to user programs.
//!
//! The selector layout is dictated by `syscall`/`sysret` (see `trap.rs`):
//!
//! | selector | descriptor            |
//! |----------|-----------------------|
//! | 0x08     | kernel code (64-bit)  |
//! | 0x10     | kernel data           |
//! | 0x18     | user data (RPL 3: 0x1b) |
//! | 0x20     | user code (RPL 3: 0x23) |
//! | 0x28     | TSS (two slots)       |

use core::ptr::addr_of_mut;
use x86::dtables::{self, DescriptorTablePointer};
use x86::segmentation::{self, SegmentSelector};
use x86::task;

/// Kernel code segment selector.
pub const KERNEL_CODE: u16 = 0x08;
/// Kernel data segment selector.
pub const KERNEL_DATA: u16 = 0x10;
/// User data segment selector, with requested privilege level 3.
pub const USER_DATA: u16 = 0x18 | 3;
/// User code segment selector, with requested privilege level 3.
pub const USER_CODE: u16 = 0x20 | 3;
/// TSS selector.
pub const TSS_SELECTOR: u16 = 0x28;

/// Number of I/O ports the permission bitmap covers (all of them).
pub const IO_PORT_COUNT: usize = 65536;

/// The 64-bit task-state segment (Intel SDM vol. 3, figure 8-11).
#[repr(C, packed(4))]
struct TaskStateSegment {
    reserved0: u32,
    /// Stack pointers loaded on a switch to ring 0, 1, 2.
    rsp: [u64; 3],
    reserved1: u64,
    /// Interrupt stack table: stacks an IDT entry can select.
    ist: [u64; 7],
    reserved2: u64,
    reserved3: u16,
    /// Offset of the I/O-permission bitmap from the start of the TSS.
    io_map_base: u16,
}

/// The TSS followed by its I/O-permission bitmap: bit `p` set means port `p`
/// is denied to ring 3. The CPU reads one byte past the bitmap, which must be
/// all ones.
#[repr(C, packed(4))]
struct TssWithIoBitmap {
    tss: TaskStateSegment,
    io_bitmap: [u8; IO_PORT_COUNT / 8],
    terminator: u8,
}

const TSS_SIZE: usize = core::mem::size_of::<TssWithIoBitmap>();

static mut TSS: TssWithIoBitmap = TssWithIoBitmap {
    tss: TaskStateSegment {
        reserved0: 0,
        rsp: [0; 3],
        reserved1: 0,
        ist: [0; 7],
        reserved2: 0,
        reserved3: 0,
        io_map_base: core::mem::size_of::<TaskStateSegment>() as u16,
    },
    io_bitmap: [0xff; IO_PORT_COUNT / 8],
    terminator: 0xff,
};

/// The stack the double-fault handler runs on (IST slot 1).
const DOUBLE_FAULT_STACK_SIZE: usize = 16 * 1024;
static mut DOUBLE_FAULT_STACK: [u8; DOUBLE_FAULT_STACK_SIZE] = [0; DOUBLE_FAULT_STACK_SIZE];

/// The IST slot (1-based, as the IDT encodes it) of the double-fault stack.
pub const DOUBLE_FAULT_IST: u8 = 1;

static mut GDT: [u64; 7] = [
    0,
    0x00af_9a00_0000_ffff, // kernel code: present, ring 0, executable, long mode
    0x00cf_9200_0000_ffff, // kernel data: present, ring 0, writable
    0x00cf_f200_0000_ffff, // user data: present, ring 3, writable
    0x00af_fa00_0000_ffff, // user code: present, ring 3, executable, long mode
    0,                     // TSS, low half (filled in by `init`)
    0,                     // TSS, high half
];

/// Installs the GDT and TSS. Call once, early, before any interrupt.
pub fn init() {
    // SAFETY: single CPU, called once during boot with interrupts off, so
    // nothing else touches TSS or GDT while we fill them in. The selectors
    // loaded below name the descriptors just written, which are valid (ring
    // 0 code and data, an available 64-bit TSS); GDT and TSS are statics, so
    // the CPU may keep using them forever.
    unsafe {
        let tss = addr_of_mut!(TSS);
        let df_stack_top = addr_of_mut!(DOUBLE_FAULT_STACK) as u64 + DOUBLE_FAULT_STACK_SIZE as u64;
        (*tss).tss.ist[(DOUBLE_FAULT_IST - 1) as usize] = df_stack_top;

        let base = tss as u64;
        let limit = (TSS_SIZE - 1) as u64;
        let low = (limit & 0xffff)
            | ((base & 0xff_ffff) << 16)
            | (0x89 << 40) // present, type 9: available 64-bit TSS
            | (((limit >> 16) & 0xf) << 48)
            | (((base >> 24) & 0xff) << 56);
        let gdt = addr_of_mut!(GDT);
        (*gdt)[5] = low;
        (*gdt)[6] = base >> 32;

        // Load the new table, then every segment register that caches a
        // descriptor from the old (boot) one. CS cannot be the target of a
        // `mov`: `load_cs` pushes the selector and the address of the next
        // instruction and does a far return (`lretq`) to itself. Until each
        // register is reloaded it keeps its cached copy of the old
        // descriptor, so the Rust code between these calls runs unaffected.
        dtables::lgdt(&DescriptorTablePointer::new(&*gdt));
        segmentation::load_cs(SegmentSelector::from_raw(KERNEL_CODE));
        segmentation::load_ds(SegmentSelector::from_raw(KERNEL_DATA));
        segmentation::load_es(SegmentSelector::from_raw(KERNEL_DATA));
        segmentation::load_ss(SegmentSelector::from_raw(KERNEL_DATA));
        // `ltr` reads the TSS descriptor from the GDT (and marks it busy).
        // The crate's `load_tr` is declared `nomem`, which is not quite true,
        // but harmless here: `lgdt` above is not `nomem`, so the descriptor
        // stores are done before it, and nothing in Rust reads the busy bit.
        task::load_tr(SegmentSelector::from_raw(TSS_SELECTOR));
    }
}

/// Sets the stack the CPU switches to when an interrupt or exception arrives
/// while running in user mode (TSS.rsp0). The kernels call this on every
/// switch to a thread, with the top of that thread's kernel stack.
pub fn set_interrupt_stack(top: u64) {
    // SAFETY: single CPU; the TSS is only read by the CPU on the next
    // privilege change, which cannot happen in the middle of this store
    // (interrupts are off in the kernel).
    unsafe { (*addr_of_mut!(TSS)).tss.rsp[0] = top };
}

/// Allows (`true`) or denies (`false`) ring-3 access to one I/O port.
pub fn set_io_port_allowed(port: u16, allowed: bool) {
    let byte = port as usize / 8;
    let bit = 1u8 << (port % 8);
    // SAFETY: single CPU with interrupts off; the index is below 8192.
    unsafe {
        let bitmap = &mut (*addr_of_mut!(TSS)).io_bitmap;
        if allowed {
            bitmap[byte] &= !bit;
        } else {
            bitmap[byte] |= bit;
        }
    }
}

/// Where `io_map_base` points while the bitmap is in force: just after
/// the TSS proper.
const IO_MAP_IN_FORCE: u16 = core::mem::size_of::<TaskStateSegment>() as u16;
/// Where it points while the bitmap is out of force: past the TSS's limit,
/// where the CPU finds no bitmap and so denies every port.
const IO_MAP_OUT_OF_FORCE: u16 = TSS_SIZE as u16;
const _: () = assert!(TSS_SIZE <= u16::MAX as usize);

/// Puts the I/O-permission bitmap in force (`true`: ring 3 may use the
/// ports whose bits are clear), or out of force (`false`: every port is
/// denied to ring 3, whatever the bitmap holds). One store either way:
/// the micro-kernel switches between a space with ports and spaces
/// without them on every message to a driver, and rewriting the bitmap
/// costs a store per port.
pub fn set_io_bitmap_in_force(in_force: bool) {
    let base = if in_force {
        IO_MAP_IN_FORCE
    } else {
        IO_MAP_OUT_OF_FORCE
    };
    // SAFETY: single CPU with interrupts off; the CPU reads the field only
    // at the next ring-3 `in`/`out`.
    unsafe { (*addr_of_mut!(TSS)).tss.io_map_base = base };
}

/// Denies every I/O port to ring 3 (the state after boot).
pub fn deny_all_io_ports() {
    // SAFETY: single CPU with interrupts off.
    unsafe { (*addr_of_mut!(TSS)).io_bitmap = [0xff; IO_PORT_COUNT / 8] };
}
