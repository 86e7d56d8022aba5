//! The table `make bench` writes: the figures of the `bench` suites (and
//! the micro-kernel's own, from the `micro-kernel` suite) side by side, as
//! Markdown, CSV and an SVG bar chart of the ratios.
//!
//! The input is what `grade` printed (one log per run of the suites):
//!
//! ```text
//! bench/mono: getpid = 153 ticks/op (runs 153..153)
//! bench/micro: ipc-roundtrip-spaces = 524 guest instructions
//! ```
//!
//! Given several logs (`make bench BENCH_RUNS=3`), a figure is their
//! median, and one that is not the same in all of them is marked: the check
//! that the figures said to be deterministic are.
//!
//! `src/bin/bench-table.rs` is the command; `scripts/bench-table.sh` runs
//! it after the suites, and `scripts/update-figures.sh` copies the
//! Markdown table into the docs.

use crate::qemu::{Accel, Kernel};
use crate::suites::bench::{ROWS, Row, Source};
use std::collections::BTreeMap;
use std::fmt::Write;

/// One figure as one run of the suites printed it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Measured {
    /// Ticks per operation: the median of the program's runs.
    pub ticks: u64,
    /// The fastest and slowest of those runs, if the suite printed them.
    pub runs: Option<(u64, u64)>,
}

/// The figures of one log, by kernel and benchmark name.
pub type Log = BTreeMap<(Kernel, String), Measured>;

/// Reads the figures out of what `grade` printed. Lines that are not
/// figures are skipped; a figure printed twice counts once (the first).
pub fn parse_log(text: &str) -> Log {
    let line = regex::Regex::new(
        r"(?m)^bench/(mono|micro): ([a-z0-9-]+) = (\d+)(?: ticks/op)?(?: \(runs (\d+)\.\.(\d+)\))?",
    )
    .expect("a valid regex");
    let mut log = Log::new();
    for captures in line.captures_iter(text) {
        let (Some(kernel), Ok(ticks)) = (Kernel::from_name(&captures[1]), captures[3].parse())
        else {
            continue;
        };
        let runs = match (captures.get(4), captures.get(5)) {
            (Some(fastest), Some(slowest)) => {
                match (fastest.as_str().parse(), slowest.as_str().parse()) {
                    (Ok(fastest), Ok(slowest)) => Some((fastest, slowest)),
                    _ => None,
                }
            }
            _ => None,
        };
        log.entry((kernel, captures[2].to_string()))
            .or_insert(Measured { ticks, runs });
    }
    log
}

/// One kernel's figure for one row, over every log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Figure {
    /// Ticks per operation: the median over the logs.
    pub ticks: u64,
    /// The lowest and highest over the logs (equal if it never changed).
    pub between_runs: (u64, u64),
    /// How many logs had it.
    pub logs: usize,
    /// The fastest and slowest single run of the program, over every log.
    pub runs: Option<(u64, u64)>,
}

impl Figure {
    /// The figure over `values` (one per log that had it), or `None` if no
    /// log had it.
    fn over(values: &[Measured]) -> Option<Figure> {
        let mut ticks: Vec<u64> = values.iter().map(|value| value.ticks).collect();
        ticks.sort_unstable();
        let median = *ticks.get(ticks.len() / 2)?;
        let runs = values
            .iter()
            .filter_map(|value| value.runs)
            .reduce(|(low, high), (fastest, slowest)| (low.min(fastest), high.max(slowest)));
        Some(Figure {
            ticks: median,
            between_runs: (ticks[0], ticks[ticks.len() - 1]),
            logs: ticks.len(),
            runs,
        })
    }

    /// Whether the logs disagree.
    pub fn varied(&self) -> bool {
        self.between_runs.0 != self.between_runs.1
    }
}

/// One row of the table.
#[derive(Clone, Debug)]
pub struct TableRow {
    /// What the row is.
    pub row: &'static Row,
    /// The mono-kernel's figure.
    pub mono: Option<Figure>,
    /// The micro-kernel's figure.
    pub micro: Option<Figure>,
}

impl TableRow {
    /// micro / mono: how many times the micro-kernel's cost the
    /// mono-kernel's is (for a bandwidth, mono's MB/s over micro's).
    pub fn ratio(&self) -> Option<f64> {
        match (&self.mono, &self.micro) {
            (Some(mono), Some(micro)) if mono.ticks > 0 => {
                Some(micro.ticks as f64 / mono.ticks as f64)
            }
            _ => None,
        }
    }
}

