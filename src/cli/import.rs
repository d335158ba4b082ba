//! `migrate import <input>`: carry a Mastodon CSV export (follows, blocks, mutes, domain
//! blocks, lists, bookmarks) into the target account — resolved, planned, paced, resumable,
//! with reports of everything that could not be carried.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;

use crate::net::mastodon::Mastodon;
use crate::plan::graph::GraphItem;
use crate::run::events::{Event, Level, Sink};
use crate::run::gate::{Family, Gates, SystemClock};
use crate::run::graph::{GraphError, GraphOptions, GraphRun};
use crate::run::journal::{ItemState, Journal};
use crate::run::tokens::state_dir;
use crate::source::mastodon_csv::{ListKind, Row, write_csv};

use super::graph_input::{self, TypeArg, entry_with_handle, output_path, write_file};
use super::render::{Renderer, human_duration};
use super::{CliError, GlobalArgs, exit, session};

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// What to import: a Mastodon CSV export (following_accounts.csv, blocked_accounts.csv,
    /// muted_accounts.csv, blocked_domains.csv, lists.csv, bookmarks.csv) or a list of handles
    pub input: PathBuf,

    /// Read the file as this type, whatever it looks like
    #[arg(long = "type", value_enum)]
    pub kind: Option<TypeArg>,

    /// Resolve and plan only: change nothing on the target
    #[arg(long)]
    pub dry_run: bool,

    /// Stop at the first exhausted rate window (exit code 3) instead of waiting through it
    #[arg(long)]
    pub no_wait: bool,

    /// Follow the new account of an account that moved, instead of reporting it
    #[arg(long)]
    pub follow_moved: bool,

    /// Also write the verified follow list here, for Mastodon's web importer (no daily cap)
    #[arg(long, value_name = "FILE")]
    pub web_import: Option<PathBuf>,

    /// Where to write the reports [default: next to the input]
    #[arg(short = 'o', long = "output-dir", value_name = "DIR")]
    pub out_dir: Option<PathBuf>,

    /// WebFinger lookups in flight at once
    #[arg(long, default_value_t = 16, value_name = "N")]
    pub concurrency: usize,

    /// WebFinger lookups in flight at once on one host
    #[arg(long, default_value_t = 2, value_name = "N")]
    pub per_host: usize,

    /// Archive: also post retweets (as their text with a link to the original)
    #[arg(long, help_heading = "Archive options")]
    pub include_retweets: bool,

    /// Archive: also post replies to other people (standalone, with a link to the tweet
    /// replied to), and the threads under them
    #[arg(long, help_heading = "Archive options")]
    pub include_replies: bool,

    /// Archive: only tweets from this day on (YYYY-MM-DD or RFC 3339)
    #[arg(long, value_name = "DATE", value_parser = parse_date, help_heading = "Archive options")]
    pub since: Option<chrono::DateTime<chrono::Utc>>,

    /// Archive: only tweets up to this day (YYYY-MM-DD, inclusive, or RFC 3339)
    #[arg(long, value_name = "DATE", value_parser = parse_until, help_heading = "Archive options")]
    pub until: Option<chrono::DateTime<chrono::Utc>>,

    /// Archive: only tweets with at least this many likes
    #[arg(long, value_name = "N", help_heading = "Archive options")]
    pub min_likes: Option<u64>,

    /// Archive: at most this many tweets, the oldest first
    #[arg(long, value_name = "N", help_heading = "Archive options")]
    pub limit: Option<usize>,

    /// Archive: only the tweets listed in this file (one id or tweet address per line)
    #[arg(long, value_name = "FILE", help_heading = "Archive options")]
    pub ids: Option<PathBuf>,

    /// Archive: never the tweets listed in this file (one id or tweet address per line)
    #[arg(long, value_name = "FILE", help_heading = "Archive options")]
    pub exclude_ids: Option<PathBuf>,

    /// Archive: post the text only, without photos, videos or GIFs
    #[arg(long, help_heading = "Archive options")]
    pub no_media: bool,

    /// Archive: Twitter names to mention for real, as `twitter_name,@user@server` lines;
    /// everyone else is written so that no one is notified
    #[arg(long, value_name = "FILE", help_heading = "Archive options")]
    pub mention_map: Option<PathBuf>,

    /// Archive: alt text for media, as `file name or tweet id,description` lines (the archive
    /// holds none)
    #[arg(long, value_name = "FILE", help_heading = "Archive options")]
    pub alt_text: Option<PathBuf>,

    /// Archive: on servers that can backdate (GoToSocial 0.18+), post at the current time
    /// instead of each tweet's own
    #[arg(long, help_heading = "Archive options")]
    pub no_backdate: bool,

    /// Archive: write a page showing every post as it will appear, and what is skipped
    #[arg(long, value_name = "FILE.html", help_heading = "Archive options")]
    pub preview: Option<PathBuf>,

    /// Archive: the note with the original date added to each post
    #[arg(
        long,
        value_enum,
        default_value = "date-link",
        help_heading = "Archive options"
    )]
    pub date_note: DateNoteArg,

    /// Archive: who sees the posts; `unlisted` keeps them out of followers' home timelines
    #[arg(
        long,
        value_enum,
        default_value = "unlisted",
        help_heading = "Archive options"
    )]
    pub visibility: VisibilityArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum VisibilityArg {
    Public,
    Unlisted,
    Private,
}

