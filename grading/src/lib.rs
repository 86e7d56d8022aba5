//! The Diptych grading harness (host side).
