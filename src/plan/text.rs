//! The text of a post: a tweet's (or a long tweet's) text made ready for a fediverse server,
//! its length as Mastodon counts it, and its split into a thread when it is too long.
//!
//! Pure functions, no I/O. For a tweet ([`tweet_text`], FORMATS.md §1.5):
//!
//! 1. **Links.** On the HTML-escaped `full_text`, each entity span (code points of the *escaped*
//!    text) is checked against the text — it must hold exactly the entity's t.co link — and
//!    replaced: `urls[]` by their `expanded_url`, the media link (one t.co link shared by all
//!    media) removed. A span out of range, overlapping another, or holding anything else falls
//!    back to searching the t.co link in the text. Old tweets without entities keep their raw
//!    links. Spans are applied in one forward pass over sorted, non-overlapping spans, which is
//!    equivalent to replacing from the end backwards and never shifts an index.
//! 2. **Unescape**, once, in a single pass, on the tweet's own text only: `&amp;lt;` becomes
//!    `&lt;`, and an inserted link is never decoded.
//! 3. **Reply prefix.** The leading run of `@name ` is dropped when asked (a thread's replies).
//! 4. **Mentions.** No one is notified unless the user said so. Every `@name` Mastodon could
//!    resolve (`Account::MENTION_RE`), and every `@name` Twitter marked as a mention, is written
//!    in a form Mastodon cannot resolve (see [`MentionStyle`]), unless the name is in
//!    [`TextOptions::mention_map`], which makes it a real `@user@host` mention. A fediverse
//!    address written in a tweet (`@alice@mastodon.social`) is defused too. Hashtags are kept.
//!
//! [`note_text`] does the same for a long tweet of `note-tweet.js`, whose text is not escaped.
//!
//! **Why not `@name` or `@name@twitter.com`.** A bare `@name` is resolved by Mastodon as the
//! *local* account `name`: an import would notify strangers thousands of times. `@name@twitter.com`
//! is unresolvable noise that users complain about (LANDSCAPE.md, moa#115).
//!
//! **Counting** ([`status_length`]) follows Mastodon's `StatusLengthValidator` (MASTODON.md §3.9a)
//! but errs on the long side wherever the two could differ, so a text this module accepts is
//! never refused for its length: links are recognised only where Mastodon certainly links them,
//! and characters are counted as `char`s — never fewer than Mastodon's grapheme clusters (a ZWJ
//! family emoji counts 5 here, 1 there). Exact grapheme counting would need the
//! `unicode-segmentation` crate.
//!
//! **Splitting** ([`split`]) cuts a text into parts that each fit, with ` (i/n)` markers, at the
//! best boundary available: paragraph, then line or sentence, then clause, then word. The date
//! note goes on the first part. A word is cut only when it cannot fit in a part on its own, and
//! a link never.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::source::handle::Handle;
use crate::source::twitter::model::{Id, NoteCore, Num, Tweet};

/// Mastodon's default `characters_reserved_per_url`: what any link counts.
pub const CHARS_PER_URL: usize = 23;

/// The fullwidth commercial at, U+FF20: reads as `@` but no fediverse server resolves it.
const FULLWIDTH_AT: char = '＠';

/// How a Twitter mention that is not in the mention map is written.
///
/// Both forms avoid `Account::MENTION_RE`, which knows only the ASCII `@`, and the mention
/// parsers of Pleroma, Misskey and GoToSocial, which do the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MentionStyle {
    /// `＠name`, with the fullwidth at sign (as NeoDB does): it reads exactly like the tweet,
    /// costs what `@name` costs, and adds no link. The default, because a profile link is the
    /// post's first link more often than not, and Mastodon makes its preview card from the first
    /// link: the card would show Twitter's login wall instead of the article the tweet shared.
    #[default]
    Fullwidth,
    /// `https://twitter.com/name`, which Mastodon shows as `twitter.com/name`: a link, with no
    /// `@` for a mention parser to find. It counts [`CHARS_PER_URL`] and may become the preview
    /// card. Where the link would swallow the text glued to the mention (`@bob's`, `@bobさん`) or
    /// follow a letter, `＠name` is written instead.
    ProfileLink,
}

/// Choices for [`tweet_text`] and [`note_text`].
#[derive(Debug, Clone, Default)]
pub struct TextOptions {
    /// Drop the leading run of `@name ` (the reply prefix): for replies within a thread.
    pub drop_reply_mentions: bool,
    /// How unmapped mentions are written.
    pub mention_style: MentionStyle,
    /// Twitter screen names, **lowercase**, mapped to the fediverse accounts to mention for
    /// real. A handle with a port cannot be written as a mention and is defused instead.
    pub mention_map: HashMap<String, Handle>,
}

/// Something in the archive's entities that did not fit the text, recorded for the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextIssue {
    /// The entity's indices did not point at its t.co link; it was found in the text instead.
    Relocated { url: String },
    /// The entity's t.co link is nowhere in the text (a retweet's text is often cut short).
    Missing { url: String },
    /// A t.co link is left in the text because the archive has no expansion for it.
    Unexpanded { url: String },
}

/// A tweet's text, ready to post, and what was done to its mentions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TweetText {
    /// Unescaped, links expanded, mentions handled; no leading or trailing whitespace.
    pub text: String,
    /// Fediverse accounts mentioned for real, from the map (`user@host`), in order, once each.
    pub mentions: Vec<String>,
    /// Accounts written so that no one is notified: Twitter names, and fediverse addresses
    /// (`user@host`) as they appeared, in order, once each.
    pub defused: Vec<String>,
    /// The Twitter names of the reply prefix that was dropped.
    pub dropped: Vec<String>,
    pub issues: Vec<TextIssue>,
}

/// The text of a tweet (FORMATS.md §1.5), following the module's pipeline.
///
/// Promises: never panics, whatever the entities say; every t.co link with an expansion in the
/// entities and present in the text is expanded; the media link is gone; the text is unescaped
/// exactly once; the result notifies only accounts of [`TextOptions::mention_map`] — except
/// through an `@name` inside a link after a character other than `/` or `=` (`…/a-@b`), which
/// Mastodon's mention pass would still see and which cannot be changed without breaking the link.
pub fn tweet_text(tweet: &Tweet<'_>, opts: &TextOptions) -> TweetText {
    let text: &str = &tweet.full_text;
    let mut edits = Vec::new();
    for u in &tweet.entities.urls {
        let Some(expanded) = u.expanded_url.as_deref().filter(|e| !e.is_empty()) else {
            continue; // Nothing to expand to: the t.co link stays and is reported below.
        };
        if !u.url.is_empty() {
            edits.push(Edit {
                span: span(u.indices),
                expect: u.url.to_string(),
                action: Action::Link(expanded.to_owned()),
            });
        }
    }
    let media = tweet.extended_entities.iter().flat_map(|e| &e.media);
    for m in media {
        if let Some(url) = m.url.as_deref().filter(|u| !u.is_empty()) {
            edits.push(Edit {
                span: span(m.indices),
                expect: url.to_owned(),
                action: Action::Remove,
            });
        }
    }
    for m in &tweet.entities.user_mentions {
        if !m.screen_name.is_empty() {
            edits.push(Edit {
                span: span(m.indices),
                expect: format!("@{}", m.screen_name),
                action: Action::Mention,
            });
        }
    }

    let mut issues = Vec::new();
    let (mut pieces, fallback) = apply_spans(text, edits);
    let mut removed_textually = Vec::new();
    for edit in fallback {
        let with = match &edit.action {
            // A mention whose span is wrong is found by the mention scan anyway.
            Action::Mention => continue,
            Action::Link(url) => Some(url.as_str()),
            Action::Remove if removed_textually.contains(&edit.expect) => continue,
            Action::Remove => None,
        };
        let found = replace_textually(&mut pieces, &edit.expect, with);
        match (found, &edit.action) {
            (0, Action::Link(_)) => issues.push(TextIssue::Missing { url: edit.expect }),
            // A retweet's media link is usually cut off with its text: not worth a report.
            (0, _) => {}
            (_, Action::Remove) => removed_textually.push(edit.expect),
            (_, _) if edit.span.is_some() => issues.push(TextIssue::Relocated { url: edit.expect }),
            _ => {}
        }
    }
    for piece in &mut pieces {
        if let Piece::Text(t) = piece {
            // One pass over the tweet's own text: `&amp;lt;` → `&lt;`, never `<`.
            *t = html_escape::decode_html_entities(t).into_owned();
        }
    }
    finish(pieces, opts, issues)
}

/// The text of a long tweet from `note-tweet.js` (FORMATS.md §1.6), with the same promises as
/// [`tweet_text`].
///
/// `core.text` is not HTML-escaped, so it is not unescaped. Each `urls[].shortUrl` is replaced by
/// its `expandedUrl` where it stands in the text (the model keeps no indices for them). Mentions
/// are found by the same scan as in tweets: the note's own mention indices would add nothing, as
/// every `@name` a server could resolve must be defused whatever Twitter thought of it.
pub fn note_text(core: &NoteCore<'_>, opts: &TextOptions) -> TweetText {
    let mut pieces = vec![Piece::Text(core.text.to_string())];
    let mut issues = Vec::new();
    let mut seen = Vec::new();
    for u in &core.urls {
        if u.short_url.is_empty() || u.expanded_url.is_empty() || seen.contains(&u.short_url) {
            continue;
        }
        seen.push(u.short_url.clone());
        if replace_textually(&mut pieces, &u.short_url, Some(&u.expanded_url)) == 0 {
            issues.push(TextIssue::Missing {
                url: u.short_url.to_string(),
            });
        }
    }
    finish(pieces, opts, issues)
}

