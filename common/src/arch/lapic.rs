//! The local APIC, configured only to let the 8259 PICs' interrupts through.
//!
//! Every modern x86 CPU has a local APIC between the interrupt pins and the
//! core. Diptych uses the old 8259 PICs (simpler to teach), whose output
//! reaches the CPU through the APIC's LINT0 pin. Firmware normally sets this
//! "virtual wire" mode up; the small qboot firmware we boot with does not,
//! leaving LINT0 masked and the APIC software-disabled — and then no PIC
//! interrupt ever arrives. So the kernels set it up themselves:
//! - the spurious-interrupt register: APIC enabled, spurious vector 0xFF;
//! - LINT0: "ExtINT" delivery (ask the PIC for the vector), unmasked;
//! - LINT1: NMI delivery.
//!
//! Three volatile stores, not the `x86` crate's `XAPIC` driver: that one
//! enables the APIC with spurious vector 15 (a CPU exception vector here) and
//! offers no way to program LINT0/LINT1.

/// Physical address of the local APIC's registers (the architectural default).
pub const LAPIC_PHYS: u64 = 0xFEE0_0000;

const SPURIOUS_VECTOR_REGISTER: u64 = 0xF0;
const LVT_LINT0: u64 = 0x350;
const LVT_LINT1: u64 = 0x360;

const APIC_SOFTWARE_ENABLE: u32 = 1 << 8;
const DELIVERY_EXTINT: u32 = 0b111 << 8;
const DELIVERY_NMI: u32 = 0b100 << 8;

fn register(offset: u64) -> *mut u32 {
    (super::DEVICE_WINDOW_BASE + (LAPIC_PHYS - super::DEVICE_WINDOW_PHYS) + offset) as *mut u32
}

/// Puts the local APIC in virtual-wire mode so PIC interrupts reach the CPU.
pub fn enable_virtual_wire() {
    // SAFETY: the device window maps the local APIC's 4 KiB register page
    // uncached; these three registers exist on every local APIC, and writing
    // them changes only how interrupts are delivered to this CPU.
    unsafe {
        register(SPURIOUS_VECTOR_REGISTER).write_volatile(APIC_SOFTWARE_ENABLE | 0xFF);
        register(LVT_LINT0).write_volatile(DELIVERY_EXTINT);
        register(LVT_LINT1).write_volatile(DELIVERY_NMI);
    }
}
