//! VGA text mode: 80 columns x 25 rows of coloured characters.
//!
//! In text mode the screen is an array of 16-bit cells in memory at physical
//! address 0xB8000, row after row. Each cell is a character (low byte, code
//! page 437) and an attribute (high byte: background colour in bits 12..15,
//! foreground in bits 8..11). Writing a cell changes the screen at once.
//!
//! The blinking hardware cursor is separate: it is moved through the CRT
//! controller's index/data port pair 0x3D4/0x3D5 (registers 0x0E and 0x0F
//! hold the cursor's cell index, high and low byte).
//!
//! [`VgaText`] does not map memory itself: the environment hands it the
//! cells as a `&mut [u16]` — the mono-kernel its mapping of 0xB8000, the
//! microkernel's console server the page its pager mapped for it, and a host
//! test a plain `Vec`. Cell writes are volatile, so the compiler cannot
//! decide that nobody looks at that memory and drop them.

use crate::port::PortIo;

/// Screen width in character cells.
pub const WIDTH: usize = 80;
/// Screen height in character cells.
pub const HEIGHT: usize = 25;
/// Physical address of the text-mode buffer.
pub const TEXT_BUFFER_PHYS: u64 = 0xB8000;

/// CRT controller index register: which register the next data access means.
const CRTC_INDEX: u16 = 0x3D4;
/// CRT controller data register.
const CRTC_DATA: u16 = 0x3D5;
/// CRTC register: cursor location, high byte.
const CRTC_CURSOR_HIGH: u8 = 0x0E;
/// CRTC register: cursor location, low byte.
const CRTC_CURSOR_LOW: u8 = 0x0F;

/// Printed in place of bytes the screen cannot show (a filled square in code page 437).
const UNPRINTABLE: u8 = 0xFE;
/// Columns between tab stops.
const TAB_WIDTH: usize = 8;

/// The 16 VGA text colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Color {
    Black = 0,
    Blue = 1,
    Green = 2,
    Cyan = 3,
    Red = 4,
    Magenta = 5,
    Brown = 6,
    LightGray = 7,
    DarkGray = 8,
    LightBlue = 9,
    LightGreen = 10,
    LightCyan = 11,
    LightRed = 12,
    Pink = 13,
    Yellow = 14,
    White = 15,
}

/// A cell's attribute byte: foreground and background colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attribute(u8);

impl Attribute {
    /// `foreground` text on `background`.
    pub const fn new(foreground: Color, background: Color) -> Self {
        Self(((background as u8) << 4) | foreground as u8)
    }

    /// The raw attribute byte.
    pub const fn bits(self) -> u8 {
        self.0
    }
}

/// Light grey on black, the PC's default.
pub const DEFAULT_ATTRIBUTE: Attribute = Attribute::new(Color::LightGray, Color::Black);

/// Why [`VgaText::new`] refused a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VgaError {
    /// The buffer has fewer than `WIDTH * HEIGHT` cells.
    BufferTooSmall { cells: usize },
}

/// A terminal-like writer over the text buffer.
///
/// Invariant: `row < HEIGHT` and `col <= WIDTH`. `col == WIDTH` means "the
/// row is full": the next printable byte first wraps to a new line (so a
/// full-width line followed by '\n' does not leave a blank line).
#[derive(Debug)]
pub struct VgaText<'a, P: PortIo> {
    cells: &'a mut [u16],
    ports: P,
    row: usize,
    col: usize,
    attribute: Attribute,
}

impl<'a, P: PortIo> VgaText<'a, P> {
    /// A writer over `cells` (at least 80x25 of them), starting at the top
    /// left. Does not clear the screen: call [`clear`](Self::clear).
    pub fn new(cells: &'a mut [u16], ports: P) -> Result<Self, VgaError> {
        if cells.len() < WIDTH * HEIGHT {
            return Err(VgaError::BufferTooSmall { cells: cells.len() });
        }
        Ok(Self {
            cells,
            ports,
            row: 0,
            col: 0,
            attribute: DEFAULT_ATTRIBUTE,
        })
    }

    /// The port bus (for tests).
    pub fn ports_mut(&mut self) -> &mut P {
        &mut self.ports
    }

    /// The colour used for bytes written from now on.
    pub fn set_attribute(&mut self, attribute: Attribute) {
        self.attribute = attribute;
    }

    /// Where the next byte goes, as (row, column).
    pub fn position(&self) -> (usize, usize) {
        (self.row, self.col)
    }

    /// The character and attribute at (row, column); `None` off screen.
    pub fn cell(&self, row: usize, col: usize) -> Option<(u8, Attribute)> {
        if row >= HEIGHT || col >= WIDTH {
            return None;
        }
        let cell = self.get(row * WIDTH + col);
        Some(((cell & 0xFF) as u8, Attribute((cell >> 8) as u8)))
    }

