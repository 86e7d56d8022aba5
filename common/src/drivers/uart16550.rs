//! The 16550 UART (serial port): Diptych's test console.
//!
//! Under QEMU (`-serial stdio`) COM1 is connected to the terminal, and the
//! grading harness reads and types through it, so this driver must be
//! reliable above all else.
//!
//! ## Registers (offsets from the base port, 0x3F8 for COM1)
//!
//! | offset | read                     | write                   | with DLAB=1   |
//! |--------|--------------------------|-------------------------|---------------|
//! | 0      | RBR: received byte       | THR: byte to transmit   | DLL: divisor low  |
//! | 1      | IER: interrupt enable    | IER                     | DLM: divisor high |
//! | 2      | IIR: interrupt identity  | FCR: FIFO control       |               |
//! | 3      | LCR: line control (bit 7 = DLAB) | LCR             |               |
//! | 4      | MCR: modem control       | MCR                     |               |
//! | 5      | LSR: line status         | —                       |               |
//!
//! ## How the kernels use it
//!
//! [`Uart16550::init`] programs 115200 baud, 8 data bits, no parity, 1 stop
//! bit (8N1), turns the FIFOs on and enables only the "received data
//! available" interrupt (IRQ 4 on COM1). Transmitting is done by polling:
//! [`Uart16550::write_byte`] waits — a bounded number of status reads — until
//! the transmitter can take a byte. Receiving is interrupt driven: on IRQ 4
//! the environment (the mono-kernel's trap handler, or the microkernel's
//! console server when the IRQ message arrives) calls
//! [`Uart16550::handle_irq`] and feeds the bytes to the console line
//! discipline. The driver never waits for input.

use core::fmt;

use crate::port::PortIo;

/// The base I/O port of COM1.
pub const COM1_BASE: u16 = 0x3F8;

/// The UART's input clock divided by 16: the highest baud rate (divisor 1).
const MAX_BAUD: u32 = 115_200;

// Register offsets from the base port.
const REG_DATA: u16 = 0; // RBR (read) / THR (write); DLL when DLAB=1
const REG_INTERRUPT_ENABLE: u16 = 1; // IER; DLM when DLAB=1
const REG_FIFO_CONTROL: u16 = 2; // FCR (write) / IIR (read)
const REG_LINE_CONTROL: u16 = 3;
const REG_MODEM_CONTROL: u16 = 4;
const REG_LINE_STATUS: u16 = 5;

/// LCR bit 7: the Divisor Latch Access Bit, which turns offsets 0 and 1
/// into the baud-rate divisor.
const LCR_DLAB: u8 = 0x80;
/// LCR: 8 data bits, no parity, one stop bit.
const LCR_8N1: u8 = 0x03;
/// FCR: enable the FIFOs, clear both, interrupt when 14 bytes are waiting
/// (or after a short silence, the "character timeout").
const FCR_ENABLE_CLEAR_14: u8 = 0xC7;
/// MCR: DTR + RTS, and OUT2, which on a PC connects the UART's interrupt
/// line to the PIC. Without OUT2 no interrupt is ever delivered.
const MCR_DTR_RTS_OUT2: u8 = 0x0B;
/// MCR: loopback mode (what we transmit comes straight back) plus OUT1/OUT2/RTS.
const MCR_LOOPBACK: u8 = 0x1E;
/// IER bit 0: interrupt when received data is available.
const IER_RECEIVED_DATA: u8 = 0x01;
/// LSR bit 0: a received byte is waiting in RBR.
const LSR_DATA_READY: u8 = 0x01;
/// LSR bit 5: the transmit holding register (and FIFO) is empty.
const LSR_THR_EMPTY: u8 = 0x20;

/// How many times [`Uart16550::write_byte`] reads the line status before it
/// gives up. At 115200 baud one byte takes about 87 µs to send and a port
/// read takes about 1 µs on real hardware, so this is roughly 100x longer
/// than a full 16-byte FIFO needs; under QEMU the first read succeeds.
pub const TRANSMIT_POLL_LIMIT: u32 = 200_000;

/// The most bytes one [`Uart16550::handle_irq`] call drains. The FIFO holds
/// 16; a device that keeps claiming "data ready" forever (a missing UART
/// reads 0xFF, which has that bit set) must not hang the caller.
pub const RECEIVE_DRAIN_LIMIT: usize = 64;

