//! The pipe state machine.