/// The ISO 639 code to send as a status's `language`, from a tweet's `lang`.
///
/// - Twitter's pseudo codes mean "no language" and give `None`: `und`, `zxx`, `mul`, `mis`,
///   `art`, and the private-use range `qaa`–`qtz` (`qme` media only, `qam` mentions only, `qht`
///   hashtags only, `qct` cashtags only, `qst` very short).
/// - Legacy codes are mapped: `in`→`id`, `iw`→`he`, `ji`→`yi`, `jw`→`jv`, `mo`→`ro`.
/// - A region or script is dropped (`zh-cn`, `zh-TW` → `zh`, `en_GB` → `en`): every server
///   knows the bare code, while regional ones differ between Mastodon versions, and a server
///   replaces a code it does not know with the account's default anyway.
/// - The result is lowercase, 2 or 3 ASCII letters; anything else gives `None`.
pub fn language(lang: Option<&str>) -> Option<String> {
    let primary = lang?.trim().split(['-', '_']).next()?.to_ascii_lowercase();
    if !(2..=3).contains(&primary.len()) || !primary.bytes().all(|b| b.is_ascii_lowercase()) {
        return None;
    }
    let private_use = primary.len() == 3 && ("qaa"..="qtz").contains(&primary.as_str());
    if private_use || matches!(primary.as_str(), "und" | "zxx" | "mul" | "mis" | "art") {
        return None;
    }
    let code = match primary.as_str() {
        "in" => "id",
        "iw" => "he",
        "ji" => "yi",
        "jw" => "jv",
        "mo" => "ro",
        other => other,
    };
    Some(code.to_owned())
}

/// Whether and how a post says where and when it was first published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateNote {
    None,
    /// `Originally posted on Twitter on 2021-03-04.`
    Date,
    /// `Originally posted on Twitter on 2021-03-04: https://twitter.com/user/status/123`. When the
    /// tweet has no link of its own this link is the post's first, and Mastodon may show a
    /// preview card for it.
    #[default]
    DateLink,
}

/// The note appended to a post (after a blank line) to date it, or `None` for
/// [`DateNote::None`]. The date is the UTC day: the archive keeps no time zone. An empty `url`
/// makes [`DateNote::DateLink`] a [`DateNote::Date`].
pub fn date_note(created_at: DateTime<Utc>, url: &str, mode: DateNote) -> Option<String> {
    let day = created_at.format("%Y-%m-%d");
    match mode {
        DateNote::None => None,
        DateNote::DateLink if !url.trim().is_empty() => Some(format!(
            "Originally posted on Twitter on {day}: {}",
            url.trim()
        )),
        DateNote::Date | DateNote::DateLink => {
            Some(format!("Originally posted on Twitter on {day}."))
        }
    }
}

/// The address of a tweet: `https://twitter.com/<screen name>/status/<id>`.
pub fn tweet_url(screen_name: &str, id: Id) -> String {
    format!("https://twitter.com/{screen_name}/status/{id}")
}

/// The length of `text` as a Mastodon server counts it (MASTODON.md §3.9a), or more.
///
/// Every link Mastodon would make of an `http(s)://` address counts `chars_per_url`; a mention
/// `@user@domain` counts as `@user`; everything else counts one per `char`. Where Mastodon's
/// rules are hard to follow exactly (balanced parentheses nested twice, a link right after a
/// non-ASCII letter, grapheme clusters) this errs on the long side, never the short: a text
/// within the limit here is within the limit there. The one known exception is a link whose
/// top-level domain Mastodon does not know, which it counts in full.
pub fn status_length(text: &str, chars_per_url: usize) -> usize {
    let mut length = 0;
    let mut at = 0;
    for (start, end) in find_urls(text) {
        length += plain_length(&text[at..start], text[..at].chars().next_back());
        length += chars_per_url;
        at = end;
    }
    length + plain_length(&text[at..], text[..at].chars().next_back())
}

/// `text` (then `note`, after a blank line) as one or more posts that each count at most `max`
/// (as [`status_length`] counts with `chars_per_url`).
///
/// - Fits whole: one part, `text\n\nnote`.
/// - Otherwise parts `chunk (i/n)`, in order; the first is `chunk (1/n)\n\nnote`: the note
///   dates the thread where it starts, the post that timelines and profiles show.
/// - Chunks are slices of the trimmed `text`, cut at whitespace — which is dropped — preferring,
///   among the cuts that fill at least half a part, a paragraph break, then a line break or a
///   sentence end, then a clause end, then any space; the latest of the best kind wins.
/// - A word is cut only when it does not fit in a part on its own (then with no whitespace
///   between the two chunks), never inside a link or a grapheme cluster when avoidable, and
///   after CJK punctuation when that fills half a part.
///
/// Always returns at least one part (an empty text with no note gives `[""]`). Every part is
/// within `max` when `max` leaves room for a link, a marker and, on the first part, the note
/// (see [`min_limit`]); below that a part may exceed it rather than cut a link.
pub fn split(text: &str, note: Option<&str>, max: usize, chars_per_url: usize) -> Vec<String> {
    let text = text.trim();
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    let whole = match note {
        None => text.to_owned(),
        Some(n) if text.is_empty() => n.to_owned(),
        Some(n) => format!("{text}\n\n{n}"),
    };
    if status_length(&whole, chars_per_url) <= max {
        return vec![whole];
    }
    let words = word_spans(text);
    let mut digits = 1;
    loop {
        let parts = pack(text, words.clone(), note, max, chars_per_url, digits);
        if parts.len() <= 1 {
            return vec![whole];
        }
        let n = parts.len().to_string();
        if n.len() <= digits {
            return parts
                .iter()
                .enumerate()
                .map(|(i, &(s, e))| {
                    render_part(&text[s..e], i + 1, &n, if i == 0 { note } else { None })
                })
                .collect();
        }
        digits = n.len();
    }
}

/// The smallest `max` for which [`split`] keeps every part within `max` whatever the text:
/// a lone link, a marker of up to 999 parts, and the note on the first part.
pub fn min_limit(note: Option<&str>, chars_per_url: usize) -> usize {
    let overhead = render_part(
        "",
        999,
        "999",
        note.map(str::trim).filter(|n| !n.is_empty()),
    );
    chars_per_url + status_length(&overhead, chars_per_url)
}

// ------------------------------------------------------------------------------------------------
// Tweet text: pieces
// ------------------------------------------------------------------------------------------------

/// The text being built: the tweet's own text between the things put in its place.
#[derive(Debug)]
enum Piece {
    /// The tweet's text: HTML-escaped until [`tweet_text`] decodes it.
    Text(String),
    /// A link put in place of a t.co link: never decoded, never scanned for mentions.
    Link(String),
    /// A Twitter mention: the screen name as written, without the at sign.
    Mention(String),
    /// A fediverse address written in the text, `user@domain`, without the leading `@`.
    Address(String),
}

impl Piece {
    /// What the next piece's neighbour sees of this one, as far as mentions care: its text, or
    /// an at sign for a mention (which is never whitespace or punctuation).
    fn head(&self) -> &str {
        match self {
            Piece::Text(t) | Piece::Link(t) => t,
            Piece::Mention(_) | Piece::Address(_) => "@",
        }
    }

    fn last_char(&self) -> Option<char> {
        match self {
            Piece::Text(t) | Piece::Link(t) | Piece::Mention(t) | Piece::Address(t) => {
                t.chars().next_back()
            }
        }
    }
}

/// An entity to apply by its span (code points of the escaped text).
struct Edit {
    span: Option<(usize, usize)>,
    /// What the span must hold: the t.co link, or `@name`.
    expect: String,
    action: Action,
}

#[derive(PartialEq)]
enum Action {
    Link(String),
    Remove,
    Mention,
}

fn span(indices: Option<[Num; 2]>) -> Option<(usize, usize)> {
    let [s, e] = indices?;
    Some((usize::try_from(s.0).ok()?, usize::try_from(e.0).ok()?))
}

/// Applies the edits whose spans are consistent with `text`; returns the pieces and the edits
/// left for a textual search.
fn apply_spans(text: &str, mut edits: Vec<Edit>) -> (Vec<Piece>, Vec<Edit>) {
    // Byte offset of each code point, and of the end.
    let offsets: Vec<usize> = text
        .char_indices()
        .map(|(b, _)| b)
        .chain(std::iter::once(text.len()))
        .collect();
    let chars = offsets.len() - 1;
    edits.sort_by_key(|e| e.span.map_or((usize::MAX, usize::MAX), |s| s));

    let mut accepted: Vec<(usize, usize, Edit)> = Vec::new();
    let mut fallback = Vec::new();
    for edit in edits {
        let bytes = edit
            .span
            .filter(|&(s, e)| s < e && e <= chars)
            .map(|(s, e)| (offsets[s], offsets[e]))
            .filter(|&(s, e)| span_holds(&text[s..e], &edit));
        let Some((start, end)) = bytes else {
            fallback.push(edit);
            continue;
        };
        match accepted.last() {
            // Twitter sometimes lists an entity twice.
            Some(last) if (last.0, last.1) == (start, end) && last.2.action == edit.action => {}
            Some(last) if start < last.1 => fallback.push(edit),
            _ => accepted.push((start, end, edit)),
        }
    }

    let mut pieces = Vec::new();
    let mut at = 0;
    for (start, end, edit) in accepted {
        let start = match edit.action {
            // Take the spaces before a removed media link with it, unless text follows glued.
            Action::Remove if text[end..].chars().next().is_none_or(char::is_whitespace) => {
                at.max(text[..start].trim_end_matches([' ', '\t']).len())
            }
            _ => start,
        };
        if start > at {
            pieces.push(Piece::Text(text[at..start].to_owned()));
        }
        match edit.action {
            Action::Link(url) => pieces.push(Piece::Link(url)),
            Action::Remove => {}
            Action::Mention => {
                // The name as written, which may differ in case from the entity's.
                let at_sign = text[start..].chars().next().map_or(1, char::len_utf8);
                pieces.push(Piece::Mention(text[start + at_sign..end].to_owned()));
            }
        }
        at = end;
    }
    if at < text.len() {
        pieces.push(Piece::Text(text[at..].to_owned()));
    }
    (pieces, fallback)
}

