//! Memory management shared by both kernels: address types, the physical
//! frame allocator, and 4-level page tables.