/// The whole table.
#[derive(Clone, Debug)]
pub struct Table {
    /// What a tick was.
    pub accel: Accel,
    /// How many logs it was made from.
    pub logs: usize,
    /// Every row of [`ROWS`], in order.
    pub rows: Vec<TableRow>,
}

impl Table {
    /// The table made from `logs` (one per run of the suites).
    pub fn new(accel: Accel, logs: &[Log]) -> Table {
        let figure = |kernel: Kernel, row: &Row| {
            let values: Vec<Measured> = logs
                .iter()
                .filter_map(|log| log.get(&(kernel, row.name.to_string())).copied())
                .collect();
            Figure::over(&values)
        };
        Table {
            accel,
            logs: logs.len(),
            rows: ROWS
                .iter()
                .map(|row| TableRow {
                    row,
                    mono: figure(Kernel::Mono, row),
                    micro: figure(Kernel::Micro, row),
                })
                .collect(),
        }
    }

    /// Whether a figure counts guest instructions (TCG with `-icount`).
    fn counts_instructions(&self) -> bool {
        self.accel == Accel::Tcg
    }

    /// A row's unit: MB/s for a bandwidth under TCG, ticks otherwise.
    fn in_megabytes(&self, row: &Row) -> bool {
        row.bytes > 0 && self.counts_instructions()
    }

