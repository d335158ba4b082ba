//! The user's files that shape an archive import: `--ids` / `--exclude-ids` (which tweets),
//! `--mention-map` (Twitter names to mention for real) and `--alt-text` (descriptions the
//! archive lacks). Parsed from text, so the CLI reads the file and these say what is wrong with
//! it, by line.

use std::collections::{HashMap, HashSet};

use crate::source::handle::Handle;
use crate::source::twitter::Id;

/// Mastodon's `MediaAttachment::MAX_DESCRIPTION_LENGTH`.
pub const MAX_DESCRIPTION: usize = 1_500;

/// A line of a user's file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ChoiceError {
    pub line: usize,
    pub message: String,
}

fn error(line: usize, message: impl Into<String>) -> ChoiceError {
    ChoiceError {
        line,
        message: message.into(),
    }
}

/// The records of a small CSV file written by hand: `#` comments and blank lines skipped,
/// fields trimmed, a BOM ignored. Yields (line number, fields).
fn records(text: &str) -> Result<Vec<(usize, Vec<String>)>, ChoiceError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line() as usize);
            error(line, format!("not a CSV line ({e})"))
        })?;
        let line = record.position().map_or(0, |p| p.line() as usize);
        let fields: Vec<String> = record.iter().map(str::to_string).collect();
        if fields.iter().all(String::is_empty) {
            continue;
        }
        out.push((line, fields));
    }
    Ok(out)
}

/// A tweet id, written as a number or as the tweet's address (`https://x.com/name/status/1`,
/// twitter.com, mobile.twitter.com, with or without a query).
pub fn tweet_id(field: &str) -> Option<Id> {
    let field = field.trim();
    let digits = if field.bytes().all(|b| b.is_ascii_digit()) {
        field
    } else {
        let url = url::Url::parse(field).ok()?;
        let host = url.host_str()?.trim_start_matches("www.");
        let host = host.trim_start_matches("mobile.");
        if !matches!(host, "twitter.com" | "x.com") {
            return None;
        }
        let mut segments = url.path_segments()?;
        segments.find(|s| *s == "status" || *s == "statuses")?;
        let digits = segments.next()?;
        return number(digits);
    };
    number(digits)
}

fn number(digits: &str) -> Option<Id> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<u64>().ok().map(Id)
}

/// `--ids FILE` / `--exclude-ids FILE`: one tweet per line (an id or its address; further
/// columns are ignored, so the import report's CSV works too). A header line is allowed.
pub fn parse_ids(text: &str) -> Result<HashSet<Id>, ChoiceError> {
    let mut ids = HashSet::new();
    for (n, (line, fields)) in records(text)?.into_iter().enumerate() {
        let first = &fields[0];
        match tweet_id(first) {
            Some(id) => {
                ids.insert(id);
            }
            None if n == 0 && !first.chars().any(|c| c.is_ascii_digit()) => {} // a header
            None => {
                return Err(error(
                    line,
                    format!("`{}` is not a tweet id or a tweet's address", clip(first)),
                ));
            }
        }
    }
    Ok(ids)
}

/// A Twitter screen name: 1–15 (older accounts: up to 20) letters, digits and underscores.
fn screen_name(field: &str) -> Option<String> {
    let name = field.trim();
    let name = name
        .strip_prefix("https://twitter.com/")
        .or_else(|| name.strip_prefix("https://x.com/"))
        .unwrap_or(name);
    let name = name.trim_start_matches('@').trim_end_matches('/');
    let ok = !name.is_empty()
        && name.len() <= 20
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    ok.then(|| name.to_ascii_lowercase())
}

/// `--mention-map FILE`: `twitter_name,fediverse_handle` per line (`@jack` or `jack`;
/// `@jack@mastodon.example`, `jack@mastodon.example` or a profile address). A header line is
/// allowed. The same Twitter name twice with different handles is an error.
pub fn parse_mention_map(text: &str) -> Result<HashMap<String, Handle>, ChoiceError> {
    let mut map: HashMap<String, Handle> = HashMap::new();
    for (n, (line, fields)) in records(text)?.into_iter().enumerate() {
        let Some(handle_field) = fields.get(1).filter(|f| !f.is_empty()) else {
            if n == 0 && fields.len() > 1 {
                continue;
            }
            return Err(error(
                line,
                "expected two columns: the Twitter name, then the fediverse handle",
            ));
        };
        let Some(name) = screen_name(&fields[0]) else {
            if n == 0 && Handle::parse(handle_field).is_err() {
                continue; // a header
            }
            return Err(error(
                line,
                format!("`{}` is not a Twitter name", clip(&fields[0])),
            ));
        };
        let handle = match Handle::parse(handle_field) {
            Ok(h) => h,
            Err(_) if n == 0 => continue, // a header such as `twitter,fediverse`
            Err(e) => {
                return Err(error(
                    line,
                    format!("`{}` is not a fediverse handle: {e}", clip(handle_field)),
                ));
            }
        };
        if let Some(before) = map.get(&name)
            && *before != handle
        {
            return Err(error(
                line,
                format!("@{name} is mapped twice: to {before} and to {handle}"),
            ));
        }
        map.insert(name, handle);
    }
    Ok(map)
}

/// `--alt-text FILE`: descriptions for media, by the file's name in the archive
/// (`1234567890-AbCdEf.jpg`, with or without its folder) or by tweet id (then for each medium
/// of that tweet without a description of its own).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AltText {
    by_file: HashMap<String, String>,
    by_tweet: HashMap<Id, String>,
}

