//! The layout of a user address space, as both kernels give it to programs.
//!
//! ```text
//!  0x0000_7fff_ffff_f000  ┬  USER_TOP: the first address that is not user space
//!                         │  (unmapped)
//!  0x0000_7fff_f000_0000  ┼  USER_STACK_TOP: the initial stack pointer is below it
//!                         │  stack (64 KiB), then unmapped
//!  0x0000_7fff_0000_0000  ┼  MMAP_TOP
//!                         │  mmap: `mmap` places its mappings here
//!  0x0000_7000_0000_0000  ┼  MMAP_BASE = HEAP_LIMIT
//!                         │  heap (sbrk), data, text (see mono-kernel/src/vm.rs,
//!                         │  micro-kernel/user/proc/src/memory.rs)
//!  0x0000_0000_0040_0000  ┴  programs are linked here; page 0 stays unmapped
//! ```
//!
//! The mono-kernel builds this layout in `vm.rs` and `exec.rs`, the
//! micro-kernel's proc server in `memory.rs` and `exec.rs`: one definition,
//! so the same program sees the same addresses on both.

/// The first address that is *not* user space.
///
/// User programs may use `0..USER_TOP`. The lower half of the address space
/// really ends at `0x0000_8000_0000_0000`; we stop one page short, as Linux
/// does, for a subtle reason: a `syscall` instruction in the very last page
/// would leave a return address of `0x0000_8000_0000_0000`, which is not
/// canonical, and on Intel CPUs `sysret` to a non-canonical address faults
/// *in kernel mode* with the user's stack pointer — a classic exploit. If the
/// last page can never be mapped, that return address cannot happen.
pub const USER_TOP: u64 = 0x0000_7fff_ffff_f000;

/// One past the highest address of a program's stack: `exec` puts the
/// arguments just below it. Far below [`USER_TOP`], and far above any heap.
pub const USER_STACK_TOP: u64 = 0x0000_7fff_f000_0000;

/// The lowest address of the area where `mmap` places its mappings
/// (`common::mm::regions`); the heap may grow up to it, not into it.
pub const MMAP_BASE: u64 = 0x0000_7000_0000_0000;

/// One past the highest address `mmap` hands out: far below the stack.
pub const MMAP_TOP: u64 = 0x0000_7fff_0000_0000;

/// The highest program break `sbrk` accepts: the heap ends where the mmap
/// area begins (both kernels check it: `ENOMEM` beyond).
pub const HEAP_LIMIT: u64 = MMAP_BASE;

const _: () = assert!(USER_STACK_TOP < USER_TOP && USER_STACK_TOP.is_multiple_of(4096));
const _: () = assert!(MMAP_BASE < MMAP_TOP && MMAP_TOP < USER_STACK_TOP - 64 * 1024 - 4096);
const _: () = assert!(MMAP_BASE.is_multiple_of(4096) && MMAP_TOP.is_multiple_of(4096));
