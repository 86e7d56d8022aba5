//! `make trace`: one pipe write, followed through both kernels and drawn
//! side by side (issue 10; `docs/trace.md` is the manual).
//!
//! The pieces, in the order a run meets them:
//!
//! | module | does |
//! |---|---|
//! | [`collect`] | boots a kernel under `-icount shift=0`, runs `trace on; CMD; trace off` at the shell (twice: the first run fills the caches), and reads `trace dump`'s `@trace` lines back |
//! | `common::trace::scene` | finds the pipe write in the events and every step from the `write` to the reader having the bytes (the same analysis the guest's `trace -s` runs) |
//! | [`html`] | `index.html`: the two paths as swim lanes, side by side, and the totals |
//! | [`chrome`] | `KERNEL.json`: Chrome trace events, for Perfetto |
//! | [`markdown`] | the book's tables (`docs/figures/trace-*.md`) |
//! | [`cli`] | the `trace` command that ties them together |
//! | [`check`] | what a trace of the default command must show (the grader's `trace` suite) |
//!
//! The grader's `trace` suite (`suites/trace.rs`) runs the same recording
//! and analysis on each kernel in `make test`.

pub mod check;
pub mod chrome;
pub mod cli;
pub mod collect;
pub mod html;
pub mod markdown;
