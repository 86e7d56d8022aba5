//! The microkernel's system-call ABI: the one table both the kernel
//! (`micro-kernel/kernel`) and the user-side library (`micro-kernel/user/l4`)
//! are built from, so they cannot disagree.
//!
//! `docs/microkernel.md` is the reference that explains every call; this
//! file holds the numbers.
//!
//! ## Registers
//!
//! A thread executes `syscall` with the call number in `rax`. Arguments go in
//! the registers below, in this order ([`ARG_REGISTERS`]); results come back
//! in `rax` (an [`Error`] code, 0 for success) and in the same registers.
//! `rcx` and `r11` are destroyed by the `syscall` instruction itself; every
//! other register not listed as a result is preserved.
//!
//! | word | register | IPC (in)                 | IPC (out)               |
//! |------|----------|--------------------------|-------------------------|
//! | 0    | `rdi`    | destination thread       | the sender's id         |
//! | 1    | `rsi`    | receive-from spec        | (preserved)             |
//! | 2    | `rdx`    | message tag              | received tag            |
//! | 3    | `r10`    | timeouts                 | (preserved)             |
//! | 4..10| `r8 r9 r12 r13 r14 r15` | message registers MR0..MR5 | received MR0..MR5 |
//!
//! (`rbx` and `rbp` are not used: Rust's inline assembly reserves them.)
//!
//! ## Thread ids
//!
//! A [`ThreadId`] is a 64-bit number: the slot in the kernel's thread table in
//! bits 0..16 and a generation in bits 16..48, bumped every time the slot is
//! reused, so a stale id never reaches a new thread. `0` is [`ThreadId::NIL`]
//! (no thread), `u64::MAX` is [`ThreadId::ANY`] (receive from anyone). An
//! interrupt line `n` sends as the pseudo-thread [`ThreadId::irq`]`(n)`.
//! Address spaces are named by a [`SpaceId`] built the same way.
//!
//! ## The message tag
//!
//! ```text
//!  63                              16 15 13  12   11  10  9  8 7   3 2     0
//! | label (48 bits, the protocol's) | 0   |RCV|GRT|MAP|BYTES| 0   | words |
//! ```
//! `words` (0..=6) message registers carry plain data, from MR0. After them
//! come the typed items, in this order, each two registers long:
//! - `BYTES` (0..=2) *byte items*: `[address, length]` of bytes in the
//!   sender's memory. The kernel copies each once, into the receiver's
//!   receive area, one after the other; the receiver gets `[where they landed
//!   in its area, length]` in the same registers. With [`STRING`] set in the
//!   length word, the bytes end at the first NUL (which is not copied), and
//!   the length is the most to copy: a path, whose length the sender does
//!   not know. At most [`MAX_BUFFER_BYTES`] bytes in all.
//! - `MAP` — pages: `[source page | rights, count | (window offset << 16)]`.
//!   `count` (1..=[`MAX_MAP_PAGES`]) pages starting at the page-aligned
//!   source address of the sender are mapped into the receiver at
//!   `window base + window offset * 4096`, with the sender's rights
//!   intersected with `rights` ([`rights`]). With `GRANT` the pages move
//!   instead (they disappear from the sender). The receiver gets
//!   `[first destination page | rights, count]`.
//! - `RCV` — the *receive area* of this IPC's receive phase: `[address,
//!   length]` of the sender's own memory where the byte items of the message
//!   it receives next (a reply) land, instead of the buffer it named with
//!   `set_receive_window`. It is not part of the message: the partner never
//!   sees it.
//!
//! So `words + 2 * (BYTES + MAP + RCV) <= 6`.
//!
//! **Memory a message names is checked when its owner enters the IPC.**
//! Every page of the byte items (readable) and of the receive area
//! (writable) must be mapped for user access. A page that is not — a page
//! the pager has not mapped yet, a copy-on-write page — is a page fault
//! *of the system call*: the kernel sends the thread's pager a page-fault
//! message (with [`fault_access::SYSTEM_CALL`]) on the thread's behalf, and
//! when the pager has mapped the page the thread executes its `syscall`
//! instruction again. A pager that answers without a mapping makes the call
//! fail with [`Error::BadAddress`], the microkernel's `EFAULT`; so does a
//! thread without a pager.
//!
//! ## Timeouts
//!
//! `r10` holds the send timeout in bits 32..64 and the receive timeout in
//! bits 0..32. Each is [`TIMEOUT_ZERO`] (do not block), [`TIMEOUT_NEVER`]
//! (block forever) or a number of timer ticks (10 ms each).

