//! Memory management shared by both kernels: address types, the physical
//! frame allocator, 4-level page tables, and the one routine that copies
//! to and from user memory.
//!
//! | module          | what it is                                                |
//! |-----------------|-----------------------------------------------------------|
//! | [`addr`]        | `PhysAddr`, `VirtAddr`, the kernel window, user ranges    |
//! | [`bitmap`]      | a fixed-size bitmap (one bit per frame)                   |
//! | [`frame`]       | `PhysFrame` and the physical frame allocator              |
//! | [`paging`]      | page-table entries, tables, and `AddressSpace`            |
//! | [`user_copy`]   | `copy_from_user` / `copy_to_user` through the page tables |
//! | `tlb`           | `invlpg` and CR3 reloads (x86_64 only)                    |
//!
//! None of this code touches real memory by itself. The page-table code
//! reaches physical memory through the [`paging::PhysMemory`] trait: the
//! kernels implement it with the kernel window (`KERNEL_BASE + pa`), host
//! tests with a fake RAM made of a `Vec` of frames ([`fake_ram`]). The
//! chapter `docs/memory.md` walks through all of it.

pub mod addr;
pub mod bitmap;
pub mod frame;



pub use addr::{KERNEL_BASE, PAGE_SIZE, PhysAddr, USER_TOP, VirtAddr};
pub use frame::{FrameAllocator, FrameError, PhysFrame};
