//! The 8259 programmable interrupt controllers (PICs): which device
//! interrupts reach the CPU, and on which vector.
//!
//! A PC has two 8259s. The primary one (ports 0x20/0x21) takes IRQ lines
//! 0..8; the secondary one (0xA0/0xA1) takes IRQ 8..16 and signals the
//! primary on its line 2 (the *cascade*). At power-on they deliver IRQ 0..8
//! on CPU vectors 8..16, which collide with CPU exceptions (8 is the double
//! fault), so every x86 kernel first *remaps* them; Diptych puts IRQ n on
//! vector `PIC_VECTOR_BASE + n` = 32 + n, using the `pic8259` crate's
//! `ChainedPics` for the initialisation sequence.
//!
//! Each PIC has an 8-bit *mask* register at its data port (bit n set = line n
//! is blocked). The microkernel uses it for interrupt delivery: when IRQ n
//! arrives it masks line n, sends a message to the attached driver thread,
//! and unmasks the line only when the thread acknowledges, so a slow driver
//! is never re-entered. After handling an interrupt the kernel sends an
//! *end of interrupt* (EOI): without it the PIC delivers nothing of equal or
//! lower priority again.
//!
//! The PICs are programmed by the kernels only (ring 0), never by a server,
//! so `Pics` exists only on bare metal. The bit arithmetic
//! ([`masks_with_line`]) and the spurious-interrupt check
//! ([`is_spurious`]) are plain functions with host tests.

use crate::port::PortIo;

/// CPU vector of IRQ 0; IRQ n arrives on vector `PIC_VECTOR_BASE + n`.
pub const PIC_VECTOR_BASE: u8 = 32;
/// Number of IRQ lines (two chained PICs of eight).
pub const IRQ_LINES: u8 = 16;

/// The PIT timer.
pub const IRQ_TIMER: u8 = 0;
/// The PS/2 keyboard.
pub const IRQ_KEYBOARD: u8 = 1;
/// The secondary PIC's connection to the primary.
pub const IRQ_CASCADE: u8 = 2;
/// Serial port COM1.
pub const IRQ_COM1: u8 = 4;
/// The primary ATA (IDE) channel.
pub const IRQ_ATA_PRIMARY: u8 = 14;

const PRIMARY_COMMAND: u16 = 0x20;
const SECONDARY_COMMAND: u16 = 0xA0;
/// OCW3 command: the next read of the command port returns the in-service register.
const OCW3_READ_ISR: u8 = 0x0B;
/// The line a PIC reports when the interrupt went away before it was acknowledged.
const SPURIOUS_LINE: u8 = 7;

/// What can be wrong with an IRQ request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PicError {
    /// IRQ lines are 0..16.
    NoSuchIrq(u8),
}

/// The CPU vector IRQ `irq` arrives on.
pub const fn irq_vector(irq: u8) -> Result<u8, PicError> {
    if irq < IRQ_LINES {
        Ok(PIC_VECTOR_BASE + irq)
    } else {
        Err(PicError::NoSuchIrq(irq))
    }
}

/// The IRQ line behind CPU vector `vector`, if it is a PIC vector.
pub const fn vector_irq(vector: u8) -> Option<u8> {
    if vector >= PIC_VECTOR_BASE && vector < PIC_VECTOR_BASE + IRQ_LINES {
        Some(vector - PIC_VECTOR_BASE)
    } else {
        None
    }
}

/// The two mask registers `[primary, secondary]` after masking (`masked`
/// = true) or unmasking line `irq`.
///
/// Unmasking a secondary line (8..16) also unmasks the cascade line 2,
/// otherwise the secondary's interrupts could not reach the CPU.
pub const fn masks_with_line(masks: [u8; 2], irq: u8, masked: bool) -> Result<[u8; 2], PicError> {
    if irq >= IRQ_LINES {
        return Err(PicError::NoSuchIrq(irq));
    }
    let [mut primary, mut secondary] = masks;
    let bit = 1u8 << (irq % 8);
    if irq < 8 {
        primary = if masked {
            primary | bit
        } else {
            primary & !bit
        };
    } else {
        secondary = if masked {
            secondary | bit
        } else {
            secondary & !bit
        };
        if !masked {
            primary &= !(1 << IRQ_CASCADE);
        }
    }
    Ok([primary, secondary])
}

/// Whether IRQ `irq` is *spurious*: the PIC signalled line 7 (or 15) but no
/// interrupt is actually in service, because it went away before the CPU
/// acknowledged it. A spurious IRQ must not be handled and gets no EOI from
/// its own PIC — but a spurious IRQ 15 still needs an EOI to the primary,
/// which did see the cascade line.
///
/// Reads the in-service register of the PIC concerned; other lines are never
/// spurious.
pub fn is_spurious(ports: &mut impl PortIo, irq: u8) -> bool {
    let command = match irq {
        SPURIOUS_LINE => PRIMARY_COMMAND,
        line if line == SPURIOUS_LINE + 8 => SECONDARY_COMMAND,
        _ => return false,
    };
    ports.write_u8(command, OCW3_READ_ISR);
    let in_service = ports.read_u8(command);
    in_service & (1 << SPURIOUS_LINE) == 0
}

#[cfg(target_os = "none")]
pub use bare_metal::Pics;

#[cfg(target_os = "none")]
mod bare_metal {
    use super::*;
    use pic8259::ChainedPics;