/// The system-call numbers (`rax`).
#[repr(u64)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sys {
    /// IPC: send and/or receive (send, receive, call, reply-and-receive).
    Ipc = 1,
    /// `set_receive_window(buffer, buffer_len, window_base, window_pages)`.
    SetReceiveWindow = 2,
    /// `unmap(page, count, flags)`: revoke mappings made from these pages.
    Unmap = 3,
    /// `space_create(privileges) -> space`.
    SpaceCreate = 4,
    /// `space_destroy(space)`.
    SpaceDestroy = 5,
    /// `thread_create(space, pager, exception_handler, priority) -> thread`.
    ThreadCreate = 6,
    /// `thread_destroy(thread)`.
    ThreadDestroy = 7,
    /// `exchange_registers(thread, control, rip, rsp, rflags, pager, handler, argument)`.
    ExchangeRegisters = 8,
    /// `set_priority(thread, priority)`.
    SetPriority = 9,
    /// `yield()`: give the rest of the time slice to a thread of equal priority.
    Yield = 10,
    /// `irq_attach(irq, thread)`: deliver IRQ `irq` to `thread` (NIL detaches).
    IrqAttach = 11,
    /// `ioport_grant(space, first_port, count)`.
    IoPortGrant = 12,
    /// `whoami() -> (thread, space)`.
    WhoAmI = 13,
    /// `debug_print(pointer, length)`: print on the kernel console.
    DebugPrint = 14,
    /// `system_clock() -> ticks since boot`.
    SystemClock = 15,
    /// `trace(op, ...)`: switches tracing on and off, reads the events, and
    /// lets a server record one of its own (`abi::syscall::trace_ops`).
    Trace = 16,
}

impl Sys {
    /// The call with number `number`, if there is one.
    pub const fn from_number(number: u64) -> Option<Sys> {
        Some(match number {
            1 => Sys::Ipc,
            2 => Sys::SetReceiveWindow,
            3 => Sys::Unmap,
            4 => Sys::SpaceCreate,
            5 => Sys::SpaceDestroy,
            6 => Sys::ThreadCreate,
            7 => Sys::ThreadDestroy,
            8 => Sys::ExchangeRegisters,
            9 => Sys::SetPriority,
            10 => Sys::Yield,
            11 => Sys::IrqAttach,
            12 => Sys::IoPortGrant,
            13 => Sys::WhoAmI,
            14 => Sys::DebugPrint,
            15 => Sys::SystemClock,
            16 => Sys::Trace,
            _ => return None,
        })
    }
}

/// Names of the argument/result registers, in word order (see the module table).
pub const ARG_REGISTERS: [&str; 10] = [
    "rdi", "rsi", "rdx", "r10", "r8", "r9", "r12", "r13", "r14", "r15",
];

/// Number of message registers carried in CPU registers.
pub const MESSAGE_REGISTERS: usize = 6;

/// The most bytes one IPC copies: its byte items together.
pub const MAX_BUFFER_BYTES: u64 = 4096;

/// The most pages one `MAP` item maps, and one `unmap` call revokes.
pub const MAX_MAP_PAGES: u64 = 64;

/// The pages a page fault's reply may map: from the faulting `page` to the
/// end of its aligned block of [`MAX_MAP_PAGES`] pages (256 KiB). The
/// kernel makes this the faulting thread's receive window; a pager that
/// maps more than the one page maps ahead.
pub const fn fault_window_pages(page: u64) -> u64 {
    let block = MAX_MAP_PAGES * 4096;
    (block - page % block) / 4096
}