impl AltText {
    /// The description of the medium stored as `file` (a path in the archive) of `tweet`.
    pub fn of(&self, tweet: Id, file: &str) -> Option<&str> {
        let name = file.rsplit('/').next().unwrap_or(file);
        self.by_file
            .get(name)
            .or_else(|| self.by_tweet.get(&tweet))
            .map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.by_file.len() + self.by_tweet.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

pub fn parse_alt_text(text: &str) -> Result<AltText, ChoiceError> {
    let mut alt = AltText::default();
    for (n, (line, fields)) in records(text)?.into_iter().enumerate() {
        let key = fields[0].as_str();
        let Some(description) = fields.get(1).filter(|d| !d.is_empty()) else {
            return Err(error(
                line,
                "expected two columns: a media file name or tweet id, then the description",
            ));
        };
        if fields.len() > 2 {
            return Err(error(
                line,
                "more than two columns: quote a description that contains commas",
            ));
        }
        let chars = description.chars().count();
        if chars > MAX_DESCRIPTION {
            return Err(error(
                line,
                format!(
                    "the description has {chars} characters; Mastodon takes at most {MAX_DESCRIPTION}"
                ),
            ));
        }
        if let Some(id) = tweet_id(key) {
            alt.by_tweet.insert(id, description.clone());
        } else if key.contains('.') && !key.contains("://") {
            let name = key.rsplit('/').next().unwrap_or(key);
            alt.by_file.insert(name.to_string(), description.clone());
        } else if n == 0 {
            continue; // a header such as `file,description`
        } else {
            return Err(error(
                line,
                format!(
                    "`{}` is neither a media file name (1234-AbCd.jpg) nor a tweet id",
                    clip(key)
                ),
            ));
        }
    }
    Ok(alt)
}

/// A field cut for an error message.
fn clip(s: &str) -> String {
    let mut out: String = s.chars().take(60).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_as_numbers_addresses_and_report_rows() {
        let text = "\u{feff}tweet_id,tweet_url,outcome\n\
                    # mine\n\
                    1234567890123456789,https://x.com/me/status/1234567890123456789,done\n\
                    \n\
                    https://twitter.com/me/status/42?s=20\n\
                    https://mobile.twitter.com/me/statuses/7\n";
        let ids = parse_ids(text).unwrap();
        let mut ids: Vec<u64> = ids.into_iter().map(|i| i.0).collect();
        ids.sort();
        assert_eq!(ids, vec![7, 42, 1234567890123456789]);
    }

    #[test]
    fn a_bad_id_line_is_named() {
        let e = parse_ids("1\n2\nhttps://example.com/status/3\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("example.com"), "{e}");
        let e = parse_ids("1\n99999999999999999999999\n").unwrap_err();
        assert_eq!(e.line, 2, "an id over u64 is refused, not wrapped");
        assert!(parse_ids("").unwrap().is_empty());
    }

    #[test]
    fn mention_map_forms_and_conflicts() {
        let map = parse_mention_map(
            "twitter,fediverse\n@Jack,@jack@mastodon.example\nana_b,ana@social.example\n",
        )
        .unwrap();
        assert_eq!(map.len(), 2);
        assert_eq!(map["jack"].to_string(), "jack@mastodon.example");
        assert_eq!(map["ana_b"].to_string(), "ana@social.example");
        let e = parse_mention_map("jack,@jack@a.example\nJACK,@jack@b.example\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("twice"), "{e}");
        let e = parse_mention_map("jack,@jack@a.example\nnot a name!,@x@b.example\n").unwrap_err();
        assert_eq!(e.line, 2);
        let e = parse_mention_map("jack,@jack@a.example\nbob\n").unwrap_err();
        assert!(e.message.contains("two columns"), "{e}");
        let e = parse_mention_map("jack,@jack@a.example\nbob,nohost\n").unwrap_err();
        assert!(e.message.contains("not a fediverse handle"), "{e}");
    }

    #[test]
    fn alt_text_by_file_and_by_tweet() {
        let alt = parse_alt_text(
            "file,description\n\
             1234-AbCd.jpg,\"A cat, asleep\"\n\
             data/tweets_media/1234-EfGh.png,A dog\n\
             555,Every picture of tweet 555\n",
        )
        .unwrap();
        assert_eq!(alt.len(), 3);
        assert_eq!(
            alt.of(Id(1234), "tweets_media/1234-AbCd.jpg"),
            Some("A cat, asleep")
        );
        assert_eq!(
            alt.of(Id(1234), "tweets_media/1234-EfGh.png"),
            Some("A dog")
        );
        assert_eq!(alt.of(Id(1234), "tweets_media/1234-Zz.png"), None);
        assert_eq!(
            alt.of(Id(555), "tweets_media/555-x.jpg"),
            Some("Every picture of tweet 555")
        );
    }

    #[test]
    fn alt_text_errors_name_the_line() {
        let long = "x".repeat(MAX_DESCRIPTION + 1);
        let e = parse_alt_text(&format!("1-a.jpg,ok\n2-b.jpg,{long}\n")).unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("1501"), "{e}");
        let e = parse_alt_text("1-a.jpg,ok\n1-b.jpg,a,b\n").unwrap_err();
        assert!(e.message.contains("quote"), "{e}");
        let e = parse_alt_text("1-a.jpg,ok\n1-b.jpg\n").unwrap_err();
        assert!(e.message.contains("two columns"), "{e}");
        let e = parse_alt_text("1-a.jpg,ok\nhello,there\n").unwrap_err();
        assert!(e.message.contains("neither"), "{e}");
    }
}
