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
use crate::source::mastodon_csv::{ListKind, RowError, write_csv};

use super::graph_input::{self, TypeArg, create_file, entry_with_handle, output_path, write_error};
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
    let input = graph_input::read_graph(&args.input, args.kind)?;
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
    input: &graph_input::GraphInput,
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
    let kind = input.kind;
    let (run_id, resumed) = journal
        .run(
            &account,
            &input.fingerprint,
            kind.mastodon_type(),
            &input.path.display().to_string(),
        )
        .map_err(|e| CliError::new(exit::FAILED, e))?;
    // One item per key, from the first row that has it: a later row with the same entry has
    // its key too, and the journal would ignore it.
    let items = input.rows.entries().map(|(line, entry)| {
        let item = GraphItem::new(line, graph_input::op_of(entry));
        let payload = serde_json::to_string(&item).expect("serializable");
        (item.op.key(), line as i64, payload)
    });
    journal
        .add_items(run_id, items)
        .map_err(|e| CliError::new(exit::FAILED, e))?;
    if resumed {
        sink.emit(Event::Note {
            level: Level::Info,
            text: "continuing the earlier run of this file".into(),
        });
    }
    if !input.errors.is_empty() {
        sink.emit(Event::Note {
            level: Level::Warning,
            text: format!(
                "{} rows could not be read (first: {}); they are in the report",
                input.errors.len(),
                input.errors[0]
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
    let settled = settled(input, run.journal, run_id)?;
    // Rows that repeat an earlier row's key are one journal item: count them as the report
    // does, as duplicates.
    let repeated = repeated_rows(input, &settled);
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
    write_reports(args, input, &settled, kind)?;
    let mut failed_by_reason = summary.failed_by_reason.clone();
    if !input.errors.is_empty() {
        failed_by_reason.insert("unreadable row".into(), input.errors.len() as u64);
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
        "failed": summary.failed + input.errors.len() as u64,
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
            summary.total + input.errors.len() as u64,
            summary.done,
            summary.skipped,
            summary.failed + input.errors.len() as u64,
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
        write_web_import(path, input, &settled, kind)?;
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

/// Where the journal left a distinct entry of the input: the item of its key.
struct Settled {
    /// The line of the first row with the key; every later row with it is its duplicate.
    line: u64,
    state: ItemState,
    reason: Option<String>,
    canonical: Option<String>,
}

/// The journal's item for each of [`Rows::entries`](graph_input::Rows::entries), by index:
/// read once for all the rows that share an entry.
fn settled(
    input: &graph_input::GraphInput,
    journal: &Journal,
    run_id: i64,
) -> Result<Vec<Option<Settled>>, CliError> {
    input
        .rows
        .entries()
        .map(|(_, entry)| {
            let key = graph_input::op_of(entry).key();
            let item = journal
                .item(run_id, &key)
                .map_err(|e| CliError::new(exit::FAILED, e))?;
            Ok(item.map(|item| Settled {
                line: item.seq as u64,
                state: item.state,
                canonical: serde_json::from_str::<GraphItem>(&item.payload)
                    .ok()
                    .and_then(|g| g.canonical),
                reason: item.reason,
            }))
        })
        .collect()
}

/// `<name>.import-report.csv` (every row's outcome) and `<name>.failures.csv` (the rows that
/// failed, in the input's own Mastodon format, re-importable), written as they are made.
fn write_reports(
    args: &ImportArgs,
    input: &graph_input::GraphInput,
    settled: &[Option<Settled>],
    kind: ListKind,
) -> Result<(), CliError> {
    let report_path = output_path(&args.input, args.out_dir.as_deref(), "import-report.csv");
    let report_error = |e: csv::Error| write_error(&report_path, e);
    let mut report = csv::Writer::from_writer(create_file(&report_path)?);
    report
        .write_record([
            "line",
            "input",
            "action",
            "outcome",
            "canonical_handle",
            "reason",
        ])
        .map_err(report_error)?;
    // Rows and unreadable rows are each in file order: merged, they are the file's order.
    let mut errors = input.errors.iter().peekable();
    let unreadable = |e: &RowError| {
        [
            e.line.to_string(),
            e.text.clone(),
            String::new(),
            "failed".into(),
            String::new(),
            format!("unreadable row: {}", e.reason),
        ]
    };
    for (line, index) in input.rows.rows() {
        while let Some(e) = errors.next_if(|e| e.line < line) {
            report.write_record(unreadable(e)).map_err(report_error)?;
        }
        let Some(item) = &settled[index] else {
            continue;
        };
        let entry = input.rows.entry(index);
        // A row whose key an earlier row already holds is that row's duplicate.
        let (state, reason) = if item.line != line {
            ("skipped", format!("duplicate of line {}", item.line))
        } else {
            (item.state.as_str(), item.reason.clone().unwrap_or_default())
        };
        report
            .write_record([
                line.to_string().as_str(),
                &input_text(entry),
                graph_input::op_of(entry).verb(),
                state,
                item.canonical.as_deref().unwrap_or_default(),
                &reason,
            ])
            .map_err(report_error)?;
    }
    for e in errors {
        report.write_record(unreadable(e)).map_err(report_error)?;
    }
    report.flush().map_err(|e| write_error(&report_path, e))?;
    let failures = input
        .rows
        .entries()
        .zip(settled)
        .filter(|((line, _), item)| {
            item.as_ref()
                .is_some_and(|i| i.state == ItemState::Failed && i.line == *line)
        })
        .map(|((_, entry), _)| entry);
    let failures_path = output_path(&args.input, args.out_dir.as_deref(), "failures.csv");
    write_csv(kind, failures, create_file(&failures_path)?)
        .map_err(|e| write_error(&failures_path, e))
}

/// How many rows share their journal key with an earlier row.
fn repeated_rows(input: &graph_input::GraphInput, settled: &[Option<Settled>]) -> u64 {
    input
        .rows
        .rows()
        .filter(|&(line, index)| settled[index].as_ref().is_some_and(|i| i.line != line))
        .count() as u64
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
    input: &graph_input::GraphInput,
    settled: &[Option<Settled>],
    kind: ListKind,
) -> Result<(), CliError> {
    let rows = input
        .rows
        .entries()
        .zip(settled)
        .filter_map(|((line, entry), item)| {
            let item = item.as_ref()?;
            if item.line != line || item.state == ItemState::Failed {
                return None;
            }
            // Another spelling of an account already listed, or the account itself: Mastodon's
            // importer would only fail on them.
            if item.state == ItemState::Skipped
                && item
                    .reason
                    .as_deref()
                    .is_some_and(|r| r.starts_with("duplicate") || r == "your own account")
            {
                return None;
            }
            let canonical = item.canonical.as_deref()?;
            Some(entry_with_handle(entry, Some(canonical)))
        });
    write_csv(kind, rows, create_file(path)?).map_err(|e| write_error(path, e))
}