impl VisibilityArg {
    pub fn as_str(self) -> &'static str {
        match self {
            VisibilityArg::Public => "public",
            VisibilityArg::Unlisted => "unlisted",
            VisibilityArg::Private => "private",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DateNoteArg {
    None,
    Date,
    DateLink,
}

fn parse_date(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    if let Ok(d) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(d.with_timezone(&chrono::Utc));
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map(|d| d.and_hms_opt(0, 0, 0).expect("midnight").and_utc())
        .map_err(|_| format!("`{s}` is not a date (YYYY-MM-DD)"))
}

/// `--until 2023-05-01` includes that whole day.
fn parse_until(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    if let Ok(d) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(d.with_timezone(&chrono::Utc));
    }
    parse_date(s).map(|d| d + chrono::Duration::days(1) - chrono::Duration::seconds(1))
}

pub fn run(global: &GlobalArgs, args: ImportArgs) -> Result<u8, CliError> {
    if args.input.is_dir()
        || args
            .input
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
    {
        return super::archive::run(global, &args);
    }
    let input = graph_input::read_csv(&args.input, args.kind)?;
    let target = session::target(global)?;
    let http = session::http(global)?;
    let client = target.client(http.clone())?;
    let resolver = graph_input::resolver(http, args.concurrency.max(1), args.per_host.max(1));
    let dir = state_dir(global.state_dir.as_deref()).map_err(|e| CliError::new(exit::USAGE, e))?;
    let mut journal = Journal::open(&dir).map_err(|e| CliError::new(exit::FAILED, e))?;
    let mut renderer = Renderer::new(global);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::new(exit::FAILED, e))?;
    let result = rt.block_on(async {
        tokio::select! {
            r = import(global, &args, &input, &target, &client, &resolver, &mut journal, &mut renderer) => r,
            _ = tokio::signal::ctrl_c() => Err(CliError::new(
                exit::STOPPED,
                anyhow::anyhow!("stopped by Ctrl-C"),
            ).with_hint(Some("run the same command again to continue where it stopped".into()))),
        }
    });
    renderer.finish();
    result
}