/// Whether an entity's span holds what the entity says: its exact t.co link, or `@name` with
/// either at sign and any case.
fn span_holds(slice: &str, edit: &Edit) -> bool {
    match edit.action {
        Action::Mention => {
            let name = &edit.expect[1..];
            slice
                .strip_prefix('@')
                .or_else(|| slice.strip_prefix(FULLWIDTH_AT))
                .is_some_and(|s| s.eq_ignore_ascii_case(name))
        }
        _ => slice == edit.expect,
    }
}

/// Replaces every whole occurrence of the t.co link `needle` in the text pieces by a link
/// (`Some`) or nothing; returns how many there were. "Whole": not followed by a letter or digit,
/// so `https://t.co/abc` is not found inside `https://t.co/abcd`.
fn replace_textually(pieces: &mut Vec<Piece>, needle: &str, with: Option<&str>) -> usize {
    let mut found = 0;
    let mut out = Vec::with_capacity(pieces.len());
    for piece in pieces.drain(..) {
        let Piece::Text(text) = piece else {
            out.push(piece);
            continue;
        };
        let mut at = 0;
        let mut from = 0;
        while let Some(pos) = text[from..].find(needle).map(|p| p + from) {
            let end = pos + needle.len();
            if text[end..]
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric())
            {
                from = end;
                continue;
            }
            found += 1;
            let before =
                if with.is_none() && text[end..].chars().next().is_none_or(char::is_whitespace) {
                    at.max(text[..pos].trim_end_matches([' ', '\t']).len())
                } else {
                    pos
                };
            if before > at {
                out.push(Piece::Text(text[at..before].to_owned()));
            }
            if let Some(url) = with {
                out.push(Piece::Link(url.to_owned()));
            }
            at = end;
            from = end;
        }
        if at < text.len() {
            out.push(Piece::Text(text[at..].to_owned()));
        }
    }
    *pieces = out;
    found
}

/// Steps 3 and 4 of the pipeline on unescaped pieces, then the final text.
fn finish(pieces: Vec<Piece>, opts: &TextOptions, mut issues: Vec<TextIssue>) -> TweetText {
    let mut pieces = scan_mentions(pieces);
    let dropped = if opts.drop_reply_mentions {
        drop_reply_prefix(&mut pieces)
    } else {
        Vec::new()
    };
    let mut out = TweetText {
        dropped,
        ..TweetText::default()
    };
    let mut text = String::new();
    for (k, piece) in pieces.iter().enumerate() {
        let next = lookahead(&pieces[k + 1..], opts.mention_style);
        let next = next.as_str();
        let prev = text.chars().next_back();
        match piece {
            Piece::Text(t) | Piece::Link(t) => text.push_str(t),
            Piece::Mention(name) => {
                let mapped = opts
                    .mention_map
                    .get(&name.to_ascii_lowercase())
                    .filter(|h| h.port().is_none() && mention_resolves(prev, next));
                if let Some(handle) = mapped {
                    let acct = handle.ascii();
                    text.push('@');
                    text.push_str(&acct);
                    push_once(&mut out.mentions, acct);
                } else {
                    text.push_str(&defuse(name, prev, next, opts.mention_style));
                    push_once(&mut out.defused, name.clone());
                }
            }
            Piece::Address(address) => {
                text.push(FULLWIDTH_AT);
                text.push_str(address);
                push_once(&mut out.defused, address.clone());
            }
        }
    }
    out.text = text.trim().to_owned();
    for (start, end) in find_urls(&out.text) {
        let url = &out.text[start..end];
        let host = url.split_once("://").map_or("", |(_, rest)| rest);
        if host
            .get(..5)
            .is_some_and(|h| h.eq_ignore_ascii_case("t.co/"))
            && host.len() > 5
        {
            issues.push(TextIssue::Unexpanded {
                url: url.to_owned(),
            });
        }
    }
    out.issues = issues;
    out
}

/// What follows a piece, as far as where a mention or link ends is concerned: the next
/// piece's [`Piece::head`], and the one after while all there is is `.` and `-`, which a domain
/// or a link path runs over (`@a.@b`). A mention written as a profile link starts with a word
/// character; as it may be, it is taken to.
fn lookahead(rest: &[Piece], style: MentionStyle) -> String {
    let mut next = String::new();
    for piece in rest {
        match piece {
            Piece::Mention(_) if style == MentionStyle::ProfileLink => next.push('h'),
            _ => next.push_str(piece.head()),
        }
        if !next.chars().all(|c| c == '.' || c == '-') {
            break;
        }
    }
    next
}

fn push_once(list: &mut Vec<String>, item: String) {
    if !list.iter().any(|x| x.eq_ignore_ascii_case(&item)) {
        list.push(item);
    }
}

// ------------------------------------------------------------------------------------------------
// Mentions
// ------------------------------------------------------------------------------------------------

/// Splits every `@name` (and `@user@domain`) of the text pieces into its own piece, outside
/// links: each at sign where either Mastodon (`Account::MENTION_RE`: not after a word
/// character, `=` or `/`) or Twitter (not after `[A-Za-z0-9_!#$%&*@＠]`) would see a mention.
fn scan_mentions(pieces: Vec<Piece>) -> Vec<Piece> {
    let mut out = Vec::with_capacity(pieces.len());
    let mut prev: Option<char> = None;
    for piece in pieces {
        let Piece::Text(text) = piece else {
            prev = piece.last_char().or(prev);
            out.push(piece);
            continue;
        };
        let urls = find_urls(&text);
        let mut urls = urls.iter().peekable();
        let mut start = 0;
        let mut i = 0;
        while i < text.len() {
            while urls.next_if(|&&(s, _)| s < i).is_some() {}
            if let Some(&(_, end)) = urls.next_if(|&&(s, _)| s == i) {
                prev = text[..end].chars().next_back();
                i = end;
                continue;
            }
            let c = text[i..].chars().next().unwrap_or_default();
            if c == '@'
                && may_mention(prev)
                && let Some((end, mention)) = mention_at(&text, i)
            {
                if start < i {
                    out.push(Piece::Text(text[start..i].to_owned()));
                }
                out.push(mention);
                prev = text[..end].chars().next_back();
                i = end;
                start = end;
                continue;
            }
            prev = Some(c);
            i += c.len_utf8();
        }
        if start < text.len() {
            out.push(Piece::Text(text[start..].to_owned()));
        }
    }
    out
}

/// Whether an at sign after `prev` starts a mention for Mastodon or for Twitter. Errs towards
/// yes: a defused non-mention costs nothing, a missed one notifies a stranger.
fn may_mention(prev: Option<char>) -> bool {
    let Some(p) = prev else { return true };
    let mastodon = !(p.is_alphabetic() || p.is_ascii_digit() || p == '_' || p == '=' || p == '/');
    let twitter = !(p.is_ascii_alphanumeric() || "_!#$%&*@＠".contains(p));
    mastodon || twitter
}

/// The mention starting at the at sign `text[at]`, and where it ends: an address
/// `@user@domain` (Mastodon's user name and domain rules), else the Twitter name
/// `[A-Za-z0-9_]+` — the rest of a Mastodon user name (`.x`) stays text.
fn mention_at(text: &str, at: usize) -> Option<(usize, Piece)> {
    let rest = &text[at + 1..];
    let user = username_len(rest)?;
    if let Some(domain) = rest[user..].strip_prefix('@')
        && let Some(domain_len) = domain_len(domain)
    {
        let end = at + 1 + user + 1 + domain_len;
        return Some((end, Piece::Address(text[at + 1..end].to_owned())));
    }
    let name = rest
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
        .count();
    Some((at + 1 + name, Piece::Mention(rest[..name].to_owned())))
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Mastodon's `USERNAME_RE` at the start of `s`: `[a-z0-9_]+([a-z0-9_.-]+[a-z0-9_]+)?`.
fn username_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    if !b.first().is_some_and(|&c| is_name_byte(c)) {
        return None;
    }
    let mut n = b
        .iter()
        .take_while(|&&c| is_name_byte(c) || c == b'.' || c == b'-')
        .count();
    while !is_name_byte(b[n - 1]) {
        n -= 1;
    }
    Some(n)
}

/// Approximates Ruby's `[[:word:]]`.
fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The domain of an address at the start of `s`: word characters, dots and hyphens, ending
/// with a word character.
fn domain_len(s: &str) -> Option<usize> {
    let run: usize = s
        .chars()
        .take_while(|&c| is_word(c) || c == '.' || c == '-')
        .map(char::len_utf8)
        .sum();
    let len = s[..run].trim_end_matches(['.', '-']).len();
    s[..len].chars().any(is_word).then_some(len)
}