    /// One sentence: what the figures are.
    pub fn what_a_figure_is(&self) -> &'static str {
        if self.counts_instructions() {
            "guest instructions per operation (QEMU TCG, `-icount shift=0`: one instruction \
             a nanosecond), the median of 9 runs (3 for †); bandwidths in MB/s at that rate"
        } else {
            "TSC cycles per operation (KVM: real cycles of this machine, not repeatable), \
             the median of 9 runs (3 for †)"
        }
    }

    /// The table in Markdown, with its notes.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let unit = if self.counts_instructions() {
            "guest instructions per operation"
        } else {
            "TSC cycles per operation (KVM)"
        };
        let _ = writeln!(
            out,
            "| {unit} | mono-kernel | micro-kernel | micro / mono | L4Linux / Linux (1997) |"
        );
        out.push_str("|---|---:|---:|---:|---:|\n");
        let mut varied_between_runs = false;
        let mut approximate = false;
        for table_row in &self.rows {
            let row = table_row.row;
            let label = if row.source == Source::BenchDisk {
                format!("{} †", row.label)
            } else {
                row.label.to_string()
            };
            let cell = |figure: &Option<Figure>| match figure {
                None => "—".to_string(),
                Some(figure) => {
                    let mut text = self.value_text(row, figure.ticks);
                    if row.source == Source::BenchDisk
                        && let Some((fastest, slowest)) = figure.runs
                    {
                        let (low, high) = self.range(row, fastest, slowest);
                        let _ = write!(text, " ({}–{})", short(low), short(high));
                    }
                    if figure.varied() {
                        text.push_str(" ‡");
                    }
                    text
                }
            };
            let mut micro = cell(&table_row.micro);
            if row.micro_approximate && table_row.micro.is_some() && self.counts_instructions() {
                micro.push_str(" §");
                approximate = true;
            }
            varied_between_runs |= [&table_row.mono, &table_row.micro]
                .iter()
                .any(|figure| figure.as_ref().is_some_and(Figure::varied));
            let ratio = table_row
                .ratio()
                .map_or("—".to_string(), |ratio| format!("{ratio:.2}"));
            let paper = row
                .paper
                .map_or(String::new(), |paper| format!("{:.2}", paper.ratio));
            let _ = writeln!(
                out,
                "| {label} | {} | {micro} | {ratio} | {paper} |",
                cell(&table_row.mono),
            );
        }
        out.push('\n');
        let _ = writeln!(
            out,
            "Figures: {}. micro / mono is the micro-kernel's cost over the mono-kernel's \
             (for a bandwidth, mono's MB/s over micro's); the last column is the same ratio \
             for L4Linux over native Linux in Härtig et al., SOSP 1997, where the paper has \
             one (`docs/performance.md`).",
            self.what_a_figure_is()
        );
        out.push('\n');
        let _ = writeln!(
            out,
            "† Waits for QEMU's emulated disk, which finishes in host time: the figure (the \
             median run, with the fastest and slowest in brackets) changes from run to run. \
             {}",
            if !self.counts_instructions() {
                "Under TCG every other figure is the same on every run; under KVM none is."
            } else if approximate {
                "Every figure without † or § is the same on every run."
            } else {
                "Every other figure is the same on every run."
            }
        );
        if approximate && self.counts_instructions() {
            out.push('\n');
            let _ = writeln!(
                out,
                "§ Not exactly the same on every run: it differs from boot to boot by up \
                 to about 0.1%. The micro-kernel's servers live from the boot on and carry \
                 state over from it — above all their round-robin time slices (5 ticks), \
                 which the boot's disk waits leave different on every boot — so a tick \
                 that preempts a server during the script on one boot does not on another."
            );
        }
        if varied_between_runs {
            out.push('\n');
            let _ = writeln!(
                out,
                "‡ Not the same in all {} runs this table was made from (their median is \
                 shown; `figures.csv` has the lowest and highest).",
                self.logs
            );
        }
        out
    }

    /// The table as CSV: benchmark, mono, micro, micro/mono, the paper's
    /// ratio, then the unit and the spreads.
    pub fn csv(&self) -> String {
        let mut out = String::from(
            "benchmark,mono,micro,micro/mono,paper L4Linux/Linux,unit,repeatable,\
             mono fastest run,mono slowest run,micro fastest run,micro slowest run,\
             mono lowest between runs,mono highest between runs,\
             micro lowest between runs,micro highest between runs\n",
        );
        for table_row in &self.rows {
            let row = table_row.row;
            let value = |figure: &Option<Figure>| {
                figure
                    .as_ref()
                    .map_or(String::new(), |f| self.value_number(row, f.ticks))
            };
            let spread =
                |figure: &Option<Figure>, pick: fn(&Figure) -> Option<(u64, u64)>| match figure
                    .as_ref()
                    .and_then(pick)
                {
                    Some((fastest, slowest)) => {
                        let (low, high) = self.range(row, fastest, slowest);
                        format!("{low},{high}")
                    }
                    None => ",".to_string(),
                };
            let ratio = table_row
                .ratio()
                .map_or(String::new(), |ratio| format!("{ratio:.2}"));
            let paper = row
                .paper
                .map_or(String::new(), |paper| format!("{:.2}", paper.ratio));
            let unit = if self.in_megabytes(row) {
                "MB/s"
            } else if self.counts_instructions() {
                "instructions/op"
            } else {
                "cycles/op"
            };
            let _ = writeln!(
                out,
                "{},{},{},{ratio},{paper},{unit},{},{},{},{},{}",
                row.name,
                value(&table_row.mono),
                value(&table_row.micro),
                if row.source == Source::BenchDisk {
                    "no (disk)"
                } else if row.micro_approximate {
                    "micro to 0.1%"
                } else {
                    "yes"
                },
                spread(&table_row.mono, |f| f.runs),
                spread(&table_row.micro, |f| f.runs),
                spread(&table_row.mono, |f| Some(f.between_runs)),
                spread(&table_row.micro, |f| Some(f.between_runs)),
            );
        }
        out
    }

    /// A figure in the row's unit, as a plain number.
    fn value_number(&self, row: &Row, ticks: u64) -> String {
        if self.in_megabytes(row) {
            megabytes_per_second(row.bytes, ticks).to_string()
        } else {
            ticks.to_string()
        }
    }

    /// A figure in the row's unit, for people: `12,345` or `817 MB/s`.
    pub fn value_text(&self, row: &Row, ticks: u64) -> String {
        if self.in_megabytes(row) {
            format!(
                "{} MB/s",
                with_commas(megabytes_per_second(row.bytes, ticks))
            )
        } else {
            with_commas(ticks)
        }
    }

    /// The fastest and slowest run in the row's unit, lowest first.
    fn range(&self, row: &Row, fastest: u64, slowest: u64) -> (u64, u64) {
        if self.in_megabytes(row) {
            (
                megabytes_per_second(row.bytes, slowest),
                megabytes_per_second(row.bytes, fastest),
            )
        } else {
            (fastest, slowest)
        }
    }

    /// A bar chart of the ratios: micro / mono for every row that has both
    /// figures, the paper's ratio marked on the same scale where there is
    /// one, and both written in two columns on the right.
    pub fn svg(&self) -> String {
        let bars: Vec<(&TableRow, f64)> = self
            .rows
            .iter()
            .filter_map(|row| row.ratio().map(|ratio| (row, ratio)))
            .collect();
        let largest = bars
            .iter()
            .map(|(row, ratio)| ratio.max(row.row.paper.map_or(0.0, |paper| paper.ratio)))
            .fold(1.0, f64::max);
        let step = if largest <= 10.0 {
            1.0
        } else {
            (largest / 10.0).ceil()
        };
        let axis_end = ((largest / step).ceil() * step).max(2.0);
        let (label_width, chart_width, row_height, top) = (360.0, 380.0, 28.0, 84.0);
        let ratio_column = label_width + chart_width + 20.0;
        let paper_column = ratio_column + 70.0;
        let width = paper_column + 60.0;
        let bottom = top + row_height * bars.len() as f64;
        let height = bottom + 100.0;
        let x = |ratio: f64| label_width + chart_width * ratio / axis_end;
        let mut svg = String::new();
        let _ = writeln!(
            svg,
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="13">"##
        );
        let _ = writeln!(
            svg,
            r##"<rect width="{width}" height="{height}" fill="#ffffff"/>"##
        );
        let _ = writeln!(
            svg,
            r##"<text x="20" y="26" font-size="16" font-weight="bold">What moving the system out of the kernel costs: micro-kernel / mono-kernel</text>"##
        );
        let subtitle = if self.counts_instructions() {
            "ratio of guest instructions per operation (QEMU TCG, -icount), the same program on both; 1 = same cost"
        } else {
            "ratio of TSC cycles per operation (KVM), the same program on both; 1 = same cost"
        };
        let _ = writeln!(
            svg,
            r##"<text x="20" y="46" fill="#444444">{subtitle}</text>"##
        );
        let _ = writeln!(
            svg,
            r##"<text x="{ratio_column}" y="{:.1}" font-weight="bold">Diptych</text><text x="{paper_column}" y="{:.1}" font-weight="bold" fill="#b35f00">1997</text>"##,
            top - 10.0,
            top - 10.0
        );
        // Grid lines and their labels (the line at 1 is drawn over the bars).
        let mut tick = 0.0;
        while tick <= axis_end + 1e-9 {
            let at = x(tick);
            let _ = writeln!(
                svg,
                r##"<line x1="{at:.1}" y1="{top}" x2="{at:.1}" y2="{bottom}" stroke="#dddddd" stroke-width="1"/><text x="{at:.1}" y="{:.1}" text-anchor="middle" fill="#444444">{tick}</text>"##,
                bottom + 16.0
            );
            tick += step;
        }
        for (index, (table_row, ratio)) in bars.iter().enumerate() {
            let row = table_row.row;
            let y = top + row_height * index as f64;
            let disk = row.source == Source::BenchDisk;
            let label = format!("{}{}", plain(row.label), if disk { " †" } else { "" });
            let fill = if disk { "#b9cbe4" } else { "#3f73b5" };
            let _ = writeln!(
                svg,
                r##"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
                label_width - 10.0,
                y + 18.0,
                escape(&label)
            );
            let _ = writeln!(
                svg,
                r##"<rect x="{label_width}" y="{:.1}" width="{:.1}" height="16" fill="{fill}"/>"##,
                y + 5.0,
                x(*ratio) - label_width
            );
            let _ = writeln!(
                svg,
                r##"<text x="{ratio_column}" y="{:.1}">{ratio:.2}</text>"##,
                y + 18.0
            );
            if let Some(paper) = row.paper {
                let _ = writeln!(
                    svg,
                    r##"<path d="M {:.1} {:.1} l 6 8 l -6 8 l -6 -8 z" fill="#e07b00" stroke="#ffffff" stroke-width="1"/><text x="{paper_column}" y="{:.1}" fill="#b35f00">{:.2}</text>"##,
                    x(paper.ratio),
                    y + 5.0,
                    y + 18.0,
                    paper.ratio
                );
            }
        }
        let one = x(1.0);
        let _ = writeln!(
            svg,
            r##"<line x1="{one:.1}" y1="{:.1}" x2="{one:.1}" y2="{bottom}" stroke="#222222" stroke-width="1.5"/>"##,
            top - 4.0
        );
        let legend = bottom + 44.0;
        let _ = writeln!(
            svg,
            r##"<rect x="20" y="{:.1}" width="14" height="14" fill="#3f73b5"/><text x="40" y="{:.1}">Diptych: the micro-kernel's cost over the mono-kernel's (for a bandwidth, mono's MB/s over micro's)</text>"##,
            legend - 11.0,
            legend
        );
        let _ = writeln!(
            svg,
            r##"<path d="M 27 {:.1} l 6 8 l -6 8 l -6 -8 z" fill="#e07b00"/><text x="40" y="{:.1}">1997: L4Linux over native Linux, Härtig et al., SOSP 1997, where the paper measured it</text>"##,
            legend + 9.0,
            legend + 22.0
        );
        let _ = writeln!(
            svg,
            r##"<rect x="20" y="{:.1}" width="14" height="14" fill="#b9cbe4"/><text x="40" y="{:.1}">† waits for the emulated disk, which finishes in host time: changes from run to run</text>"##,
            legend + 33.0,
            legend + 44.0
        );
        svg.push_str("</svg>\n");
        svg
    }
}