    /// Blanks the screen and homes the cursor.
    pub fn clear(&mut self) {
        for index in 0..WIDTH * HEIGHT {
            self.put(index, self.blank());
        }
        self.row = 0;
        self.col = 0;
        self.move_hardware_cursor();
    }

    /// Writes one byte the way a terminal would and moves the cursor.
    ///
    /// `'\n'` starts a new line (scrolling at the bottom), `'\r'` returns to
    /// column 0, `0x08` (backspace) moves one cell left without erasing —
    /// to erase, a console echoes "\x08 \x08" — and `'\t'` advances to the
    /// next multiple of 8. Other bytes below 0x20, and 0x7F, are shown as
    /// a small square.
    pub fn write_byte(&mut self, byte: u8) {
        self.put_byte(byte);
        self.move_hardware_cursor();
    }

    /// Writes every byte of `bytes`, moving the hardware cursor once at the end.
    pub fn write_bytes(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.put_byte(byte);
        }
        self.move_hardware_cursor();
    }

    fn put_byte(&mut self, byte: u8) {
        match byte {
            b'\n' => self.new_line(),
            b'\r' => self.col = 0,
            0x08 => self.back_one(),
            b'\t' => {
                let stop = (self.col / TAB_WIDTH + 1) * TAB_WIDTH;
                while self.col < stop.min(WIDTH) {
                    self.put_printable(b' ');
                }
            }
            0x20..=0x7E | 0x80..=0xFF => self.put_printable(byte),
            _ => self.put_printable(UNPRINTABLE),
        }
    }

    fn put_printable(&mut self, byte: u8) {
        if self.col == WIDTH {
            self.new_line();
        }
        let cell = u16::from(self.attribute.bits()) << 8 | u16::from(byte);
        self.put(self.row * WIDTH + self.col, cell);
        self.col += 1;
    }

    /// Moves one cell left; from column 0 to the end of the row above
    /// (a long input line that wrapped can be erased back across the wrap).
    fn back_one(&mut self) {
        if self.col > 0 {
            self.col -= 1;
        } else if self.row > 0 {
            self.row -= 1;
            self.col = WIDTH - 1;
        }
    }

    fn new_line(&mut self) {
        self.col = 0;
        if self.row + 1 < HEIGHT {
            self.row += 1;
        } else {
            self.scroll_up();
        }
    }

    /// Moves every row up by one and blanks the bottom row.
    fn scroll_up(&mut self) {
        for index in WIDTH..WIDTH * HEIGHT {
            let below = self.get(index);
            self.put(index - WIDTH, below);
        }
        for index in (HEIGHT - 1) * WIDTH..HEIGHT * WIDTH {
            self.put(index, self.blank());
        }
    }

    /// Puts the blinking cursor where the next byte goes.
    fn move_hardware_cursor(&mut self) {
        // col == WIDTH ("row full") shows the cursor on the last column.
        let index = (self.row * WIDTH + self.col.min(WIDTH - 1)) as u16;
        let [low, high] = index.to_le_bytes();
        self.ports.write_u8(CRTC_INDEX, CRTC_CURSOR_HIGH);
        self.ports.write_u8(CRTC_DATA, high);
        self.ports.write_u8(CRTC_INDEX, CRTC_CURSOR_LOW);
        self.ports.write_u8(CRTC_DATA, low);
    }

    fn blank(&self) -> u16 {
        u16::from(self.attribute.bits()) << 8 | u16::from(b' ')
    }

    fn get(&self, index: usize) -> u16 {
        // SAFETY: `&self.cells[index]` is a valid, aligned reference (the
        // index is bounds-checked), so reading through it is sound; volatile
        // because the memory may be the screen.
        unsafe { core::ptr::read_volatile(&self.cells[index]) }
    }

    fn put(&mut self, index: usize, cell: u16) {
        // SAFETY: as in `get`: a bounds-checked, valid, exclusive reference.
        unsafe { core::ptr::write_volatile(&mut self.cells[index], cell) }
    }
}