/// Drops the leading `@name ` run (the regex `^(@\w+\s+)+` of FORMATS.md §1.5); returns the
/// names. A mention at the very end is kept, so a text of mentions only keeps its last one.
fn drop_reply_prefix(pieces: &mut Vec<Piece>) -> Vec<String> {
    let mut dropped = Vec::new();
    while let [Piece::Mention(_), Piece::Text(t), ..] = pieces.as_slice()
        && t.starts_with(char::is_whitespace)
    {
        if let Piece::Mention(name) = pieces.remove(0) {
            dropped.push(name);
        }
        if let Piece::Text(t) = &mut pieces[0] {
            let rest = t.trim_start();
            if rest.is_empty() {
                pieces.remove(0);
            } else {
                *t = rest.to_owned();
            }
        }
    }
    dropped
}

/// Whether `@user@host` written between `prev` and `next` is the mention Mastodon resolves:
/// its look-behind must allow it, and nothing glued after it may lengthen the domain.
fn mention_resolves(prev: Option<char>, next: &str) -> bool {
    let starts = prev.is_none_or(|p| !(is_word(p) || p == '=' || p == '/'));
    let after = next.trim_start_matches(['.', '-']);
    let lengthens = next.starts_with(is_word)
        || next.starts_with('@')
        || (after.len() < next.len() && after.starts_with(is_word));
    starts && !lengthens
}

/// An unmapped Twitter mention in a form no server resolves (see [`MentionStyle`]).
fn defuse(name: &str, prev: Option<char>, next: &str, style: MentionStyle) -> String {
    let link = style == MentionStyle::ProfileLink
        && name.len() <= 15
        && prev.is_none_or(|p| p.is_whitespace() || "([{\"'.,:;!?-~*“‘«「（".contains(p))
        && link_ends_cleanly(next);
    if link {
        format!("https://twitter.com/{name}")
    } else {
        format!("{FULLWIDTH_AT}{name}")
    }
}

/// Whether a link written right before `next` ends where the mention did. Mastodon's link
/// grammar (`config/initializers/twitter_regex.rb`) continues a path over anything but
/// whitespace and `()?<>`, backing off to the last character outside
/// `!*"'「」<>;:=,.$%[]~&|@`; a query (`?`) continues over ASCII. So only a run of those
/// trailing characters up to whitespace, the end or `)` is safe.
fn link_ends_cleanly(next: &str) -> bool {
    for c in next.chars() {
        if c.is_whitespace() || c == ')' {
            return true;
        }
        if !".,:;!?\"'*~|$%[]「」".contains(c) {
            return false;
        }
    }
    true
}

// ------------------------------------------------------------------------------------------------
// Counting
// ------------------------------------------------------------------------------------------------

/// Characters Mastodon never ends a link path with (the union of its two historical
/// `valid_url_path_ending_chars` exclusions).
const PATH_NOT_LAST: &str = "!*\"'「」<>;:=,.$%[]~&|@()?";

/// Byte spans of the links Mastodon certainly makes of `http(s)://` addresses; each span is
/// within the one Mastodon finds, so that counting errs on the long side.
fn find_urls(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i + 7 <= bytes.len() {
        let scheme = if bytes[i..].len() >= 8 && bytes[i..i + 8].eq_ignore_ascii_case(b"https://") {
            8
        } else if bytes[i..i + 7].eq_ignore_ascii_case(b"http://") {
            7
        } else {
            i += 1;
            continue;
        };
        // `h` is ASCII, so `i` is a char boundary.
        let blocked = text[..i].chars().next_back().is_some_and(|p| {
            p.is_alphanumeric()
                || "_@＠$#＃\u{FEFF}\u{FFFE}\u{FFFF}".contains(p)
                || ('\u{202A}'..='\u{202E}').contains(&p)
        });
        match (!blocked).then(|| url_end(text, i + scheme)).flatten() {
            Some(end) => {
                spans.push((i, end));
                i = end;
            }
            None => i += scheme,
        }
    }
    spans
}

/// Where a link whose host starts at `at` ends, or `None` if the host is not a domain.
fn url_end(text: &str, at: usize) -> Option<usize> {
    let run: usize = text[at..]
        .chars()
        .take_while(|&c| c.is_alphanumeric() || c == '-' || c == '_' || c == '.')
        .map(char::len_utf8)
        .sum();
    let host = text[at..at + run].trim_end_matches(['.', '-']);
    if !is_domain(host) {
        return None;
    }
    let mut end = at + host.len();
    let rest = &text[end..];
    if let Some(port) = rest.strip_prefix(':') {
        let digits = port.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 {
            end += 1 + digits;
        }
    }
    if text[end..].starts_with('/') {
        end = path_end(text, end);
    }
    if let Some(query) = text[end..].strip_prefix('?') {
        let chars = query
            .bytes()
            .take_while(|&b| b.is_ascii_alphanumeric() || b"!?*'();:&=+$/%#[]-_.,~|@".contains(&b))
            .count();
        let last = query.as_bytes()[..chars]
            .iter()
            .rposition(|&b| b.is_ascii_alphanumeric() || b"-_&=#/".contains(&b));
        if let Some(last) = last {
            end += 1 + last + 1;
        }
    }
    Some(end)
}

/// The end of a path starting with the `/` at `at`: the longest run of path characters (with
/// one level of balanced parentheses) that ends with a character allowed last.
fn path_end(text: &str, at: usize) -> usize {
    let mut end = at + 1;
    let mut i = at + 1;
    while let Some(c) = text[i..].chars().next() {
        if c == '(' {
            let inner = &text[i + 1..];
            let close = inner.find(|c: char| c.is_whitespace() || "()<>?".contains(c));
            match close {
                Some(k) if k > 0 && inner[k..].starts_with(')') => {
                    i += 1 + k + 1;
                    end = i;
                    continue;
                }
                _ => break,
            }
        }
        if c.is_whitespace() || "()<>?".contains(c) {
            break;
        }
        i += c.len_utf8();
        if !PATH_NOT_LAST.contains(c) {
            end = i;
        }
    }
    end
}

/// Whether `host` is a domain Mastodon links: dotted labels, none empty or with a hyphen at an
/// end, and a top-level label of two or more ASCII letters (or punycode).
fn is_domain(host: &str) -> bool {
    let labels: Vec<&str> = host.split('.').collect();
    let Some(&tld) = labels.last() else {
        return false;
    };
    labels.len() >= 2
        && labels
            .iter()
            .all(|l| !l.is_empty() && !l.starts_with('-') && !l.ends_with('-'))
        && labels[labels.len() - 2..].iter().all(|l| !l.contains('_'))
        && ((tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_alphabetic()))
            || (tld.len() > 4 && tld.as_bytes()[..4].eq_ignore_ascii_case(b"xn--")))
}

/// The length of text without links: one per `char`, except that a mention `@user@domain`
/// counts as `@user` — recognised only where Mastodon certainly sees one.
fn plain_length(text: &str, mut prev: Option<char>) -> usize {
    let mut length = 0;
    let mut i = 0;
    while let Some(c) = text[i..].chars().next() {
        if c == '@'
            && prev.is_none_or(|p| p.is_whitespace() || "([{\"',;:!?.*~-|".contains(p))
            && let Some((user, end)) = counted_address(&text[i + 1..])
        {
            length += 1 + user;
            i += 1 + end;
            prev = text[..i].chars().next_back();
            continue;
        }
        length += 1;
        prev = Some(c);
        i += c.len_utf8();
    }
    length
}

/// For `user@domain…` at the start of `s` that Mastodon takes as a mention: the user name's
/// length and the address's byte length.
fn counted_address(s: &str) -> Option<(usize, usize)> {
    let user = username_len(s)?;
    let domain = s[user..].strip_prefix('@')?;
    if !domain.starts_with(is_word) {
        return None;
    }
    let len = domain_len(domain)?;
    let after = &domain[len..];
    let ends = match after.chars().next() {
        None => true,
        Some(':') => !after.starts_with("://"),
        Some(c) => c.is_whitespace() || ".,;!?)]}\"'".contains(c),
    };
    (len >= 2 && ends).then_some((user, user + 1 + len))
}

// ------------------------------------------------------------------------------------------------
// Splitting
// ------------------------------------------------------------------------------------------------

fn render_part(chunk: &str, index: usize, total: &str, note: Option<&str>) -> String {
    let mut part = format!("{chunk} ({index}/{total})");
    if let Some(note) = note {
        part.push_str("\n\n");
        part.push_str(note);
    }
    part
}

/// Byte spans of the whitespace-separated words of `text`.
fn word_spans(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                spans.push((s, i));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        spans.push((s, text.len()));
    }
    spans
}

