//! The PS/2 keyboard: scancodes in, console bytes out.
//!
//! When a key is pressed or released the keyboard controller (an 8042 on a
//! PC) puts one byte of a *scancode* into its output buffer, at port 0x60,
//! sets bit 0 of its status register (port 0x64) and raises IRQ 1. A key
//! press may take several bytes (extended keys start with 0xE0), and
//! releases are separate codes, so the bytes go through a decoder — the
//! `pc-keyboard` crate's [`PS2Keyboard`], with scancode set 1 (what the
//! controller translates everything to by default) and the US 104-key layout.
//!
//! [`Keyboard::handle_irq`] reads one byte and returns the console byte the
//! key stands for, if any:
//!
//! | key            | byte  | note                                           |
//! |----------------|-------|------------------------------------------------|
//! | letters, digits, punctuation | ASCII | Shift and Caps Lock applied      |
//! | Enter          | `b'\n'` | both Enter keys                              |
//! | Backspace      | `0x08` | the console also treats `0x7F` (what serial terminals send) as erase |
//! | Tab            | `b'\t'` |                                              |
//! | Escape         | `0x1B` |                                               |
//! | Ctrl+A..Ctrl+Z | `0x01..=0x1A` | so Ctrl+C = 0x03, Ctrl+D = 0x04 (EOF), Ctrl+U = 0x15 (kill line) |
//! | Shift, Ctrl, Alt, arrows, F-keys, releases | none |                  |
//!
//! Scancode set 1 is only what the keyboard sends if the controller
//! *translates* (its configuration byte, bit 6). SeaBIOS turns translation
//! on; qboot, the firmware Diptych boots with, does not — and the keyboard
//! then speaks set 2, which set 1 decodes as nonsense ('h' becomes ',').
//! So [`Keyboard::init`] sets up the controller itself: translation on,
//! keyboard interrupt on.
//!
//! The driver never waits for a key: no byte waiting means `None`. It works
//! unchanged in ring 0 and in a console server that was granted ports 0x60
//! and 0x64.

use pc_keyboard::{DecodedKey, HandleControl, PS2Keyboard, ScancodeSet1, layouts::Us104Key};

use crate::port::PortIo;

/// The controller's data port: scancode bytes are read here.
pub const DATA_PORT: u16 = 0x60;
/// The controller's status register (read) and command register (write).
pub const STATUS_PORT: u16 = 0x64;
/// Status bit 0: a byte is waiting at the data port.
const STATUS_OUTPUT_FULL: u8 = 0x01;
/// Status bit 1: the controller has not yet taken the last byte we wrote.
const STATUS_INPUT_FULL: u8 = 0x02;
/// Controller command: send the configuration byte to the data port.
const COMMAND_READ_CONFIG: u8 = 0x20;
/// Controller command: the next data-port byte is the new configuration.
const COMMAND_WRITE_CONFIG: u8 = 0x60;
/// Configuration bit 0: raise IRQ 1 when a keyboard byte arrives.
const CONFIG_KEYBOARD_INTERRUPT: u8 = 0x01;
/// Configuration bit 4: the keyboard clock is disabled.
const CONFIG_KEYBOARD_CLOCK_OFF: u8 = 0x10;
/// Configuration bit 6: translate scancodes to set 1.
const CONFIG_TRANSLATE: u8 = 0x40;
/// Status reads a controller handshake may take before [`KeyboardError::ControllerTimeout`].
pub const CONTROLLER_POLL_LIMIT: u32 = 100_000;
/// Stale bytes [`Keyboard::init`] discards at most (the controller buffers one; be generous).
const FLUSH_LIMIT: usize = 32;
/// Status bit 5: the waiting byte came from the mouse (auxiliary) port.
const STATUS_FROM_MOUSE: u8 = 0x20;

/// Erase-one-character byte the keyboard produces for Backspace.
pub const BACKSPACE: u8 = 0x08;

/// What can go wrong setting up the keyboard controller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyboardError {
    /// The controller did not take or produce a byte within
    /// [`CONTROLLER_POLL_LIMIT`] status reads (no controller, or a broken one).
    ControllerTimeout,
}

/// A PS/2 keyboard behind an 8042 controller.
pub struct Keyboard<P: PortIo> {
    ports: P,
    decoder: PS2Keyboard<Us104Key, ScancodeSet1>,
}

impl<P: PortIo> Keyboard<P> {
    /// A keyboard driver with nothing pressed. Touches no hardware.
    pub const fn new(ports: P) -> Self {
        Self {
            ports,
            decoder: PS2Keyboard::new(
                ScancodeSet1::new(),
                Us104Key,
                HandleControl::MapLettersToUnicode,
            ),
        }
    }

