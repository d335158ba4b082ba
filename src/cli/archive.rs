//! `migrate import archive.zip`: plan a Twitter/X archive's posts (`--dry-run` stops there,
//! `--preview` shows them), then post them into the target account, exactly once, at the
//! server's pace, resumable by running the same command again.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use crate::net::mastodon::{InstanceInfo, Mastodon, ServerSoftware, Software};
use crate::plan::choices::{self, ChoiceError};
use crate::plan::posts::{Draft, DryRun, Limits, PlanOptions, plan_posts};
use crate::plan::select::Selection;
use crate::plan::text::{DateNote, TextOptions};
use crate::run::events::{Event, Level, Sink};
use crate::run::gate::{Family, Gates, SystemClock};
use crate::run::journal::{ItemState, Journal};
use crate::run::posts::{PostError, PostRun, PostState, item_key};
use crate::run::tokens::state_dir;
use crate::source::twitter::{Archive, ArchiveError, Id};

use super::graph_input::{output_path, write_file};
use super::import::{DateNoteArg, ImportArgs};
use super::render::{Renderer, human_duration};
use super::{CliError, GlobalArgs, exit, session};

/// Planned items are written to the journal this many at a time.
const BATCH: usize = 2_000;

pub fn run(global: &GlobalArgs, args: &ImportArgs) -> Result<u8, CliError> {
    if args.dry_run {
        dry_run(global, args)
    } else {
        post(global, args)
    }
}

fn input_error(e: ArchiveError) -> CliError {
    let hint = e.hint();
    CliError::new(exit::USAGE, e).with_hint(hint)
}

/// Reads one of the user's files (`--ids`, `--mention-map`, …) with `parse`.
fn read_choice<T>(
    path: &Path,
    flag: &str,
    parse: impl FnOnce(&str) -> Result<T, ChoiceError>,
) -> Result<T, CliError> {
    const MAX: u64 = 64 * 1024 * 1024;
    let context = |what: String| CliError::new(exit::USAGE, anyhow::anyhow!(what));
    let meta = std::fs::metadata(path)
        .map_err(|e| context(format!("could not read `{}` ({flag}): {e}", path.display())))?;
    if meta.len() > MAX {
        return Err(context(format!(
            "`{}` ({flag}) is {} MiB; at most 64 MiB is read",
            path.display(),
            meta.len() / (1024 * 1024)
        )));
    }
    let bytes = std::fs::read(path)
        .map_err(|e| context(format!("could not read `{}` ({flag}): {e}", path.display())))?;
    let text = String::from_utf8(bytes).map_err(|_| {
        context(format!("`{}` ({flag}) is not UTF-8 text", path.display())).with_hint(Some(
            "save it as UTF-8 (CSV UTF-8 in spreadsheet programs)".into(),
        ))
    })?;
    parse(&text).map_err(|e| context(format!("`{}` ({flag}), {e}", path.display())))
}

/// The user's files, read before anything is sent.
struct Choices {
    only: Option<HashSet<Id>>,
    exclude: HashSet<Id>,
    mention_map: std::collections::HashMap<String, crate::source::handle::Handle>,
    alt_text: choices::AltText,
}

fn read_choices(args: &ImportArgs) -> Result<Choices, CliError> {
    let only = args
        .ids
        .as_deref()
        .map(|p| read_choice(p, "--ids", choices::parse_ids))
        .transpose()?;
    let exclude = args
        .exclude_ids
        .as_deref()
        .map(|p| read_choice(p, "--exclude-ids", choices::parse_ids))
        .transpose()?
        .unwrap_or_default();
    let mention_map = args
        .mention_map
        .as_deref()
        .map(|p| read_choice(p, "--mention-map", choices::parse_mention_map))
        .transpose()?
        .unwrap_or_default();
    let alt_text = args
        .alt_text
        .as_deref()
        .map(|p| read_choice(p, "--alt-text", choices::parse_alt_text))
        .transpose()?
        .unwrap_or_default();
    Ok(Choices {
        only,
        exclude,
        mention_map,
        alt_text,
    })
}