/// How deep a page's mappings may nest: a mapping made from a mapping made
/// from ... the root task's, at most this many steps from the root task's
/// own (a process's page, root → proc → process, is 2 deep). A page at this
/// depth cannot be mapped on (`NotMappable`); it can still be granted,
/// which moves a mapping without nesting it deeper. The limit bounds the
/// walks up a page's chain of mappings that a map makes, so no program can
/// make one map cost the kernel time without bound.
pub const MAX_MAP_DEPTH: u8 = 16;

/// The most I/O-port ranges one address space can hold.
pub const MAX_IO_RANGES: usize = 8;

/// Thread priorities are `0..PRIORITY_LEVELS`; higher runs first.
pub const PRIORITY_LEVELS: u64 = 32;

/// The priority of the root task's first thread.
pub const ROOT_PRIORITY: u64 = 16;

/// Timeout: do not block (fail with `Timeout` if the partner is not ready).
pub const TIMEOUT_ZERO: u32 = 0;
/// Timeout: block until the partner is ready.
pub const TIMEOUT_NEVER: u32 = u32::MAX;

/// Packs a send and a receive timeout into the `r10` word.
pub const fn timeouts(send: u32, receive: u32) -> u64 {
    ((send as u64) << 32) | receive as u64
}

/// The send timeout in a timeouts word.
pub const fn send_timeout(word: u64) -> u32 {
    (word >> 32) as u32
}

/// The receive timeout in a timeouts word.
pub const fn receive_timeout(word: u64) -> u32 {
    word as u32
}

/// A thread id (see the module documentation for the encoding).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(transparent)]
pub struct ThreadId(pub u64);

/// Bits of a thread id that hold the table slot.
pub const ID_SLOT_BITS: u32 = 16;
/// Bit set in the pseudo thread ids of interrupt lines.
pub const IRQ_ID_FLAG: u64 = 1 << 62;

impl ThreadId {
    /// No thread: as a destination, "no send phase"; as a source, "no receive phase".
    pub const NIL: ThreadId = ThreadId(0);
    /// Receive from any sender (a thread or an interrupt).
    pub const ANY: ThreadId = ThreadId(u64::MAX);

    /// The id of slot `slot` in generation `generation` (generation != 0).
    pub const fn new(slot: u16, generation: u32) -> ThreadId {
        ThreadId(((generation as u64) << ID_SLOT_BITS) | slot as u64)
    }

    /// The pseudo thread that delivers interrupt line `irq`.
    pub const fn irq(irq: u8) -> ThreadId {
        ThreadId(IRQ_ID_FLAG | irq as u64)
    }

    /// The interrupt line, if this is an interrupt's pseudo thread id.
    pub const fn as_irq(self) -> Option<u8> {
        if self.0 & !0xff == IRQ_ID_FLAG {
            Some(self.0 as u8)
        } else {
            None
        }
    }

    /// The table slot.
    pub const fn slot(self) -> u16 {
        self.0 as u16
    }

    /// The generation.
    pub const fn generation(self) -> u32 {
        (self.0 >> ID_SLOT_BITS) as u32
    }

    /// Whether this is a plausible ordinary thread id (not NIL, ANY or an IRQ).
    pub const fn is_thread(self) -> bool {
        self.0 != 0 && self.0 >> 48 == 0 && self.generation() != 0
    }
}

/// An address-space id, encoded like a [`ThreadId`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(transparent)]
pub struct SpaceId(pub u64);

impl SpaceId {
    /// No space.
    pub const NIL: SpaceId = SpaceId(0);

    /// The id of slot `slot` in generation `generation` (generation != 0).
    pub const fn new(slot: u16, generation: u32) -> SpaceId {
        SpaceId(((generation as u64) << ID_SLOT_BITS) | slot as u64)
    }

    /// The table slot.
    pub const fn slot(self) -> u16 {
        self.0 as u16
    }

    /// The generation.
    pub const fn generation(self) -> u32 {
        (self.0 >> ID_SLOT_BITS) as u32
    }
}

