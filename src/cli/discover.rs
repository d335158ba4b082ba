//! `migrate discover <archive>`: the fediverse accounts a Twitter/X archive mentions, verified
//! through WebFinger, as a follow list that `migrate import` and Mastodon's web import take
//! (issue 6).
//!
//! The archive is read by [`crate::source::discover`]; every candidate is then looked up with
//! the shared WebFinger resolver and its journal cache ([`super::lookup`]). Each candidate gets
//! one verdict, in this order:
//! - `own_account`: in the user's profile, named like the user's Twitter account, one of the
//!   accounts `migrate` acts for (`--to`, `--server` with its token, accounts stored by
//!   `migrate login`), or the same account as any of these once canonical. Never followed:
//!   following oneself is at best noise, and an old account may have moved to the new one.
//! - `not_verified`: WebFinger did not confirm an ActivityPub account (no such account, gone,
//!   not ActivityPub, or the host did not answer — reported, and asked again on the next run).
//! - `duplicate`: the same account (canonical handle) as a candidate listed before it.
//! - `follow`: written to `<name>.discovered.csv`, under its canonical handle.
//!
//! Candidates are listed sorted by handle, so the same archive always gives the same files.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use crate::net::http::Http;
use crate::net::mastodon::Mastodon;
use crate::net::webfinger::{Outcome, Resolution};
use crate::run::events::{Event, Level, Sink};
use crate::source::discover::{Candidate, Discovery, Options, Own, Read, discover};
use crate::source::handle::Handle;
use crate::source::mastodon_csv::{Entry, Follow, ListKind, write_csv};
use crate::source::twitter::Archive;

use super::graph_input::{self, output_path, write_file};
use super::render::Renderer;
use super::{CliError, GlobalArgs, exit, lookup, session, write_stdout};

/// Archive problems listed as warnings before "and N more".
const PROBLEMS_SHOWN: usize = 10;

#[derive(Debug, Args)]
pub struct DiscoverArgs {
    /// The Twitter/X archive: the `.zip` as downloaded, or the folder it extracts to
    pub input: PathBuf,

    /// Where to write the results [default: next to the input]
    #[arg(short = 'o', long = "output-dir", value_name = "DIR")]
    pub out_dir: Option<PathBuf>,

    /// Read the direct messages too (private, so off unless asked)
    #[arg(long)]
    pub include_dms: bool,

    /// WebFinger lookups in flight at once
    #[arg(long, default_value_t = 16, value_name = "N")]
    pub concurrency: usize,

    /// WebFinger lookups in flight at once on one host
    #[arg(long, default_value_t = 2, value_name = "N")]
    pub per_host: usize,
}

/// Why a candidate is the user's own account.
#[derive(Debug, Clone, PartialEq, Eq)]
enum OwnWhy {
    /// In the profile, or named like the Twitter account (from the archive).
    Archive(Own),
    /// An account `migrate` acts for.
    Target,
    /// The same account as one of the above, under another address.
    SameAs(String),
}

/// What becomes of a candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Verdict {
    Follow(Handle),
    Duplicate(Handle),
    Own(OwnWhy),
    NotVerified,
}

impl Verdict {
    fn as_str(&self) -> &'static str {
        match self {
            Verdict::Follow(_) => "follow",
            Verdict::Duplicate(_) => "duplicate",
            Verdict::Own(_) => "own_account",
            Verdict::NotVerified => "not_verified",
        }
    }
}