/// Greedy packing of `words` into part spans, markers reserved with `digits` digits.
fn pack(
    text: &str,
    mut words: Vec<(usize, usize)>,
    note: Option<&str>,
    max: usize,
    chars_per_url: usize,
    digits: usize,
) -> Vec<(usize, usize)> {
    let total = "9".repeat(digits);
    let mut parts = Vec::new();
    let mut k = 0;
    while k < words.len() {
        let index = parts.len() + 1;
        let note_here = if index == 1 { note } else { None };
        let measure = |s: usize, e: usize| {
            status_length(
                &render_part(&text[s..e], index, &total, note_here),
                chars_per_url,
            )
        };
        let (start, first_end) = words[k];
        if measure(start, first_end) > max {
            // A word too long for a part of its own: cut it, the rest starts the next part.
            let word = &text[start..first_end];
            match hard_cut(word, |b| measure(start, start + b) <= max) {
                Some(b) => {
                    parts.push((start, start + b));
                    words[k].0 = start + b;
                }
                None => {
                    parts.push((start, first_end));
                    k += 1;
                }
            }
            continue;
        }
        let overhead = measure(start, start);
        let capacity = max.saturating_sub(overhead);
        // A chunk's length is the sum of its words' and its whitespace's: a word follows
        // whitespace, so how it counts (a link, a mention) does not depend on what precedes it,
        // and whitespace counts one per character. Each word is measured once (measuring every
        // growing chunk would make long notes quadratic); the chosen chunk is measured whole.
        let word_len = |j: usize| status_length(&text[words[j].0..words[j].1], chars_per_url);
        // Candidate ends: (word index, rank of the break after it, chunk length).
        let mut ends: Vec<(usize, u8, usize)> = Vec::new();
        let mut j = k;
        let mut len = word_len(k);
        loop {
            ends.push((j, break_rank(text, &words, j), len));
            if j + 1 == words.len() {
                parts.push((start, words[j].1));
                return parts;
            }
            let gap = text[words[j].1..words[j + 1].0].chars().count();
            let next = len + gap + word_len(j + 1);
            if overhead + next > max {
                break;
            }
            len = next;
            j += 1;
        }
        let half = capacity / 2;
        let mut best = ends
            .iter()
            .filter(|e| e.2 >= half)
            .max_by_key(|e| (e.1, e.0))
            .or(ends.last())
            .map_or(k, |e| e.0);
        while best > k && measure(start, words[best].1) > max {
            best -= 1;
        }
        parts.push((start, words[best].1));
        k = best + 1;
    }
    parts
}

/// How good a place to end a part the whitespace after word `j` is: paragraph 3, line or
/// sentence 2, clause 1, word 0.
fn break_rank(text: &str, words: &[(usize, usize)], j: usize) -> u8 {
    let Some(next) = words.get(j + 1) else {
        return 3;
    };
    let gap = &text[words[j].1..next.0];
    match gap.matches('\n').count() {
        0 => {}
        1 => return 2,
        _ => return 3,
    }
    let word = text[words[j].0..words[j].1]
        .trim_end_matches(['"', '\'', ')', ']', '”', '’', '»', '」', '』', '）']);
    match word.chars().next_back() {
        Some('.' | '!' | '?' | '…' | '。' | '！' | '？') => 2,
        Some(',' | ';' | ':' | '—' | '–' | '、' | '，' | '；' | '：') => 1,
        _ => 0,
    }
}

/// Where to cut a word too long for a part: the longest prefix that `fits`, cut outside any
/// link, preferably not inside a grapheme cluster, and after CJK or sentence punctuation when
/// such a cut keeps at least half of that prefix. When no prefix fits (a limit below
/// [`min_limit`]), the smallest piece that keeps links whole; `None` when there is no cut at all.
fn hard_cut(word: &str, fits: impl Fn(usize) -> bool) -> Option<usize> {
    let urls = find_urls(word);
    let all: Vec<usize> = word
        .char_indices()
        .skip(1)
        .map(|(b, _)| b)
        .filter(|&b| !urls.iter().any(|&(s, e)| s < b && b < e))
        .collect();
    let graceful: Vec<usize> = all
        .iter()
        .copied()
        .filter(|&b| cluster_boundary(word, b))
        .collect();
    for cuts in [&graceful, &all] {
        let Some(best) = largest_fitting(cuts, &fits) else {
            continue;
        };
        let preferred = cuts.iter().rev().copied().find(|&b| {
            b <= best
                && b * 2 >= best
                && word[..b]
                    .chars()
                    .next_back()
                    .is_some_and(|c| "。！？、，；：.!?,;:".contains(c))
        });
        return Some(preferred.filter(|&b| fits(b)).unwrap_or(best));
    }
    all.first().copied()
}

/// The largest cut that fits, by bisection (fitting is monotone in practice); every cut
/// returned was checked.
fn largest_fitting(cuts: &[usize], fits: &impl Fn(usize) -> bool) -> Option<usize> {
    if !fits(*cuts.first()?) {
        return None;
    }
    let (mut lo, mut hi) = (0, cuts.len());
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        if fits(cuts[mid]) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some(cuts[lo])
}