#[allow(clippy::too_many_arguments)]
async fn import(
    global: &GlobalArgs,
    args: &ImportArgs,
    input: &graph_input::CsvInput,
    target: &session::Target,
    client: &Mastodon,
    resolver: &crate::net::webfinger::Resolver,
    journal: &mut Journal,
    sink: &mut Renderer,
) -> Result<u8, CliError> {
    let me = session::with_retries(|| client.verify_credentials())
        .await
        .map_err(|e| session::net_error(e, target))?;
    // The account's name keys the journal's runs: a passing failure must not change it.
    let home_domain = match session::with_retries(|| client.instance()).await {
        Ok(i) if !i.domain.is_empty() => i.domain,
        _ => client.base().host_str().unwrap_or_default().to_string(),
    };
    let account = format!("{}@{}", me.username, home_domain);
    let kind = input.file.kind;
    let (run_id, resumed) = journal
        .run(
            &account,
            &input.fingerprint,
            kind.mastodon_type(),
            &input.path.display().to_string(),
        )
        .map_err(|e| CliError::new(exit::FAILED, e))?;
    let items = graph_input::items(&input.file);
    let payloads: Vec<(String, i64, String)> = items
        .iter()
        .map(|g| {
            (
                g.op.key(),
                g.line as i64,
                serde_json::to_string(g).expect("serializable"),
            )
        })
        .collect();
    journal
        .add_items(
            run_id,
            payloads
                .iter()
                .map(|(k, l, p)| (k.as_str(), *l, p.as_str())),
        )
        .map_err(|e| CliError::new(exit::FAILED, e))?;
    if resumed {
        sink.emit(Event::Note {
            level: Level::Info,
            text: "continuing the earlier run of this file".into(),
        });
    }
    if !input.file.errors.is_empty() {
        sink.emit(Event::Note {
            level: Level::Warning,
            text: format!(
                "{} rows could not be read (first: {}); they are in the report",
                input.file.errors.len(),
                input.file.errors[0]
            ),
        });
    }
    let mut gates = Gates::new(Arc::new(SystemClock));
    for family in [Family::Api, Family::Follows] {
        if let Ok(Some(g)) = journal.gate(&account, family.name()) {
            gates.restore(family, g.limit, g.remaining, g.reset);
        }
    }
    let mut run = GraphRun {
        client,
        resolver,
        journal,
        pacer: crate::run::pacer::Pacer {
            client,
            gates: &mut gates,
            no_wait: args.no_wait,
            requests: 0,
        },
        sink,
        options: GraphOptions {
            no_wait: args.no_wait,
            dry_run: args.dry_run,
            follow_moved: args.follow_moved,
        },
        run_id,
        account: account.clone(),
        me: me.clone(),
        home_domain,
        follows_sent: 0,
    };
    let outcome = async {
        run.resolve(true).await?;
        let follows = run.plan().await?;
        let open = run
            .journal
            .items(run_id, None)?
            .iter()
            .filter(|i| matches!(i.state, ItemState::Pending | ItemState::Sending))
            .count() as u64;
        let window = run.pacer.gates.window(Family::Follows);
        let plan = plan_text(kind, open, follows, window.remaining, window.limit, window.reset);
        run.sink.emit(Event::Note {
            level: Level::Info,
            text: plan,
        });
        if follows > window.remaining && args.web_import.is_none() {
            run.sink.emit(Event::Note {
                level: Level::Info,
                text: "Mastodon's own import (Preferences → Import and export) has no daily cap: add --web-import FILE to write the verified list for it".into(),
            });
        }
        if !args.dry_run {
            run.locate().await?;
            run.apply().await?;
            run.confirm().await?;
        }
        Ok::<(), GraphError>(())
    }
    .await;
    let mut summary = run.summary().map_err(|e| CliError::new(exit::FAILED, e))?;
    // Rows that repeat an earlier row's key are one journal item: count them as the report
    // does, as duplicates.
    let repeated = repeated_rows(input, run.journal, run_id)?;
    if repeated > 0 {
        summary.total += repeated;
        summary.skipped += repeated;
        *summary
            .skipped_by_reason
            .entry("duplicate".into())
            .or_default() += repeated;
    }
    let stop = match outcome {
        Ok(()) => None,
        Err(GraphError::RateWindow { family, until }) => Some(
            CliError::new(
                exit::STOPPED,
                anyhow::anyhow!(
                    "stopped at the {family} rate window, which reopens at {} ({} from now)",
                    until.format("%Y-%m-%d %H:%M UTC"),
                    human_duration((until - chrono::Utc::now()).num_seconds().max(0) as u64)
                ),
            )
            .with_hint(Some(
                "run the same command again then (or without --no-wait to wait through windows)"
                    .into(),
            )),
        ),
        Err(GraphError::Unauthorized(e)) => Some(session::net_error(e, target)),
        Err(GraphError::Journal(e)) => Some(CliError::new(exit::FAILED, e)),
        Err(GraphError::Server(e)) => Some(session::net_error(e, target)),
    };
    write_reports(args, input, run.journal, run_id, kind)?;
    let mut failed_by_reason = summary.failed_by_reason.clone();
    if !input.file.errors.is_empty() {
        failed_by_reason.insert("unreadable row".into(), input.file.errors.len() as u64);
    }
    let completed = stop.is_none() && summary.pending == 0;
    let summary_json = serde_json::json!({
        "input": input.path,
        "kind": kind,
        "account": account,
        "dry_run": args.dry_run,
        "total": summary.total,
        "done": summary.done,
        "skipped": summary.skipped,
        "failed": summary.failed + input.file.errors.len() as u64,
        "pending": summary.pending,
        "skipped_by_reason": summary.skipped_by_reason,
        "failed_by_reason": failed_by_reason,
        "target_requests": summary.target_requests,
        "follows_sent": summary.follows_sent,
        "completed": completed,
    });
    run.sink.emit(Event::Summary(summary_json));
    if !global.json && !global.quiet {
        let mut s = format!(
            "\n{} rows: {} done, {} skipped, {} failed{}\n",
            summary.total + input.file.errors.len() as u64,
            summary.done,
            summary.skipped,
            summary.failed + input.file.errors.len() as u64,
            if summary.pending > 0 {
                format!(", {} still to do", summary.pending)
            } else {
                String::new()
            }
        );
        for (reason, n) in &summary.skipped_by_reason {
            s.push_str(&format!("  skipped, {reason}: {n}\n"));
        }
        for (reason, n) in &summary.failed_by_reason {
            s.push_str(&format!("  failed, {reason}: {n}\n"));
        }
        s.push_str(&format!(
            "Reports: {} and {}\n",
            output_path(&args.input, args.out_dir.as_deref(), "import-report.csv").display(),
            output_path(&args.input, args.out_dir.as_deref(), "failures.csv").display()
        ));
        eprint!("{s}");
    }
    if let Some(path) = &args.web_import {
        write_web_import(path, input, run.journal, run_id, kind)?;
    }
    match stop {
        Some(e) => Err(e),
        None if summary.pending > 0 && !args.dry_run => Err(CliError::new(
            exit::STOPPED,
            anyhow::anyhow!(
                "{} rows could not be done: the server kept failing",
                summary.pending
            ),
        )
        .with_hint(Some(
            "run the same command again later to finish them (nothing is done twice)".into(),
        ))),
        None => Ok(exit::OK),
    }
}

