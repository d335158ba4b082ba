//! `migrate inspect <archive>`: a readable summary, or one JSON object with `--json`.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::Args;

use crate::source::twitter::inspect::{Inspection, inspect};

use super::{CliError, GlobalArgs, exit, write_stdout};

/// Problems listed in the human summary before "and N more" (`-v` lists all).
const PROBLEMS_SHOWN: usize = 20;

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The Twitter/X archive: the `.zip` as downloaded, or the folder it extracts to
    pub input: PathBuf,
}

pub fn run(global: &GlobalArgs, args: InspectArgs) -> Result<u8, CliError> {
    let report = inspect(&args.input).map_err(|e| {
        let hint = e.hint();
        CliError::new(exit::USAGE, e).with_hint(hint)
    })?;
    let text = if global.json {
        let mut s = serde_json::to_string(&report).map_err(|e| CliError::new(exit::FAILED, e))?;
        s.push('\n');
        s
    } else if global.quiet {
        String::new()
    } else {
        render(&args.input, &report, global.verbose > 0)
    };
    write_stdout(&text)?;
    Ok(exit::OK)
}

/// The human summary.
pub fn render(input: &std::path::Path, r: &Inspection, all_problems: bool) -> String {
    let mut s = String::new();
    let t = &r.tweets;
    let _ = write!(s, "Archive    {}", input.display());
    if let Some(g) = &r.generated_at {
        let _ = write!(s, " (generated {g})");
    }
    s.push('\n');
    let a = &r.account;
    let _ = writeln!(
        s,
        "Account    {}{}{}",
        a.username
            .as_deref()
            .map(|u| format!("@{u}"))
            .unwrap_or_else(|| "(unknown)".into()),
        a.display_name
            .as_deref()
            .map(|d| format!(" \u{201c}{d}\u{201d}"))
            .unwrap_or_default(),
        a.id.as_deref()
            .map(|i| format!(" (id {i})"))
            .unwrap_or_default(),
    );
    s.push('\n');
    let _ = write!(s, "Tweets     {}", n(t.total));
    if let (Some(first), Some(last)) = (&r.dates.first, &r.dates.last) {
        let _ = write!(s, ", from {} to {}", day(first), day(last));
    }
    s.push('\n');
    let rows: [(&str, u64, String); 7] = [
        ("original", t.original, String::new()),
        (
            "self-replies",
            t.self_replies,
            format!(
                "in {}, the longest {}",
                count(r.threads.count, "thread", "threads"),
                count(r.threads.longest, "tweet", "tweets")
            ),
        ),
        ("replies to others", t.replies, String::new()),
        ("retweets", t.retweets, String::new()),
        ("quotes", t.quotes, "among the above".into()),
        ("long (note) tweets", t.long, "full text joined".into()),
        ("community tweets", t.community, "among the above".into()),
    ];
    for (label, value, note) in rows {
        let _ = write!(s, "  {label:<20}{:>9}", n(value));
        if !note.is_empty() {
            let _ = write!(s, "   {note}");
        }
        s.push('\n');
    }
    let _ = writeln!(
        s,
        "  not counted: {} of edited tweets, {}",
        count(t.edited_versions_dropped, "older version", "older versions"),
        count(t.deleted_excluded, "deleted tweet", "deleted tweets")
    );
    s.push('\n');
    let m = &r.media;
    let _ = writeln!(
        s,
        "Media      {}, {}, {}; {} missing",
        count(m.photo, "photo", "photos"),
        count(m.video, "video", "videos"),
        count(m.animated_gif, "GIF", "GIFs"),
        count(m.missing, "file", "files")
    );
    let g = &r.graph;
    let _ = writeln!(
        s,
        "Graph      following {}, followers {}, blocks {}, mutes {} (account ids only)",
        n(g.following),
        n(g.followers),
        n(g.blocks),
        n(g.mutes)
    );
    let total_problems = r.problems.len() as u64 + r.problems_not_listed;
    if total_problems == 0 {
        s.push_str("\nNo problems found.\n");
    } else {
        let _ = writeln!(s, "\nProblems ({})", n(total_problems));
        let shown = if all_problems {
            r.problems.len()
        } else {
            PROBLEMS_SHOWN.min(r.problems.len())
        };
        for p in &r.problems[..shown] {
            let _ = writeln!(s, "  {}: {}", p.file, p.message);
        }
        let rest = total_problems - shown as u64;
        if rest > 0 {
            let _ = writeln!(s, "  … and {} more (`-v` or `--json` lists them)", n(rest));
        }
    }
    s
}

/// `1234567` → `1,234,567`.
fn n(v: u64) -> String {
    let digits = v.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `1 photo`, `2 photos`.
fn count(v: u64, one: &str, many: &str) -> String {
    format!("{} {}", n(v), if v == 1 { one } else { many })
}

/// The date part of an RFC 3339 timestamp.
fn day(ts: &str) -> &str {
    ts.get(..10).unwrap_or(ts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands() {
        assert_eq!(n(0), "0");
        assert_eq!(n(999), "999");
        assert_eq!(n(1000), "1,000");
        assert_eq!(n(1234567), "1,234,567");
    }
}