/// Byte sent and expected back in the loopback self-test.
const LOOPBACK_TEST_BYTE: u8 = 0xAE;

/// What can go wrong with the UART.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UartError {
    /// The loopback self-test at init did not get its byte back: there is
    /// no working UART at this port.
    NotPresent,
    /// The transmitter did not become ready within [`TRANSMIT_POLL_LIMIT`]
    /// status reads; the byte was not sent.
    TransmitTimeout,
    /// The requested baud rate is zero or not a divisor of 115200.
    BadBaudRate(u32),
}

/// One 16550 UART, reached through the ports `base..base + 8`.
#[derive(Debug)]
pub struct Uart16550<P: PortIo> {
    ports: P,
    base: u16,
}

impl<P: PortIo> Uart16550<P> {
    /// A driver for the UART at `base` (use [`COM1_BASE`]). Touches no
    /// hardware until [`init`](Self::init).
    pub const fn new(ports: P, base: u16) -> Self {
        Self { ports, base }
    }

    /// The port bus, for tests and for the environment's own bookkeeping.
    pub fn ports_mut(&mut self) -> &mut P {
        &mut self.ports
    }

    /// Programs 115200 8N1 with FIFOs and the receive interrupt.
    ///
    /// Returns [`UartError::NotPresent`] if the loopback self-test fails (no
    /// UART, or a broken one); the UART is then left with interrupts off.
    pub fn init(&mut self) -> Result<(), UartError> {
        self.init_with_baud(MAX_BAUD)
    }

    /// Like [`init`](Self::init) with another baud rate (a divisor of 115200).
    ///
    /// Returns [`UartError::BadBaudRate`] before touching the hardware if
    /// `baud` is not one.
    pub fn init_with_baud(&mut self, baud: u32) -> Result<(), UartError> {
        if baud == 0 || !MAX_BAUD.is_multiple_of(baud) {
            return Err(UartError::BadBaudRate(baud));
        }
        // The divisor register is 16 bits wide: baud 1 (divisor 115200) does not fit.
        let divisor = u16::try_from(MAX_BAUD / baud).map_err(|_| UartError::BadBaudRate(baud))?;
        let [divisor_low, divisor_high] = divisor.to_le_bytes();

        self.write_reg(REG_INTERRUPT_ENABLE, 0); // quiet while we configure
        self.write_reg(REG_LINE_CONTROL, LCR_DLAB);
        self.write_reg(REG_DATA, divisor_low);
        self.write_reg(REG_INTERRUPT_ENABLE, divisor_high);
        self.write_reg(REG_LINE_CONTROL, LCR_8N1); // also clears DLAB
        self.write_reg(REG_FIFO_CONTROL, FCR_ENABLE_CLEAR_14);

        // Self-test: in loopback mode what we send arrives in our own RBR.
        self.write_reg(REG_MODEM_CONTROL, MCR_LOOPBACK);
        self.write_reg(REG_DATA, LOOPBACK_TEST_BYTE);
        let arrived =
            (0..RECEIVE_DRAIN_LIMIT).any(|_| self.read_reg(REG_LINE_STATUS) & LSR_DATA_READY != 0);
        if !arrived || self.read_reg(REG_DATA) != LOOPBACK_TEST_BYTE {
            self.write_reg(REG_MODEM_CONTROL, 0);
            return Err(UartError::NotPresent);
        }

        self.write_reg(REG_MODEM_CONTROL, MCR_DTR_RTS_OUT2);
        self.write_reg(REG_INTERRUPT_ENABLE, IER_RECEIVED_DATA);
        Ok(())
    }

    /// Sends one byte, waiting (boundedly) for room in the transmitter.
    ///
    /// Returns [`UartError::TransmitTimeout`] if the transmitter stayed busy
    /// for [`TRANSMIT_POLL_LIMIT`] status reads; the byte was not sent.
    pub fn write_byte(&mut self, byte: u8) -> Result<(), UartError> {
        for _ in 0..TRANSMIT_POLL_LIMIT {
            if self.read_reg(REG_LINE_STATUS) & LSR_THR_EMPTY != 0 {
                self.write_reg(REG_DATA, byte);
                return Ok(());
            }
        }
        Err(UartError::TransmitTimeout)
    }

