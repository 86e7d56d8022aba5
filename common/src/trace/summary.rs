//! A scene in plain text: what `trace -s` prints in the guest and
//! `build/trace/summary.txt` holds on the host, the same words from the
//! same analysis.

use super::scene::{Counts, Lane, PartKind, Scene, Step};
use super::timeline::System;
use alloc::string::String;
use core::fmt::{self, Write};

/// `12345` as `12,345`.
pub fn thousands(number: u64) -> String {
    let digits = alloc::format!("{number}");
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// The kernel's name as the book writes it: `mono-kernel`, `micro-kernel`.
pub fn kernel_name(system: System) -> &'static str {
    match system {
        System::Mono => "mono-kernel",
        System::Micro => "micro-kernel",
    }
}

/// A lane's short name for a table column (`kernel`, `vfs`, `echo`).
fn lane_word(scene: &Scene, lane: Lane) -> String {
    scene.lane_name(lane)
}

/// Where a step runs, in words: `kernel`, or `vfs+kernel` for a step
/// that crosses between a server and the kernel.
pub fn step_place(scene: &Scene, step: &Step) -> String {
    match step.crosses {
        Some(other) => alloc::format!("{}+{}", scene.lane_name(step.lane), scene.lane_name(other)),
        None => scene.lane_name(step.lane),
    }
}

/// The rows of a totals table: label and value.
pub fn count_rows(counts: &Counts) -> [(&'static str, u64); 5] {
    [
        (
            "kernel entries (system calls, faults, interrupts)",
            counts.kernel_entries,
        ),
        ("address-space switches", counts.space_switches),
        ("copies of the data", counts.copies),
        ("messages", counts.messages),
        ("instructions", counts.instructions),
    ]
}

/// Writes the scene as text.
pub fn write_summary(scene: &Scene, out: &mut impl Write) -> fmt::Result {
    let cast = &scene.cast;
    let timeline = &scene.timeline;
    writeln!(
        out,
        "one pipe write on the {}: {} writes {} bytes; {} {}",
        kernel_name(timeline.system),
        cast.writer.describe(),
        scene.bytes,
        cast.reader.describe(),
        if scene.waited {
            "was waiting for them"
        } else {
            "reads them later"
        }
    )?;
    if let Some(server) = &cast.server {
        writeln!(out, "the pipe belongs to the server {}", server.describe())?;
    }
    writeln!(out, "chosen: {}", scene.choice)?;
    writeln!(
        out,
        "{} events recorded, {} of them the tracing's own (dropped); {} instructions of the servers' trace(RECORD) calls taken out",
        timeline.recorded,
        timeline.dropped,
        thousands(timeline.recording_removed)
    )?;
    for (n, part) in scene.parts.iter().enumerate() {
        writeln!(out)?;
        writeln!(
            out,
            "{}. {} ({} instructions)",
            n + 1,
            part.title,
            thousands(part.counts.instructions)
        )?;
        if let Some(begin) = &part.begin {
            writeln!(
                out,
                "   {:<10} {:>7}  {}",
                lane_word(scene, begin.lane),
                "",
                begin.text
            )?;
        }
        for step in &part.steps {
            let mark = if step.pipe_write { "*" } else { " " };
            writeln!(
                out,
                "  {mark}{:<10} {:>7}  {} ({})",
                step_place(scene, step),
                thousands(step.instructions),
                step.code.function_text(),
                if step.code.file.is_empty() {
                    "?"
                } else {
                    step.code.file
                }
            )?;
        }
        if let Some(end) = &part.end {
            writeln!(
                out,
                "   {:<10} {:>7}  {}",
                lane_word(scene, end.lane),
                "",
                end.text
            )?;
        }
        if part.kind == PartKind::Write
            && let Some(gap) = &scene.gap
        {
            writeln!(out)?;
            writeln!(
                out,
                "   ... {}: {} instructions, not on the path",
                gap.text,
                thousands(gap.instructions)
            )?;
        }
    }
    writeln!(out)?;
    writeln!(
        out,
        "(* marks Pipe::write_with, the same shared code on both kernels)"
    )?;
    writeln!(out)?;
    let reader = &cast.reader.name;
    writeln!(
        out,
        "totals, from write() to {reader} having the bytes (the whole scene in brackets):"
    )?;
    for ((label, path), (_, whole)) in count_rows(&scene.path).iter().zip(count_rows(&scene.whole))
    {
        if scene.waited {
            writeln!(
                out,
                "  {label:<52} {:>7}  ({})",
                thousands(*path),
                thousands(whole)
            )?;
        } else {
            writeln!(out, "  {label:<52} {:>7}", thousands(*path))?;
        }
    }
    writeln!(
        out,
        "  {:<52} {:>7}",
        "instructions elapsed, with the gap",
        thousands(scene.elapsed)
    )?;
    if let Some(cost) = timeline.kernel_event_cost() {
        writeln!(
            out,
            "each of the kernel's own trace points costs about {cost} instructions while tracing is on: about {} of the path's instructions are its {} kernel events",
            thousands(cost * scene.path.kernel_events),
            scene.path.kernel_events
        )?;
    }
    Ok(())
}

/// The scene as text, in a new string.
pub fn summary(scene: &Scene) -> String {
    let mut text = String::new();
    let _ = write_summary(scene, &mut text);
    text
}
