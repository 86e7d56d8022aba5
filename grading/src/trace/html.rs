//! `build/trace/index.html`: the two paths side by side, as swim lanes.
//!
//! One self-contained page (no network: inline CSS, inline SVG, a few
//! lines of script). For each kernel, a figure of lanes — the writing
//! program, the kernel, the server that owns the pipe (micro-kernel only),
//! the reading program — with one row per step of the scene
//! (`common::trace::scene`): a box in the lane where the step runs,
//! holding its instruction count, and beside the lanes the step's
//! functions and source file (a link into the repository). Parts start at
//! the same height in both figures, so that "the write" faces "the write".
//! The `Pipe::write_with` step, the same shared code on both kernels, is
//! highlighted in both. Above the figures, a table of totals.
//!
//! Hovering a step shows what happens in it (and the events it spans);
//! hovering a function highlights the steps that run the same code on the
//! other kernel.

use super::markdown::totals_rows;
use common::trace::scene::{Lane, Marker, Part, PartKind, Scene, Step};
use common::trace::summary::{kernel_name, thousands};
use std::fmt::Write;

/// One figure's width; two fit side by side in 1280 pixels.
const FIGURE_WIDTH: u32 = 592;
/// A lane's width.
const LANE_WIDTH: u32 = 58;
/// A step row's height and the space between rows.
const ROW: u32 = 44;
const BOX_HEIGHT: u32 = 30;
/// A part title's band, and the gap's band.
const TITLE_BAND: u32 = 34;
const GAP_BAND: u32 = 46;
/// Height of the lane headers.
const HEADER: u32 = 30;

/// Escapes text for HTML and SVG.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The colour of a lane.
fn lane_colour(lane: Lane) -> (&'static str, &'static str) {
    // (fill, stroke)
    match lane {
        Lane::Writer => ("#dbeafe", "#3b6fb6"),
        Lane::Kernel => ("#e5e7eb", "#4b5563"),
        Lane::Server => ("#dcfce7", "#2f7d4a"),
        Lane::Reader => ("#fde7f3", "#a3416f"),
    }
}

/// A row of a figure: what is drawn at one height.
enum Row<'a> {
    Title(&'a Part),
    Marker(&'a Marker),
    Step(&'a Step),
    Gap,
    Blank,
}

/// The rows of one part, in order.
fn part_rows(part: &Part) -> Vec<Row<'_>> {
    let mut rows = vec![Row::Title(part)];
    rows.extend(part.begin.iter().map(Row::Marker));
    rows.extend(part.steps.iter().map(Row::Step));
    rows.extend(part.end.iter().map(Row::Marker));
    rows
}

/// The height of a row.
fn row_height(row: &Row<'_>) -> u32 {
    match row {
        Row::Title(_) => TITLE_BAND,
        Row::Gap => GAP_BAND,
        Row::Marker(_) | Row::Step(_) | Row::Blank => ROW,
    }
}

/// The parts of both scenes, paired by kind so that they line up: each
/// part's rows, padded with blank rows to the longer of the two.
fn aligned_rows<'a>(scenes: &[&'a Scene]) -> Vec<Vec<Row<'a>>> {
    let kinds = [
        PartKind::ReadWaits,
        PartKind::Write,
        PartKind::ReadCompletes,
        PartKind::Read,
    ];
    let mut columns: Vec<Vec<Row<'a>>> = scenes.iter().map(|_| Vec::new()).collect();
    for kind in kinds {
        let parts: Vec<Option<&Part>> = scenes.iter().map(|scene| scene.part(kind)).collect();
        if parts.iter().all(Option::is_none) {
            continue;
        }
        let rows: Vec<Vec<Row<'a>>> = parts
            .iter()
            .map(|part| part.map(part_rows).unwrap_or_default())
            .collect();
        let longest = rows.iter().map(Vec::len).max().unwrap_or(0);
        for ((column, mut rows), scene) in columns.iter_mut().zip(rows).zip(scenes) {
            while rows.len() < longest {
                rows.push(Row::Blank);
            }
            column.extend(rows);
            if kind == PartKind::Write {
                column.push(if scene.gap.is_some() {
                    Row::Gap
                } else {
                    Row::Blank
                });
            }
        }
    }
    columns
}