    /// Sends every byte of `bytes` (no newline translation: that is the
    /// console's job). Stops at the first error.
    pub fn write_bytes(&mut self, bytes: &[u8]) -> Result<(), UartError> {
        bytes.iter().try_for_each(|&b| self.write_byte(b))
    }

    /// Takes one received byte, if one is waiting. Never waits.
    pub fn try_read_byte(&mut self) -> Option<u8> {
        if self.read_reg(REG_LINE_STATUS) & LSR_DATA_READY != 0 {
            Some(self.read_reg(REG_DATA))
        } else {
            None
        }
    }

    /// Handles the UART interrupt: drains the receive FIFO into `buf` and
    /// returns how many bytes were stored (0 for a spurious interrupt).
    ///
    /// Takes at most `min(buf.len(), RECEIVE_DRAIN_LIMIT)` bytes. If it has
    /// to stop while bytes are still waiting, it re-arms the interrupt, so
    /// the rest arrive with the next one: the PIC is edge-triggered, and a
    /// UART whose interrupt line simply stays high would never interrupt
    /// again. Re-arming means switching the receive interrupt off and on
    /// (IER = 0, then IER = 1), which drops the line and raises it anew.
    pub fn handle_irq(&mut self, buf: &mut [u8]) -> usize {
        let limit = buf.len().min(RECEIVE_DRAIN_LIMIT);
        for (stored, slot) in buf[..limit].iter_mut().enumerate() {
            match self.try_read_byte() {
                Some(byte) => *slot = byte,
                None => return stored,
            }
        }
        if self.read_reg(REG_LINE_STATUS) & LSR_DATA_READY != 0 {
            self.write_reg(REG_INTERRUPT_ENABLE, 0);
            self.write_reg(REG_INTERRUPT_ENABLE, IER_RECEIVED_DATA);
        }
        limit
    }

    fn read_reg(&mut self, offset: u16) -> u8 {
        self.ports.read_u8(self.base + offset)
    }

    fn write_reg(&mut self, offset: u16, value: u8) {
        self.ports.write_u8(self.base + offset, value);
    }
}

