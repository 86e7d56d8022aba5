//! Device drivers, written once for both kernels.
//!
//! Each driver owns its device's registers through [`crate::port::PortIo`]
//! (or a memory buffer, for VGA) and never waits: interrupts are inputs
//! (`handle_irq`), and what a driver cannot do yet it reports as a value.