/// The plan's options from the command line, for a server with `limits`.
fn plan_options(
    args: &ImportArgs,
    choices: Choices,
    limits: Limits,
    backdate: bool,
) -> PlanOptions {
    let Choices {
        only,
        exclude,
        mention_map,
        alt_text,
    } = choices;
    PlanOptions {
        selection: Selection {
            include_retweets: args.include_retweets,
            include_replies: args.include_replies,
            since: args.since,
            until: args.until,
            only,
            exclude,
            min_likes: args.min_likes,
            limit: args.limit,
        },
        text: TextOptions {
            // Backdated posts may not mention anyone (GoToSocial's rule): everyone is defused.
            mention_map: if backdate {
                Default::default()
            } else {
                mention_map
            },
            ..TextOptions::default()
        },
        date_note: match args.date_note {
            DateNoteArg::None => DateNote::None,
            DateNoteArg::Date => DateNote::Date,
            DateNoteArg::DateLink => DateNote::DateLink,
        },
        limits,
        alt_text,
        no_media: args.no_media,
    }
}

fn limits_of(instance: &InstanceInfo) -> Limits {
    Limits {
        max_characters: instance.max_characters,
        characters_reserved_per_url: instance.characters_reserved_per_url,
        max_media_attachments: instance.max_media_attachments,
        ..Limits::default()
    }
}

/// Whether the server creates a status at a past `scheduled_at`: GoToSocial from 0.18.
pub fn can_backdate(software: &ServerSoftware) -> bool {
    if software.software != Software::GoToSocial {
        return false;
    }
    let mut numbers = software
        .version
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|n| n.parse::<u64>().unwrap_or(0));
    let (major, minor) = (numbers.next().unwrap_or(0), numbers.next().unwrap_or(0));
    (major, minor) >= (0, 18)
}

/// The server of `--server` or `--to`, when one is given: a dry run reads its limits.
fn dry_run_server(global: &GlobalArgs) -> Result<Option<Mastodon>, CliError> {
    if global.server.is_none() && global.to.is_none() {
        return Ok(None);
    }
    let http = session::http(global)?;
    if let Some(server) = &global.server {
        return Ok(Some(Mastodon::new(
            http,
            session::server_url(server)?,
            None,
        )));
    }
    let target = session::target(global)?;
    Ok(Some(target.client(http)?))
}

/// What the plan collects for a preview page.
#[derive(Default)]
struct Collected {
    drafts: Vec<Draft>,
    skipped: Vec<crate::plan::preview::PreviewSkip>,
}

