//! Reading the `hvm_start_info` structure QEMU hands to a PVH kernel.
//!
//! At entry `ebx` holds its physical address. It gives the memory map (which
//! physical ranges are RAM) and the kernel command line (`-append "..."`).
//! Layout from Xen's public `arch-x86/hvm/start_info.h`, version 1.

/// The magic number in `hvm_start_info.magic` ("xEn3" with the 0x80 bit set).
pub const START_INFO_MAGIC: u32 = 0x336e_c578;

/// The start-of-day structure (only the fields Diptych uses are read).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct StartInfo {
    /// Must be [`START_INFO_MAGIC`].
    pub magic: u32,
    /// Version of this structure; the memory map exists from version 1.
    pub version: u32,
    /// Flags (unused).
    pub flags: u32,
    /// Number of boot modules (unused).
    pub nr_modules: u32,
    /// Physical address of the module list (unused).
    pub modlist_paddr: u64,
    /// Physical address of the NUL-terminated command line, or 0.
    pub cmdline_paddr: u64,
    /// Physical address of the ACPI RSDP (unused).
    pub rsdp_paddr: u64,
    /// Physical address of the memory map.
    pub memmap_paddr: u64,
    /// Number of entries in the memory map.
    pub memmap_entries: u32,
    /// Reserved.
    pub reserved: u32,
}

/// One memory-map entry, in the format of the BIOS E820 call.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct MemoryMapEntry {
    /// First physical address of the range.
    pub addr: u64,
    /// Length of the range in bytes.
    pub size: u64,
    /// [`MEMORY_TYPE_RAM`] for usable memory; anything else is reserved.
    pub kind: u32,
    /// Reserved.
    pub reserved: u32,
}

/// The E820 type of usable RAM.
pub const MEMORY_TYPE_RAM: u32 = 1;

/// What went wrong reading the start info.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartInfoError {
    /// The magic number did not match: not booted through PVH.
    BadMagic(u32),
    /// Version 0 has no memory map.
    NoMemoryMap,
}

/// The boot information, read once through the higher-half window.
pub struct BootInfo {
    info: StartInfo,
}

impl BootInfo {
    /// Reads the start info at physical address `phys`.
    ///
    /// # Safety
    /// `phys` must be the value QEMU passed in `ebx` at the PVH entry, and the
    /// memory it describes must not have been reused yet.
    pub unsafe fn read(phys: u64) -> Result<BootInfo, StartInfoError> {
        // SAFETY: the caller guarantees the address; the structure lies below
        // 1 GiB, inside the higher-half window.
        let info = unsafe { (super::phys_to_virt(phys) as *const StartInfo).read_unaligned() };
        if info.magic != START_INFO_MAGIC {
            return Err(StartInfoError::BadMagic(info.magic));
        }
        if info.version < 1 || info.memmap_paddr == 0 {
            return Err(StartInfoError::NoMemoryMap);
        }
        Ok(BootInfo { info })
    }

    /// The memory-map entries.
    pub fn memory_map(&self) -> impl Iterator<Item = MemoryMapEntry> + '_ {
        let base = super::phys_to_virt(self.info.memmap_paddr) as *const MemoryMapEntry;
        (0..self.info.memmap_entries as usize).map(move |i| {
            // SAFETY: QEMU placed `memmap_entries` entries at `memmap_paddr`
            // (checked non-zero in `read`).
            unsafe { base.add(i).read_unaligned() }
        })
    }

    /// The kernel command line (`-append` in QEMU), or "" if there is none.
    pub fn command_line(&self) -> &'static str {
        if self.info.cmdline_paddr == 0 {
            return "";
        }
        let start = super::phys_to_virt(self.info.cmdline_paddr) as *const u8;
        // Bound the scan: a command line longer than a page is not believed.
        let mut len = 0;
        // SAFETY: QEMU wrote a NUL-terminated string there; we stop at the NUL
        // or after 4096 bytes, whichever comes first.
        while len < 4096 && unsafe { start.add(len).read() } != 0 {
            len += 1;
        }
        // SAFETY: `len` bytes were just read and are not modified afterwards.
        let bytes = unsafe { core::slice::from_raw_parts(start, len) };
        core::str::from_utf8(bytes).unwrap_or("")
    }

    /// True if the command line contains the word `word`.
    pub fn has_flag(&self, word: &str) -> bool {
        self.command_line()
            .split_ascii_whitespace()
            .any(|w| w == word)
    }
}