/// Tag field: the number of byte items (0..=2).
pub const TAG_BYTES_MASK: u64 = 0x3 << TAG_BYTES_SHIFT;
/// Where the byte-item count sits in a tag.
pub const TAG_BYTES_SHIFT: u32 = 8;
/// The most byte items one message carries.
pub const MAX_BYTE_ITEMS: usize = 2;
/// Tag bit: the message carries a map item.
pub const TAG_MAP: u64 = 1 << 10;
/// Tag bit: the map item is a grant (the pages move).
pub const TAG_GRANT: u64 = 1 << 11;
/// Tag bit: a receive area follows the other items.
pub const TAG_RECEIVE: u64 = 1 << 12;
/// Mask of the untyped word count in a tag.
pub const TAG_WORDS_MASK: u64 = 0x7;
/// Tag bits that must be zero.
pub const TAG_RESERVED_MASK: u64 = 0xe0f8;
/// The label starts at this bit.
pub const TAG_LABEL_SHIFT: u32 = 16;
/// A byte item's length word with this bit: the bytes end at the first NUL
/// (a C string), the rest of the word being the most to copy.
pub const STRING: u64 = 1 << 63;

/// A message tag (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(transparent)]
pub struct Tag(pub u64);

impl Tag {
    /// A tag with `label`, `words` untyped words and no items.
    pub const fn new(label: u64, words: u64) -> Tag {
        Tag((label << TAG_LABEL_SHIFT) | (words & TAG_WORDS_MASK))
    }
    /// The same tag with one more byte item (at most [`MAX_BYTE_ITEMS`]:
    /// a third makes the tag invalid).
    pub const fn with_byte_item(self) -> Tag {
        Tag(self.0 + (1 << TAG_BYTES_SHIFT))
    }
    /// The same tag with a map item (`grant`: move the pages instead).
    pub const fn with_map(self, grant: bool) -> Tag {
        Tag(self.0 | TAG_MAP | if grant { TAG_GRANT } else { 0 })
    }
    /// The same tag with a receive area.
    pub const fn with_receive_area(self) -> Tag {
        Tag(self.0 | TAG_RECEIVE)
    }
    /// The same tag without a receive area (what the partner sees).
    pub const fn without_receive_area(self) -> Tag {
        Tag(self.0 & !TAG_RECEIVE)
    }
    /// The protocol label.
    pub const fn label(self) -> u64 {
        self.0 >> TAG_LABEL_SHIFT
    }
    /// Number of untyped words.
    pub const fn words(self) -> u64 {
        self.0 & TAG_WORDS_MASK
    }
    /// Number of byte items (3 in an invalid tag).
    pub const fn byte_items(self) -> usize {
        ((self.0 & TAG_BYTES_MASK) >> TAG_BYTES_SHIFT) as usize
    }
    /// Whether a map item follows the byte items.
    pub const fn has_map(self) -> bool {
        self.0 & TAG_MAP != 0
    }
    /// Whether the map item is a grant.
    pub const fn is_grant(self) -> bool {
        self.0 & TAG_GRANT != 0
    }
    /// Whether a receive area follows the other items.
    pub const fn has_receive_area(self) -> bool {
        self.0 & TAG_RECEIVE != 0
    }
    /// Message registers used in all: words plus two per item.
    pub const fn registers_used(self) -> u64 {
        self.words()
            + 2 * (self.byte_items() as u64
                + self.has_map() as u64
                + self.has_receive_area() as u64)
    }
    /// Whether the tag is well formed: reserved bits clear, at most
    /// [`MAX_BYTE_ITEMS`] byte items, GRANT only with MAP, and everything
    /// fits in the six message registers.
    pub const fn is_valid(self) -> bool {
        self.0 & TAG_RESERVED_MASK == 0
            && self.byte_items() <= MAX_BYTE_ITEMS
            && (!self.is_grant() || self.has_map())
            && self.registers_used() <= MESSAGE_REGISTERS as u64
    }
    /// The index of byte item `n`'s first register, if the message has it.
    pub const fn byte_item_index(self, n: usize) -> Option<usize> {
        if n < self.byte_items() {
            Some(self.words() as usize + 2 * n)
        } else {
            None
        }
    }
    /// The index of the map item's first register, if there is one.
    pub const fn map_index(self) -> Option<usize> {
        if self.has_map() {
            Some(self.words() as usize + 2 * self.byte_items())
        } else {
            None
        }
    }
    /// The index of the receive area's first register, if there is one.
    pub const fn receive_area_index(self) -> Option<usize> {
        if self.has_receive_area() {
            Some(self.words() as usize + 2 * (self.byte_items() + self.has_map() as usize))
        } else {
            None
        }
    }
}