    /// The port bus (for tests).
    pub fn ports_mut(&mut self) -> &mut P {
        &mut self.ports
    }

    /// Configures the controller: scancode translation to set 1 on, the
    /// keyboard's clock and interrupt on (the mouse settings are kept).
    /// Call once at start-up, before unmasking IRQ 1. Bytes waiting from
    /// before are discarded.
    ///
    /// Returns [`KeyboardError::ControllerTimeout`] if the controller does
    /// not answer; its configuration may then be unchanged.
    pub fn init(&mut self) -> Result<(), KeyboardError> {
        for _ in 0..FLUSH_LIMIT {
            if self.ports.read_u8(STATUS_PORT) & STATUS_OUTPUT_FULL == 0 {
                break;
            }
            self.ports.read_u8(DATA_PORT);
        }
        self.send_command(COMMAND_READ_CONFIG)?;
        self.wait_status(STATUS_OUTPUT_FULL, true)?;
        let config = self.ports.read_u8(DATA_PORT);
        let config =
            (config | CONFIG_TRANSLATE | CONFIG_KEYBOARD_INTERRUPT) & !CONFIG_KEYBOARD_CLOCK_OFF;
        self.send_command(COMMAND_WRITE_CONFIG)?;
        self.wait_status(STATUS_INPUT_FULL, false)?;
        self.ports.write_u8(DATA_PORT, config);
        Ok(())
    }

    /// Writes a controller command once it can take one.
    fn send_command(&mut self, command: u8) -> Result<(), KeyboardError> {
        self.wait_status(STATUS_INPUT_FULL, false)?;
        self.ports.write_u8(STATUS_PORT, command);
        Ok(())
    }

    /// Polls (boundedly) until status bit `bit` is `set`.
    fn wait_status(&mut self, bit: u8, set: bool) -> Result<(), KeyboardError> {
        for _ in 0..CONTROLLER_POLL_LIMIT {
            if (self.ports.read_u8(STATUS_PORT) & bit != 0) == set {
                return Ok(());
            }
        }
        Err(KeyboardError::ControllerTimeout)
    }

    /// Handles IRQ 1: reads the waiting scancode byte and decodes it.
    ///
    /// Returns the console byte for a completed key press, or `None` when the
    /// byte was only part of a sequence, a release, a modifier, a key with no
    /// byte (arrows, F-keys, non-ASCII), mouse data, garbage the decoder
    /// rejected, or when no byte was waiting (a spurious interrupt).
    pub fn handle_irq(&mut self) -> Option<u8> {
        let status = self.ports.read_u8(STATUS_PORT);
        if status & STATUS_OUTPUT_FULL == 0 {
            return None;
        }
        let scancode = self.ports.read_u8(DATA_PORT);
        if status & STATUS_FROM_MOUSE != 0 {
            return None; // read to empty the buffer, but not ours
        }
        self.decode(scancode)
    }

