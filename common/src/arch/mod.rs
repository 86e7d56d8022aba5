//! x86_64 architecture support shared by both kernels: boot, GDT, IDT, traps.