/// Labels the kernel puts on the messages it sends on a thread's behalf.
/// They are *reserved*: no thread may send a message with a label in
/// `KERNEL_FIRST..=KERNEL_LAST` (the IPC fails with `InvalidArgument`), so a
/// receiver can trust that a `PAGE_FAULT` message comes from the kernel.
/// Protocols between user threads use labels below `0x1000`.
pub mod label {
    /// The first reserved label.
    pub const KERNEL_FIRST: u64 = 0xffe0;
    /// The last reserved label.
    pub const KERNEL_LAST: u64 = 0xffff;
    /// Whether `label` is one only the kernel may send.
    pub const fn is_kernel(label: u64) -> bool {
        label >= KERNEL_FIRST && label <= KERNEL_LAST
    }
    /// A page fault: MR0 = faulting address, MR1 = access ([`super::fault_access`]
    /// bits), MR2 = instruction pointer. Reply with a map item (destination:
    /// the faulting page; window offset 0), or with nothing: to retry the
    /// instruction, or, for a fault with `SYSTEM_CALL`, to fail the call.
    pub const PAGE_FAULT: u64 = 0xffe0;
    /// A CPU exception: MR0 = vector, MR1 = error code, MR2 = rip, MR3 = rsp,
    /// MR4 = rflags, MR5 = CR2. Reply with 0 words to resume unchanged, or
    /// with 2 words `[rip, rsp]` to resume there.
    pub const EXCEPTION: u64 = 0xffe1;
    /// An interrupt: MR0 = the IRQ line. Send anything to the interrupt's id
    /// to acknowledge it (unmask the line).
    pub const INTERRUPT: u64 = 0xffe2;
}

/// Access-kind bits in a page-fault message (the CPU's error code bits).
pub mod fault_access {
    /// The page was present: a protection violation (else: not present).
    pub const PRESENT: u64 = 1 << 0;
    /// The access was a write.
    pub const WRITE: u64 = 1 << 1;
    /// The access was an instruction fetch.
    pub const EXECUTE: u64 = 1 << 4;
    /// Not the thread's own access: the kernel needs the page for a system
    /// call's buffer (see "Memory a message names" above). The pager maps
    /// it, and the thread executes its system call again; or the pager
    /// answers without a mapping, and the call fails with `BadAddress`
    /// (the pager must not treat the thread as crashed).
    pub const SYSTEM_CALL: u64 = 1 << 8;
}

/// Rights on a mapped page, in the low bits of a map item's first word.
pub mod rights {
    /// Read (always implied by any mapping).
    pub const READ: u64 = 1 << 0;
    /// Write.
    pub const WRITE: u64 = 1 << 1;
    /// Execute.
    pub const EXECUTE: u64 = 1 << 2;
    /// All rights.
    pub const ALL: u64 = READ | WRITE | EXECUTE;
}

/// Flags of `unmap`.
pub mod unmap_flags {
    /// Also remove the caller's own mapping (not only the ones derived from it).
    pub const SELF: u64 = 1 << 0;
    /// Take away only the write right: the mappings stay, read-only (what a
    /// copy-on-write pager does at `fork`). With `SELF`, the caller's own
    /// mapping becomes read-only too.
    pub const WRITE_ONLY: u64 = 1 << 1;
}

/// Privileges of an address space (`space_create`'s argument; a space can
/// only give a new space privileges it holds itself).
pub mod privilege {
    /// May create address spaces (and threads in them).
    pub const CREATE: u64 = 1 << 0;
    /// May grant any I/O port and attach interrupts.
    pub const IO: u64 = 1 << 1;
    /// Trusted with the kernel's resources: not held to the quota of an
    /// ordinary space ([`super::quota`]), and may use the last free thread
    /// slots, mapping nodes and page-table frames, which the kernel keeps
    /// back from ordinary spaces. Root gives it to the servers, never to a
    /// user process: so no user process can exhaust what the servers need.
    pub const RESERVES: u64 = 1 << 2;
    /// Every privilege (the root task's).
    pub const ALL: u64 = CREATE | IO | RESERVES;
}