pub fn run(global: &GlobalArgs, args: DiscoverArgs) -> Result<u8, CliError> {
    let input_error = |e: crate::source::twitter::ArchiveError| {
        let hint = e.hint();
        CliError::new(exit::USAGE, e).with_hint(hint)
    };
    let mut archive = Archive::open(&args.input).map_err(input_error)?;
    let Discovery {
        mut candidates,
        read,
    } = discover(
        &mut archive,
        &Options {
            include_dms: args.include_dms,
        },
    )
    .map_err(input_error)?;
    candidates.sort_by(|a, b| a.handle.cmp(&b.handle));

    let mut renderer = Renderer::new(global);
    let problems = archive.problems();
    for p in problems.iter().take(PROBLEMS_SHOWN) {
        renderer.emit(Event::Note {
            level: Level::Warning,
            text: format!("{}: {}", p.file, p.message),
        });
    }
    let more = (problems.len().saturating_sub(PROBLEMS_SHOWN)) as u64 + archive.problems_dropped();
    if more > 0 {
        renderer.emit(Event::Note {
            level: Level::Warning,
            text: format!("… and {more} more problems (`migrate inspect` lists them)"),
        });
    }

    let http = session::http(global)?;
    let rt = lookup::runtime()?;
    let targets = own_accounts(global, &http, &rt, &mut renderer);
    let resolver = graph_input::resolver(http, args.concurrency.max(1), args.per_host.max(1));
    let journal = lookup::journal(global);
    renderer.emit(Event::Phase {
        phase: "verify".into(),
        total: candidates.len() as u64,
    });
    let lookups = lookup::lookup_all(
        &rt,
        &resolver,
        journal.as_ref(),
        candidates.iter().map(|c| c.handle.clone()),
        |done, total| {
            renderer.emit(Event::Progress {
                phase: "verify".into(),
                done,
                total,
            })
        },
    );
    let results = &lookups.results;
    let verdicts = decide(&candidates, results, &targets);

    let follows: Vec<Entry> = verdicts
        .iter()
        .filter_map(|v| match v {
            Verdict::Follow(h) => Some(Entry::Follow(Follow {
                handle: h.clone(),
                // Mastodon's own defaults, written out as its export does.
                reblogs: Some(true),
                notify: Some(false),
                languages: None,
            })),
            _ => None,
        })
        .collect();
    let mut csv_bytes = Vec::new();
    write_csv(ListKind::Follows, &follows, &mut csv_bytes)
        .map_err(|e| CliError::new(exit::FAILED, e))?;
    let discovered_path = output_path(&args.input, args.out_dir.as_deref(), "discovered.csv");
    let report_path = output_path(&args.input, args.out_dir.as_deref(), "discover-report.csv");
    write_file(&discovered_path, &csv_bytes)?;
    write_file(&report_path, &report(&candidates, results, &verdicts)?)?;

    for (c, v) in candidates.iter().zip(&verdicts) {
        renderer.emit(Event::Item {
            key: c.handle.to_string(),
            outcome: v.as_str().into(),
            reason: Some(reason(c, &results[&c.handle], v)).filter(|r| !r.is_empty()),
        });
    }
    let counts = Counts::of(&candidates, results, &verdicts);
    // `Event::Summary` adds the `"event": "summary"` tag itself.
    renderer.emit(Event::Summary(json!({
        "input": args.input,
        "read": read,
        "candidates": candidates.len(),
        "verified": counts.verified,
        "from_cache": lookups.from_cache,
        "to_follow": follows.len(),
        "servers": counts.servers,
        "followed_on_twitter": counts.followed_on_twitter,
        "own_accounts": counts.own,
        "duplicates": counts.duplicates,
        "not_verified": counts.not_verified,
        "unreachable_hosts": counts.unreachable_hosts,
        "problems": problems.len() as u64 + archive.problems_dropped(),
        "discovered_csv": discovered_path,
        "report_csv": report_path,
    })));
    renderer.finish();
    if !global.json && !global.quiet {
        let mut s = reading(&args.input, &read);
        s.push('\n');
        s.push_str(&counts.render(candidates.len(), lookups.from_cache));
        s.push_str(&format!(
            "\nWrote {} ({} to follow: review it, then `migrate import {}`)\nand {} (every candidate, where it was found, and why).\n",
            discovered_path.display(),
            plural(follows.len(), "account", "accounts"),
            discovered_path.display(),
            report_path.display()
        ));
        write_stdout(&s)?;
    }
    Ok(exit::OK)
}

/// The accounts `migrate` acts for: `--to`, the stored accounts, and the owner of the
/// `--server` token (asked to the server; a failure is only a warning).
fn own_accounts(
    global: &GlobalArgs,
    http: &Http,
    rt: &tokio::runtime::Runtime,
    sink: &mut impl Sink,
) -> Vec<Handle> {
    let mut own: Vec<Handle> = global
        .to
        .iter()
        .filter_map(|to| Handle::parse(to).ok())
        .collect();
    if let Ok(Ok(stored)) = session::store(global).map(|s| s.list()) {
        own.extend(
            stored
                .into_iter()
                .flatten()
                .filter_map(|a| Handle::parse(&a.account).ok()),
        );
    }
    if let (Some(server), Some(token)) = (&global.server, &global.token)
        && let Ok(base) = session::server_url(server)
    {
        let client = Mastodon::new(http.clone(), base.clone(), Some(token.expose().into()));
        match rt.block_on(client.verify_credentials()) {
            Ok(me) => {
                let host = match base.port() {
                    Some(p) => format!("{}:{p}", base.host_str().unwrap_or_default()),
                    None => base.host_str().unwrap_or_default().to_string(),
                };
                let acct = if me.acct.contains('@') {
                    me.acct.clone()
                } else {
                    format!("{}@{host}", me.acct)
                };
                own.extend(Handle::parse(&acct).ok());
                own.extend(me.url.as_deref().and_then(|u| Handle::parse(u).ok()));
            }
            Err(e) => sink.emit(Event::Note {
                level: Level::Warning,
                text: format!(
                    "could not ask {} whose the token is ({e}); your own account there may be \
                     listed as one to follow",
                    base.host_str().unwrap_or_default()
                ),
            }),
        }
    }
    own
}

