//! Memory as mappings: where this thread accepts mappings and long
//! messages, map items, and unmap.

use crate::sys;
use common::abi::micro::{Error, Sys};

/// A map item: `count` pages of ours from `page`, with `rights`, to land at
/// page `window_offset` of the receiver's window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MapItem {
    pub page: u64,
    pub count: u64,
    pub rights: u64,
    pub window_offset: u64,
}

impl MapItem {
    /// The two message registers.
    pub fn encode(&self) -> [u64; 2] {
        [(self.page & !0xfff) | (self.rights & 0xfff), (self.count & 0xffff) | (self.window_offset << 16)]
    }
}

/// Names this thread's receive buffer (the byte items of messages it
/// receives land there, unless its IPC names a receive area) and
/// receive window (`window_pages` pages from `window_base`, where map items
/// land). Zero lengths mean "none".
///
/// # Safety
/// The kernel will write received messages into the buffer and replace the
/// pages of the window while this thread receives: nothing the program
/// holds references to may live there.
pub unsafe fn set_receive_window(
    buffer: u64,
    buffer_len: u64,
    window_base: u64,
    window_pages: u64,
) -> Result<(), Error> {
    Error::check(sys::call(Sys::SetReceiveWindow, [buffer, buffer_len, window_base, window_pages, 0, 0, 0, 0]).0)
}

/// Removes every mapping made from our pages `page..page + count * 4096`,
/// in every space, recursively; with `unmap_flags::SELF` also our own.
///
/// # Safety
/// With `SELF`, the pages vanish from this space: nothing may use them.
pub unsafe fn unmap(page: u64, count: u64, flags: u64) -> Result<(), Error> {
    Error::check(sys::call(Sys::Unmap, [page, count, flags, 0, 0, 0, 0, 0]).0)
}