/// `write!` straight to the serial port, for early boot messages and panics.
/// Bytes go out unchanged: write `"\r\n"` yourself, or use the console.
impl<P: PortIo> fmt::Write for Uart16550<P> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.write_bytes(s.as_bytes()).map_err(|_| fmt::Error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drivers::fake_ports::FakePorts;

    const LSR: u16 = COM1_BASE + REG_LINE_STATUS;
    const DATA: u16 = COM1_BASE + REG_DATA;

    fn uart() -> Uart16550<FakePorts> {
        Uart16550::new(FakePorts::new(), COM1_BASE)
    }

    #[test]
    fn init_programs_115200_8n1_fifo_and_receive_interrupt() {
        let mut uart = uart();
        uart.ports_mut().script_reads(LSR, &[LSR_DATA_READY]);
        uart.ports_mut().script_reads(DATA, &[LOOPBACK_TEST_BYTE]);
        assert_eq!(uart.init(), Ok(()));
        let writes = uart.ports_mut().byte_writes();
        assert_eq!(
            writes,
            [
                (0x3F9, 0x00),
                (0x3FB, 0x80),
                (0x3F8, 0x01),
                (0x3F9, 0x00),
                (0x3FB, 0x03),
                (0x3FA, 0xC7),
                (0x3FC, 0x1E),
                (0x3F8, 0xAE),
                (0x3FC, 0x0B),
                (0x3F9, 0x01),
            ]
        );
    }

    #[test]
    fn init_reports_missing_uart() {
        let mut uart = uart();
        // Loopback returns a different byte: not a working 16550.
        uart.ports_mut().script_reads(LSR, &[LSR_DATA_READY]);
        uart.ports_mut().script_reads(DATA, &[0x00]);
        assert_eq!(uart.init(), Err(UartError::NotPresent));
        // Interrupts were never enabled.
        assert!(
            !uart
                .ports_mut()
                .writes_to(0x3F9)
                .contains(&IER_RECEIVED_DATA)
        );

        let mut silent = self::uart();
        silent.ports_mut().set_default(LSR, 0);
        assert_eq!(silent.init(), Err(UartError::NotPresent));
    }

    #[test]
    fn other_baud_rates_set_the_divisor() {
        let mut uart = uart();
        uart.ports_mut().script_reads(LSR, &[LSR_DATA_READY]);
        uart.ports_mut().script_reads(DATA, &[LOOPBACK_TEST_BYTE]);
        assert_eq!(uart.init_with_baud(9600), Ok(()));
        assert_eq!(uart.ports_mut().byte_writes()[2], (0x3F8, 12));
        assert_eq!(uart.init_with_baud(7), Err(UartError::BadBaudRate(7)));
        assert_eq!(uart.init_with_baud(0), Err(UartError::BadBaudRate(0)));
        assert_eq!(uart.init_with_baud(1), Err(UartError::BadBaudRate(1)));
    }

    #[test]
    fn write_waits_for_transmitter_then_sends() {
        let mut uart = uart();
        uart.ports_mut().script_reads(LSR, &[0, 0, LSR_THR_EMPTY]);
        assert_eq!(uart.write_byte(b'A'), Ok(()));
        assert_eq!(uart.ports_mut().read_count(LSR), 3);
        assert_eq!(uart.ports_mut().writes_to(DATA), b"A");
    }

    #[test]
    fn write_gives_up_when_transmitter_stays_busy() {
        let mut uart = uart();
        uart.ports_mut().set_default(LSR, 0);
        assert_eq!(uart.write_byte(b'A'), Err(UartError::TransmitTimeout));
        assert_eq!(
            uart.ports_mut().read_count(LSR),
            TRANSMIT_POLL_LIMIT as usize
        );
        assert!(uart.ports_mut().writes_to(DATA).is_empty());
    }

    #[test]
    fn fmt_write_sends_bytes_unchanged() {
        use core::fmt::Write;
        let mut uart = uart();
        uart.ports_mut().set_default(LSR, u16::from(LSR_THR_EMPTY));
        writeln!(uart, "hi {}", 42).unwrap();
        assert_eq!(uart.ports_mut().writes_to(DATA), b"hi 42\n");
    }

    #[test]
    fn irq_drains_every_waiting_byte() {
        let mut uart = uart();
        uart.ports_mut().script_reads(LSR, &[1, 1, 1, 0]);
        uart.ports_mut().script_reads(DATA, b"ls\r");
        let mut buf = [0; RECEIVE_DRAIN_LIMIT];
        assert_eq!(uart.handle_irq(&mut buf), 3);
        assert_eq!(&buf[..3], b"ls\r");
        // Spurious interrupt: nothing waiting.
        uart.ports_mut().set_default(LSR, 0);
        assert_eq!(uart.handle_irq(&mut buf), 0);
    }

    #[test]
    fn irq_with_a_full_buffer_rearms_the_interrupt() {
        let mut uart = uart();
        // Status reads: a, b, "still waiting?", c, empty.
        uart.ports_mut().script_reads(LSR, &[1, 1, 1, 1, 0]);
        uart.ports_mut().script_reads(DATA, b"abc");
        let mut small = [0; 2];
        assert_eq!(uart.handle_irq(&mut small), 2);
        assert_eq!(&small, b"ab");
        // "c" is still waiting: the interrupt was switched off and on.
        assert_eq!(uart.ports_mut().writes_to(0x3F9), [0, IER_RECEIVED_DATA]);
        assert_eq!(uart.handle_irq(&mut small), 1);
        assert_eq!(small[0], b'c');

        // Exactly full, nothing left: no re-arm needed.
        let mut exact = self::uart();
        exact.ports_mut().script_reads(LSR, &[1, 1, 0]);
        exact.ports_mut().script_reads(DATA, b"xy");
        assert_eq!(exact.handle_irq(&mut small), 2);
        assert!(exact.ports_mut().writes_to(0x3F9).is_empty());
    }

    #[test]
    fn irq_on_a_stuck_device_is_bounded() {
        // A missing UART reads 0xFF everywhere: "data ready" forever.
        let mut uart = uart();
        let mut buf = [0; 1000];
        assert_eq!(uart.handle_irq(&mut buf), RECEIVE_DRAIN_LIMIT);
        assert_eq!(uart.ports_mut().read_count(DATA), RECEIVE_DRAIN_LIMIT);
    }
}
