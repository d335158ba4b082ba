//! `migrate resolve <input>`: verify every handle of a Mastodon CSV export (or a plain list)
//! through WebFinger, and write a clean, canonical, re-importable CSV plus a report.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Args;

use crate::net::webfinger::Outcome;
use crate::source::mastodon_csv::{Row, write_csv};

use super::graph_input::{self, TypeArg, entry_with_handle, output_path, write_file};
use super::{CliError, GlobalArgs, exit, lookup, session, write_stdout};

#[derive(Debug, Args)]
pub struct ResolveArgs {
    /// A Mastodon CSV export (following, blocks, mutes, lists, …) or a list of handles
    pub input: PathBuf,

    /// Where to write the results [default: next to the input]
    #[arg(short = 'o', long = "output-dir", value_name = "DIR")]
    pub out_dir: Option<PathBuf>,

    /// Read the file as this type, whatever it looks like
    #[arg(long = "type", value_enum)]
    pub kind: Option<TypeArg>,

    /// WebFinger lookups in flight at once
    #[arg(long, default_value_t = 16, value_name = "N")]
    pub concurrency: usize,

    /// WebFinger lookups in flight at once on one host
    #[arg(long, default_value_t = 2, value_name = "N")]
    pub per_host: usize,
}

pub fn run(global: &GlobalArgs, args: ResolveArgs) -> Result<u8, CliError> {
    let input = graph_input::read_csv(&args.input, args.kind)?;
    let http = session::http(global)?;
    let resolver = graph_input::resolver(http, args.concurrency.max(1), args.per_host.max(1));
    let journal = lookup::journal(global);
    let handles = input
        .file
        .rows
        .iter()
        .filter_map(|r| r.entry.handle().cloned());
    let rt = lookup::runtime()?;
    let lookup::Lookups {
        results,
        from_cache: cached_count,
    } = lookup::lookup_all(&rt, &resolver, journal.as_ref(), handles, |_, _| {});

    // The clean file: found rows with canonical handles, duplicates (by canonical) dropped.
    let mut clean: Vec<Row> = Vec::new();
    let mut seen_canonical = std::collections::HashSet::new();
    let mut report = csv::Writer::from_writer(Vec::new());
    let _ = report.write_record([
        "line",
        "handle",
        "outcome",
        "canonical_handle",
        "actor_url",
        "reason",
    ]);
    let mut counts: BTreeMap<&'static str, u64> = BTreeMap::new();
    for row in &input.file.rows {
        let Some(h) = row.entry.handle() else {
            // Domain blocks and bookmarks have no handle to verify: kept as they are.
            clean.push(row.clone());
            continue;
        };
        let r = &results[h];
        *counts.entry(r.outcome.as_str()).or_default() += 1;
        let _ = report.write_record([
            row.line.to_string().as_str(),
            &h.to_string(),
            r.outcome.as_str(),
            r.canonical.as_deref().unwrap_or(""),
            r.actor.as_deref().unwrap_or(""),
            &r.reason,
        ]);
        if r.outcome == Outcome::Found {
            let canonical = r.canonical.clone().unwrap_or_else(|| h.to_string());
            let entry = entry_with_handle(&row.entry, Some(&canonical));
            let dedupe_key = match &entry {
                crate::source::mastodon_csv::Entry::ListMember(l) => {
                    format!("{}\u{0}{}", l.list, canonical.to_lowercase())
                }
                _ => canonical.to_lowercase(),
            };
            if seen_canonical.insert(dedupe_key) {
                clean.push(Row {
                    line: row.line,
                    entry,
                });
            }
        }
    }
    for e in &input.file.errors {
        *counts.entry("unreadable_row").or_default() += 1;
        let _ = report.write_record([
            e.line.to_string().as_str(),
            &e.text,
            "unreadable_row",
            "",
            "",
            &e.reason.to_string(),
        ]);
    }
    let mut resolved = Vec::new();
    write_csv(input.file.kind, &clean, &mut resolved)
        .map_err(|e| CliError::new(exit::FAILED, e))?;
    let resolved_path = output_path(&args.input, args.out_dir.as_deref(), "resolved.csv");
    let report_path = output_path(&args.input, args.out_dir.as_deref(), "resolve-report.csv");
    write_file(&resolved_path, &resolved)?;
    write_file(
        &report_path,
        &report
            .into_inner()
            .map_err(|e| CliError::new(exit::FAILED, e.into_error()))?,
    )?;

    let handles = results.len();
    if global.json {
        let summary = serde_json::json!({
            "event": "summary",
            "input": args.input,
            "kind": input.file.kind,
            "rows": input.file.rows.len(),
            "unreadable_rows": input.file.errors.len(),
            "handles": handles,
            "from_cache": cached_count,
            "outcomes": counts,
            "resolved_rows": clean.len(),
            "resolved_csv": resolved_path,
            "report_csv": report_path,
        });
        write_stdout(&format!("{summary}\n"))?;
    } else if !global.quiet {
        let mut s = format!(
            "{} rows, {} distinct handles ({} from the cache)\n\n",
            input.file.rows.len(),
            handles,
            cached_count
        );
        for (outcome, n) in &counts {
            s.push_str(&format!("  {:<18}{:>8}\n", outcome.replace('_', " "), n));
        }
        s.push_str(&format!(
            "\nWrote {} ({} rows, re-importable) and {}.\n",
            resolved_path.display(),
            clean.len(),
            report_path.display()
        ));
        write_stdout(&s)?;
    }
    Ok(exit::OK)
}