/// The canonical handle of a verified candidate.
fn canonical(c: &Candidate, r: &Resolution) -> Option<Handle> {
    (r.outcome == Outcome::Found).then(|| {
        r.canonical
            .as_deref()
            .and_then(|s| Handle::parse(s).ok())
            .unwrap_or_else(|| c.handle.clone())
    })
}

/// One verdict per candidate (see the module doc), in the candidates' order.
fn decide(
    candidates: &[Candidate],
    results: &std::collections::HashMap<Handle, Resolution>,
    targets: &[Handle],
) -> Vec<Verdict> {
    // Every address known to be the user's: as written and canonical.
    let mut own: Vec<(Handle, String)> =
        targets.iter().map(|t| (t.clone(), t.to_string())).collect();
    for c in candidates.iter().filter(|c| c.own.is_some()) {
        let name = c.handle.to_string();
        own.push((c.handle.clone(), name.clone()));
        own.extend(canonical(c, &results[&c.handle]).map(|h| (h, name)));
    }
    let mut followed: HashSet<Handle> = HashSet::new();
    candidates
        .iter()
        .map(|c| {
            let r = &results[&c.handle];
            let canonical = canonical(c, r);
            if let Some(why) = c.own {
                return Verdict::Own(OwnWhy::Archive(why));
            }
            let same = |h: &Handle| own.iter().find(|(o, _)| o == h);
            if let Some((_, name)) = same(&c.handle).or_else(|| canonical.as_ref().and_then(same)) {
                return Verdict::Own(if targets.iter().any(|t| t.to_string() == *name) {
                    OwnWhy::Target
                } else {
                    OwnWhy::SameAs(name.clone())
                });
            }
            match canonical {
                None => Verdict::NotVerified,
                Some(h) if !followed.insert(h.clone()) => Verdict::Duplicate(h),
                Some(h) => Verdict::Follow(h),
            }
        })
        .collect()
}

/// The report's words for a verdict.
fn reason(c: &Candidate, r: &Resolution, v: &Verdict) -> String {
    match v {
        Verdict::Follow(_) => match &r.canonical {
            Some(canonical) if !canonical.eq_ignore_ascii_case(&c.handle.ascii()) => {
                r.reason.clone()
            }
            _ => String::new(),
        },
        Verdict::Duplicate(h) => format!("the same account as {h}, listed once"),
        Verdict::Own(OwnWhy::Archive(Own::Profile)) => "in your Twitter profile".into(),
        Verdict::Own(OwnWhy::Archive(Own::TwitterName)) => "named like your Twitter account".into(),
        Verdict::Own(OwnWhy::Target) => "an account migrate acts for".into(),
        Verdict::Own(OwnWhy::SameAs(name)) => format!("the same account as your {name}"),
        Verdict::NotVerified => r.reason.clone(),
    }
}

/// `<name>.discover-report.csv`: one row per candidate.
fn report(
    candidates: &[Candidate],
    results: &std::collections::HashMap<Handle, Resolution>,
    verdicts: &[Verdict],
) -> Result<Vec<u8>, CliError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| CliError::new(exit::FAILED, e);
    w.write_record([
        "handle",
        "decision",
        "reason",
        "canonical_handle",
        "webfinger",
        "actor_url",
        "found_in",
        "file",
        "item_id",
        "written_as",
        "occurrences",
        "context",
        "twitter_account",
        "twitter_user_id",
        "twitter_link",
        "followed_on_twitter",
    ])
    .map_err(fail)?;
    for (c, v) in candidates.iter().zip(verdicts) {
        let r = &results[&c.handle];
        let t = c.twitter.as_ref();
        w.write_record([
            c.handle.to_string().as_str(),
            v.as_str(),
            &reason(c, r, v),
            &canonical(c, r).map(|h| h.to_string()).unwrap_or_default(),
            r.outcome.as_str(),
            r.actor.as_deref().unwrap_or_default(),
            c.first.place.as_str(),
            &c.first.file,
            c.first.item.as_deref().unwrap_or_default(),
            c.first.form.as_str(),
            &c.occurrences.to_string(),
            &c.first.context,
            &t.and_then(|t| t.screen_name.as_deref())
                .map(|s| format!("@{s}"))
                .unwrap_or_default(),
            &t.and_then(|t| t.user_id)
                .map(|i| i.to_string())
                .unwrap_or_default(),
            t.map(|t| t.via.as_str()).unwrap_or_default(),
            match t.and_then(|t| t.followed) {
                Some(true) => "yes",
                Some(false) => "no",
                None => "",
            },
        ])
        .map_err(fail)?;
    }
    w.into_inner()
        .map_err(|e| CliError::new(exit::FAILED, e.into_error()))
}