/// What the kernel lets an ordinary space (one without
/// `privilege::RESERVES`: a user process) hold, and what it keeps back from
/// all of them together. Each resource is charged to the space it is in:
/// a thread to its space, a mapping and the page tables that hold it to the
/// space that receives the mapping (which opened the receive window for
/// it). Past a limit, the call that asked fails with `OutOfResources`.
pub mod quota {
    /// Threads in one ordinary space.
    pub const THREADS: u32 = 8;
    /// Mappings (mapping-database nodes) in one ordinary space: 64 MiB of
    /// 4 KiB pages, more than a process can get.
    pub const MAPPINGS: u32 = 16 * 1024;
    /// Page-table frames one ordinary space's user half may grow (64
    /// level-1 tables map 128 MiB).
    pub const PAGE_TABLES: u32 = 80;
    /// Thread slots ordinary spaces may not take (kept for the servers).
    pub const RESERVED_THREADS: u32 = 32;
    /// Mapping nodes ordinary spaces may not take.
    pub const RESERVED_MAPPINGS: u32 = 8 * 1024;
    /// Page-table frames ordinary spaces may not take.
    pub const RESERVED_PAGE_TABLES: u32 = 256;
}

/// The `control` word of `exchange_registers`: which fields to set.
pub mod exreg {
    /// Set the instruction pointer.
    pub const SET_RIP: u64 = 1 << 0;
    /// Set the stack pointer.
    pub const SET_RSP: u64 = 1 << 1;
    /// Set the arithmetic flags (CF, PF, AF, ZF, SF, DF, OF; never IF or IOPL).
    pub const SET_RFLAGS: u64 = 1 << 2;
    /// Set the pager.
    pub const SET_PAGER: u64 = 1 << 3;
    /// Set the exception handler.
    pub const SET_HANDLER: u64 = 1 << 4;
    /// Set `rdi` (the first argument a new thread's entry function sees).
    pub const SET_ARGUMENT: u64 = 1 << 5;
    /// Stop the thread (it keeps its state; an IPC in progress is aborted).
    pub const HALT: u64 = 1 << 6;
    /// Start (or restart) a stopped thread.
    pub const RESUME: u64 = 1 << 7;
    /// All control bits.
    pub const ALL: u64 = (1 << 8) - 1;
    /// Result flag (in the returned control word): the thread was halted.
    pub const WAS_HALTED: u64 = 1 << 0;
}

/// The *kernel info page* (L4's KIP): one read-only page at this address
/// in every address space, so that any thread can read what the kernel
/// publishes without a system call. (The kernel maps it the first time a
/// thread of the space reads it.) Its layout is [`KernelInfo`]. It is not
/// part of the mapping database: it cannot be mapped, granted or unmapped,
/// no receive window may cover it, and a write to it is an exception,
/// never a page fault for the pager.
pub const KERNEL_INFO_PAGE: u64 = crate::abi::memory::USER_TOP - 4096;

/// What the kernel info page holds, from its first byte.
#[repr(C)]
#[derive(Debug)]
pub struct KernelInfo {
    /// The trace session: 0 while tracing is off, a new number each time
    /// it is switched on. Trace points in servers read it (through
    /// `common::trace`) before they record anything.
    pub trace_session: core::sync::atomic::AtomicU64,
}

/// Where the kernel maps the root task's free memory ("sigma0 inside the
/// root task"): every free frame, packed one after the other from here.
pub const ROOT_WINDOW_BASE: u64 = 0x0000_0100_0000_0000;

/// Where the kernel maps the PC's legacy device memory (physical
/// [`DEVICE_MEMORY_START`]..[`DEVICE_MEMORY_END`]: the VGA buffers and the
/// option ROMs) into the root task: physical `pa` appears at
/// `ROOT_DEVICE_WINDOW + pa` (so the VGA text buffer, physical 0xB8000, is
/// at `ROOT_DEVICE_WINDOW + 0xB8000`), uncached, read/write. Like the memory
/// window these pages are roots of the mapping database, so the root task
/// can map them on to a console server.
pub const ROOT_DEVICE_WINDOW: u64 = 0x0000_00ff_0000_0000;
/// First physical address of the legacy device memory.
pub const DEVICE_MEMORY_START: u64 = 0xa_0000;
/// One past the last physical address of the legacy device memory.
pub const DEVICE_MEMORY_END: u64 = 0x10_0000;

