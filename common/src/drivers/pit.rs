//! The 8253/8254 programmable interval timer (PIT), channel 0: the tick.
//!
//! The PIT counts down from a *divisor* at 1.193182 MHz (a third of the
//! NTSC colour-burst crystal, 3.579545 MHz, which early PCs shared with the
//! video card). Channel 0 is wired to IRQ 0. In mode 2, the *rate
//! generator*, it raises IRQ 0 every time the count reaches one and reloads
//! the divisor, so the interrupt rate is `1193182 / divisor` Hz.
//!
//! Ports: 0x43 is the mode/command register, 0x40 the channel 0 data port.
//! The command byte 0x34 means "channel 0, access low byte then high byte,
//! mode 2, binary counting"; the divisor follows on 0x40, low byte first.
//!
//! Both kernels program 100 Hz (a 10 ms tick, like xv6). The exact divisor
//! would be 11931.82; it must be an integer, and rounding to the *nearest*
//! one, 11932, gives 99.9985 Hz (0.0015 % slow), while truncating to 11931
//! would give 100.0068 Hz (0.0068 % fast). So [`divisor_for`] rounds.

use crate::port::PortIo;

/// The PIT's input clock in Hz (3.579545 MHz / 3, rounded).
pub const PIT_INPUT_HZ: u32 = 1_193_182;
/// The tick rate both kernels use.
pub const TICK_HZ: u32 = 100;

const CHANNEL0_DATA: u16 = 0x40;
const MODE_COMMAND: u16 = 0x43;
/// Channel 0 (bits 6-7 = 00), low then high byte (bits 4-5 = 11),
/// mode 2 rate generator (bits 1-3 = 010), binary (bit 0 = 0).
/// The digits are grouped by field, not by nibble, on purpose.
#[allow(clippy::unusual_byte_groupings)]
const CHANNEL0_RATE_GENERATOR: u8 = 0b00_11_010_0;

/// The largest divisor. The PIT reads a written 0 as 65536.
const MAX_DIVISOR: u32 = 65_536;

/// A frequency the PIT cannot produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PitError {
    /// Below about 18.2 Hz (divisor above 65536) or above 1193182 Hz.
    FrequencyOutOfRange(u32),
}

/// The divisor closest to `hz`, as the 32-bit value 1..=65536.
///
/// Returns [`PitError::FrequencyOutOfRange`] when no divisor fits; rate
/// generator mode also needs a divisor of at least 2.
pub const fn divisor_for(hz: u32) -> Result<u32, PitError> {
    if hz == 0 {
        return Err(PitError::FrequencyOutOfRange(hz));
    }
    // Round to nearest: (a + b/2) / b. No overflow: PIT_INPUT_HZ + u32::MAX/2 < 2^32.
    let divisor = (PIT_INPUT_HZ + hz / 2) / hz;
    if divisor < 2 || divisor > MAX_DIVISOR {
        return Err(PitError::FrequencyOutOfRange(hz));
    }
    Ok(divisor)
}

/// The frequency a divisor actually produces, in millihertz (for reports).
pub const fn actual_millihertz(divisor: u32) -> u64 {
    (PIT_INPUT_HZ as u64 * 1000) / divisor as u64
}

/// Programs channel 0 as a rate generator at `hz` (use [`TICK_HZ`]).
///
/// Returns the divisor used. Returns an error, having touched no port, when
/// the frequency is out of range.
pub fn set_frequency(ports: &mut impl PortIo, hz: u32) -> Result<u32, PitError> {
    let divisor = divisor_for(hz)?;
    // 65536 is written as 0: the truncation is the hardware's encoding.
    let [low, high] = (divisor as u16).to_le_bytes();
    ports.write_u8(MODE_COMMAND, CHANNEL0_RATE_GENERATOR);
    ports.write_u8(CHANNEL0_DATA, low);
    ports.write_u8(CHANNEL0_DATA, high);
    Ok(divisor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drivers::fake_ports::FakePorts;

    #[test]
    fn hundred_hz_rounds_to_11932() {
        assert_eq!(divisor_for(100), Ok(11932));
        // Rounding beats truncation: 11932 is closer to 11931.82.
        let error_rounded = actual_millihertz(11932).abs_diff(100_000);
        let error_truncated = actual_millihertz(11931).abs_diff(100_000);
        assert!(
            error_rounded < error_truncated,
            "{error_rounded} vs {error_truncated}"
        );
        assert_eq!(actual_millihertz(11932), 99_998);
    }

    #[test]
    fn programs_channel0_mode2_low_byte_first() {
        let mut ports = FakePorts::new();
        assert_eq!(set_frequency(&mut ports, TICK_HZ), Ok(11932)); // 0x2E9C
        assert_eq!(
            ports.byte_writes(),
            [(0x43, 0x34), (0x40, 0x9C), (0x40, 0x2E)]
        );
    }

    #[test]
    fn slowest_integer_rate_is_19_hz() {
        let mut ports = FakePorts::new();
        assert_eq!(
            set_frequency(&mut ports, 18),
            Err(PitError::FrequencyOutOfRange(18))
        );
        assert!(
            ports.log().is_empty(),
            "a refused frequency touches no port"
        );
        assert_eq!(set_frequency(&mut ports, 19), Ok(62_799)); // 0xF54F
        assert_eq!(
            ports.byte_writes(),
            [(0x43, 0x34), (0x40, 0x4F), (0x40, 0xF5)]
        );
    }

    #[test]
    fn out_of_range_frequencies_are_refused() {
        assert_eq!(divisor_for(0), Err(PitError::FrequencyOutOfRange(0)));
        assert_eq!(
            divisor_for(PIT_INPUT_HZ),
            Err(PitError::FrequencyOutOfRange(PIT_INPUT_HZ))
        );
        assert_eq!(divisor_for(PIT_INPUT_HZ / 2), Ok(2));
        assert_eq!(
            divisor_for(u32::MAX),
            Err(PitError::FrequencyOutOfRange(u32::MAX))
        );
    }
}