fn dry_run(global: &GlobalArgs, args: &ImportArgs) -> Result<u8, CliError> {
    let choices = read_choices(args)?;
    let server = dry_run_server(global)?;
    let (limits, source) = match &server {
        Some(client) => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| CliError::new(exit::FAILED, e))?;
            let instance = rt.block_on(client.instance()).map_err(|e| {
                let hint = session::network_hint(&e);
                CliError::new(exit::FAILED, e).with_hint(hint)
            })?;
            let name = if instance.domain.is_empty() {
                client.base().host_str().unwrap_or_default().to_string()
            } else {
                instance.domain.clone()
            };
            (limits_of(&instance), format!("{name}'s limits"))
        }
        None => (Limits::default(), "Mastodon's default limits".to_string()),
    };
    let options = plan_options(args, choices, limits, false);
    let (mut drafts, mut skipped) = (Vec::new(), Vec::new());
    let preview = args.preview.is_some();
    let screen_name = Archive::open(&args.input)
        .map_err(input_error)?
        .account()
        .map(|a| a.username.clone())
        .unwrap_or_else(|| "i".into());
    let report = plan_posts(
        &args.input,
        &options,
        |d| {
            if preview {
                drafts.push(d);
            }
        },
        |id, reason| {
            if preview {
                skipped.push(skip_row(&screen_name, id, reason));
            }
        },
    )
    .map_err(input_error)?;
    if let Some(path) = &args.preview {
        let collected = Collected { drafts, skipped };
        let title = format!("{} (dry run, {source})", args.input.display());
        write_preview(
            args, path, &title, &options, &report, &collected, "unlisted",
        )?;
    }
    if global.json {
        let line = serde_json::json!({"event": "summary", "dry_run": true, "plan": report});
        super::write_stdout(&format!("{line}\n"))?;
        return Ok(exit::OK);
    }
    if global.quiet {
        return Ok(exit::OK);
    }
    let mut s = format!(
        "Dry run of {} ({source}: {} characters, {} media per post):\n\n",
        args.input.display(),
        limits.max_characters,
        limits.max_media_attachments
    );
    s.push_str(&plan_lines(&report));
    s.push_str(&format!(
        "\nAt {source} ({} posts per 3 h, {} uploads per 30 min) this takes about {}.\n",
        limits.statuses_per_3h,
        limits.media_per_30min,
        human_duration((report.hours * 3600.0) as u64)
    ));
    if let Some(path) = &args.preview {
        s.push_str(&format!("Preview: {}\n", path.display()));
    }
    s.push_str("Nothing was sent.\n");
    super::write_stdout(&s)?;
    Ok(exit::OK)
}

/// The plan's figures, one line each.
fn plan_lines(report: &DryRun) -> String {
    let mut s = format!(
        "  {} tweets; {} to post as {} statuses ({} split into chains, {} with their full long text)\n",
        report.tweets,
        report.tweets_posted,
        report.statuses,
        report.split_tweets,
        report.long_tweets
    );
    let mut media = format!("  {} media files to upload", report.media);
    if report.media_described > 0 {
        media.push_str(&format!(
            ", {} with alt text from --alt-text",
            report.media_described
        ));
    }
    if report.media_missing > 0 {
        media.push_str(&format!(
            ", {} missing from the archive (posted without them)",
            report.media_missing
        ));
    }
    if report.media_left_out > 0 {
        media.push_str(&format!(
            ", {} left out (--no-media)",
            report.media_left_out
        ));
    }
    s.push_str(&media);
    s.push('\n');
    if report.orphans > 0 {
        s.push_str(&format!(
            "  {} replies posted on their own (the tweet they answer is not posted)\n",
            report.orphans
        ));
    }
    for (reason, n) in &report.skipped {
        s.push_str(&format!("  skipped: {n} {reason}\n"));
    }
    s
}

fn skip_row(
    screen_name: &str,
    id: Id,
    reason: &crate::plan::select::SkipReason,
) -> crate::plan::preview::PreviewSkip {
    crate::plan::preview::PreviewSkip {
        tweet: id,
        url: crate::plan::text::tweet_url(screen_name, id),
        reason: reason.text(),
    }
}

/// Writes the preview page, with media read from the archive.
fn write_preview(
    args: &ImportArgs,
    path: &Path,
    title: &str,
    options: &PlanOptions,
    report: &DryRun,
    collected: &Collected,
    visibility: &str,
) -> Result<(), CliError> {
    use crate::plan::preview::{PreviewInput, write_preview as render};
    use std::io::Read;
    let mut archive = Archive::open(&args.input).map_err(input_error)?;
    let input = PreviewInput {
        title: title.to_string(),
        limits: options.limits,
        summary: report,
        drafts: &collected.drafts,
        skipped: &collected.skipped,
        visibility,
    };
    let mut page = Vec::new();
    let mut media = |file: &str| -> Option<Vec<u8>> {
        let mut reader = archive.container_mut().open_file(file).ok()?;
        let mut bytes = Vec::new();
        (&mut reader)
            .take(64 * 1024 * 1024)
            .read_to_end(&mut bytes)
            .ok()?;
        Some(bytes)
    };
    render(&mut page, &input, &mut media).map_err(|e| CliError::new(exit::FAILED, e))?;
    write_file(path, &page)
}