/// `import archive.zip --dry-run`: the plan of the posts, without any server.
fn plan_text(
    kind: ListKind,
    open: u64,
    follows: u64,
    remaining_today: u64,
    daily: u64,
    reset: chrono::DateTime<chrono::Utc>,
) -> String {
    let mut s = format!("plan: {open} {} to carry out", kind.mastodon_type());
    if follows > 0 {
        if follows <= remaining_today {
            s.push_str(&format!(
                "; {follows} new follows fit in today's budget ({remaining_today} of {daily} left)"
            ));
        } else {
            let rest = follows - remaining_today;
            let days = rest.div_ceil(daily.max(1));
            s.push_str(&format!(
                "; {follows} new follows: {remaining_today} today, the rest over {days} more day{} ({daily} per day, reset at 00:00 UTC, next at {})",
                if days == 1 { "" } else { "s" },
                reset.format("%Y-%m-%d %H:%M UTC")
            ));
        }
    }
    s
}

/// `<name>.import-report.csv` (every row's outcome) and `<name>.failures.csv` (the rows that
/// failed, in the input's own Mastodon format, re-importable).
fn write_reports(
    args: &ImportArgs,
    input: &graph_input::CsvInput,
    journal: &Journal,
    run_id: i64,
    kind: ListKind,
) -> Result<(), CliError> {
    let items = journal
        .items(run_id, None)
        .map_err(|e| CliError::new(exit::FAILED, e))?;
    let by_key: std::collections::HashMap<&str, _> =
        items.iter().map(|i| (i.key.as_str(), i)).collect();
    let mut report = csv::Writer::from_writer(Vec::new());
    let _ = report.write_record([
        "line",
        "input",
        "action",
        "outcome",
        "canonical_handle",
        "reason",
    ]);
    let mut failures: Vec<Row> = Vec::new();
    let mut rows: Vec<(u64, Vec<String>)> = Vec::new();
    for row in &input.file.rows {
        let g = GraphItem::new(row.line, graph_input::items_from_row(row));
        let Some(item) = by_key.get(g.op.key().as_str()) else {
            continue;
        };
        let stored: Option<GraphItem> = serde_json::from_str(&item.payload).ok();
        let canonical = stored.as_ref().and_then(|s| s.canonical.clone());
        // A row whose key an earlier row already holds is that row's duplicate.
        let (state, reason) = if item.seq as u64 != row.line {
            (
                "skipped".to_string(),
                format!("duplicate of line {}", item.seq),
            )
        } else {
            (
                item.state.as_str().to_string(),
                item.reason.clone().unwrap_or_default(),
            )
        };
        if item.state == ItemState::Failed && item.seq as u64 == row.line {
            failures.push(Row {
                line: row.line,
                entry: row.entry.clone(),
            });
        }
        rows.push((
            row.line,
            vec![
                row.line.to_string(),
                input_text(&row.entry),
                g.op.verb().to_string(),
                state,
                canonical.unwrap_or_default(),
                reason,
            ],
        ));
    }
    for e in &input.file.errors {
        rows.push((
            e.line,
            vec![
                e.line.to_string(),
                e.text.clone(),
                String::new(),
                "failed".into(),
                String::new(),
                format!("unreadable row: {}", e.reason),
            ],
        ));
    }
    rows.sort_by_key(|(l, _)| *l);
    for (_, r) in rows {
        let _ = report.write_record(&r);
    }
    let report_path = output_path(&args.input, args.out_dir.as_deref(), "import-report.csv");
    write_file(
        &report_path,
        &report
            .into_inner()
            .map_err(|e| CliError::new(exit::FAILED, e.into_error()))?,
    )?;
    let mut out = Vec::new();
    write_csv(kind, &failures, &mut out).map_err(|e| CliError::new(exit::FAILED, e))?;
    write_file(
        &output_path(&args.input, args.out_dir.as_deref(), "failures.csv"),
        &out,
    )?;
    Ok(())
}

