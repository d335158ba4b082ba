//! Joining `note-tweet.js` long tweets to their truncated entries in the tweets files.
//!
//! There is no id link between the two (FORMATS.md §1.6). A note joins the tweet created in the
//! same second whose text — unescaped, with every t.co link replaced by one placeholder (the
//! codes differ between the files), leading reply mentions and the trailing `…` and links
//! dropped, whitespace collapsed — is a prefix of the note's text treated the same way. This
//! rule joined 41 of 41 notes in a real archive where 14 notes share their second with another
//! tweet of the same thread.
//!
//! Only a bounded prefix of each note is kept in memory ([`KEPT_CHARS`]): the truncated tweet
//! text is at most ~300 characters, so the join never needs more.

use std::collections::HashMap;

use super::model::Id;

/// Characters of each normalised note kept for the prefix match: a truncated tweet keeps
/// ~275 characters of the note, so this is enough, and memory stays small per note.
const KEPT_CHARS: usize = 320;

/// Stands for any t.co link in both texts.
const LINK: char = '\u{FFFC}';

#[derive(Debug, Default)]
pub struct NoteIndex {
    /// Notes by their creation second (Unix time).
    by_second: HashMap<i64, Vec<NoteKey>>,
    total: usize,
    joined: usize,
}

#[derive(Debug)]
struct NoteKey {
    id: Id,
    prefix: Box<str>,
    joined_to: Option<Id>,
}

impl NoteIndex {
    /// Records a note (its `createdAt` as Unix seconds, and its unescaped `core.text`).
    pub fn add(&mut self, id: Id, created_second: i64, text: &str) {
        let mut prefix = normalise(text, false);
        if let Some((cut, _)) = prefix.char_indices().nth(KEPT_CHARS) {
            prefix.truncate(cut);
        }
        self.by_second
            .entry(created_second)
            .or_default()
            .push(NoteKey {
                id,
                prefix: prefix.into_boxed_str(),
                joined_to: None,
            });
        self.total += 1;
    }

    /// Whether any note was created in this second: the cheap test done for every tweet.
    pub fn has_second(&self, second: i64) -> bool {
        self.by_second.contains_key(&second)
    }

    /// Joins the tweet `tweet` (created at `second`, HTML-escaped `full_text`) to an unjoined
    /// note of the same second whose text it begins, and returns the note's id.
    pub fn join(&mut self, tweet: Id, second: i64, escaped_text: &str) -> Option<Id> {
        let candidates = self.by_second.get_mut(&second)?;
        let unescaped = html_escape::decode_html_entities(escaped_text);
        let text = normalise(&unescaped, true);
        if text.is_empty() || text.chars().all(|c| c == LINK) {
            return None;
        }
        let note = candidates
            .iter_mut()
            .find(|n| n.joined_to.is_none() && n.prefix.starts_with(&text))?;
        note.joined_to = Some(tweet);
        self.joined += 1;
        Some(note.id)
    }

    pub fn len(&self) -> usize {
        self.total
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// Notes that matched no tweet.
    pub fn unjoined(&self) -> impl Iterator<Item = Id> + '_ {
        self.by_second
            .values()
            .flatten()
            .filter(|n| n.joined_to.is_none())
            .map(|n| n.id)
    }

    /// The tweet each note was joined to.
    pub fn joins(&self) -> impl Iterator<Item = (Id, Id)> + '_ {
        self.by_second
            .values()
            .flatten()
            .filter_map(|n| n.joined_to.map(|t| (n.id, t)))
    }
}

/// The comparable form of a tweet's or note's text (see the module doc). For a tweet
/// (`truncated`), leading `@mentions`, trailing links and the trailing ellipsis are dropped.
fn normalise(text: &str, truncated: bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut pending_space = false;
    while !rest.is_empty() {
        let link = ["https://t.co/", "http://t.co/"]
            .iter()
            .find_map(|p| rest.strip_prefix(p));
        if let Some(after) = link {
            let code_len = after
                .find(|c: char| !c.is_ascii_alphanumeric())
                .unwrap_or(after.len());
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.push(LINK);
            rest = &after[code_len..];
            continue;
        }
        let c = rest.chars().next().expect("non-empty");
        rest = &rest[c.len_utf8()..];
        if c.is_whitespace() {
            pending_space = true;
        } else {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.push(c);
        }
    }
    if truncated {
        out = drop_leading_mentions(&out).to_string();
        loop {
            let trimmed = out.trim_end();
            let trimmed = trimmed
                .strip_suffix(LINK)
                .or_else(|| trimmed.strip_suffix('…'))
                .unwrap_or(trimmed);
            if trimmed.len() == out.len() {
                break;
            }
            out.truncate(trimmed.len());
        }
    }
    out
}

/// Drops a leading run of `@name ` tokens, which note texts omit.
fn drop_leading_mentions(text: &str) -> &str {
    let mut rest = text;
    loop {
        let Some(after) = rest.strip_prefix('@') else {
            return rest;
        };
        let name_len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        if name_len == 0 {
            return rest;
        }
        match after[name_len..].strip_prefix(' ') {
            Some(next) => rest = next,
            None => return rest,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_by_second_and_text_prefix() {
        let mut idx = NoteIndex::default();
        idx.add(
            Id(1),
            100,
            "Thread part one: a long text with a link https://t.co/AAAA and >> more words after it",
        );
        idx.add(Id(2), 100, "Another note created in the same second");
        let tweet = "@friend @other Thread part one: a long text with a link https://t.co/BBBB and &gt;&gt; more…";
        assert_eq!(idx.join(Id(10), 100, tweet), Some(Id(1)));
        // Once joined, the note is not joined again.
        assert_eq!(idx.join(Id(11), 100, tweet), None);
        assert_eq!(
            idx.join(Id(12), 100, "Another note https://t.co/x"),
            Some(Id(2))
        );
        assert_eq!(idx.unjoined().count(), 0);
        assert_eq!(idx.join(Id(13), 101, "Thread part one"), None);
    }

    #[test]
    fn a_tweet_that_is_only_a_link_joins_nothing() {
        let mut idx = NoteIndex::default();
        idx.add(Id(1), 5, "https://t.co/abc then text");
        assert_eq!(idx.join(Id(2), 5, "https://t.co/zzz"), None);
    }

    #[test]
    fn normalisation() {
        assert_eq!(normalise("a  b\n\nc", false), "a b c");
        assert_eq!(normalise("@x hello https://t.co/abc …", true), "hello");
        assert_eq!(drop_leading_mentions("@a @b_c hi @d"), "hi @d");
    }
}