/// The figures of the summary.
#[derive(Debug, Default, PartialEq, Eq)]
struct Counts {
    verified: u64,
    follow: u64,
    servers: u64,
    followed_on_twitter: u64,
    own: u64,
    duplicates: u64,
    not_verified: BTreeMap<&'static str, u64>,
    unreachable_hosts: BTreeSet<String>,
}

impl Counts {
    fn of(
        candidates: &[Candidate],
        results: &std::collections::HashMap<Handle, Resolution>,
        verdicts: &[Verdict],
    ) -> Counts {
        let mut n = Counts::default();
        let mut servers = HashSet::new();
        for (c, v) in candidates.iter().zip(verdicts) {
            let r = &results[&c.handle];
            if r.outcome == Outcome::Found {
                n.verified += 1;
            }
            if r.outcome.is_transient() {
                n.unreachable_hosts.insert(c.handle.host());
            }
            match v {
                Verdict::Follow(h) => {
                    n.follow += 1;
                    servers.insert(h.host());
                    if c.twitter.as_ref().and_then(|t| t.followed) == Some(true) {
                        n.followed_on_twitter += 1;
                    }
                }
                Verdict::Duplicate(_) => n.duplicates += 1,
                Verdict::Own(_) => n.own += 1,
                Verdict::NotVerified => {
                    *n.not_verified.entry(r.outcome.as_str()).or_default() += 1;
                }
            }
        }
        n.servers = servers.len() as u64;
        n
    }