impl<P: PortIo> core::fmt::Write for VgaText<'_, P> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.write_bytes(s.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drivers::fake_ports::FakePorts;
    use alloc::vec;
    use alloc::vec::Vec;

    fn row_text(vga: &VgaText<'_, FakePorts>, row: usize) -> Vec<u8> {
        let mut text: Vec<u8> = (0..WIDTH)
            .map(|col| vga.cell(row, col).unwrap().0)
            .collect();
        while text.last() == Some(&b' ') {
            text.pop();
        }
        text
    }

    #[test]
    fn refuses_a_small_buffer() {
        let mut cells = vec![0u16; 100];
        assert_eq!(
            VgaText::new(&mut cells, FakePorts::new()).err(),
            Some(VgaError::BufferTooSmall { cells: 100 })
        );
    }

    #[test]
    fn writes_characters_with_the_attribute() {
        let mut cells = vec![0u16; WIDTH * HEIGHT];
        let mut vga = VgaText::new(&mut cells, FakePorts::new()).unwrap();
        vga.clear();
        vga.write_bytes(b"hi");
        let red = Attribute::new(Color::Red, Color::Blue);
        vga.set_attribute(red);
        vga.write_byte(b'!');
        assert_eq!(vga.cell(0, 0), Some((b'h', DEFAULT_ATTRIBUTE)));
        assert_eq!(vga.cell(0, 2), Some((b'!', red)));
        assert_eq!(red.bits(), 0x14);
        assert_eq!(vga.position(), (0, 3));
        drop(vga);
        assert_eq!(cells[0], 0x0768);
    }

    #[test]
    fn newline_and_carriage_return() {
        let mut cells = vec![0u16; WIDTH * HEIGHT];
        let mut vga = VgaText::new(&mut cells, FakePorts::new()).unwrap();
        vga.clear();
        vga.write_bytes(b"abc\r\nxy\rz");
        assert_eq!(row_text(&vga, 0), b"abc");
        assert_eq!(row_text(&vga, 1), b"zy");
        assert_eq!(vga.position(), (1, 1));
    }

    #[test]
    fn long_lines_wrap_without_blank_lines() {
        let mut cells = vec![0u16; WIDTH * HEIGHT];
        let mut vga = VgaText::new(&mut cells, FakePorts::new()).unwrap();
        vga.clear();
        vga.write_bytes(&[b'x'; WIDTH]);
        assert_eq!(vga.position(), (0, WIDTH));
        vga.write_bytes(b"\nnext");
        assert_eq!(row_text(&vga, 1), b"next");
        // Fill the rest of row 1 exactly, then one more byte wraps to row 2.
        vga.write_bytes(&[b'y'; WIDTH - 4 + 1]);
        assert_eq!(vga.cell(1, WIDTH - 1).unwrap().0, b'y');
        assert_eq!(vga.cell(2, 0).unwrap().0, b'y');
        assert_eq!(vga.position(), (2, 1));
    }

    #[test]
    fn scrolls_at_the_bottom() {
        let mut cells = vec![0u16; WIDTH * HEIGHT];
        let mut vga = VgaText::new(&mut cells, FakePorts::new()).unwrap();
        vga.clear();
        for line in 0..HEIGHT + 2 {
            vga.write_bytes(alloc::format!("line {line}\n").as_bytes());
        }
        // 27 lines and a trailing newline: lines 3..=26 remain, bottom row empty.
        assert_eq!(row_text(&vga, 0), b"line 3");
        assert_eq!(row_text(&vga, HEIGHT - 2), b"line 26");
        assert_eq!(row_text(&vga, HEIGHT - 1), b"");
        assert_eq!(vga.position(), (HEIGHT - 1, 0));
    }

    #[test]
    fn backspace_echo_erases_and_crosses_wrapped_rows() {
        let mut cells = vec![0u16; WIDTH * HEIGHT];
        let mut vga = VgaText::new(&mut cells, FakePorts::new()).unwrap();
        vga.clear();
        vga.write_bytes(b"ab\x08 \x08");
        assert_eq!(row_text(&vga, 0), b"a");
        assert_eq!(vga.position(), (0, 1));
        vga.write_bytes(b"\n\x08\x08");
        assert_eq!(vga.position(), (0, WIDTH - 2));
        // At the top-left corner backspace stays put.
        vga.write_bytes(b"\r\x08");
        assert_eq!(vga.position(), (0, 0));
    }

    #[test]
    fn tabs_and_unprintable_bytes() {
        let mut cells = vec![0u16; WIDTH * HEIGHT];
        let mut vga = VgaText::new(&mut cells, FakePorts::new()).unwrap();
        vga.clear();
        vga.write_bytes(b"a\tb\x01");
        assert_eq!(vga.cell(0, 8).unwrap().0, b'b');
        assert_eq!(vga.cell(0, 9).unwrap().0, UNPRINTABLE);
        assert_eq!(vga.cell(HEIGHT, 0), None);
    }

    #[test]
    fn hardware_cursor_follows_through_crtc_ports() {
        let mut cells = vec![0u16; WIDTH * HEIGHT];
        let mut vga = VgaText::new(&mut cells, FakePorts::new()).unwrap();
        vga.clear();
        vga.ports_mut().clear_log();
        vga.write_bytes(b"\n\n\nabcd"); // row 3, column 4 = cell 244 = 0x00F4
        assert_eq!(
            vga.ports_mut().byte_writes(),
            [(0x3D4, 0x0E), (0x3D5, 0x00), (0x3D4, 0x0F), (0x3D5, 0xF4)]
        );
        vga.ports_mut().clear_log();
        for _ in 0..HEIGHT {
            vga.write_byte(b'\n');
        }
        // Bottom row, column 0: cell 1920 = 0x0780.
        assert_eq!(
            vga.ports_mut().writes_to(0x3D5).rchunks(2).next().unwrap(),
            [0x07, 0x80]
        );
    }
}