/// The top of the root task's initial stack.
pub const ROOT_STACK_TOP: u64 = 0x0000_0000_8000_0000;

/// Pages of initial stack the kernel maps for the root task.
pub const ROOT_STACK_PAGES: u64 = 16;

/// Boot flags passed to the root task (its fifth argument, `r8`).
pub mod boot_flags {
    /// The kernel command line had `bench`: run the benchmarks.
    pub const BENCH: u64 = 1 << 0;
    /// The kernel command line had `inject`: faults may be injected on
    /// purpose (`crate::abi::inject`).
    pub const INJECT: u64 = 1 << 1;
}

/// Error codes, returned in `rax` (0 means success).
#[repr(u64)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// No such system call.
    NoSuchCall = 1,
    /// An argument is malformed (bad tag, bad flags, out-of-range number).
    InvalidArgument = 2,
    /// A thread or space id names nothing (or a stale generation).
    NoSuchThread = 3,
    /// The caller may not do this to that object.
    NoPermission = 4,
    /// An address is not page-aligned, not in user space, or not mapped
    /// with the needed rights.
    BadAddress = 5,
    /// A buffer is longer than [`MAX_BUFFER_BYTES`] or the receiver's buffer.
    MessageTooLong = 6,
    /// The send phase timed out (the partner was not ready in time).
    SendTimeout = 7,
    /// The receive phase timed out.
    ReceiveTimeout = 8,
    /// The IPC was cancelled: the partner was destroyed or stopped.
    Aborted = 9,
    /// A map item does not fit the receiver's window, or the receiver set none.
    NoReceiveWindow = 10,
    /// A page in a map item is not mapped in the sender, or was not
    /// received through the mapping database (it cannot be passed on), or
    /// is one of the root task's own window pages in a grant (those can
    /// only be mapped).
    NotMappable = 11,
    /// The kernel ran out of threads, spaces, mapping nodes or memory.
    OutOfResources = 12,
    /// The interrupt line is attached to another thread.
    Busy = 13,
    /// A space still has threads, or a thread tried to destroy itself.
    InUse = 14,
}

impl Error {
    /// The code as returned in `rax`.
    pub const fn code(self) -> u64 {
        self as u64
    }

    /// Decodes `rax`: `Ok(())` for 0, the error otherwise (unknown codes
    /// become `InvalidArgument`).
    pub const fn check(rax: u64) -> Result<(), Error> {
        Err(match rax {
            0 => return Ok(()),
            1 => Error::NoSuchCall,
            2 => Error::InvalidArgument,
            3 => Error::NoSuchThread,
            4 => Error::NoPermission,
            5 => Error::BadAddress,
            6 => Error::MessageTooLong,
            7 => Error::SendTimeout,
            8 => Error::ReceiveTimeout,
            9 => Error::Aborted,
            10 => Error::NoReceiveWindow,
            11 => Error::NotMappable,
            12 => Error::OutOfResources,
            13 => Error::Busy,
            14 => Error::InUse,
            _ => Error::InvalidArgument,
        })
    }
}

/// Which phase of an IPC failed. An IPC that fails says so in its error
/// word (`rax`): the [`Error`] code, with [`RECEIVE_PHASE`] set if the
/// receive phase failed. Then the send phase, if the IPC had one, is done:
/// its message was delivered. Without the bit, the IPC failed before it
/// received anything: in its send phase (nothing was sent), or in the
/// checks before either phase. (L4 X.2's error code has the same bit.)
///
/// A server that replies and receives in one call needs it: a failed
/// *reply* means its client was not served; a failed *receive* (a timeout,
/// or a closed receive whose sender's message could not be taken) says
/// nothing about the reply, which was delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Before or in the send phase: nothing was sent.
    Send,
    /// In the receive phase: the send phase (if any) completed.
    Receive,
}

/// The bit of an IPC's error word that says the receive phase failed.
pub const RECEIVE_PHASE: u64 = 1 << 8;