    /// The remapped 8259 pair, as the kernel owns it.
    pub struct Pics {
        chained: ChainedPics,
    }

    impl Pics {
        /// The pair, not yet initialised.
        ///
        /// # Safety
        /// There must be only one `Pics`, owned by the kernel: two owners
        /// would race on the mask registers.
        pub const unsafe fn new() -> Self {
            // SAFETY: the vectors 32..48 do not overlap CPU exceptions (0..32);
            // the caller guarantees there is a single owner.
            Self {
                chained: unsafe { ChainedPics::new(PIC_VECTOR_BASE, PIC_VECTOR_BASE + 8) },
            }
        }

        /// Remaps IRQ 0..16 to vectors 32..48 and masks every line except the
        /// cascade; unmask the lines you handle with [`unmask`](Self::unmask).
        pub fn init(&mut self) {
            // SAFETY: we own the PICs (see `new`); initialisation writes only
            // the PIC command and data ports.
            unsafe {
                self.chained.initialize();
                self.chained.write_masks(!(1 << IRQ_CASCADE), 0xFF);
            }
        }

        /// Blocks IRQ line `irq` until [`unmask`](Self::unmask).
        pub fn mask(&mut self, irq: u8) -> Result<(), PicError> {
            self.set_line(irq, true)
        }

        /// Lets IRQ line `irq` through.
        pub fn unmask(&mut self, irq: u8) -> Result<(), PicError> {
            self.set_line(irq, false)
        }

        /// Signals end of interrupt for IRQ `irq`, to the secondary PIC
        /// (for lines 8..16) and the primary.
        pub fn end_of_interrupt(&mut self, irq: u8) -> Result<(), PicError> {
            let vector = irq_vector(irq)?;
            // SAFETY: `vector` is one of ours, so this writes only the EOI
            // command to the PICs concerned.
            unsafe { self.chained.notify_end_of_interrupt(vector) };
            Ok(())
        }

        /// Whether IRQ `irq` is spurious (see [`is_spurious`]); for a
        /// spurious IRQ 15 this also sends the EOI the primary PIC needs.
        pub fn check_spurious(&mut self, irq: u8) -> bool {
            let spurious = is_spurious(&mut crate::port::HardwarePorts, irq);
            if spurious && irq == SPURIOUS_LINE + 8 {
                // SAFETY: EOI for the cascade line to the primary PIC only.
                unsafe {
                    self.chained
                        .notify_end_of_interrupt(PIC_VECTOR_BASE + IRQ_CASCADE)
                };
            }
            spurious
        }

        fn set_line(&mut self, irq: u8, masked: bool) -> Result<(), PicError> {
            // SAFETY: reading and writing the mask registers of PICs we own.
            let masks = unsafe { self.chained.read_masks() };
            let [primary, secondary] = masks_with_line(masks, irq, masked)?;
            // SAFETY: as above.
            unsafe { self.chained.write_masks(primary, secondary) };
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drivers::fake_ports::FakePorts;

    #[test]
    fn vectors_are_remapped_past_the_exceptions() {
        assert_eq!(irq_vector(IRQ_TIMER), Ok(32));
        assert_eq!(irq_vector(IRQ_ATA_PRIMARY), Ok(46));
        assert_eq!(irq_vector(16), Err(PicError::NoSuchIrq(16)));
        assert_eq!(vector_irq(33), Some(IRQ_KEYBOARD));
        assert_eq!(vector_irq(31), None);
        assert_eq!(vector_irq(48), None);
    }

    #[test]
    fn masking_and_unmasking_touch_one_bit() {
        let all_masked = [0xFF, 0xFF];
        assert_eq!(
            masks_with_line(all_masked, IRQ_COM1, false),
            Ok([0xEF, 0xFF])
        );
        assert_eq!(
            masks_with_line([0xEF, 0xFF], IRQ_COM1, true),
            Ok([0xFF, 0xFF])
        );
        assert_eq!(
            masks_with_line([0x00, 0x00], IRQ_TIMER, true),
            Ok([0x01, 0x00])
        );
        assert_eq!(
            masks_with_line([0, 0], 16, true),
            Err(PicError::NoSuchIrq(16))
        );
    }

    #[test]
    fn unmasking_a_secondary_line_opens_the_cascade() {
        assert_eq!(
            masks_with_line([0xFF, 0xFF], IRQ_ATA_PRIMARY, false),
            Ok([0xFB, 0xBF])
        );
        // Masking a secondary line leaves the cascade alone (others may use it).
        assert_eq!(
            masks_with_line([0xFB, 0xBF], IRQ_ATA_PRIMARY, true),
            Ok([0xFB, 0xFF])
        );
    }

    #[test]
    fn spurious_check_reads_the_in_service_register() {
        let mut ports = FakePorts::new();
        ports.script_reads(0x20, &[0x00, 0x80]);
        assert!(is_spurious(&mut ports, 7));
        assert!(!is_spurious(&mut ports, 7));
        assert_eq!(ports.writes_to(0x20), [OCW3_READ_ISR, OCW3_READ_ISR]);

        ports.script_reads(0xA0, &[0x00]);
        assert!(is_spurious(&mut ports, 15));
        ports.clear_log();
        assert!(!is_spurious(&mut ports, IRQ_COM1));
        assert!(ports.log().is_empty(), "ordinary lines need no port access");
    }
}
