//! `bench-table [--accel tcg|kvm] --out DIR [--colocated LOG]... LOG...`:
//! the table of `make bench`, from what `grade --suite bench` and
//! `grade --suite micro-kernel` printed (one LOG per run of them).
//!
//! Writes `DIR/figures.md` (the table the docs show), `DIR/figures.csv` and
//! `DIR/ratios.svg` (a bar chart of the ratios), then prints the table.
//! Also `DIR/targets.md`, the performance targets judged on the table
//! ([`grading::targets_table`]). Given the logs of the co-located micro-kernel's runs (`--colocated`),
//! also `DIR/colocation.md` ([`grading::colocation_table`]).
//! The accelerator says what a tick was (default: `$ACCEL`, else tcg).
//! Everything is done by [`grading::bench_table`].

use grading::Accel;
use grading::bench_table::{Log, Table, parse_log};
use grading::{colocation_table, targets_table};
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: bench-table [--accel tcg|kvm] --out DIR [--colocated LOG]... LOG...";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut accel = std::env::var("ACCEL")
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "tcg".into());
    let mut out: Option<PathBuf> = None;
    let mut logs = Vec::new();
    let mut colocated_logs = Vec::new();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--accel" => accel = args.next().unwrap_or_default(),
            "--out" => out = args.next().map(PathBuf::from),
            "--colocated" => colocated_logs.extend(args.next().map(PathBuf::from)),
            "--help" | "-h" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            _ => logs.push(PathBuf::from(arg)),
        }
    }
    let (Some(accel), Some(out)) = (Accel::from_name(&accel), out) else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    if logs.is_empty() {
        eprintln!("bench-table: no log given\n{USAGE}");
        return ExitCode::from(2);
    }
    let (Some(parsed), Some(colocated)) = (read_logs(&logs), read_logs(&colocated_logs)) else {
        return ExitCode::from(2);
    };
    let table = Table::new(accel, &parsed);
    let mut outputs = vec![
        ("figures.md", table.markdown()),
        ("figures.csv", table.csv()),
        ("ratios.svg", table.svg()),
        ("targets.md", targets_table::markdown(&table)),
    ];
    if !colocated.is_empty() {
        let colocated = Table::new(accel, &colocated);
        outputs.push((
            "colocation.md",
            colocation_table::markdown(&table, &colocated),
        ));
    }
    if let Err(error) = std::fs::create_dir_all(&out) {
        eprintln!("bench-table: cannot create {}: {error}", out.display());
        return ExitCode::from(2);
    }
    for (name, text) in &outputs {
        let path = out.join(name);
        if let Err(error) = std::fs::write(&path, text) {
            eprintln!("bench-table: cannot write {}: {error}", path.display());
            return ExitCode::from(2);
        }
    }
    println!("{}", table.markdown());
    println!("{}", targets_table::markdown(&table));
    if let Some((_, colocation)) = outputs.iter().find(|(name, _)| *name == "colocation.md") {
        println!("{colocation}");
    }
    println!(
        "bench: {} run{} of the suites; figures are {}",
        logs.len(),
        if logs.len() == 1 { "" } else { "s" },
        table.what_a_figure_is()
    );
    println!(
        "bench: wrote {0}/figures.md, {0}/figures.csv and {0}/ratios.svg \
         (`make figures` puts the table into the README and docs)",
        out.display()
    );
    ExitCode::SUCCESS
}

/// The figures of every log, or `None` (having said why) if one cannot be
/// read.
fn read_logs(logs: &[PathBuf]) -> Option<Vec<Log>> {
    let mut parsed = Vec::new();
    for log in logs {
        match std::fs::read_to_string(log) {
            Ok(text) => parsed.push(parse_log(&text)),
            Err(error) => {
                eprintln!("bench-table: cannot read {}: {error}", log.display());
                return None;
            }
        }
    }
    Some(parsed)
}