    fn render(&self, candidates: usize, from_cache: usize) -> String {
        let mut s = format!(
            "{} found, {} verified through WebFinger ({} from the cache)\n",
            plural(candidates, "candidate account", "candidate accounts"),
            self.verified,
            from_cache
        );
        s.push_str(&format!(
            "  {:>4} to follow, on {} ({} of them you followed on Twitter)\n",
            self.follow,
            plural(self.servers as usize, "server", "servers"),
            self.followed_on_twitter
        ));
        if self.own > 0 {
            let what = if self.own == 1 {
                "is your own account"
            } else {
                "are your own accounts"
            };
            s.push_str(&format!("  {:>4} {what}, left out\n", self.own));
        }
        if self.duplicates > 0 {
            s.push_str(&format!(
                "  {:>4} the same account as another candidate, listed once\n",
                self.duplicates
            ));
        }
        let not_verified: u64 = self.not_verified.values().sum();
        if not_verified > 0 {
            let by: Vec<String> = self
                .not_verified
                .iter()
                .map(|(outcome, n)| format!("{n} {}", outcome.replace('_', " ")))
                .collect();
            s.push_str(&format!(
                "  {not_verified:>4} not verified: {}\n",
                by.join(", ")
            ));
        }
        if !self.unreachable_hosts.is_empty() {
            s.push_str(&format!(
                "Servers that did not answer: {} (run the command again later to ask them again)\n",
                self.unreachable_hosts
                    .iter()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        s
    }
}

/// What was read, in one line.
fn reading(input: &std::path::Path, read: &Read) -> String {
    let mut parts = vec![
        // Entries, not tweets: each version of an edited tweet is read (and counted) apart.
        plural(read.tweets as usize, "tweet entry", "tweet entries"),
        plural(read.long_tweets as usize, "long tweet", "long tweets"),
    ];
    parts.push(match read.likes {
        Some(n) => plural(n as usize, "like", "likes"),
        None => "no like.js".into(),
    });
    parts.push(if read.profile {
        "the profile".into()
    } else {
        "no profile.js".into()
    });
    parts.push(match read.direct_messages {
        Some(n) => plural(n as usize, "direct message", "direct messages"),
        None if read.has_direct_messages => {
            "not the direct messages (--include-dms reads them)".into()
        }
        None => "no direct messages".into(),
    });
    parts.push(match read.following {
        Some(n) => format!(
            "{} followed on Twitter",
            plural(n as usize, "account", "accounts")
        ),
        None => "no following.js (who you followed is unknown)".into(),
    });
    format!("Read {}: {}.\n", input.display(), parts.join(", "))
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::source::discover::{Form, Occurrence, Place, TwitterLink, Via};

    fn candidate(handle: &str, own: Option<Own>, followed: Option<bool>) -> Candidate {
        Candidate {
            handle: Handle::parse(handle).unwrap(),
            first: Occurrence {
                place: Place::Tweet,
                file: "data/tweets.js".into(),
                item: Some("1".into()),
                context: String::new(),
                form: Form::Handle,
            },
            occurrences: 1,
            twitter: followed.map(|f| TwitterLink {
                screen_name: Some("x".into()),
                user_id: Some(1),
                via: Via::Mentioned,
                followed: Some(f),
            }),
            own,
        }
    }

    fn found(handle: &str, canonical: &str) -> Resolution {
        Resolution {
            handle: handle.into(),
            outcome: Outcome::Found,
            canonical: Some(canonical.into()),
            actor: Some(format!("https://example/{canonical}")),
            reason: "found".into(),
        }
    }

    fn failed(handle: &str, outcome: Outcome) -> Resolution {
        Resolution {
            handle: handle.into(),
            outcome,
            canonical: None,
            actor: None,
            reason: "why".into(),
        }
    }

    #[test]
    fn verdicts() {
        let candidates = vec![
            candidate("ana@a.example", None, Some(true)),
            candidate("ana@old.example", None, Some(false)),
            candidate("bio@me.example", Some(Own::Profile), None),
            candidate("ghost@a.example", None, None),
            candidate("me@moved.example", None, None),
            candidate("new@target.example", None, None),
            candidate("x@down.example", None, None),
            candidate("zed@b.example", None, None),
        ];
        let results: HashMap<Handle, Resolution> = [
            found("ana@a.example", "ana@a.example"),
            // Moved: the canonical answer is the first one.
            found("ana@old.example", "ana@a.example"),
            found("bio@me.example", "bio@me.example"),
            failed("ghost@a.example", Outcome::NotFound),
            // The old address of the account in the profile.
            found("me@moved.example", "bio@me.example"),
            found("new@target.example", "New@target.example"),
            failed("x@down.example", Outcome::HostUnreachable),
            found("zed@b.example", "zed@b.example"),
        ]
        .into_iter()
        .map(|r| (Handle::parse(&r.handle).unwrap(), r))
        .collect();
        let targets = vec![Handle::parse("new@target.example").unwrap()];
        let v = decide(&candidates, &results, &targets);
        let h = |s: &str| Handle::parse(s).unwrap();
        assert_eq!(
            v,
            vec![
                Verdict::Follow(h("ana@a.example")),
                Verdict::Duplicate(h("ana@a.example")),
                Verdict::Own(OwnWhy::Archive(Own::Profile)),
                Verdict::NotVerified,
                Verdict::Own(OwnWhy::SameAs("bio@me.example".into())),
                Verdict::Own(OwnWhy::Target),
                Verdict::NotVerified,
                Verdict::Follow(h("zed@b.example")),
            ]
        );
        let counts = Counts::of(&candidates, &results, &v);
        assert_eq!(
            counts,
            Counts {
                verified: 6,
                follow: 2,
                servers: 2,
                followed_on_twitter: 1,
                own: 3,
                duplicates: 1,
                not_verified: [("host_unreachable", 1), ("not_found", 1)].into(),
                unreachable_hosts: ["down.example".to_string()].into(),
            }
        );
        assert_eq!(
            reason(&candidates[1], &results[&h("ana@old.example")], &v[1]),
            "the same account as ana@a.example, listed once"
        );
        assert_eq!(
            reason(&candidates[0], &results[&h("ana@a.example")], &v[0]),
            ""
        );
        let text = counts.render(8, 3);
        assert!(
            text.starts_with(
                "8 candidate accounts found, 6 verified through WebFinger (3 from the cache)"
            ),
            "{text}"
        );
        assert!(
            text.contains("2 to follow, on 2 servers (1 of them you followed on Twitter)"),
            "{text}"
        );
        assert!(text.contains("3 are your own accounts, left out"), "{text}");
        assert!(
            text.contains("2 not verified: 1 host unreachable, 1 not found"),
            "{text}"
        );
        assert!(text.contains("did not answer: down.example"), "{text}");
    }
}