    /// Feeds one scancode byte to the decoder (without touching ports).
    /// Same results as [`handle_irq`](Self::handle_irq).
    pub fn decode(&mut self, scancode: u8) -> Option<u8> {
        // A decode error (an unknown code) just drops the byte: the decoder
        // resets its sequence state, and the next key decodes normally.
        let event = self.decoder.add_byte(scancode).ok()??;
        match self.decoder.process_keyevent(event)? {
            DecodedKey::Unicode(ch) if ch.is_ascii() => Some(ch as u8),
            DecodedKey::Unicode(_) | DecodedKey::RawKey(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drivers::fake_ports::FakePorts;
    use alloc::vec::Vec;

    // Scancode set 1: press codes; the release code is press | 0x80.
    const A: u8 = 0x1E;
    const C: u8 = 0x2E;
    const D: u8 = 0x20;
    const U: u8 = 0x16;
    const ONE: u8 = 0x02;
    const ENTER: u8 = 0x1C;
    const BACKSPACE_KEY: u8 = 0x0E;
    const LEFT_SHIFT: u8 = 0x2A;
    const LEFT_CTRL: u8 = 0x1D;
    const CAPS_LOCK: u8 = 0x3A;
    const RELEASE: u8 = 0x80;

    /// Runs `scancodes` through handle_irq, one interrupt each, collecting bytes.
    fn type_scancodes(scancodes: &[u8]) -> Vec<u8> {
        let mut keyboard = Keyboard::new(FakePorts::new());
        keyboard
            .ports_mut()
            .set_default(STATUS_PORT, u16::from(STATUS_OUTPUT_FULL));
        keyboard.ports_mut().script_reads(DATA_PORT, scancodes);
        let bytes = scancodes
            .iter()
            .filter_map(|_| keyboard.handle_irq())
            .collect();
        assert_eq!(keyboard.ports_mut().pending_reads(DATA_PORT), 0);
        bytes
    }

    #[test]
    fn letters_digits_and_enter() {
        assert_eq!(
            type_scancodes(&[A, A | RELEASE, ONE, ONE | RELEASE, ENTER, ENTER | RELEASE]),
            b"a1\n"
        );
    }

    #[test]
    fn shift_and_caps_lock() {
        let shifted = [LEFT_SHIFT, A, A | RELEASE, ONE, LEFT_SHIFT | RELEASE, A];
        assert_eq!(type_scancodes(&shifted), b"A!a");
        assert_eq!(type_scancodes(&[CAPS_LOCK, CAPS_LOCK | RELEASE, A]), b"A");
    }

    #[test]
    fn control_keys_become_control_bytes() {
        let keys = [LEFT_CTRL, C, C | RELEASE, D, U, LEFT_CTRL | RELEASE, D];
        assert_eq!(type_scancodes(&keys), [0x03, 0x04, 0x15, b'd']);
    }

    #[test]
    fn backspace_and_keypad_enter() {
        // Keypad Enter is the extended code E0 1C.
        assert_eq!(
            type_scancodes(&[BACKSPACE_KEY, 0xE0, ENTER]),
            [BACKSPACE, b'\n']
        );
    }

    #[test]
    fn keys_without_bytes_produce_nothing() {
        // Up arrow (E0 48) press and release, F1 (0x3B).
        assert_eq!(type_scancodes(&[0xE0, 0x48, 0xE0, 0xC8, 0x3B]), b"");
    }

    #[test]
    fn garbage_does_not_break_later_keys() {
        assert_eq!(type_scancodes(&[0xFF, 0x00, 0xE1, 0x7F, A]), b"a");
    }

    #[test]
    fn init_turns_on_translation_and_the_interrupt() {
        let mut keyboard = Keyboard::new(FakePorts::new());
        // Status reads: one stale byte waiting, then empty; ready for the
        // command; the configuration byte is there; ready for the new one.
        keyboard
            .ports_mut()
            .script_reads(STATUS_PORT, &[0x01, 0x00, 0x00, 0x01, 0x00, 0x00]);
        // The stale scancode, then the configuration qboot leaves: clock off, no translation.
        keyboard
            .ports_mut()
            .script_reads(DATA_PORT, &[0x1E, 0x10 | 0x20]);
        assert_eq!(keyboard.init(), Ok(()));
        let writes = keyboard.ports_mut().byte_writes();
        assert_eq!(
            writes,
            [(0x64, 0x20), (0x64, 0x60), (0x60, 0x20 | 0x40 | 0x01)]
        );
    }

    #[test]
    fn init_gives_up_on_a_silent_controller() {
        let mut keyboard = Keyboard::new(FakePorts::new());
        // Never takes a command (input buffer always full, nothing to read).
        keyboard
            .ports_mut()
            .set_default(STATUS_PORT, u16::from(STATUS_INPUT_FULL));
        assert_eq!(keyboard.init(), Err(KeyboardError::ControllerTimeout));
        assert!(keyboard.ports_mut().byte_writes().is_empty());
        // Takes the command but never answers.
        let mut mute = Keyboard::new(FakePorts::new());
        mute.ports_mut().set_default(STATUS_PORT, 0);
        assert_eq!(mute.init(), Err(KeyboardError::ControllerTimeout));
        assert_eq!(mute.ports_mut().byte_writes(), [(0x64, 0x20)]);
    }

    #[test]
    fn no_waiting_byte_or_mouse_byte_is_ignored() {
        let mut keyboard = Keyboard::new(FakePorts::new());
        keyboard.ports_mut().script_reads(
            STATUS_PORT,
            &[
                0,
                STATUS_OUTPUT_FULL | STATUS_FROM_MOUSE,
                STATUS_OUTPUT_FULL,
            ],
        );
        keyboard.ports_mut().script_reads(DATA_PORT, &[A, A]);
        assert_eq!(keyboard.handle_irq(), None);
        assert_eq!(
            keyboard.ports_mut().read_count(DATA_PORT),
            0,
            "must not read data that is not there"
        );
        assert_eq!(keyboard.handle_irq(), None);
        assert_eq!(keyboard.handle_irq(), Some(b'a'));
    }
}
