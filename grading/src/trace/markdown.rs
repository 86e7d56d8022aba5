//! The figures `make trace` writes for the book (`build/trace/figures/`,
//! copied into `docs/figures/` and the chapters' marked blocks by
//! `scripts/update-figures.sh`):
//!
//! | file | what |
//! |---|---|
//! | `trace-totals.md` | the totals of the path, both kernels side by side |
//! | `trace-answers.md` | the path's kernel entries, address-space switches and copies, one by one |
//! | `trace-where.md` | the path's instructions by kind of work |
//! | `trace-parts.md` | the instructions of each part of the scene, and the counts with the read that waits |
//! | `trace-steps-mono.md`, `trace-steps-micro.md` | every step, with its code, a link to its file, and its instructions |
//!
//! Only what the trace itself determines goes in (no dates, no host
//! timings), so running `make trace` again writes the same files.

use common::trace::scene::{Items, Lane, Part, PartKind, Scene, Step};
use common::trace::summary::{kernel_name, step_place, thousands};
use std::fmt::Write;

/// One row of the totals: a label, a value per kernel, and micro / mono.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotalsRow {
    /// What is counted.
    pub label: String,
    /// The value on each kernel, as shown.
    pub values: Vec<String>,
    /// micro / mono, or `—`.
    pub ratio: String,
}

/// `micro / mono` with two decimals, or `—`.
fn ratio(values: &[u64]) -> String {
    match values {
        [mono, micro] if *mono > 0 => format!("{:.2}", *micro as f64 / *mono as f64),
        _ => String::from("—"),
    }
}

/// The path's instructions less the kernel's own trace points (estimated
/// from the cheapest pair of back-to-back trace points).
pub fn untraced_estimate(scene: &Scene) -> Option<u64> {
    let cost = scene.timeline.kernel_event_cost()?;
    Some(
        scene
            .path
            .instructions
            .saturating_sub(cost * scene.path.kernel_events),
    )
}

/// The rows of the totals table, for `scenes` (mono first).
pub fn totals_rows(scenes: &[&Scene]) -> Vec<TotalsRow> {
    let reader = scenes
        .first()
        .map_or("the reader", |scene| scene.cast.reader.name.as_str());
    let mut rows = Vec::new();
    let mut row = |label: String, values: Vec<u64>| {
        rows.push(TotalsRow {
            ratio: ratio(&values),
            values: values.iter().map(|&value| thousands(value)).collect(),
            label,
        });
    };
    let each =
        |f: &dyn Fn(&Scene) -> u64| scenes.iter().map(|scene| f(scene)).collect::<Vec<u64>>();
    row(
        String::from("kernel entries (system calls, faults, interrupts)"),
        each(&|s| s.path.kernel_entries),
    );
    row(
        String::from("address-space switches"),
        each(&|s| s.path.space_switches),
    );
    row(String::from("copies of the data"), each(&|s| s.path.copies));
    row(String::from("messages"), each(&|s| s.path.messages));
    row(
        String::from("steps (from one trace event to the next)"),
        each(&|s| s.path.steps),
    );
    row(
        format!("instructions, from write() to {reader} having the bytes"),
        each(&|s| s.path.instructions),
    );
    row(
        String::from("the same, less the kernel's own trace points (estimate)"),
        each(&|s| untraced_estimate(s).unwrap_or(s.path.instructions)),
    );
    row(
        String::from("instructions elapsed meanwhile, with what is not on the path"),
        each(&|s| s.elapsed),
    );
    rows
}

/// A Markdown table of `rows` for `scenes`.
fn table(scenes: &[&Scene], rows: &[TotalsRow], first_column: &str) -> String {
    let mut out = format!("| {first_column} |");
    for scene in scenes {
        let _ = write!(out, " {} |", kernel_name(scene.timeline.system));
    }
    let two = scenes.len() == 2;
    if two {
        out.push_str(" micro / mono |");
    }
    out.push_str("\n|---|");
    for _ in scenes {
        out.push_str("---:|");
    }
    if two {
        out.push_str("---:|");
    }
    out.push('\n');
    for row in rows {
        let _ = write!(out, "| {} |", row.label);
        for value in &row.values {
            let _ = write!(out, " {value} |");
        }
        if two {
            let _ = write!(out, " {} |", row.ratio);
        }
        out.push('\n');
    }
    out
}

/// `trace-totals.md`: the path's totals.
pub fn totals(scenes: &[&Scene]) -> String {
    table(scenes, &totals_rows(scenes), "one pipe write, traced")
}