impl Phase {
    /// The error word reporting `error` in this phase.
    pub const fn error_word(self, error: Error) -> u64 {
        match self {
            Phase::Send => error.code(),
            Phase::Receive => error.code() | RECEIVE_PHASE,
        }
    }

    /// Decodes an IPC's error word: `Ok(())` for 0, else the error and
    /// the phase it happened in.
    pub const fn check(rax: u64) -> Result<(), (Error, Phase)> {
        let phase = if rax & RECEIVE_PHASE != 0 {
            Phase::Receive
        } else {
            Phase::Send
        };
        match Error::check(rax & !RECEIVE_PHASE) {
            Ok(()) => Ok(()),
            Err(error) => Err((error, phase)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_ids_round_trip_and_are_distinct_from_specials() {
        let id = ThreadId::new(5, 7);
        assert_eq!((id.slot(), id.generation()), (5, 7));
        assert!(id.is_thread());
        assert!(!ThreadId::NIL.is_thread());
        assert!(!ThreadId::ANY.is_thread());
        assert!(!ThreadId::irq(3).is_thread());
        assert_eq!(ThreadId::irq(3).as_irq(), Some(3));
        assert_eq!(id.as_irq(), None);
        assert_eq!(ThreadId::ANY.as_irq(), None);
    }

    #[test]
    fn tags_pack_items_after_words() {
        let tag = Tag::new(0x42, 2).with_byte_item().with_map(true);
        assert_eq!(tag.label(), 0x42);
        assert_eq!(tag.words(), 2);
        assert_eq!(tag.byte_item_index(0), Some(2));
        assert_eq!(tag.byte_item_index(1), None);
        assert_eq!(tag.map_index(), Some(4));
        assert!(tag.is_valid());
        let two = Tag::new(7, 0)
            .with_byte_item()
            .with_byte_item()
            .with_receive_area();
        assert_eq!(
            (two.byte_item_index(1), two.receive_area_index()),
            (Some(2), Some(4))
        );
        assert_eq!(two.without_receive_area().registers_used(), 4);
        assert!(two.is_valid());
        assert!(
            !Tag::new(1, 0)
                .with_byte_item()
                .with_byte_item()
                .with_byte_item()
                .is_valid(),
            "three byte items"
        );
        assert!(
            !Tag::new(1, 6).with_byte_item().is_valid(),
            "8 registers do not fit"
        );
        assert!(!Tag(TAG_GRANT).is_valid(), "grant needs a map item");
        assert!(!Tag(1 << 3).is_valid(), "reserved bit");
        assert!(Tag::new(0, 6).is_valid());
    }

    #[test]
    fn errors_round_trip_through_rax() {
        for code in 1..=14u64 {
            assert_eq!(Error::check(code).unwrap_err().code(), code);
        }
        assert_eq!(Error::check(0), Ok(()));
        assert_eq!(Error::check(999), Err(Error::InvalidArgument));
    }

    #[test]
    fn ipc_errors_say_their_phase() {
        for code in 1..=14u64 {
            let error = Error::check(code).unwrap_err();
            assert_eq!(
                Phase::check(Phase::Send.error_word(error)),
                Err((error, Phase::Send))
            );
            assert_eq!(
                Phase::check(Phase::Receive.error_word(error)),
                Err((error, Phase::Receive))
            );
        }
        assert_eq!(Phase::check(0), Ok(()));
        assert_ne!(
            Phase::Receive.error_word(Error::Aborted),
            Error::Aborted.code()
        );
    }

    #[test]
    fn timeouts_pack_send_high_receive_low() {
        let word = timeouts(TIMEOUT_ZERO, 25);
        assert_eq!((send_timeout(word), receive_timeout(word)), (0, 25));
        assert_eq!(receive_timeout(timeouts(1, TIMEOUT_NEVER)), TIMEOUT_NEVER);
    }

    #[test]
    fn call_numbers_round_trip() {
        for number in 0..20 {
            if let Some(call) = Sys::from_number(number) {
                assert_eq!(call as u64, number);
            }
        }
        assert_eq!(Sys::from_number(0), None);
    }
}
