//! The interrupt descriptor table: where each of the 256 vectors enters.
//!
//! Every vector points at its stub in `trap.rs`, which builds a
//! [`super::trap::TrapFrame`] and calls the kernel's `trap_handler`. Gates are
//! interrupt gates (interrupts stay off in the handler). The double fault
//! runs on its own stack (IST 1) so a kernel stack overflow still gets a
//! report. The vectors kernels use:
//!
//! | vectors | what                                      |
//! |---------|-------------------------------------------|
//! | 0..=31  | CPU exceptions ([`exception_name`])       |
//! | 32..=47 | the 16 IRQ lines of the two 8259 PICs     |
//! | 48..    | free (the microkernel uses none; `syscall` needs no vector) |

use super::gdt;
use core::ptr::addr_of;
use x86::dtables::{self, DescriptorTablePointer};

/// The vector of the first PIC interrupt line (IRQ 0, the timer).
pub const IRQ_BASE: u8 = 32;
/// Vector of the page fault.
pub const PAGE_FAULT: u64 = 14;
/// Vector of the double fault.
pub const DOUBLE_FAULT: u64 = 8;

#[derive(Clone, Copy)]
#[repr(C)]
struct Gate {
    offset_low: u16,
    selector: u16,
    ist: u8,
    type_attributes: u8,
    offset_middle: u16,
    offset_high: u32,
    reserved: u32,
}

static mut IDT: [Gate; 256] = [Gate {
    offset_low: 0,
    selector: 0,
    ist: 0,
    type_attributes: 0,
    offset_middle: 0,
    offset_high: 0,
    reserved: 0,
}; 256];

/// Fills in and loads the IDT. Call once, after `gdt::init`.
pub fn init() {
    let stubs = addr_of!(super::trap::trap_stubs) as u64;
    // SAFETY: single CPU, boot time, interrupts off: nothing reads the IDT
    // while it is written; the stubs are 16 bytes apart (trap.rs). The IDT is
    // a static, so the CPU may keep using it forever; ring 0 may run `lidt`.
    unsafe {
        let idt = &mut *core::ptr::addr_of_mut!(IDT);
        for (vector, gate) in idt.iter_mut().enumerate() {
            let handler = stubs + 16 * vector as u64;
            *gate = Gate {
                offset_low: handler as u16,
                selector: gdt::KERNEL_CODE,
                ist: if vector as u64 == DOUBLE_FAULT {
                    gdt::DOUBLE_FAULT_IST
                } else {
                    0
                },
                type_attributes: 0x8e, // present, ring 0 only, 64-bit interrupt gate
                offset_middle: (handler >> 16) as u16,
                offset_high: (handler >> 32) as u32,
                reserved: 0,
            };
        }
        // `lidt` makes the CPU use the table from now on. The crate's `lidt`
        // is not `nomem`, so the gate stores above are done before it.
        dtables::lidt(&DescriptorTablePointer::new(&*idt));
    }
}

pub use crate::abi::exception::exception_name;