/// `trace-parts.md`: each part's instructions, and the counts of the
/// whole scene (with the read that waits).
pub fn parts(scenes: &[&Scene]) -> String {
    let mut rows = Vec::new();
    let kinds = [
        PartKind::ReadWaits,
        PartKind::Write,
        PartKind::ReadCompletes,
        PartKind::Read,
    ];
    let mut shown = 0;
    for kind in kinds {
        let found: Vec<Option<&Part>> = scenes.iter().map(|scene| scene.part(kind)).collect();
        let Some(title) = found.iter().flatten().next().map(|part| part.title.clone()) else {
            continue;
        };
        let values: Vec<u64> = found
            .iter()
            .map(|part| part.map_or(0, |part| part.counts.instructions))
            .collect();
        shown += 1;
        rows.push(TotalsRow {
            label: format!("{shown}. {title}: instructions"),
            ratio: ratio(&values),
            values: values.iter().map(|&value| thousands(value)).collect(),
        });
        if kind == PartKind::Write {
            let gaps: Vec<u64> = scenes
                .iter()
                .map(|scene| scene.gap.as_ref().map_or(0, |gap| gap.instructions))
                .collect();
            rows.push(TotalsRow {
                label: String::from("… not on the path: the writer goes on, others run"),
                ratio: ratio(&gaps),
                values: gaps.iter().map(|&value| thousands(value)).collect(),
            });
        }
    }
    let whole = |label: &str, f: &dyn Fn(&Scene) -> u64| {
        let values: Vec<u64> = scenes.iter().map(|scene| f(scene)).collect();
        TotalsRow {
            label: String::from(label),
            ratio: ratio(&values),
            values: values.iter().map(|&value| thousands(value)).collect(),
        }
    };
    rows.push(whole("all parts: instructions", &|s| s.whole.instructions));
    rows.push(whole("all parts: kernel entries", &|s| {
        s.whole.kernel_entries
    }));
    rows.push(whole("all parts: address-space switches", &|s| {
        s.whole.space_switches
    }));
    rows.push(whole("all parts: copies of the data", &|s| s.whole.copies));
    rows.push(whole("all parts: messages", &|s| s.whole.messages));
    table(scenes, &rows, "the scene, part by part")
}

/// The lane's name as a table shows it.
fn lane_text(scene: &Scene, lane: Lane) -> String {
    scene.lane_name(lane)
}

/// One step as a Markdown table row.
fn step_row(scene: &Scene, number: usize, step: &Step) -> String {
    let code: Vec<String> = step
        .code
        .functions
        .iter()
        .map(|function| format!("`{function}`"))
        .collect();
    let mut code = if code.is_empty() {
        String::from("—")
    } else {
        code.join(" → ")
    };
    let mut count = thousands(step.instructions);
    if step.pipe_write {
        code = format!("**{code}**");
        count = format!("**{count}**");
    }
    let file = if step.code.file.is_empty() {
        String::from("—")
    } else {
        format!("[`{}`](../{})", step.code.file, step.code.file)
    };
    format!(
        "| {number} | {} | {code} | {file} | {} | {count} |\n",
        step_place(scene, step),
        step.code.what.replace('|', "\\|")
    )
}

/// `trace-steps-KERNEL.md`: every step of `scene`.
pub fn steps(scene: &Scene) -> String {
    let mut out = String::from(
        "| # | where | code | file | what happens | instructions |\n|---:|---|---|---|---|---:|\n",
    );
    let mut number = 0;
    for (n, part) in scene.parts.iter().enumerate() {
        let _ = writeln!(
            out,
            "| | | **{}. {}** | | | **{}** |",
            n + 1,
            part.title,
            thousands(part.counts.instructions)
        );
        if let Some(begin) = &part.begin {
            let _ = writeln!(
                out,
                "| | {} | | | *{}* | |",
                lane_text(scene, begin.lane),
                begin.text
            );
        }
        for step in &part.steps {
            number += 1;
            out.push_str(&step_row(scene, number, step));
        }
        if let Some(end) = &part.end {
            let _ = writeln!(
                out,
                "| | {} | | | *{}* | |",
                lane_text(scene, end.lane),
                end.text
            );
        }
        if part.kind == PartKind::Write
            && let Some(gap) = &scene.gap
        {
            let _ = writeln!(
                out,
                "| | | *not on the path* | | *{}* | *{}* |",
                gap.text,
                thousands(gap.instructions)
            );
        }
    }
    out
}

/// The kinds of work a step does, for "where the instructions go".
pub const CATEGORIES: [&str; 8] = [
    "the pipe itself: `Pipe::write_with`, `Pipe::read_with` (shared code; on the mono-kernel with the copies from and to user memory inside)",
    "the system call: entry, dispatch, return (mono-kernel)",
    "the waiting reader: waking it, or finishing its parked request",
    "the server's loop: receiving, decoding, answering, with its system calls",
    "IPC: the kernel moving messages",
    "copying between address spaces (the kernel)",
    "choosing and switching threads and address spaces",
    "other",
];