/// `import archive.zip`: plan the posts into the journal, then post them in order.
fn post(global: &GlobalArgs, args: &ImportArgs) -> Result<u8, CliError> {
    let choices = read_choices(args)?;
    let mut archive = Archive::open(&args.input).map_err(input_error)?;
    let fingerprint = format!(
        "archive:{}:{}",
        archive
            .account()
            .map(|a| a.account_id.to_string())
            .unwrap_or_default(),
        archive.generated_at().unwrap_or_default()
    );
    let screen_name = archive
        .account()
        .map(|a| a.username.clone())
        .unwrap_or_else(|| "i".into());
    let target = session::target(global)?;
    let http = session::http(global)?;
    let client = target.client(http)?;
    let dir = state_dir(global.state_dir.as_deref()).map_err(|e| CliError::new(exit::USAGE, e))?;
    let mut journal = Journal::open(&dir).map_err(|e| CliError::new(exit::FAILED, e))?;
    let mut renderer = Renderer::new(global);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::new(exit::FAILED, e))?;
    let journal_error = |e| CliError::new(exit::FAILED, e);
    let result = rt.block_on(async {
        let me = session::with_retries(|| client.verify_credentials())
            .await
            .map_err(|e| session::net_error(e, &target))?;
        let instance = match session::with_retries(|| client.instance()).await {
            Ok(i) => i,
            Err(e) => {
                renderer.emit(Event::Note {
                    level: Level::Warning,
                    text: format!(
                        "could not read the server's limits ({e}); planning with Mastodon's defaults"
                    ),
                });
                crate::net::mastodon::InstanceInfo::default()
            }
        };
        let software = client.software(&instance).await;
        let backdate = can_backdate(&software) && !args.no_backdate;
        let domain = if instance.domain.is_empty() {
            client.base().host_str().unwrap_or_default().to_string()
        } else {
            instance.domain.clone()
        };
        let account = format!("{}@{}", me.username, domain);
        let options = plan_options(args, choices, limits_of(&instance), backdate);
        if backdate && args.mention_map.is_some() {
            renderer.emit(Event::Note {
                level: Level::Warning,
                text: "--mention-map is not used: posts backdated on GoToSocial may not mention anyone (--no-backdate posts them now, with mentions)".into(),
            });
        }
        let (run_id, resumed) = journal
            .run(&account, &fingerprint, "posts", &args.input.display().to_string())
            .map_err(journal_error)?;

        // Plan into the journal, a batch at a time.
        let mut batch: Vec<(String, i64, String)> = Vec::new();
        let mut planned: HashSet<u64> = HashSet::new();
        let (mut drafts, mut skipped) = (Vec::new(), Vec::new());
        let preview = args.preview.is_some();
        let mut failure = None;
        let plan = plan_posts(
            &args.input,
            &options,
            |d| {
                planned.insert(d.tweet.0);
                if preview {
                    drafts.push(d.clone());
                }
                let key = item_key(&d);
                let order = d.order as i64;
                let payload = serde_json::to_string(&PostState::new(d)).expect("serializable");
                batch.push((key, order, payload));
                if batch.len() >= BATCH && failure.is_none() {
                    let items = batch.iter().map(|(k, o, p)| (k.as_str(), *o, p.as_str()));
                    if let Err(e) = journal.plan_items(run_id, items) {
                        failure = Some(e);
                    }
                    batch.clear();
                }
            },
            |id, reason| {
                if preview {
                    skipped.push(skip_row(&screen_name, id, reason));
                }
            },
        )
        .map_err(input_error)?;
        let collected = Collected { drafts, skipped };
        if let Some(e) = failure {
            return Err(journal_error(e));
        }
        journal
            .plan_items(run_id, batch.iter().map(|(k, o, p)| (k.as_str(), *o, p.as_str())))
            .map_err(journal_error)?;
        drop(batch);
        let keep = |key: &str| {
            key.strip_prefix("tweet:")
                .and_then(|id| id.parse::<u64>().ok())
                .is_some_and(|id| planned.contains(&id))
        };
        let dropped = journal
            .drop_unplanned(run_id, &keep, "not selected by this run's options")
            .map_err(journal_error)?;
        drop(planned);
        if let Some(path) = &args.preview {
            let title = format!("{} → {account}", args.input.display());
            write_preview(
                args,
                path,
                &title,
                &options,
                &plan,
                &collected,
                args.visibility.as_str(),
            )?;
            renderer.emit(Event::Note {
                level: Level::Info,
                text: format!("preview: {}", path.display()),
            });
        }
        drop(collected);
        let mut text = format!(
            "{}plan: {} tweets to post as {} statuses, {} media files: at this server's limits about {}",
            if resumed { "continuing: " } else { "" },
            plan.tweets_posted,
            plan.statuses,
            plan.media,
            human_duration((plan.hours * 3600.0) as u64)
        );
        if dropped > 0 {
            text.push_str(&format!(
                "; {dropped} tweets planned by an earlier run are left out by this one's options"
            ));
        }
        renderer.emit(Event::Note {
            level: Level::Info,
            text,
        });
        if backdate {
            renderer.emit(Event::Note {
                level: Level::Info,
                text: format!(
                    "{} {} can backdate: each post gets its tweet's date (--no-backdate posts them now)",
                    software.name, software.version
                ),
            });
        }
        let mut gates = Gates::new(Arc::new(SystemClock));
        for family in [Family::Api, Family::Statuses, Family::Media] {
            if let Ok(Some(g)) = journal.gate(&account, family.name()) {
                gates.restore(family, g.limit, g.remaining, g.reset);
            }
        }
        let mut run = PostRun {
            client: &client,
            journal: &mut journal,
            pacer: crate::run::pacer::Pacer {
                client: &client,
                gates: &mut gates,
                no_wait: args.no_wait,
                requests: 0,
            },
            sink: &mut renderer,
            archive: &mut archive,
            run_id,
            account: account.clone(),
            account_id: me.id.clone(),
            visibility: args.visibility.as_str().to_string(),
            instance,
            backdate,
        };
        let outcome = tokio::select! {
            r = run.run() => r,
            _ = tokio::signal::ctrl_c() => Err(PostError::Interrupted),
        };
        let _ = run.pacer.save(run.journal, &account);
        write_reports(args, &journal, run_id)?;
        let items = journal.items(run_id, None).map_err(journal_error)?;
        let count = |st: ItemState| items.iter().filter(|i| i.state == st).count();
        let (done, failed) = (count(ItemState::Done), count(ItemState::Failed));
        let pending = count(ItemState::Pending) + count(ItemState::Sending);
        let left_out = count(ItemState::Skipped);
        renderer.emit(Event::Summary(serde_json::json!({
            "input": args.input,
            "account": account,
            "posts": items.len() - left_out,
            "done": done,
            "failed": failed,
            "pending": pending,
            "left_out": left_out,
            "skipped": plan.skipped,
            "backdated": backdate,
            "completed": outcome.is_ok() && pending == 0,
        })));
        if !global.json && !global.quiet {
            eprintln!(
                "\n{} tweets: {done} posted, {failed} failed{}. Report: {}",
                items.len() - left_out,
                if pending > 0 {
                    format!(", {pending} still to post")
                } else {
                    String::new()
                },
                output_path(&args.input, args.out_dir.as_deref(), "import-report.csv").display()
            );
        }
        match outcome {
            Ok(()) => Ok(exit::OK),
            Err(PostError::Interrupted) => Err(CliError::new(
                exit::STOPPED,
                anyhow::anyhow!("stopped by Ctrl-C"),
            )
            .with_hint(Some(
                "run the same command again to continue where it stopped".into(),
            ))),
            Err(PostError::RateWindow { family, until }) => Err(CliError::new(
                exit::STOPPED,
                anyhow::anyhow!(
                    "stopped at the {family} rate window, which reopens at {}",
                    until.format("%Y-%m-%d %H:%M UTC")
                ),
            )
            .with_hint(Some("run the same command again then".into()))),
            Err(PostError::Unavailable(e)) => Err(CliError::new(
                exit::STOPPED,
                anyhow::Error::new(e).context("stopped: the server kept failing"),
            )
            .with_hint(Some(
                "run the same command again later to continue where it stopped (nothing is posted twice)".into(),
            ))),
            Err(PostError::Unauthorized(e)) => Err(session::net_error(e, &target)),
            Err(PostError::Journal(e)) => Err(journal_error(e)),
        }
    });
    renderer.finish();
    result
}