/// The link to a repository file from `build/trace/index.html`.
fn source_link(file: &str) -> String {
    format!("../../{file}")
}

/// Draws one scene's figure.
fn figure(scene: &Scene, rows: &[Row<'_>], id: &str) -> String {
    let lanes = scene.lanes();
    let lanes_width = LANE_WIDTH * lanes.len() as u32;
    let text_x = lanes_width + 14;
    let height = HEADER + rows.iter().map(row_height).sum::<u32>() + 10;
    let lane_x = |lane: Lane| -> u32 {
        let position = lanes.iter().position(|&l| l == lane).unwrap_or(1) as u32;
        position * LANE_WIDTH
    };
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg id="{id}" class="lanes" width="{FIGURE_WIDTH}" height="{height}" viewBox="0 0 {FIGURE_WIDTH} {height}" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{}">"#,
        escape(&format!(
            "the {} path as swim lanes",
            kernel_name(scene.timeline.system)
        ))
    );
    // Lane backgrounds and headers.
    for &lane in &lanes {
        let x = lane_x(lane);
        let (fill, stroke) = lane_colour(lane);
        let _ = write!(
            svg,
            r#"<rect x="{}" y="0" width="{}" height="{height}" fill="{fill}" fill-opacity="0.35" stroke="{stroke}" stroke-opacity="0.25"/>"#,
            x + 1,
            LANE_WIDTH - 2
        );
        let _ = write!(
            svg,
            r#"<text class="lane-name" x="{}" y="19" text-anchor="middle" fill="{stroke}" data-lane="{}">{}</text>"#,
            x + LANE_WIDTH / 2,
            lane_key(lane),
            escape(&scene.lane_name(lane))
        );
    }
    let mut y = HEADER;
    // The previous box's lane centre and bottom, for the line to the next.
    let mut previous: Option<(u32, u32)> = None;
    for row in rows {
        let h = row_height(row);
        match row {
            Row::Title(part) => {
                let _ = write!(
                    svg,
                    r#"<rect x="0" y="{}" width="{FIGURE_WIDTH}" height="{}" class="part-band"/><text class="part-title" x="6" y="{}">{}</text><text class="part-total" x="{}" y="{}" text-anchor="end">{} instructions</text>"#,
                    y + 4,
                    TITLE_BAND - 8,
                    y + 22,
                    escape(&part_heading(scene, part)),
                    FIGURE_WIDTH - 6,
                    y + 22,
                    thousands(part.counts.instructions)
                );
                previous = None;
            }
            Row::Gap => {
                if let Some(gap) = &scene.gap {
                    let _ = write!(
                        svg,
                        r#"<rect x="0" y="{}" width="{FIGURE_WIDTH}" height="{}" class="gap-band"/><text class="gap" x="6" y="{}">… {}</text><text class="gap" x="6" y="{}">{} instructions, not on the path</text>"#,
                        y + 4,
                        GAP_BAND - 8,
                        y + 20,
                        escape(&gap.text),
                        y + 36,
                        thousands(gap.instructions)
                    );
                }
                previous = None;
            }
            Row::Blank => {}
            Row::Marker(marker) => {
                let x = lane_x(marker.lane);
                let (fill, stroke) = lane_colour(marker.lane);
                let top = y + (ROW - BOX_HEIGHT) / 2;
                connect(&mut svg, previous, x + LANE_WIDTH / 2, top);
                let _ = write!(
                    svg,
                    r#"<g class="marker"><rect x="{}" y="{top}" width="{}" height="{BOX_HEIGHT}" rx="14" fill="{fill}" stroke="{stroke}" stroke-dasharray="3 2"/><text class="marker-text" x="{text_x}" y="{}">{}</text></g>"#,
                    x + 5,
                    LANE_WIDTH - 10,
                    top + 19,
                    escape(&format!(
                        "{}: {}",
                        scene.lane_name(marker.lane),
                        marker.text
                    ))
                );
                previous = Some((x + LANE_WIDTH / 2, top + BOX_HEIGHT));
            }
            Row::Step(step) => {
                // A step that crosses into or out of the kernel spans both lanes.
                let lanes_of_step: Vec<Lane> =
                    std::iter::once(step.lane).chain(step.crosses).collect();
                let left = lanes_of_step
                    .iter()
                    .map(|&lane| lane_x(lane))
                    .min()
                    .unwrap_or(0);
                let right = lanes_of_step
                    .iter()
                    .map(|&lane| lane_x(lane) + LANE_WIDTH)
                    .max()
                    .unwrap_or(LANE_WIDTH);
                let centre = (left + right) / 2;
                let (_, stroke) = lane_colour(step.lane);
                let top = y + (ROW - BOX_HEIGHT) / 2;
                connect(&mut svg, previous, centre, top);
                let class = if step.pipe_write {
                    "step pipe-write"
                } else {
                    "step"
                };
                let functions = step.code.function_text();
                let file = if step.code.file.is_empty() {
                    "(no rule for these two events)"
                } else {
                    step.code.file
                };
                let _ = write!(
                    svg,
                    r#"<g class="{class}" data-functions="{}"><title>{}</title>"#,
                    escape(&step.code.functions.join(" ")),
                    escape(&step_title(scene, step))
                );
                if step.pipe_write {
                    let _ = write!(
                        svg,
                        r#"<rect class="highlight" x="0" y="{}" width="{FIGURE_WIDTH}" height="{}" />"#,
                        top - 3,
                        BOX_HEIGHT + 6
                    );
                }
                // The fill: each lane's colour over its part of the box.
                let mut lanes_sorted = lanes_of_step.clone();
                lanes_sorted.sort_by_key(|&lane| lane_x(lane));
                for &lane in &lanes_sorted {
                    let (fill, _) = lane_colour(lane);
                    let x = lane_x(lane).max(left + 3).min(right);
                    let end = (lane_x(lane) + LANE_WIDTH).min(right - 3);
                    let _ = write!(
                        svg,
                        r#"<rect x="{x}" y="{top}" width="{}" height="{BOX_HEIGHT}" fill="{fill}"/>"#,
                        end.saturating_sub(x)
                    );
                }
                let _ = write!(
                    svg,
                    r#"<rect class="box" x="{}" y="{top}" width="{}" height="{BOX_HEIGHT}" rx="4" fill="none" stroke="{stroke}"/><text class="count" x="{centre}" y="{}" text-anchor="middle">{}</text>"#,
                    left + 3,
                    right - left - 6,
                    top + 19,
                    thousands(step.instructions)
                );
                // Monospace at 12 px: about 7.3 px a character; a longer
                // line is squeezed to fit rather than cut.
                let room = FIGURE_WIDTH - text_x - 4;
                let fit = if functions.chars().count() as f64 * 7.3 > f64::from(room) {
                    format!(r#" textLength="{room}" lengthAdjust="spacingAndGlyphs""#)
                } else {
                    String::new()
                };
                let _ = write!(
                    svg,
                    r#"<text class="function" x="{text_x}" y="{}"{fit}>{}</text>"#,
                    top + 12,
                    escape(&functions)
                );
                let link = if step.code.file.is_empty() {
                    format!(
                        r#"<text class="file" x="{text_x}" y="{}">{}</text>"#,
                        top + 26,
                        escape(file)
                    )
                } else {
                    format!(
                        r#"<a href="{}"><text class="file" x="{text_x}" y="{}">{}</text></a>"#,
                        escape(&source_link(file)),
                        top + 26,
                        escape(file)
                    )
                };
                svg.push_str(&link);
                svg.push_str("</g>");
                previous = Some((centre, top + BOX_HEIGHT));
            }
        }
        y += h;
    }
    svg.push_str("</svg>");
    svg
}

/// A line from the previous box (its lane's centre, its bottom) to this
/// one (`to_x`, `top`): straight down in one lane, a curve across lanes.
fn connect(svg: &mut String, previous: Option<(u32, u32)>, to_x: u32, top: u32) {
    let Some((from_x, bottom)) = previous else {
        return;
    };
    let middle = (bottom + top) / 2;
    let _ = write!(
        svg,
        r#"<path class="flow" d="M {from_x} {bottom} C {from_x} {middle}, {to_x} {middle}, {to_x} {top}"/>"#
    );
}

/// A stable key for a lane, for styles and scripts.
fn lane_key(lane: Lane) -> &'static str {
    match lane {
        Lane::Writer => "writer",
        Lane::Kernel => "kernel",
        Lane::Server => "server",
        Lane::Reader => "reader",
    }
}