/// The category of a step (an index into [`CATEGORIES`]), from its file
/// and first function.
pub fn category(step: &Step) -> usize {
    let file = step.code.file;
    let first = step.code.functions.first().copied().unwrap_or("");
    if file == "common/src/pipe.rs" {
        0
    } else if file == "mono-kernel/src/file.rs"
        || first == "sched::wakeup"
        || file.ends_with("vfs/src/pipes.rs")
    {
        2
    } else if file == "mono-kernel/src/sys_file.rs" || file == "mono-kernel/src/syscall.rs" {
        1
    } else if file.starts_with("micro-kernel/user/") {
        3
    } else if file.ends_with("fastpath.rs") || file.ends_with("kernel/src/ipc.rs") {
        4
    } else if file.ends_with("kernel/src/copy.rs") {
        5
    } else if file.ends_with("sched.rs") || file.ends_with("switch.rs") {
        6
    } else {
        7
    }
}

/// `trace-where.md`: the path's instructions by kind of work.
pub fn where_they_go(scenes: &[&Scene]) -> String {
    let mut sums = vec![vec![0u64; scenes.len()]; CATEGORIES.len()];
    for (column, scene) in scenes.iter().enumerate() {
        for part in scene
            .parts
            .iter()
            .filter(|part| part.kind != PartKind::ReadWaits)
        {
            for step in &part.steps {
                sums[category(step)][column] += step.instructions;
            }
        }
    }
    let mut out = String::from("| where the path's instructions go |");
    for scene in scenes {
        let _ = write!(out, " {} |", kernel_name(scene.timeline.system));
    }
    let two = scenes.len() == 2;
    if two {
        out.push_str(" micro − mono |");
    }
    out.push_str("\n|---|");
    for _ in scenes {
        out.push_str("---:|");
    }
    if two {
        out.push_str("---:|");
    }
    out.push('\n');
    let mut totals = vec![0u64; scenes.len()];
    for (name, row) in CATEGORIES.iter().zip(&sums) {
        if row.iter().all(|&value| value == 0) {
            continue;
        }
        let _ = write!(out, "| {name} |");
        for (total, value) in totals.iter_mut().zip(row) {
            *total += value;
            let _ = write!(out, " {} |", thousands(*value));
        }
        if two {
            let _ = write!(out, " {} |", signed(row[1] as i64 - row[0] as i64));
        }
        out.push('\n');
    }
    let _ = write!(out, "| **the path** |");
    for total in &totals {
        let _ = write!(out, " **{}** |", thousands(*total));
    }
    if two {
        let _ = write!(
            out,
            " **{}** |",
            signed(totals[1] as i64 - totals[0] as i64)
        );
    }
    out.push('\n');
    out
}

/// `+1,234` or `−56`.
fn signed(value: i64) -> String {
    let magnitude = thousands(value.unsigned_abs());
    match value {
        0 => String::from("0"),
        v if v > 0 => format!("+{magnitude}"),
        _ => format!("−{magnitude}"),
    }
}

/// One list of [`Items`].
type ItemList = fn(&Items) -> &Vec<String>;

/// `trace-answers.md`: what the path's kernel entries, address-space
/// switches and copies are, one by one.
pub fn answers(scenes: &[&Scene]) -> String {
    let mut out = String::from("| on the path |");
    for scene in scenes {
        let _ = write!(out, " {} |", kernel_name(scene.timeline.system));
    }
    out.push_str("\n|---|");
    for _ in scenes {
        out.push_str("---|");
    }
    out.push('\n');
    let items: Vec<_> = scenes.iter().map(|scene| scene.path_items()).collect();
    let rows: [(&str, ItemList); 3] = [
        ("kernel entries", |items| &items.kernel_entries),
        ("address-space switches", |items| &items.space_switches),
        ("copies of the data", |items| &items.copies),
    ];
    for (label, list) in rows {
        let _ = write!(out, "| {label} |");
        for items in &items {
            let list = list(items);
            let text = if list.is_empty() {
                String::from("none")
            } else {
                list.join("; ")
            };
            let _ = write!(out, " **{}**: {} |", list.len(), text.replace('|', "\\|"));
        }
        out.push('\n');
    }
    out
}

/// Every figure: (file name, contents).
pub fn figures(scenes: &[&Scene]) -> Vec<(String, String)> {
    let mut files = vec![
        (String::from("trace-totals.md"), totals(scenes)),
        (String::from("trace-answers.md"), answers(scenes)),
        (String::from("trace-where.md"), where_they_go(scenes)),
        (String::from("trace-parts.md"), parts(scenes)),
    ];
    for scene in scenes {
        files.push((
            format!("trace-steps-{}.md", scene.timeline.system.name()),
            steps(scene),
        ));
    }
    files
}