/// Whether byte `b` of `word` is a grapheme cluster boundary, approximately: not before a
/// combining mark, variation selector, skin tone, tag or joiner, not after a joiner, and not
/// between two regional indicators.
fn cluster_boundary(word: &str, b: usize) -> bool {
    let (Some(before), Some(after)) = (word[..b].chars().next_back(), word[b..].chars().next())
    else {
        return true;
    };
    let extends = matches!(after,
        '\u{0300}'..='\u{036F}'
        | '\u{0483}'..='\u{0489}'
        | '\u{0591}'..='\u{05BD}'
        | '\u{0610}'..='\u{061A}'
        | '\u{064B}'..='\u{065F}'
        | '\u{0900}'..='\u{0903}'
        | '\u{093A}'..='\u{094F}'
        | '\u{0E31}'..='\u{0E3A}'
        | '\u{0E47}'..='\u{0E4E}'
        | '\u{1AB0}'..='\u{1AFF}'
        | '\u{1DC0}'..='\u{1DFF}'
        | '\u{200C}'..='\u{200D}'
        | '\u{20D0}'..='\u{20FF}'
        | '\u{3099}'..='\u{309A}'
        | '\u{FE00}'..='\u{FE0F}'
        | '\u{FE20}'..='\u{FE2F}'
        | '\u{1F3FB}'..='\u{1F3FF}'
        | '\u{E0020}'..='\u{E007F}'
        | '\u{E0100}'..='\u{E01EF}');
    let regional = |c: char| ('\u{1F1E6}'..='\u{1F1FF}').contains(&c);
    !(extends || before == '\u{200D}' || (regional(before) && regional(after)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::twitter::model::TweetEntry;
    use proptest::prelude::*;
    use serde_json::json;

    /// Runs `f` on a tweet decoded from `tweet` (the archive's JSON shape, strings for numbers).
    fn with_tweet<R>(tweet: serde_json::Value, f: impl FnOnce(&Tweet<'_>) -> R) -> R {
        let json = json!({ "tweet": tweet }).to_string();
        let TweetEntry(t) = serde_json::from_str(&json).unwrap();
        f(&t)
    }

    fn text_of(tweet: serde_json::Value, opts: &TextOptions) -> TweetText {
        with_tweet(tweet, |t| tweet_text(t, opts))
    }

    fn base(full_text: &str) -> serde_json::Value {
        json!({
            "id_str": "1500000000000000001",
            "created_at": "Thu Mar 04 10:00:00 +0000 2021",
            "full_text": full_text,
            "entities": { "urls": [], "user_mentions": [], "hashtags": [] },
        })
    }

    /// Code-point indices of `needle` in `hay`, as strings, the archive's way.
    fn indices(hay: &str, needle: &str) -> serde_json::Value {
        let byte = hay.find(needle).unwrap();
        let start = hay[..byte].chars().count();
        let end = start + needle.chars().count();
        json!([start.to_string(), end.to_string()])
    }

    fn url_entity(hay: &str, tco: &str, expanded: &str) -> serde_json::Value {
        json!({ "url": tco, "expanded_url": expanded, "display_url": "x", "indices": indices(hay, tco) })
    }

    fn mention_entity(hay: &str, name: &str) -> serde_json::Value {
        json!({ "screen_name": name, "name": name, "id_str": "7", "indices": indices(hay, &format!("@{name}")) })
    }

    /// A mention entity whose screen name differs in case from the text, as Twitter writes it.
    fn mention_entity_as(hay: &str, written: &str, screen_name: &str) -> serde_json::Value {
        json!({ "screen_name": screen_name, "indices": indices(hay, &format!("@{written}")) })
    }

    fn mapped(pairs: &[(&str, &str)]) -> TextOptions {
        TextOptions {
            mention_map: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), Handle::parse(v).unwrap()))
                .collect(),
            ..TextOptions::default()
        }
    }

    /// Where Mastodon's `ProcessMentionsService` would find a mention (`MENTION_RE`, applied
    /// to the whole text): the user and domain of each match. Written independently of the
    /// module's scanner, from the regex.
    fn mastodon_mentions(text: &str) -> Vec<String> {
        let chars: Vec<char> = text.chars().collect();
        let word = |c: char| c.is_alphanumeric() || c == '_';
        let name = |c: char| c.is_ascii_alphanumeric() || c == '_';
        let mut found = Vec::new();
        for i in 0..chars.len() {
            if chars[i] != '@' || !chars.get(i + 1).is_some_and(|&c| name(c)) {
                continue;
            }
            if i > 0 && (word(chars[i - 1]) || chars[i - 1] == '=' || chars[i - 1] == '/') {
                continue;
            }
            let mut j = i + 1;
            while j < chars.len() && (name(chars[j]) || chars[j] == '.' || chars[j] == '-') {
                j += 1;
            }
            while !name(chars[j - 1]) {
                j -= 1;
            }
            let mut m: String = chars[i + 1..j].iter().collect();
            if chars.get(j) == Some(&'@') {
                let mut k = j + 1;
                while k < chars.len() && (word(chars[k]) || chars[k] == '.' || chars[k] == '-') {
                    k += 1;
                }
                while k > j + 1 && !word(chars[k - 1]) {
                    k -= 1;
                }
                if k > j + 2 {
                    m = chars[i + 1..k].iter().collect();
                }
            }
            found.push(m.to_lowercase());
        }
        found
    }

    // --- tweets -----------------------------------------------------------------------------

    #[test]
    fn retweet_keeps_its_shape_and_names_the_author_without_notifying() {
        let full = "RT @nasa_fan: Launch window opens at 09:00 &amp; closes at noon https://t.co/AbCdEf1234";
        let mut t = base(full);
        t["entities"]["user_mentions"] = json!([mention_entity(full, "nasa_fan")]);
        t["entities"]["urls"] = json!([url_entity(
            full,
            "https://t.co/AbCdEf1234",
            "https://example.org/launch"
        )]);
        let out = text_of(t.clone(), &TextOptions::default());
        assert_eq!(
            out.text,
            "RT ＠nasa_fan: Launch window opens at 09:00 & closes at noon https://example.org/launch"
        );
        assert_eq!(out.defused, ["nasa_fan"]);
        assert!(out.issues.is_empty(), "{:?}", out.issues);

        let linked = TextOptions {
            mention_style: MentionStyle::ProfileLink,
            ..TextOptions::default()
        };
        let out = text_of(t, &linked);
        assert!(
            out.text
                .starts_with("RT https://twitter.com/nasa_fan: Launch"),
            "{}",
            out.text
        );
        assert!(mastodon_mentions(&out.text).is_empty());
    }

    #[test]
    fn reply_with_three_leading_mentions() {
        let full = "@ann_b @Carl @dee_3 agreed, see https://t.co/Zz9Yy8Xx7W";
        let mut t = base(full);
        t["in_reply_to_status_id_str"] = json!("1499999999999999999");
        t["entities"]["user_mentions"] = json!([
            mention_entity(full, "ann_b"),
            mention_entity_as(full, "Carl", "carl"),
            mention_entity(full, "dee_3")
        ]);
        t["entities"]["urls"] = json!([url_entity(
            full,
            "https://t.co/Zz9Yy8Xx7W",
            "https://example.com/a?b=1&c=2"
        )]);

        let kept = text_of(t.clone(), &TextOptions::default());
        assert_eq!(
            kept.text,
            "＠ann_b ＠Carl ＠dee_3 agreed, see https://example.com/a?b=1&c=2"
        );
        assert_eq!(kept.defused, ["ann_b", "Carl", "dee_3"]);

        let opts = TextOptions {
            drop_reply_mentions: true,
            ..mapped(&[("dee_3", "dee@social.example")])
        };
        let dropped = text_of(t, &opts);
        assert_eq!(dropped.text, "agreed, see https://example.com/a?b=1&c=2");
        assert_eq!(dropped.dropped, ["ann_b", "Carl", "dee_3"]);
        assert!(dropped.defused.is_empty() && dropped.mentions.is_empty());
    }

    #[test]
    fn escaped_text_before_an_entity_counts_in_the_indices() {
        // `&gt;` is 4 code points in the text the indices count, 1 after decoding.
        let full = "a &gt; b &amp;&amp; c &lt;3 https://t.co/Q1w2E3r4T5";
        let mut t = base(full);
        t["entities"]["urls"] = json!([url_entity(
            full,
            "https://t.co/Q1w2E3r4T5",
            "https://example.net/x"
        )]);
        let out = text_of(t, &TextOptions::default());
        assert_eq!(out.text, "a > b && c <3 https://example.net/x");
        assert!(out.issues.is_empty());
    }

    #[test]
    fn emoji_before_an_entity_count_one_code_point() {
        let full = "🎉🚀👨‍👩‍👧 new post https://t.co/EmOjI12345 by @writer";
        let mut t = base(full);
        assert_eq!(indices(full, "https://t.co")[0], "17"); // UTF-16 would say 22.
        t["entities"]["urls"] = json!([url_entity(
            full,
            "https://t.co/EmOjI12345",
            "https://blog.example/p/1"
        )]);
        t["entities"]["user_mentions"] = json!([mention_entity(full, "writer")]);
        let out = text_of(t, &TextOptions::default());
        assert_eq!(
            out.text,
            "🎉🚀👨‍👩‍👧 new post https://blog.example/p/1 by ＠writer"
        );
        assert!(out.issues.is_empty());
    }

    #[test]
    fn media_link_is_removed_for_every_medium() {
        let full = "two cats, one box https://t.co/MeDiA00001";
        let mut t = base(full);
        let medium = |n: u32| {
            json!({ "type": "photo", "id_str": format!("{n}"), "url": "https://t.co/MeDiA00001",
                    "indices": indices(full, "https://t.co/MeDiA00001"),
                    "media_url_https": format!("https://pbs.twimg.com/media/{n}.jpg") })
        };
        t["extended_entities"] = json!({ "media": [medium(1), medium(2)] });
        let out = text_of(t, &TextOptions::default());
        assert_eq!(out.text, "two cats, one box");
        assert!(out.issues.is_empty(), "{:?}", out.issues);

        // In the middle, without its index, with a quote link after it.
        let full = "look https://t.co/MeDiA00002 then https://t.co/QuOtE00002";
        let mut t = base(full);
        t["entities"]["urls"] = json!([url_entity(
            full,
            "https://t.co/QuOtE00002",
            "https://twitter.com/a/status/9"
        )]);
        t["extended_entities"] =
            json!({ "media": [{ "type": "video", "url": "https://t.co/MeDiA00002" }] });
        let out = text_of(t, &TextOptions::default());
        assert_eq!(out.text, "look then https://twitter.com/a/status/9");
    }

    #[test]
    fn wrong_indices_fall_back_to_the_text() {
        let full = "first https://t.co/OnE1111111 second https://t.co/TwO2222222";
        let mut t = base(full);
        t["entities"]["urls"] = json!([
            // Off by three, as if counted on unescaped text.
            { "url": "https://t.co/OnE1111111", "expanded_url": "https://one.example/", "indices": ["3", "26"] },
            // Out of range, and reversed.
            { "url": "https://t.co/TwO2222222", "expanded_url": "https://two.example/", "indices": ["900", "2"] },
            // Overlapping the first, and absent.
            { "url": "https://t.co/ThR3333333", "expanded_url": "https://three.example/", "indices": ["6", "29"] },
        ]);
        let out = text_of(t, &TextOptions::default());
        assert_eq!(
            out.text,
            "first https://one.example/ second https://two.example/"
        );
        assert_eq!(
            out.issues,
            [
                TextIssue::Relocated {
                    url: "https://t.co/OnE1111111".into()
                },
                TextIssue::Missing {
                    url: "https://t.co/ThR3333333".into()
                },
                TextIssue::Relocated {
                    url: "https://t.co/TwO2222222".into()
                },
            ]
        );
    }

    #[test]
    fn old_tweets_keep_raw_links_and_report_unexpanded_tco() {
        let out = text_of(
            base("reading http://example.com/old_page?id=3 now"),
            &TextOptions::default(),
        );
        assert_eq!(out.text, "reading http://example.com/old_page?id=3 now");
        assert!(out.issues.is_empty());

        let out = text_of(base("cut short https://t.co/AbC…"), &TextOptions::default());
        assert_eq!(
            out.issues,
            // Mastodon's links run over `…`, so the report shows what it would link.
            [TextIssue::Unexpanded {
                url: "https://t.co/AbC…".into()
            }]
        );
    }

    #[test]
    fn unescaping_happens_once() {
        let out = text_of(
            base("write &amp;lt;b&amp;gt; for bold, &lt;3 &amp;amp; &gt;_&lt;"),
            &TextOptions::default(),
        );
        assert_eq!(out.text, "write &lt;b&gt; for bold, <3 &amp; >_<");
        // An expanded link is never decoded, even if it looks escaped.
        let full = "x https://t.co/AmPAmP0000";
        let mut t = base(full);
        t["entities"]["urls"] = json!([url_entity(
            full,
            "https://t.co/AmPAmP0000",
            "https://e.example/?a=&amp;"
        )]);
        assert_eq!(
            text_of(t, &TextOptions::default()).text,
            "x https://e.example/?a=&amp;"
        );
    }

    #[test]
    fn mapped_mentions_are_real_and_everything_else_is_defused() {
        let full = "thanks @Alice and @bob, cc @carol@mastodon.example and mail me@home.example";
        let mut t = base(full);
        t["entities"]["user_mentions"] =
            json!([mention_entity(full, "Alice"), mention_entity(full, "bob")]);
        let out = text_of(t, &mapped(&[("alice", "@alice@fedi.example")]));
        assert_eq!(
            out.text,
            "thanks @alice@fedi.example and ＠bob, cc ＠carol@mastodon.example and mail me@home.example"
        );
        assert_eq!(out.mentions, ["alice@fedi.example"]);
        assert_eq!(out.defused, ["bob", "carol@mastodon.example"]);
        assert_eq!(mastodon_mentions(&out.text), ["alice@fedi.example"]);
    }

    #[test]
    fn a_mapped_mention_glued_to_a_domain_like_tail_is_defused() {
        // `@bob.x` would become `@bob@host.x`: another account.
        let out = text_of(base("hi @bob.x"), &mapped(&[("bob", "bob@host.example")]));
        assert_eq!(out.text, "hi ＠bob.x");
        assert!(out.mentions.is_empty());
    }

    #[test]
    fn profile_links_never_swallow_glued_text() {
        let opts = TextOptions {
            mention_style: MentionStyle::ProfileLink,
            ..TextOptions::default()
        };
        let out = text_of(
            base("@amy: @ben's talk, @cat. (@dan) @eveさん x@fred !@gus @averyveryverylongname"),
            &opts,
        );
        assert_eq!(
            out.text,
            "https://twitter.com/amy: ＠ben's talk, https://twitter.com/cat. (https://twitter.com/dan) \
             ＠eveさん x@fred !https://twitter.com/gus ＠averyveryverylongname"
        );
        assert!(mastodon_mentions(&out.text).is_empty());
    }

    #[test]
    fn a_mention_after_a_dot_is_looked_through() {
        // Found by the `tweet_text` fuzz target: in `@Mapped.@other` with profile links, the
        // mapped mention was judged by the `.` after it alone, and the profile link written
        // after the dot lengthened its domain: `@real@fedi.example.https://twitter.com/other`
        // mentions `real@fedi.example.https`. Unmapped, `@a.@b` gave one link over both.
        let opts = TextOptions {
            mention_style: MentionStyle::ProfileLink,
            ..mapped(&[("mapped", "real@fedi.example")])
        };
        let out = text_of(base("@Mapped.@other and @a.-@b"), &opts);
        assert_eq!(
            out.text,
            "＠Mapped.https://twitter.com/other and ＠a.-https://twitter.com/b"
        );
        assert!(mastodon_mentions(&out.text).is_empty(), "{}", out.text);
        // Fullwidth mentions do not lengthen anything: the mapped mention stays.
        let opts = mapped(&[("mapped", "real@fedi.example")]);
        let out = text_of(base("@Mapped.@other"), &opts);
        assert_eq!(out.text, "@real@fedi.example.＠other");
        assert_eq!(mastodon_mentions(&out.text), ["real@fedi.example"]);
    }

    #[test]
    fn a_fullwidth_mention_entity_is_a_mention_too() {
        let full = "hola ＠Nadia_r y @Otto";
        let mut t = base(full);
        t["entities"]["user_mentions"] = json!([
            { "screen_name": "nadia_r", "indices": indices(full, "＠Nadia_r") },
            mention_entity(full, "Otto")
        ]);
        let out = text_of(t, &mapped(&[("nadia_r", "nadia@mstdn.example")]));
        assert_eq!(out.text, "hola @nadia@mstdn.example y ＠Otto");
        assert_eq!(mastodon_mentions(&out.text), ["nadia@mstdn.example"]);
    }

    #[test]
    fn mentions_inside_links_are_left_alone() {
        let out = text_of(
            base("post https://medium.com/@someone/story and @here"),
            &TextOptions::default(),
        );
        assert_eq!(
            out.text,
            "post https://medium.com/@someone/story and ＠here"
        );
    }

    #[test]
    fn note_tweet_uses_the_full_text_and_expands_its_links() {
        let json = r#"{"text":"Part two of the story & more >> read it: https://t.co/NoTe000001\n\nThanks @helper for the review, and #rustlang folks.","urls":[{"shortUrl":"https://t.co/NoTe000001","expandedUrl":"https://example.dev/story/2","displayUrl":"example.dev/story/2","fromIndex":"42","toIndex":"65"}],"mentions":[{"screenName":"helper","fromIndex":"75","toIndex":"82"}]}"#;
        let core: NoteCore = serde_json::from_str(json).unwrap();
        let out = note_text(&core, &TextOptions::default());
        assert_eq!(
            out.text,
            "Part two of the story & more >> read it: https://example.dev/story/2\n\nThanks ＠helper for the review, and #rustlang folks."
        );
        assert_eq!(out.defused, ["helper"]);
        assert!(out.issues.is_empty());
    }

    // --- language and date -------------------------------------------------------------------

    #[test]
    fn languages() {
        for (twitter, iso) in [
            ("en", Some("en")),
            ("DE", Some("de")),
            ("in", Some("id")),
            ("iw", Some("he")),
            ("ji", Some("yi")),
            ("zh-cn", Some("zh")),
            ("zh_TW", Some("zh")),
            ("ckb", Some("ckb")),
            (" fil ", Some("fil")),
            ("und", None),
            ("qme", None),
            ("qam", None),
            ("qht", None),
            ("qct", None),
            ("qst", None),
            ("zxx", None),
            ("art", None),
            ("", None),
            ("x", None),
            ("english", None),
            ("e1", None),
        ] {
            assert_eq!(language(Some(twitter)).as_deref(), iso, "{twitter}");
        }
        assert_eq!(language(None), None);
    }

    #[test]
    fn date_notes() {
        let at = DateTime::parse_from_rfc3339("2021-03-04T23:59:59Z")
            .unwrap()
            .with_timezone(&Utc);
        let url = tweet_url("someone", Id(123));
        assert_eq!(url, "https://twitter.com/someone/status/123");
        assert_eq!(date_note(at, &url, DateNote::None), None);
        assert_eq!(
            date_note(at, &url, DateNote::Date).unwrap(),
            "Originally posted on Twitter on 2021-03-04."
        );
        assert_eq!(
            date_note(at, &url, DateNote::DateLink).unwrap(),
            "Originally posted on Twitter on 2021-03-04: https://twitter.com/someone/status/123"
        );
        assert_eq!(
            date_note(at, " ", DateNote::DateLink).unwrap(),
            "Originally posted on Twitter on 2021-03-04."
        );
    }

    // --- counting -----------------------------------------------------------------------------

    #[test]
    fn counting_like_mastodon() {
        let n = |s: &str| status_length(s, CHARS_PER_URL);
        assert_eq!(n(""), 0);
        assert_eq!(n("hello"), 5);
        assert_eq!(n("日本語"), 3);
        assert_eq!(
            n("see https://example.com/a/very/long/path/indeed/more"),
            4 + 23
        );
        assert_eq!(n("https://a.co"), 23); // Short links count 23 too.
        assert_eq!(n("(https://example.com/x)."), 23 + 3);
        assert_eq!(n("https://en.wikipedia.org/wiki/Foo_(bar)"), 23);
        assert_eq!(n("https://example.com/search?q=rust&page=2"), 23);
        assert_eq!(n("HTTPS://EXAMPLE.COM"), 23);
        assert_eq!(n("xhttps://example.com/abc"), 24); // Not a link after a letter.
        assert_eq!(n("http://localhost/abc"), 20); // Not a domain.
        assert_eq!(n("hi @alice@example.social"), 3 + 6);
        assert_eq!(n("@alice"), 6);
        assert_eq!(n("me@example.social"), 17); // Not a mention after a letter.
        assert_eq!(n("＠alice@example.social"), 21);
        // A ZWJ family is one grapheme for Mastodon, five chars here: never less.
        assert_eq!(n("👨‍👩‍👧"), 5);
        // Found by the `text_split` fuzz target: a link glued to CJK text made the top-level
        // label non-ASCII, and slicing it for `xn--` panicked inside a character.
        assert_eq!(n("https://example.com日本語"), 22);
        assert_eq!(n("見て https://例え.テスト です"), 3 + 14 + 3);
    }

    // --- splitting ----------------------------------------------------------------------------

    /// A part without its marker and (on the first part) the note: `(chunk, index, total)`.
    fn strip(part: &str, note: Option<&str>, first: bool) -> (String, usize, usize) {
        let body = match note {
            Some(n) if first => part.strip_suffix(&format!("\n\n{n}")).unwrap(),
            _ => part,
        };
        let open = body.rfind(" (").unwrap();
        let (i, n) = body[open + 2..body.len() - 1].split_once('/').unwrap();
        assert!(body.ends_with(')'));
        (
            body[..open].to_owned(),
            i.parse().unwrap(),
            n.parse().unwrap(),
        )
    }

    /// Checks every promise of `split` and returns each part's byte range in the trimmed text.
    fn check_split(text: &str, note: Option<&str>, max: usize) -> Vec<(usize, usize)> {
        let parts = split(text, note, max, CHARS_PER_URL);
        let trimmed = text.trim();
        assert!(!parts.is_empty());
        for p in &parts {
            assert!(
                status_length(p, CHARS_PER_URL) <= max,
                "part over {max}: {} for {p:?}",
                status_length(p, CHARS_PER_URL)
            );
        }
        if parts.len() == 1 {
            let expected = match note {
                None => trimmed.to_owned(),
                Some(n) if trimmed.is_empty() => n.to_owned(),
                Some(n) => format!("{trimmed}\n\n{n}"),
            };
            assert_eq!(parts[0], expected);
            return vec![(0, trimmed.len())];
        }
        // Joining the chunks gives back the text, with only whitespace (or nothing, after a
        // cut word) at each split point.
        let mut ranges = Vec::new();
        let mut at = 0;
        for (k, p) in parts.iter().enumerate() {
            let (chunk, i, n) = strip(p, note, k == 0);
            assert_eq!((i, n), (k + 1, parts.len()));
            assert!(!chunk.is_empty() && chunk.trim() == chunk, "{chunk:?}");
            assert!(
                trimmed[at..].starts_with(&chunk),
                "part {i} is not next: {chunk:?}"
            );
            ranges.push((at, at + chunk.len()));
            at += chunk.len();
            let gap = trimmed[at..].len() - trimmed[at..].trim_start().len();
            at += gap;
        }
        assert_eq!(at, trimmed.len());
        ranges
    }

    fn within_one(ranges: &[(usize, usize)], s: usize, e: usize) -> bool {
        ranges.iter().any(|&(a, b)| a <= s && e <= b)
    }

    #[test]
    fn a_long_text_splits_into_three_parts_at_sentences() {
        let sentence = "The quick brown fox jumps over the lazy dog near the river bank today. ";
        let text = sentence.repeat(17); // 1,207 characters.
        assert!(text.chars().count() > 1200);
        let note =
            "Originally posted on Twitter on 2021-03-04: https://twitter.com/someone/status/123";
        let parts = split(&text, Some(note), 500, CHARS_PER_URL);
        assert_eq!(parts.len(), 3, "{parts:#?}");
        assert!(
            parts[0].ends_with(&format!("today. (1/3)\n\n{note}")),
            "{}",
            parts[0]
        );
        assert!(parts[1].ends_with("today. (2/3)"));
        assert!(parts[2].ends_with("today. (3/3)"));
        check_split(&text, Some(note), 500);
    }

    #[test]
    fn short_texts_stay_whole() {
        assert_eq!(split("  hi  ", Some("note"), 500, 23), ["hi\n\nnote"]);
        assert_eq!(split("", Some("note"), 500, 23), ["note"]);
        assert_eq!(split("", None, 500, 23), [""]);
        // A long link counts 23.
        let link = format!("https://example.com/{}", "a".repeat(600));
        assert_eq!(split(&link, None, 500, 23), [link]);
    }

    #[test]
    fn paragraphs_are_preferred_and_kept() {
        let para = "Short line one.\nShort line two, still going.";
        let text = format!("{para}\n\n{para}\n\n{para}");
        // Two paragraphs fit in 100: the break after the second beats the line breaks.
        let parts = split(&text, None, 100, 23);
        assert_eq!(parts[0], format!("{para}\n\n{para} (1/2)"));
        check_split(&text, None, 100);
        // At 80 only one does.
        let parts = split(&text, None, 80, 23);
        assert_eq!(parts, [1, 2, 3].map(|i| format!("{para} ({i}/3)")));
        check_split(&text, None, 80);
    }

    #[test]
    fn overlong_words_are_cut_but_links_are_not() {
        let text = format!(
            "start {} https://example.com/{} end",
            "x".repeat(300),
            "y".repeat(300)
        );
        let ranges = check_split(&text, None, 120);
        let link = text.find("https://").unwrap();
        assert!(within_one(&ranges, link, link + 320));
        // CJK with no spaces: cut after a full stop when that fills half a part.
        let cjk = "日本語の文章です。".repeat(60);
        let parts = split(&cjk, None, 100, 23);
        assert!(parts.iter().all(|p| p.contains("。 (")), "{parts:#?}");
        check_split(&cjk, None, 100);
    }

    #[test]
    fn ten_parts_or_more_reserve_wider_markers() {
        let text = "word ".repeat(400);
        let parts = split(&text, None, 60, 23);
        assert!(parts.len() >= 10);
        assert!(
            parts
                .last()
                .unwrap()
                .ends_with(&format!("/{})", parts.len()))
        );
        check_split(&text, None, 60);
    }

    #[test]
    fn min_limit_fits_a_link_a_marker_and_the_note() {
        assert_eq!(min_limit(None, 23), 23 + 10);
        assert_eq!(min_limit(Some("ab"), 23), 23 + 10 + 4);
        let links = "https://example.com/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa ".repeat(5);
        check_split(&links, Some("ab"), min_limit(Some("ab"), 23));
    }

    // --- properties ---------------------------------------------------------------------------

    fn token() -> impl Strategy<Value = String> {
        prop_oneof![
            8 => "[a-zA-Z]{1,12}[.,!?;:]?",
            2 => "https://example\\.com/[a-z0-9/_.-]{0,60}",
            1 => "http://sub\\.example\\.org/[a-z]{0,10}\\?q=[a-z0-9]{1,8}",
            1 => Just("😀".to_owned()),
            1 => Just("👨‍👩‍👧".to_owned()),
            1 => Just("🇫🇷".to_owned()),
            2 => "[\u{4e00}-\u{4e40}]{1,20}[。！]?",
            2 => "@[a-zA-Z_][a-zA-Z0-9_]{0,14}[.,:]?",
            1 => Just("@alice@example.social".to_owned()),
            1 => Just("#hashtag".to_owned()),
            1 => "[a-z]{30,150}",
        ]
    }

    fn separator() -> impl Strategy<Value = &'static str> {
        prop_oneof![12 => Just(" "), 2 => Just("\n"), 1 => Just("\n\n"), 1 => Just("  "), 1 => Just(" \t")]
    }

    fn text() -> impl Strategy<Value = String> {
        prop::collection::vec((token(), separator()), 0..160)
            .prop_map(|v| v.into_iter().map(|(t, s)| t + s).collect())
    }

    fn note() -> impl Strategy<Value = Option<String>> {
        prop_oneof![
            Just(None),
            Just(Some("Originally posted on Twitter on 2021-03-04.".to_owned())),
            Just(Some(
                "Originally posted on Twitter on 2021-03-04: https://twitter.com/someone/status/1234567890123456789"
                    .to_owned()
            )),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        /// Every part within the limit; the parts give back the text; links and words that fit
        /// a part are never cut.
        #[test]
        fn split_keeps_every_promise(text in text(), note in note(), extra in 0usize..600) {
            let note = note.as_deref();
            let max = min_limit(note, CHARS_PER_URL) + extra;
            let ranges = check_split(&text, note, max);
            let trimmed = text.trim();
            let first_overhead = status_length(&render_part("", 1, "999", note), CHARS_PER_URL);
            for (s, e) in word_spans(trimmed) {
                let word = &trimmed[s..e];
                if word.contains("://") {
                    prop_assert!(within_one(&ranges, s, e), "link cut: {word}");
                }
                if status_length(word, CHARS_PER_URL) + first_overhead <= max {
                    prop_assert!(within_one(&ranges, s, e), "word cut: {word}");
                }
            }
            for (s, e) in find_urls(trimmed) {
                prop_assert!(within_one(&ranges, s, e));
            }
        }

        /// Counting is additive over whitespace-separated words, so that splitting at
        /// whitespace never changes what a word counts.
        #[test]
        fn length_is_additive_over_words(text in text()) {
            let total: usize = word_spans(&text)
                .iter()
                .map(|&(s, e)| status_length(&text[s..e], CHARS_PER_URL))
                .sum::<usize>()
                + text.chars().filter(|c| c.is_whitespace()).count();
            prop_assert_eq!(status_length(&text, CHARS_PER_URL), total);
        }

        /// Nobody is notified but the mapped accounts, whatever the text.
        #[test]
        fn only_mapped_accounts_are_mentioned(
            text in text(),
            style in prop_oneof![Just(MentionStyle::Fullwidth), Just(MentionStyle::ProfileLink)],
            drop in any::<bool>(),
            glue in "[@=/!#.a-z'( ]{0,3}",
        ) {
            let text = format!("{glue}{text} @Mapped @mapped's x@mapped");
            let opts = TextOptions {
                mention_style: style,
                drop_reply_mentions: drop,
                ..mapped(&[("mapped", "real@fedi.example")])
            };
            let out = with_tweet(base(&html_escape::encode_text(&text)), |t| tweet_text(t, &opts));
            for m in mastodon_mentions(&out.text) {
                prop_assert!(m == "real@fedi.example", "{m} in {:?}", out.text);
            }
            if !drop {
                prop_assert_eq!(out.mentions, ["real@fedi.example"]);
            }
        }

        /// Escaped text comes back exactly once unescaped.
        #[test]
        fn unescaping_is_applied_once(raw in "[a-z &<>;#0-9]{0,60}") {
            let raw = raw.replace("lt", "&lt;").replace("amp", "&amp;");
            let escaped = raw.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
            let out = with_tweet(base(&escaped), |t| tweet_text(t, &TextOptions::default()));
            prop_assert_eq!(out.text, raw.trim());
        }

        /// Entities with arbitrary indices never panic, and a link whose t.co form is in the
        /// text is always expanded.
        #[test]
        fn any_indices_are_survived(
            prefix in "[a-z😀&;é ]{0,20}",
            s in 0u64..80, e in 0u64..80, ms in 0u64..80, me in 0u64..80,
        ) {
            let full = format!("{prefix} https://t.co/LiNk000001 tail https://t.co/MeDi000001");
            let mut t = base(&full);
            t["entities"]["urls"] = json!([{ "url": "https://t.co/LiNk000001", "expanded_url": "https://ok.example/", "indices": [s.to_string(), e.to_string()] }]);
            t["entities"]["user_mentions"] = json!([{ "screen_name": "x", "indices": [e.to_string(), s.to_string()] }]);
            t["extended_entities"] = json!({ "media": [{ "type": "photo", "url": "https://t.co/MeDi000001", "indices": [ms.to_string(), me.to_string()] }] });
            let out = text_of(t, &TextOptions::default());
            prop_assert!(out.text.contains("https://ok.example/ tail"), "{:?}", out.text);
            prop_assert!(!out.text.contains("t.co"), "{:?}", out.text);
        }

        /// Correct indices work whatever precedes the entity (escapes, emoji, accents).
        #[test]
        fn code_point_indices_on_escaped_text(prefix in "[a-z😀👨‍👩‍👧é<>& ]{0,30}") {
            let escaped = html_escape::encode_text(&prefix).into_owned();
            let full = format!("{escaped} https://t.co/CoDePoInT1");
            let mut t = base(&full);
            t["entities"]["urls"] = json!([url_entity(&full, "https://t.co/CoDePoInT1", "https://cp.example/")]);
            let out = text_of(t, &TextOptions::default());
            let expected = format!("{prefix} https://cp.example/");
            prop_assert_eq!(out.text, expected.trim());
            prop_assert!(out.issues.is_empty());
        }
    }
}