/// How many rows share their journal key with an earlier row.
fn repeated_rows(
    input: &graph_input::CsvInput,
    journal: &Journal,
    run_id: i64,
) -> Result<u64, CliError> {
    let items = journal
        .items(run_id, None)
        .map_err(|e| CliError::new(exit::FAILED, e))?;
    let first_line: std::collections::HashMap<&str, i64> =
        items.iter().map(|i| (i.key.as_str(), i.seq)).collect();
    Ok(input
        .file
        .rows
        .iter()
        .filter(|row| {
            let key = graph_input::items_from_row(row).key();
            first_line
                .get(key.as_str())
                .is_some_and(|&seq| seq as u64 != row.line)
        })
        .count() as u64)
}

fn input_text(entry: &crate::source::mastodon_csv::Entry) -> String {
    use crate::source::mastodon_csv::Entry;
    match entry {
        Entry::DomainBlock(d) => d.domain.to_string(),
        Entry::Bookmark(b) => b.uri.to_string(),
        Entry::ListMember(l) => format!("{}: {}", l.list, l.handle),
        other => other.handle().map(|h| h.to_string()).unwrap_or_default(),
    }
}

/// The verified accounts (canonical handles) as a following CSV for Mastodon's web importer.
fn write_web_import(
    path: &std::path::Path,
    input: &graph_input::CsvInput,
    journal: &Journal,
    run_id: i64,
    kind: ListKind,
) -> Result<(), CliError> {
    let items = journal
        .items(run_id, None)
        .map_err(|e| CliError::new(exit::FAILED, e))?;
    let by_key: std::collections::HashMap<&str, _> =
        items.iter().map(|i| (i.key.as_str(), i)).collect();
    let mut rows = Vec::new();
    for row in &input.file.rows {
        let g = GraphItem::new(row.line, graph_input::items_from_row(row));
        let Some(item) = by_key.get(g.op.key().as_str()) else {
            continue;
        };
        if item.seq as u64 != row.line || item.state == ItemState::Failed {
            continue;
        }
        // Another spelling of an account already listed, or the account itself: Mastodon's
        // importer would only fail on them.
        if item.state == ItemState::Skipped
            && item
                .reason
                .as_deref()
                .is_some_and(|r| r.starts_with("duplicate") || r == "your own account")
        {
            continue;
        }
        let stored: Option<GraphItem> = serde_json::from_str(&item.payload).ok();
        let Some(canonical) = stored.and_then(|s| s.canonical) else {
            continue;
        };
        rows.push(Row {
            line: row.line,
            entry: entry_with_handle(&row.entry, Some(&canonical)),
        });
    }
    let mut out = Vec::new();
    write_csv(kind, &rows, &mut out).map_err(|e| CliError::new(exit::FAILED, e))?;
    write_file(path, &out)
}