/// `1. cat's read waits`, numbered by the part's place in the scene.
fn part_heading(scene: &Scene, part: &Part) -> String {
    let number = scene
        .parts
        .iter()
        .position(|p| p.kind == part.kind)
        .map_or(0, |n| n + 1);
    format!("{number}. {}", part.title)
}

/// The tooltip of a step: what happens, and its events.
fn step_title(scene: &Scene, step: &Step) -> String {
    let mut text = format!(
        "{} instructions: {}.\nevents:",
        thousands(step.instructions),
        step.code.what
    );
    let events = &scene.timeline.events;
    for index in std::iter::once(step.from)
        .chain(step.inner.iter().copied())
        .chain(std::iter::once(step.to))
    {
        let mut line = String::new();
        let _ = events[index].write_line(&mut line);
        text.push_str("\n  ");
        text.push_str(line.trim_end());
    }
    text
}

/// The whole page for `scenes` (mono first), traced from `command`.
pub fn page(command: &str, scenes: &[&Scene]) -> String {
    let columns = aligned_rows(scenes);
    let mut figures = String::new();
    for (scene, rows) in scenes.iter().zip(&columns) {
        let system = scene.timeline.system;
        let id = format!("lanes-{}", system.name());
        let _ = write!(
            figures,
            r#"<figure class="kernel"><figcaption><b>{}</b>: {} writes {} bytes into a pipe; {} {}.{}</figcaption>{}</figure>"#,
            kernel_name(system),
            escape(&scene.cast.writer.describe()),
            scene.bytes,
            escape(&scene.cast.reader.describe()),
            if scene.waited {
                "is waiting for them"
            } else {
                "reads them later"
            },
            scene
                .cast
                .server
                .as_ref()
                .map(|server| format!(" The pipe belongs to the server {}.", escape(&server.name)))
                .unwrap_or_default(),
            figure(scene, rows, &id)
        );
    }
    let mut totals = String::from("<table class=\"totals\"><thead><tr><th></th>");
    for scene in scenes {
        let _ = write!(totals, "<th>{}</th>", kernel_name(scene.timeline.system));
    }
    if scenes.len() == 2 {
        totals.push_str("<th>micro / mono</th>");
    }
    totals.push_str("</tr></thead><tbody>");
    for row in totals_rows(scenes) {
        let _ = write!(totals, "<tr><th>{}</th>", escape(&row.label));
        for value in &row.values {
            let _ = write!(totals, "<td>{}</td>", escape(value));
        }
        if scenes.len() == 2 {
            let _ = write!(totals, "<td>{}</td>", escape(&row.ratio));
        }
        totals.push_str("</tr>");
    }
    totals.push_str("</tbody></table>");
    let mut choices = String::new();
    for scene in scenes {
        let _ = write!(
            choices,
            "<li><b>{}</b>: {}; {} events recorded, {} of them the tracing's own.</li>",
            kernel_name(scene.timeline.system),
            escape(&scene.choice),
            thousands(scene.timeline.recorded as u64),
            thousands(scene.timeline.dropped as u64)
        );
    }
    let cost: Vec<String> = scenes
        .iter()
        .filter_map(|scene| {
            scene
                .timeline
                .kernel_event_cost()
                .map(|cost| format!("about {cost} on the {}", kernel_name(scene.timeline.system)))
        })
        .collect();
    let removed: u64 = scenes
        .iter()
        .map(|scene| scene.timeline.recording_removed)
        .sum();
    let file_links: String = scenes
        .iter()
        .map(|scene| {
            let name = scene.timeline.system.name();
            format!(r#"<a href="{name}.json">{name}.json</a>, "#)
        })
        .collect();
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>One pipe write, two kernels: {command_text}</title>
<style>{STYLE}</style></head>
<body>
<header>
<h1>One pipe write, two kernels</h1>
<p>The command <code>{command_text}</code>, run on each kernel under QEMU with <code>-icount shift=0</code>, where the time-stamp counter counts guest instructions: every count on this page is exact, and the same on every run. The path is followed from the writer's <code>write()</code> to the reader having the bytes. Each row is a step, from one trace event to the next: a box in the lane where it runs, holding its instructions, and beside it the functions it runs through and the file they are in (hover a step for what happens in it). <span class="pipe-write-key">Pipe::write_with</span>, the same shared code on both kernels, is highlighted in both.</p>
</header>
<section><h2>Totals: from <code>write()</code> to the reader having the bytes</h2>{totals}
<p class="note">Kernel entries are system calls (on the micro-kernel every IPC system call), page faults and interrupts. Copies of the data are the kernel's copies between address spaces and a server's copies in its own memory that a trace point shows. The servers' <code>trace(RECORD)</code> calls are taken out of every count ({removed} instructions in all); the kernels' own trace points stay in, each costing {cost} instructions while tracing is on.</p></section>
<section class="figures">{figures}</section>
<section><h2>What was followed</h2><ul>{choices}</ul>
<p>The same data: {file_links}<a href="summary.txt">summary.txt</a> (the Chrome trace-event files open in <a href="https://ui.perfetto.dev">Perfetto</a>, which reads them locally). How the events are read and counted: <a href="../../docs/trace.md">docs/trace.md</a>; the chapter built on this page: <a href="../../docs/pipe-write-two-ways.md">docs/pipe-write-two-ways.md</a>.</p></section>
<script>{SCRIPT}</script>
</body></html>
"#,
        command_text = escape(command),
        cost = cost.join(", "),
        removed = thousands(removed),
    )
}