/// MB/s (10^6 bytes a second) for `bytes` in `ticks` nanoseconds.
fn megabytes_per_second(bytes: u64, ticks: u64) -> u64 {
    if ticks == 0 {
        0
    } else {
        ((bytes as u128 * 1000 + ticks as u128 / 2) / ticks as u128) as u64
    }
}

/// `12345` → `12,345`.
pub fn with_commas(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// A number in three significant figures: `1,234`, `45.7k`, `2.35M`,
/// `1.02G` (for the brackets of the disk rows).
pub fn short(n: u64) -> String {
    if n < 10_000 {
        return with_commas(n);
    }
    let (value, suffix) = if n < 1_000_000 {
        (n as f64 / 1e3, "k")
    } else if n < 1_000_000_000 {
        (n as f64 / 1e6, "M")
    } else {
        (n as f64 / 1e9, "G")
    };
    let decimals = if value >= 100.0 {
        0
    } else if value >= 10.0 {
        1
    } else {
        2
    };
    format!("{value:.decimals$}{suffix}")
}

/// A Markdown label as plain text (no backticks).
fn plain(label: &str) -> String {
    label.replace('`', "")
}

/// Text for an SVG text node.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "\
grade: 2 tests, 2 at a time
bench/mono: getpid = 153 ticks/op (runs 153..153)
bench/mono: pipe-bw-4k = 4096 ticks/op (runs 4000..4100)
bench/mono: create-delete = 6110349 ticks/op (runs 2864805..15429503)
PASS bench/mono (12.0s)
bench/micro: getpid = 957 ticks/op (runs 957..957)
bench/micro: pipe-bw-4k = 8192 ticks/op (runs 8192..8192)
bench/micro: create-delete = 2091728 ticks/op (runs 1519751..7525053)
bench/micro: ipc-roundtrip-spaces = 524 guest instructions
bench/micro: getpid = 1 ticks/op
bench/mono: aim = 37582924 ticks/op (runs 37582924..37617945)
bench/micro: aim = 32719591 ticks/op (runs 32696449..32740619)
";

    #[test]
    fn logs_parse_both_formats_and_keep_the_first_figure() {
        let log = parse_log(LOG);
        assert_eq!(
            log[&(Kernel::Micro, "getpid".to_string())],
            Measured {
                ticks: 957,
                runs: Some((957, 957))
            }
        );
        assert_eq!(
            log[&(Kernel::Micro, "ipc-roundtrip-spaces".to_string())],
            Measured {
                ticks: 524,
                runs: None
            }
        );
        assert_eq!(log.len(), 9);
    }

    fn row<'t>(table: &'t Table, name: &str) -> &'t TableRow {
        table.rows.iter().find(|row| row.row.name == name).unwrap()
    }

    #[test]
    fn the_table_has_every_row_ratios_bandwidths_and_marks() {
        let table = Table::new(Accel::Tcg, &[parse_log(LOG)]);
        assert_eq!(table.rows.len(), ROWS.len());
        let markdown = table.markdown();
        assert!(
            markdown.contains("| `getpid()`: the null system call | 153 | 957 | 6.25 | 2.35 |"),
            "{markdown}"
        );
        // 4096 bytes in 4096 ns is 1000 MB/s; the ratio is of costs.
        assert!(
            markdown.contains("| pipe bandwidth, 4 KiB writes | 1,000 MB/s | 500 MB/s | 2.00 |  |"),
            "{markdown}"
        );
        assert!(
            markdown.contains(
                "| create + delete an empty file † | 6,110,349 (2.86M–15.4M) | 2,091,728 (1.52M–7.53M) | 0.34 |  |"
            ),
            "{markdown}"
        );
        assert!(
            markdown.contains("| micro-kernel alone: IPC round trip, 2 spaces | — | 524 | — |  |"),
            "{markdown}"
        );
        assert!(
            markdown.contains("| `fork` + `exit` + `wait` | — | — | — |  |"),
            "rows without figures are shown: {markdown}"
        );
        assert!(
            !markdown.contains('‡'),
            "one log: nothing varied between runs"
        );
        assert!(
            markdown.contains("| 37,582,924 | 32,719,591 § | 0.87 | 1.05 |"),
            "{markdown}"
        );
        assert!(markdown.contains("\n§ Not exactly the same on every run"));
        let csv = table.csv();
        assert!(csv.starts_with("benchmark,mono,micro,micro/mono,paper L4Linux/Linux,"));
        assert!(
            csv.contains(
                "\ngetpid,153,957,6.25,2.35,instructions/op,yes,153,153,957,957,153,153,957,957\n"
            ),
            "{csv}"
        );
        assert!(
            csv.contains("\npipe-bw-4k,1000,500,2.00,,MB/s,yes,999,1024,500,500,"),
            "{csv}"
        );
        assert!(
            csv.contains("\nfork,,,,,instructions/op,yes,,,,,,,,\n"),
            "{csv}"
        );
    }

    #[test]
    fn figures_that_differ_between_logs_are_marked_with_their_median() {
        let other = LOG.replace("getpid = 153 ticks/op", "getpid = 160 ticks/op");
        let logs = [parse_log(LOG), parse_log(&other), parse_log(&other)];
        let table = Table::new(Accel::Tcg, &logs);
        let getpid = row(&table, "getpid");
        let mono = getpid.mono.as_ref().unwrap();
        assert_eq!(
            (mono.ticks, mono.between_runs, mono.logs),
            (160, (153, 160), 3)
        );
        assert!(mono.varied() && !getpid.micro.as_ref().unwrap().varied());
        let markdown = table.markdown();
        assert!(markdown.contains("| 160 ‡ | 957 |"), "{markdown}");
        assert!(
            markdown.contains("‡ Not the same in all 3 runs"),
            "{markdown}"
        );
        assert!(table.csv().contains(
            "\ngetpid,160,957,5.98,2.35,instructions/op,yes,153,153,957,957,153,160,957,957\n"
        ));
    }

    #[test]
    fn under_kvm_figures_are_cycles_and_bandwidths_stay_cycles() {
        let table = Table::new(Accel::Kvm, &[parse_log(LOG)]);
        let markdown = table.markdown();
        assert!(markdown.starts_with("| TSC cycles per operation (KVM) |"));
        assert!(
            markdown.contains("| pipe bandwidth, 4 KiB writes | 4,096 | 8,192 | 2.00 |"),
            "{markdown}"
        );
        assert!(
            table
                .csv()
                .contains("\npipe-bw-4k,4096,8192,2.00,,cycles/op,")
        );
    }

    #[test]
    fn the_chart_is_a_self_contained_svg_with_a_bar_per_ratio() {
        let table = Table::new(Accel::Tcg, &[parse_log(LOG)]);
        let svg = table.svg();
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.trim_end().ends_with("</svg>"));
        assert!(!svg.contains("href"), "nothing outside the file");
        // getpid, pipe-bw-4k, aim and create-delete have both figures.
        assert_eq!(svg.matches(r##"height="16" fill="#"##).count(), 4, "{svg}");
        assert!(svg.contains(">getpid(): the null system call<"));
        assert!(svg.contains(">create + delete an empty file †<"));
        assert!(svg.contains(">6.25<") && svg.contains(">2.35<"));
    }

    #[test]
    fn numbers_are_written_for_people() {
        assert_eq!(with_commas(0), "0");
        assert_eq!(with_commas(999), "999");
        assert_eq!(with_commas(1000), "1,000");
        assert_eq!(with_commas(12345678), "12,345,678");
        assert_eq!(short(9999), "9,999");
        assert_eq!(short(45_678), "45.7k");
        assert_eq!(short(2_345_678), "2.35M");
        assert_eq!(short(123_456_789), "123M");
        assert_eq!(short(1_020_000_000), "1.02G");
        assert_eq!(megabytes_per_second(4096, 4096), 1000);
        assert_eq!(megabytes_per_second(1, 0), 0);
    }
}