/// `<name>.import-report.csv` and `.json`: each tweet, the status URLs it became or why not.
fn write_reports(args: &ImportArgs, journal: &Journal, run_id: i64) -> Result<(), CliError> {
    let items = journal
        .items(run_id, None)
        .map_err(|e| CliError::new(exit::FAILED, e))?;
    let mut csv_out = csv::Writer::from_writer(Vec::new());
    let _ = csv_out.write_record(["tweet_id", "tweet_url", "outcome", "status_urls", "notes"]);
    let mut json = Vec::new();
    for i in &items {
        let Ok(state) = serde_json::from_str::<PostState>(&i.payload) else {
            continue;
        };
        let urls: Vec<String> = state
            .statuses
            .iter()
            .flatten()
            .filter_map(|(_, u)| u.clone())
            .collect();
        let mut notes = state.notes.clone();
        if matches!(i.state, ItemState::Failed | ItemState::Skipped)
            && let Some(r) = &i.reason
        {
            notes.push(r.clone());
        }
        for (i, kind) in state.draft.missing.iter().enumerate() {
            notes.push(
                match state.draft.missing_files.get(i).filter(|f| !f.is_empty()) {
                    Some(file) => format!("the {kind} data/{file} is missing from the archive"),
                    None => format!("a {kind} is missing from the archive"),
                },
            );
        }
        let _ = csv_out.write_record([
            state.draft.tweet.to_string().as_str(),
            &state.draft.url,
            i.state.as_str(),
            &urls.join(" "),
            &notes.join("; "),
        ]);
        json.push(serde_json::json!({
            "tweet_id": state.draft.tweet.to_string(),
            "tweet_url": state.draft.url,
            "outcome": i.state.as_str(),
            "status_urls": urls,
            "notes": notes,
        }));
    }
    write_file(
        &output_path(&args.input, args.out_dir.as_deref(), "import-report.csv"),
        &csv_out
            .into_inner()
            .map_err(|e| CliError::new(exit::FAILED, e.into_error()))?,
    )?;
    write_file(
        &output_path(&args.input, args.out_dir.as_deref(), "import-report.json"),
        serde_json::to_string_pretty(&json)
            .expect("serializable")
            .as_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::mastodon::detect_software;

    #[test]
    fn backdating_needs_gotosocial_0_18() {
        assert!(can_backdate(&detect_software(Some("gotosocial"), "0.18.0")));
        assert!(can_backdate(&detect_software(
            Some("gotosocial"),
            "0.19.1+git-abc123"
        )));
        assert!(can_backdate(&detect_software(Some("gotosocial"), "1.0.0")));
        assert!(!can_backdate(&detect_software(
            Some("gotosocial"),
            "0.17.3"
        )));
        assert!(!can_backdate(&detect_software(Some("mastodon"), "4.3.0")));
        assert!(!can_backdate(&detect_software(Some("gotosocial"), "")));
    }
}