/// The page's style sheet.
const STYLE: &str = r#"
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 16px 20px; color: #1f2937; max-width: 1200px; }
h1 { font-size: 22px; margin: 0 0 6px; }
h2 { font-size: 16px; margin: 18px 0 6px; }
p { font-size: 13.5px; line-height: 1.45; margin: 4px 0 8px; }
p.note, li { font-size: 12.5px; color: #4b5563; }
code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12.5px; }
table.totals { border-collapse: collapse; font-size: 13px; }
table.totals th, table.totals td { border-bottom: 1px solid #e5e7eb; padding: 3px 12px; }
table.totals td { text-align: right; font-variant-numeric: tabular-nums; }
table.totals tbody th { text-align: left; font-weight: normal; }
table.totals thead th { text-align: right; }
.figures { display: flex; gap: 16px; align-items: flex-start; }
figure.kernel { margin: 0; width: 592px; }
figcaption { font-size: 12.5px; min-height: 34px; margin-bottom: 4px; }
svg.lanes text { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
.lane-name { font-size: 12px; font-weight: 600; }
.part-band { fill: #f3f4f6; }
.part-title { font-size: 13px; font-weight: 600; fill: #111827; }
.part-total { font-size: 12px; fill: #374151; }
.gap-band { fill: #fff; stroke: #9ca3af; stroke-dasharray: 4 3; }
.gap { font-size: 11.5px; fill: #4b5563; font-style: italic; }
.count { font-size: 11px; font-variant-numeric: tabular-nums; fill: #111827; }
.function { font-size: 12px; fill: #111827; font-family: ui-monospace, "DejaVu Sans Mono", monospace !important; }
.file { font-size: 11px; fill: #2563eb; }
.marker-text { font-size: 11.5px; fill: #374151; font-style: italic; }
.flow { stroke: #6b7280; stroke-width: 1.2; fill: none; }
.highlight { fill: #fed7aa; }
.pipe-write .box { stroke: #c2410c; stroke-width: 2.5; }
.pipe-write .function { font-weight: 700; }
.pipe-write-key { background: #fed7aa; padding: 0 4px; font-family: ui-monospace, monospace; }
g.step.same .box { stroke: #7c3aed; stroke-width: 2.5; }
g.step.same .function { fill: #6d28d9; }
"#;

/// Hovering a step marks the steps that run the same functions (in both figures).
const SCRIPT: &str = r#"
document.querySelectorAll('g.step').forEach(function (step) {
  var names = (step.getAttribute('data-functions') || '').split(' ').filter(Boolean);
  step.addEventListener('mouseenter', function () {
    document.querySelectorAll('g.step').forEach(function (other) {
      var theirs = (other.getAttribute('data-functions') || '').split(' ');
      if (names.some(function (n) { return theirs.indexOf(n) >= 0; })) other.classList.add('same');
    });
  });
  step.addEventListener('mouseleave', function () {
    document.querySelectorAll('g.step.same').forEach(function (other) { other.classList.remove('same'); });
  });
});
"#;
