//! The `--preview FILE.html` page (issue 5, "Look before you leap"): every post as it will
//! appear, in one self-contained HTML file to read before anything is sent.
//!
//! The page shows the dry run's figures, the visibility and the server's limits, then every
//! post in posting order — each status of its chain with its text (newlines kept, `http(s)`
//! links clickable), a `part i/n` badge when split, its length against the limit, its media —
//! threads grouped under their root, and last the skipped tweets with their reasons.
//!
//! Invariants:
//!
//! - **Self-contained and inert.** Inline CSS, no script, nothing fetched: images are `data:`
//!   URIs, and a Content-Security-Policy forbids anything else should escaping ever fail.
//! - **Archive text is hostile.** Everything that comes from the archive or the journal is
//!   escaped; C0/C1 control characters, which HTML forbids, become U+FFFD. Only `http(s)`
//!   addresses become links (`rel="nofollow noopener noreferrer"`), with the URL as the
//!   `url` crate serializes it.
//! - **Bounded.** Photos are embedded as they are, when they are a JPEG, PNG, GIF or WebP (by
//!   their bytes, not their name) of at most [`PHOTO_MAX_BYTES`], until [`PHOTO_BUDGET_BYTES`]
//!   have been embedded; every other medium — videos and GIFs (MP4s) always — is a placeholder
//!   tile with its kind, name and size. The skipped table stops after [`SKIPPED_ROWS`] rows.
//!   Markup costs about 2.5 KB a post and 200 bytes a skipped row: 2,000 posts and a full
//!   table make about 7 MB, 18 MB once the image budget is used up.
//!
//! Thumbnails would let every photo show, but decoding and re-encoding needs the `image`
//! crate, whose clean build costs about 45 s on a 2-core machine; photos as they are suit a
//! preview well enough.
//!
//! The page is written through `out` and media are read through the caller's closure: no other
//! I/O happens here.

use std::collections::HashMap;
use std::io::{self, BufWriter, Write};

use base64::engine::general_purpose::STANDARD;
use base64::write::EncoderWriter;
use html_escape::{encode_double_quoted_attribute_to_writer, encode_text_to_writer};

use crate::source::twitter::Id;

use super::posts::{Draft, DraftMedia, DryRun, Limits};
use super::text::status_length;

/// The largest photo embedded in the page, in bytes: bigger ones get a placeholder.
pub const PHOTO_MAX_BYTES: usize = 150 * 1024;

/// The bytes of photos one page embeds at most (they take 4/3 of that as base64); the photos
/// after that get a placeholder.
pub const PHOTO_BUDGET_BYTES: u64 = 8 * 1024 * 1024;

/// Rows of the skipped table at most; the rest are counted.
pub const SKIPPED_ROWS: usize = 10_000;

/// A tweet that is not posted, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewSkip {
    pub tweet: Id,
    /// The original tweet's address.
    pub url: String,
    /// Why, as [`super::select::SkipReason::text`] says it.
    pub reason: String,
}

/// What the page shows.
#[derive(Debug, Clone)]
pub struct PreviewInput<'a> {
    /// What goes where, e.g. `archive.zip → me@server.example`.
    pub title: String,
    pub limits: Limits,
    pub summary: &'a DryRun,
    /// The posts, in any order: the page sorts them by [`Draft::order`].
    pub drafts: &'a [Draft],
    /// In the order the table lists them.
    pub skipped: &'a [PreviewSkip],
    pub visibility: &'a str,
}

/// What [`write_preview`] wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PreviewStats {
    /// Posts (drafts) shown.
    pub posts: usize,
    /// Statuses shown: split parts and media follow-ups included.
    pub statuses: usize,
    /// Photos embedded.
    pub thumbnails: usize,
    /// Media shown as a placeholder tile.
    pub placeholders: usize,
    /// The page's size.
    pub bytes: u64,
}

/// Writes the page (see the module doc) to `out`.
///
/// `media` returns a file's bytes from the archive, given a [`DraftMedia::file`] path, or `None`
/// when it cannot be read. It is called once per medium, videos included (their tile shows
/// their size and whether they could be read), one at a time: memory holds one file at most.
pub fn write_preview(
    out: &mut dyn Write,
    input: &PreviewInput<'_>,
    media: &mut dyn FnMut(&str) -> Option<Vec<u8>>,
) -> io::Result<PreviewStats> {
    let mut page = Page {
        out: Counting {
            inner: BufWriter::with_capacity(64 * 1024, out),
            bytes: 0,
        },
        limits: input.limits,
        embedded: 0,
        stats: PreviewStats::default(),
    };
    let mut drafts: Vec<&Draft> = input.drafts.iter().collect();
    drafts.sort_by_key(|d| (d.order, d.tweet));
    let threads = Threads::of(&drafts);
    page.stats.posts = drafts.len();

    page.head(input, &threads)?;
    page.raw("<main>\n<section id=\"posts\">\n<h2>Posts, in posting order</h2>\n")?;
    if drafts.is_empty() {
        page.raw("<p class=\"empty\">No tweet becomes a post.</p>\n")?;
    }
    for (root, members) in threads.groups() {
        if members.len() > 1 {
            write!(
                page.out,
                "<div class=\"thread\" id=\"thread-{}\">\n<p class=\"thread-head\">Thread of {} posts</p>\n",
                drafts[root].tweet,
                members.len()
            )?;
        }
        for &i in &members {
            let parent = threads.parent[i].map(|p| (drafts[p].tweet, drafts[p].order));
            page.post(drafts[i], parent, &mut *media)?;
        }
        if members.len() > 1 {
            page.raw("</div>\n")?;
        }
    }
    page.raw("</section>\n")?;
    page.skipped(input.skipped)?;
    write!(
        page.out,
        "</main>\n<footer>Made by migrate {}: no script, nothing fetched, nothing sent.</footer>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION")
    )?;
    page.out.inner.flush()?;
    page.stats.bytes = page.out.bytes;
    Ok(page.stats)
}

/// Threads: each post's parent among the drafts and the root it hangs from.
struct Threads {
    parent: Vec<Option<usize>>,
    root: Vec<usize>,
}

impl Threads {
    /// For `drafts` sorted by posting order.
    fn of(drafts: &[&Draft]) -> Threads {
        let index: HashMap<Id, usize> = drafts
            .iter()
            .enumerate()
            .map(|(i, d)| (d.tweet, i))
            .collect();
        let parent: Vec<Option<usize>> = drafts
            .iter()
            .enumerate()
            .map(|(i, d)| {
                d.reply_to
                    .and_then(|p| index.get(&p).copied())
                    .filter(|&p| p != i)
            })
            .collect();
        let mut root: Vec<usize> = Vec::with_capacity(drafts.len());
        for i in 0..drafts.len() {
            let r = match parent[i] {
                None => i,
                // The planner posts a parent first: its root is known.
                Some(p) if p < i => root[p],
                // A journal is data, though: walk up, and a post whose ancestry does not end
                // within `len` steps (a cycle) stands on its own.
                Some(_) => {
                    let mut at = i;
                    let mut steps = 0;
                    while let Some(p) = parent[at] {
                        at = p;
                        steps += 1;
                        if steps > drafts.len() {
                            at = i;
                            break;
                        }
                    }
                    at
                }
            };
            root.push(r);
        }
        Threads { parent, root }
    }

    /// Each root in posting order with its thread's posts: the root first, then the others in
    /// posting order.
    fn groups(&self) -> Vec<(usize, Vec<usize>)> {
        let mut members: Vec<Vec<usize>> = (0..self.root.len()).map(|r| vec![r]).collect();
        for (i, &r) in self.root.iter().enumerate() {
            if r != i {
                members[r].push(i);
            }
        }
        members
            .into_iter()
            .enumerate()
            .filter(|&(r, _)| self.root[r] == r)
            .collect()
    }

    fn count(&self) -> usize {
        self.groups().iter().filter(|(_, m)| m.len() > 1).count()
    }
}

/// An `io::Write` that counts what passes through.
struct Counting<W: Write> {
    inner: W,
    bytes: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

struct Page<'w> {
    out: Counting<BufWriter<&'w mut dyn Write>>,
    limits: Limits,
    /// Photo bytes embedded so far.
    embedded: u64,
    stats: PreviewStats,
}

impl Page<'_> {
    /// Markup written as is: never archive data.
    fn raw(&mut self, html: &str) -> io::Result<()> {
        self.out.write_all(html.as_bytes())
    }

    /// Text content, escaped.
    fn text(&mut self, s: &str) -> io::Result<()> {
        encode_text_to_writer(clean(s), &mut self.out)
    }

    /// A double-quoted attribute's value, escaped.
    fn attr(&mut self, s: &str) -> io::Result<()> {
        encode_double_quoted_attribute_to_writer(clean(s), &mut self.out)
    }

    /// `label` linked to `url` when it is an `http(s)` address, else plain text.
    fn link(&mut self, url: &str, label: &str, class: &str) -> io::Result<()> {
        match web_url(url) {
            Some(href) => {
                write!(self.out, "<a class=\"{class}\" href=\"")?;
                self.attr(href.as_str())?;
                self.raw("\" rel=\"nofollow noopener noreferrer\">")?;
                self.text(label)?;
                self.raw("</a>")
            }
            None => {
                write!(self.out, "<span class=\"{class}\">")?;
                self.text(label)?;
                self.raw("</span>")
            }
        }
    }

    fn head(&mut self, input: &PreviewInput<'_>, threads: &Threads) -> io::Result<()> {
        self.raw(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <meta name=\"referrer\" content=\"no-referrer\">\n\
             <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">\n\
             <title>Preview: ",
        )?;
        self.text(&input.title)?;
        self.raw("</title>\n<style>\n")?;
        self.raw(CSS)?;
        self.raw("</style>\n</head>\n<body>\n<header class=\"page\">\n<h1>Preview: ")?;
        self.text(&input.title)?;
        self.raw("</h1>\n<p class=\"lede\">Every post as it will be sent. Nothing has been sent yet.</p>\n")?;

        let s = input.summary;
        let skipped: u64 = s.skipped.values().sum();
        let figures: [(&str, String); 13] = [
            ("tweets read", thousands(s.tweets)),
            ("posts", thousands(s.tweets_posted)),
            ("statuses", thousands(s.statuses)),
            ("split into chains", thousands(s.split_tweets)),
            ("long tweets", thousands(s.long_tweets)),
            ("threads", thousands(threads.count() as u64)),
            ("media files", thousands(s.media)),
            ("media described", thousands(s.media_described)),
            ("media missing", thousands(s.media_missing)),
            ("media left out", thousands(s.media_left_out)),
            ("posted on their own", thousands(s.orphans)),
            ("skipped", thousands(skipped)),
            ("time at the server's pace", duration(s.hours)),
        ];
        self.raw("<dl class=\"figures\">\n")?;
        for (label, value) in figures {
            let class = match label {
                "media missing" | "posted on their own" if value != "0" => " class=\"warn\"",
                "time at the server's pace" => " class=\"wide\"",
                _ => "",
            };
            write!(self.out, "<div{class}><dt>{label}</dt><dd>")?;
            self.text(&value)?;
            self.raw("</dd></div>\n")?;
        }
        self.raw("</dl>\n")?;

        if !s.skipped.is_empty() {
            self.raw("<ul class=\"reasons\">\n")?;
            for (reason, n) in &s.skipped {
                write!(self.out, "<li><b>{}</b> ", thousands(*n))?;
                self.text(reason)?;
                self.raw("</li>\n")?;
            }
            self.raw("</ul>\n")?;
        }

        let l = self.limits;
        self.raw("<p class=\"settings\">Visibility <b>")?;
        self.text(input.visibility)?;
        writeln!(
            self.out,
            "</b> · at most <b>{}</b> characters a status, a link counting {} · {} media a status · \
             {} statuses per 3 hours · {} uploads per 30 minutes</p>",
            thousands(l.max_characters as u64),
            l.characters_reserved_per_url,
            l.max_media_attachments,
            thousands(l.statuses_per_3h),
            thousands(l.media_per_30min),
        )?;
        write!(
            self.out,
            "<nav><a href=\"#posts\">Posts ({})</a> <a href=\"#skipped\">Skipped ({})</a></nav>\n</header>\n",
            thousands(input.drafts.len() as u64),
            thousands(input.skipped.len() as u64)
        )
    }

    /// One post: its chain of statuses. `parent`: the drafted post it replies to (tweet, order).
    fn post(
        &mut self,
        d: &Draft,
        parent: Option<(Id, u64)>,
        media: &mut dyn FnMut(&str) -> Option<Vec<u8>>,
    ) -> io::Result<()> {
        let parts = d.parts.len().max(1);
        let statuses = d.status_count();
        self.stats.statuses += statuses;
        let lang = d
            .language
            .as_deref()
            .filter(|l| (2..=3).contains(&l.len()) && l.bytes().all(|b| b.is_ascii_alphabetic()));

        write!(
            self.out,
            "<article class=\"post{}\" id=\"tweet-{}\">\n<header class=\"meta\"><span class=\"order\">#{}</span> ",
            if parent.is_some() { " reply" } else { "" },
            d.tweet,
            thousands(d.order + 1)
        )?;
        if let Some((tweet, order)) = parent {
            write!(
                self.out,
                "<a class=\"replyto\" href=\"#tweet-{tweet}\">↳ replies to #{}</a> ",
                thousands(order + 1)
            )?;
        } else if let Some(p) = d.reply_to {
            // Not in this preview: an earlier run posted it, or it is not posted at all.
            write!(
                self.out,
                "<span class=\"replyto\">↳ replies to tweet {p}</span> "
            )?;
        }
        if let Some(at) = d.created_at {
            write!(
                self.out,
                "<time datetime=\"{}\">{}</time> ",
                at.format("%Y-%m-%dT%H:%M:%SZ"),
                at.format("%Y-%m-%d %H:%M UTC")
            )?;
        }
        self.link(&d.url, "original tweet", "original")?;
        if let Some(lang) = lang {
            self.raw(" <span class=\"lang\">")?;
            self.text(lang)?;
            self.raw("</span>")?;
        }
        if statuses > 1 {
            write!(
                self.out,
                " <span class=\"chain\">{statuses} statuses</span>"
            )?;
        }
        self.raw("</header>\n")?;
        if let Some(why) = &d.orphan {
            // The planner's reason reads "posted on its own: …".
            let mut chars = why.chars();
            let why: String = chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect())
                .unwrap_or_default();
            self.raw("<p class=\"note orphan\">")?;
            self.text(&why)?;
            self.raw("</p>\n")?;
        }

        for index in 0..statuses {
            let followup = index >= parts;
            write!(
                self.out,
                "<section class=\"status{}\">\n<div class=\"badges\">",
                if followup { " followup" } else { "" }
            )?;
            if followup {
                self.raw("<span class=\"badge followup\">media follow-up</span>")?;
            } else if parts > 1 {
                write!(
                    self.out,
                    "<span class=\"badge part\">part {}/{parts}</span>",
                    index + 1
                )?;
            }
            let text = d.status_text(index);
            let length = status_length(&text, self.limits.characters_reserved_per_url);
            let over = length > self.limits.max_characters;
            writeln!(
                self.out,
                "<span class=\"count{}\" title=\"characters, as the server counts them\">{} / {}</span></div>",
                if over { " over" } else { "" },
                thousands(length as u64),
                thousands(self.limits.max_characters as u64)
            )?;
            match lang {
                Some(l) => write!(self.out, "<div class=\"text\" lang=\"{l}\">")?,
                None => self.raw("<div class=\"text\">")?,
            }
            self.linked_text(&text)?;
            self.raw("</div>\n")?;
            if let Some(files) = d
                .status_media(index)
                .map(|g| &d.media[g])
                .filter(|g| !g.is_empty())
            {
                self.raw("<div class=\"media\">")?;
                for m in files {
                    self.tile(m, &mut *media)?;
                }
                self.raw("</div>\n")?;
            }
            self.raw("</section>\n")?;
        }

        if !d.missing.is_empty() {
            let mut kinds: Vec<(&str, usize)> = Vec::new();
            for k in &d.missing {
                match kinds.iter_mut().find(|(name, _)| name == k) {
                    Some((_, n)) => *n += 1,
                    None => kinds.push((k, 1)),
                }
            }
            let list: Vec<String> = kinds
                .iter()
                .map(|(k, n)| format!("{n} {}", kind_label(k, *n)))
                .collect();
            self.raw("<p class=\"note missing\">Not in the archive, posted without: ")?;
            self.text(&list.join(", "))?;
            let files: Vec<String> = d
                .missing_files
                .iter()
                .filter(|f| !f.is_empty())
                .map(|f| format!("data/{f}"))
                .collect();
            if !files.is_empty() {
                self.text(&format!(" ({})", files.join(", ")))?;
            }
            self.raw("</p>\n")?;
        }
        self.raw("</article>\n")
    }

    /// `text` with its `http(s)` addresses as links.
    fn linked_text(&mut self, text: &str) -> io::Result<()> {
        let mut at = 0;
        for (start, end) in find_links(text) {
            let Some(href) = web_url(&text[start..end]) else {
                continue;
            };
            self.text(&text[at..start])?;
            self.raw("<a href=\"")?;
            self.attr(href.as_str())?;
            self.raw("\" rel=\"nofollow noopener noreferrer\">")?;
            self.text(&text[start..end])?;
            self.raw("</a>")?;
            at = end;
        }
        self.text(&text[at..])
    }

    /// A medium: the photo itself, or a placeholder that says what it is and why it is not shown.
    fn tile(
        &mut self,
        m: &DraftMedia,
        media: &mut dyn FnMut(&str) -> Option<Vec<u8>>,
    ) -> io::Result<()> {
        let name = m.file.rsplit('/').next().unwrap_or(&m.file);
        let bytes = media(&m.file);
        let photo = m.kind == "photo";
        let shown = match &bytes {
            Some(b) if photo => match image_type(b) {
                None => Err("not a JPEG, PNG, GIF or WebP image"),
                Some(_) if b.len() > PHOTO_MAX_BYTES => Err("too large to embed here"),
                Some(_) if self.embedded + b.len() as u64 > PHOTO_BUDGET_BYTES => {
                    Err("the page's image budget is used up")
                }
                Some(mime) => Ok(mime),
            },
            Some(_) => Err("not embedded"),
            None => Err("could not be read from the archive"),
        };
        match (shown, &bytes) {
            (Ok(mime), Some(b)) => {
                self.stats.thumbnails += 1;
                self.embedded += b.len() as u64;
                self.raw("<figure class=\"tile photo\"><img alt=\"")?;
                self.attr(m.description.as_deref().unwrap_or(name))?;
                write!(
                    self.out,
                    "\" loading=\"lazy\" decoding=\"async\" src=\"data:{mime};base64,"
                )?;
                {
                    let mut encoder = EncoderWriter::new(&mut self.out, &STANDARD);
                    encoder.write_all(b)?;
                    encoder.finish()?;
                }
                self.raw("\"><figcaption>")?;
                self.text(name)?;
                write!(self.out, " · {}", size(b.len() as u64))?;
                self.alt(m)?;
                self.raw("</figcaption></figure>")
            }
            (why, _) => {
                self.stats.placeholders += 1;
                let unreadable = bytes.is_none();
                write!(
                    self.out,
                    "<figure class=\"tile placeholder{}\"><div class=\"kind\">",
                    if unreadable { " unreadable" } else { "" }
                )?;
                self.text(kind_label(&m.kind, 1))?;
                self.raw("</div><figcaption>")?;
                self.text(name)?;
                if let Some(b) = &bytes {
                    write!(self.out, " · {}", size(b.len() as u64))?;
                }
                if let Err(why) = why {
                    write!(self.out, "<br><i>{why}</i>")?;
                }
                self.alt(m)?;
                self.raw("</figcaption></figure>")
            }
        }
    }

    /// A medium's description (`--alt-text`), under its tile.
    fn alt(&mut self, m: &DraftMedia) -> io::Result<()> {
        match m.description.as_deref().filter(|d| !d.trim().is_empty()) {
            Some(description) => {
                self.raw("<span class=\"alt\"><b>ALT</b> ")?;
                self.text(description)?;
                self.raw("</span>")
            }
            None => Ok(()),
        }
    }

    fn skipped(&mut self, skipped: &[PreviewSkip]) -> io::Result<()> {
        write!(
            self.out,
            "<section id=\"skipped\">\n<h2>Skipped tweets ({})</h2>\n",
            thousands(skipped.len() as u64)
        )?;
        if skipped.is_empty() {
            return self.raw("<p class=\"empty\">None.</p>\n</section>\n");
        }
        self.raw("<table class=\"skipped\">\n<thead><tr><th>Tweet</th><th>Reason</th></tr></thead>\n<tbody>\n")?;
        for s in skipped.iter().take(SKIPPED_ROWS) {
            self.raw("<tr><td>")?;
            self.link(&s.url, &s.tweet.to_string(), "original")?;
            self.raw("</td><td>")?;
            self.text(&s.reason)?;
            self.raw("</td></tr>\n")?;
        }
        self.raw("</tbody>\n</table>\n")?;
        if skipped.len() > SKIPPED_ROWS {
            writeln!(
                self.out,
                "<p class=\"more\">and {} more, not listed here.</p>",
                thousands((skipped.len() - SKIPPED_ROWS) as u64)
            )?;
        }
        self.raw("</section>\n")
    }
}

/// `s` without the characters HTML forbids in a document (controls other than tab, line feed
/// and carriage return; noncharacters): each becomes U+FFFD, so the page stays valid.
fn clean(s: &str) -> std::borrow::Cow<'_, str> {
    let bad = |c: char| {
        (c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
            || ('\u{FDD0}'..='\u{FDEF}').contains(&c)
            || (c as u32 & 0xFFFE) == 0xFFFE
    };
    if s.contains(bad) {
        s.chars()
            .map(|c| if bad(c) { '\u{FFFD}' } else { c })
            .collect::<String>()
            .into()
    } else {
        s.into()
    }
}

/// `s` as a URL when it is an absolute `http(s)` address with a host.
fn web_url(s: &str) -> Option<url::Url> {
    let url = url::Url::parse(s.trim()).ok()?;
    (matches!(url.scheme(), "http" | "https") && url.host_str().is_some_and(|h| !h.is_empty()))
        .then_some(url)
}

/// The byte spans of the `http(s)://` addresses in `text`, as a reader would take them: up to
/// whitespace, `<`, `>`, `"` or non-ASCII punctuation, without trailing punctuation or an
/// unbalanced closing bracket. Close to what Mastodon links, not a copy of its rules: the page
/// only needs the address clickable.
fn find_links(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let rest = &bytes[i..];
        let scheme = if rest.len() >= 8 && rest[..8].eq_ignore_ascii_case(b"https://") {
            8
        } else if rest.len() >= 7 && rest[..7].eq_ignore_ascii_case(b"http://") {
            7
        } else {
            i += 1;
            continue;
        };
        // `h` is ASCII, so `i` is a char boundary.
        let glued = text[..i]
            .chars()
            .next_back()
            .is_some_and(|p| p.is_alphanumeric() || "_@＠$#＃/".contains(p));
        if glued {
            i += scheme;
            continue;
        }
        let mut end = i + scheme;
        for c in text[end..].chars() {
            if c.is_whitespace()
                || matches!(c, '<' | '>' | '"')
                || (!c.is_ascii() && !c.is_alphanumeric())
            {
                break;
            }
            end += c.len_utf8();
        }
        // Trailing punctuation is the sentence's, and a closing bracket only the link's when
        // the link opened it.
        loop {
            let span = &text[i..end];
            let Some(last) = span.chars().next_back() else {
                break;
            };
            let unbalanced = |open: char| span.matches(open).count() < span.matches(last).count();
            let trim = match last {
                '.' | ',' | ':' | ';' | '!' | '?' | '\'' | '*' => true,
                ')' => unbalanced('('),
                ']' => unbalanced('['),
                '}' => unbalanced('{'),
                _ => false,
            };
            if !trim {
                break;
            }
            end -= last.len_utf8();
        }
        if end > i + scheme {
            spans.push((i, end));
        }
        i = end.max(i + scheme);
    }
    spans
}

/// The image type of `bytes`, by their signature.
fn image_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// What a medium of `kind` is called, for `n` of them.
fn kind_label(kind: &str, n: usize) -> &str {
    match (kind, n == 1) {
        ("photo", true) => "photo",
        ("photo", false) => "photos",
        ("video", true) => "video",
        ("video", false) => "videos",
        ("animated_gif", true) => "GIF",
        ("animated_gif", false) => "GIFs",
        (other, _) => other,
    }
}

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A file size: `812 B`, `42 KiB`, `3.2 MiB`.
fn size(bytes: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * 1024;
    if bytes < KIB {
        format!("{bytes} B")
    } else if bytes < MIB {
        format!("{} KiB", bytes.div_ceil(KIB))
    } else {
        format!("{:.1} MiB", bytes as f64 / MIB as f64)
    }
}

/// The dry run's time estimate, in words.
fn duration(hours: f64) -> String {
    if !hours.is_finite() || hours <= 0.0 {
        return "none".into();
    }
    if hours < 1.0 {
        return format!("about {} min", ((hours * 60.0).ceil() as u64).max(1));
    }
    let hours_text = |h: f64| {
        let rounded = (h * 10.0).round() / 10.0;
        if rounded.fract() == 0.0 {
            format!("{rounded:.0}")
        } else {
            format!("{rounded:.1}")
        }
    };
    if hours < 48.0 {
        format!("about {} hours", hours_text(hours))
    } else {
        format!(
            "about {} days ({} hours)",
            hours_text(hours / 24.0),
            thousands(hours.round() as u64)
        )
    }
}

/// The page's style: readable at 2,000 posts (`content-visibility` lets the browser skip
/// laying out what is off screen), light or dark as the reader's system is.
const CSS: &str = r#":root { color-scheme: light dark; --fg: #1d1d1f; --muted: #6b6b73; --bg: #f4f4f7; --card: #fff; --line: #d9d9e0; --accent: #563acc; --warn: #b3261e; --warn-bg: #fdecea; --note-bg: #fff6db; }
@media (prefers-color-scheme: dark) { :root { --fg: #e8e8ee; --muted: #a0a0ab; --bg: #17171c; --card: #22222a; --line: #3a3a46; --accent: #a898ff; --warn: #ff8a80; --warn-bg: #3b1d1b; --note-bg: #3a3220; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; color: var(--fg); background: var(--bg); }
header.page, main, footer { max-width: 760px; margin: 0 auto; padding: 0 16px; }
header.page { padding-top: 24px; }
h1 { font-size: 22px; margin: 0 0 4px; overflow-wrap: anywhere; }
h2 { font-size: 18px; margin: 28px 0 12px; }
.lede, .settings, footer, .empty, .more { color: var(--muted); }
dl.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(130px, 1fr)); gap: 8px; margin: 16px 0; }
dl.figures div { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 8px 10px; }
dl.figures dt { font-size: 12px; color: var(--muted); }
dl.figures dd { margin: 0; font-size: 18px; font-weight: 600; }
dl.figures div.warn dd { color: var(--warn); }
dl.figures div.wide { grid-column: span 2; }
ul.reasons { margin: 0 0 12px; padding-left: 20px; color: var(--muted); }
nav a { margin-right: 12px; }
a { color: var(--accent); }
.thread { border-left: 3px solid var(--accent); padding-left: 12px; margin: 16px 0; }
.thread-head { margin: 0 0 6px; font-size: 12px; font-weight: 600; color: var(--accent); text-transform: uppercase; letter-spacing: .04em; }
article.post { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 10px 14px; margin: 12px 0; content-visibility: auto; contain-intrinsic-size: auto 160px; }
article.post.reply { margin-left: 28px; }
.meta { font-size: 12px; color: var(--muted); display: flex; flex-wrap: wrap; gap: 4px 10px; align-items: baseline; }
.meta .order { font-weight: 700; color: var(--fg); }
.meta .lang, .meta .chain { border: 1px solid var(--line); border-radius: 4px; padding: 0 5px; }
section.status { padding: 8px 0; }
section.status + section.status { border-top: 1px dashed var(--line); }
.badges { display: flex; gap: 8px; align-items: center; font-size: 12px; margin-bottom: 4px; }
.badge { background: var(--accent); color: var(--card); border-radius: 4px; padding: 0 6px; font-weight: 600; }
.badge.followup { background: var(--muted); }
.count { margin-left: auto; color: var(--muted); font-variant-numeric: tabular-nums; }
.count.over { color: var(--warn); font-weight: 700; }
.text { white-space: pre-wrap; overflow-wrap: anywhere; }
.media { display: flex; flex-wrap: wrap; gap: 8px; margin-top: 8px; }
figure.tile { margin: 0; width: 160px; border: 1px solid var(--line); border-radius: 8px; overflow: hidden; background: var(--bg); }
figure.tile img { display: block; width: 160px; height: 120px; object-fit: cover; }
figure.tile .kind { height: 120px; display: flex; align-items: center; justify-content: center; font-weight: 700; font-size: 16px; color: var(--muted); text-transform: uppercase; letter-spacing: .05em; }
figure.tile.unreadable { border-color: var(--warn); }
figure.tile.unreadable .kind { color: var(--warn); background: var(--warn-bg); }
figure.tile figcaption { font-size: 11px; padding: 4px 6px; color: var(--muted); overflow-wrap: anywhere; }
figure.tile .alt { display: block; margin-top: 2px; color: var(--fg); }
figure.tile .alt b { font-size: 9px; background: var(--muted); color: var(--card); border-radius: 3px; padding: 0 3px; }
.meta time { color: var(--fg); }
.note { font-size: 13px; margin: 6px 0; padding: 4px 8px; border-radius: 6px; background: var(--note-bg); }
.note.missing { background: var(--warn-bg); }
table.skipped { width: 100%; border-collapse: collapse; background: var(--card); font-size: 13px; }
table.skipped th, table.skipped td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
table.skipped td:first-child { white-space: nowrap; font-variant-numeric: tabular-nums; }
footer { padding: 24px 16px 40px; font-size: 12px; }
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(tweet: u64, order: u64, parts: &[&str]) -> Draft {
        Draft {
            tweet: Id(tweet),
            order,
            reply_to: None,
            orphan: None,
            parts: parts.iter().map(|p| p.to_string()).collect(),
            media: Vec::new(),
            missing: Vec::new(),
            missing_files: Vec::new(),
            language: Some("en".into()),
            url: format!("https://twitter.com/me/status/{tweet}"),
            created_at: None,
        }
    }

    fn photo(file: &str) -> DraftMedia {
        DraftMedia {
            file: format!("tweets_media/{file}"),
            kind: "photo".into(),
            description: None,
        }
    }

    fn video(file: &str, kind: &str) -> DraftMedia {
        DraftMedia {
            file: format!("tweets_media/{file}"),
            kind: kind.into(),
            description: None,
        }
    }

    struct Rendered {
        html: String,
        stats: PreviewStats,
    }

    fn render_with(
        drafts: &[Draft],
        skipped: &[PreviewSkip],
        summary: &DryRun,
        media: &mut dyn FnMut(&str) -> Option<Vec<u8>>,
    ) -> Rendered {
        let input = PreviewInput {
            title: "archive.zip → me@server.example".into(),
            limits: Limits::default(),
            summary,
            drafts,
            skipped,
            visibility: "unlisted",
        };
        let mut out = Vec::new();
        let stats = write_preview(&mut out, &input, media).unwrap();
        assert_eq!(stats.bytes, out.len() as u64, "bytes counts the page");
        Rendered {
            html: String::from_utf8(out).unwrap(),
            stats,
        }
    }

    fn render(drafts: &[Draft], skipped: &[PreviewSkip]) -> Rendered {
        render_with(drafts, skipped, &DryRun::default(), &mut |_| None)
    }

    /// The markup of the post of `tweet`, from its `<article>` to its `</article>`.
    fn article(html: &str, tweet: u64) -> &str {
        let start = html
            .find(&format!("id=\"tweet-{tweet}\""))
            .unwrap_or_else(|| panic!("no article for {tweet}"));
        let start = html[..start].rfind("<article").unwrap();
        let end = start + html[start..].find("</article>").unwrap() + "</article>".len();
        &html[start..end]
    }

    /// The `<div>` that opens at `start`, to its matching `</div>`.
    fn div(html: &str, start: usize) -> &str {
        let mut depth = 0;
        let mut i = start;
        loop {
            let next_open = html[i..].find("<div").map(|p| i + p);
            let next_close = i + html[i..].find("</div>").expect("closed");
            match next_open {
                Some(o) if o < next_close => {
                    depth += 1;
                    i = o + 4;
                }
                _ => {
                    depth -= 1;
                    i = next_close + "</div>".len();
                    if depth == 0 {
                        return &html[start..i];
                    }
                }
            }
        }
    }

    /// Each attribute of each tag, as (tag, attribute name). Values are double-quoted and
    /// escaped, so neither `"` nor `>` ends one early.
    fn attributes(html: &str) -> Vec<(String, String)> {
        let mut found = Vec::new();
        let mut rest = html;
        while let Some(lt) = rest.find('<') {
            rest = &rest[lt + 1..];
            if !rest.starts_with(|c: char| c.is_ascii_alphabetic()) {
                continue;
            }
            let gt = rest.find('>').expect("tag closed");
            let tag = &rest[..gt];
            rest = &rest[gt + 1..];
            let (name, mut attrs) = tag.split_once(' ').unwrap_or((tag, ""));
            loop {
                attrs = attrs.trim_start();
                if attrs.is_empty() {
                    break;
                }
                let end = attrs.find(['=', ' ']).unwrap_or(attrs.len());
                found.push((name.to_string(), attrs[..end].to_string()));
                attrs = &attrs[end..];
                if let Some(value) = attrs.strip_prefix("=\"") {
                    let close = value.find('"').expect("value closed");
                    attrs = &value[close + 1..];
                }
            }
        }
        found
    }

    /// Every `href` of the page.
    fn hrefs(html: &str) -> Vec<&str> {
        html.match_indices("href=\"")
            .map(|(i, m)| {
                let rest = &html[i + m.len()..];
                &rest[..rest.find('"').unwrap()]
            })
            .collect()
    }

    /// Elements that must nest: as many closed as opened, and never more closed than open.
    fn assert_balanced(html: &str) {
        for tag in [
            "article", "section", "div", "figure", "table", "header", "main", "p",
        ] {
            let open = format!("<{tag}");
            let close = format!("</{tag}>");
            let bytes = html.as_bytes();
            let mut depth: i64 = 0;
            let mut i = 0;
            while i < bytes.len() {
                if bytes[i..].starts_with(close.as_bytes()) {
                    depth -= 1;
                    assert!(depth >= 0, "`{close}` without `{open}` at {i}");
                    i += close.len();
                } else if bytes[i..].starts_with(open.as_bytes())
                    && matches!(bytes.get(i + open.len()), Some(b' ' | b'>'))
                {
                    depth += 1;
                    i += open.len();
                } else {
                    i += 1;
                }
            }
            assert_eq!(depth, 0, "`{open}` left open");
        }
    }

    /// A PNG of `w`×`h` pixels from `pixel(x, y) -> [r, g, b]`, stored (uncompressed): a real
    /// image for a browser to show, with no image crate.
    fn png(w: u32, h: u32, pixel: impl Fn(u32, u32) -> [u8; 3]) -> Vec<u8> {
        fn crc32(data: &[u8]) -> u32 {
            let mut crc = !0u32;
            for &b in data {
                crc ^= b as u32;
                for _ in 0..8 {
                    crc = if crc & 1 == 1 {
                        (crc >> 1) ^ 0xEDB8_8320
                    } else {
                        crc >> 1
                    };
                }
            }
            !crc
        }
        fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
            out.extend_from_slice(&(data.len() as u32).to_be_bytes());
            let start = out.len();
            out.extend_from_slice(kind);
            out.extend_from_slice(data);
            let crc = crc32(&out[start..]);
            out.extend_from_slice(&crc.to_be_bytes());
        }
        let mut raw = Vec::new();
        for y in 0..h {
            raw.push(0); // filter: none
            for x in 0..w {
                raw.extend_from_slice(&pixel(x, y));
            }
        }
        let mut z = vec![0x78, 0x01];
        let blocks: Vec<&[u8]> = raw.chunks(65_535).collect();
        for (i, block) in blocks.iter().enumerate() {
            z.push(u8::from(i + 1 == blocks.len()));
            let len = block.len() as u16;
            z.extend_from_slice(&len.to_le_bytes());
            z.extend_from_slice(&(!len).to_le_bytes());
            z.extend_from_slice(block);
        }
        let (mut a, mut b) = (1u32, 0u32);
        for &byte in &raw {
            a = (a + byte as u32) % 65_521;
            b = (b + a) % 65_521;
        }
        z.extend_from_slice(&((b << 16) | a).to_be_bytes());
        let mut ihdr = Vec::new();
        ihdr.extend_from_slice(&w.to_be_bytes());
        ihdr.extend_from_slice(&h.to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        chunk(&mut out, b"IHDR", &ihdr);
        chunk(&mut out, b"IDAT", &z);
        chunk(&mut out, b"IEND", &[]);
        out
    }

    #[test]
    fn every_post_is_an_article_in_posting_order() {
        let drafts = vec![
            draft(30, 2, &["third"]),
            draft(10, 0, &["first"]),
            draft(20, 1, &["second"]),
        ];
        let r = render(&drafts, &[]);
        let at = |t: u64| r.html.find(&format!("id=\"tweet-{t}\"")).unwrap();
        assert!(at(10) < at(20) && at(20) < at(30));
        assert_eq!(r.html.matches("<article class=\"post\"").count(), 3);
        assert!(article(&r.html, 10).contains("<span class=\"order\">#1</span>"));
        assert!(article(&r.html, 30).contains("<span class=\"order\">#3</span>"));
        assert!(
            article(&r.html, 20)
                .contains("href=\"https://twitter.com/me/status/20\" rel=\"nofollow noopener")
        );
        assert!(article(&r.html, 20).contains("<div class=\"text\" lang=\"en\">second</div>"));
        assert_eq!(
            (
                r.stats.posts,
                r.stats.statuses,
                r.stats.thumbnails,
                r.stats.placeholders
            ),
            (3, 3, 0, 0)
        );
        assert!(r.html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
        assert!(r.html.contains("<meta charset=\"utf-8\">"));
        assert!(r.html.ends_with("</html>\n"));
        assert_balanced(&r.html);
    }

    #[test]
    fn split_chains_show_part_badges_and_each_length() {
        let long_link = "https://example.com/a/very/long/path/that/counts/as/twenty/three";
        let parts = [
            format!("One {long_link} (1/3)\n\nOriginally posted on Twitter on 2021-03-04."),
            "Two (2/3)".to_string(),
            "x".repeat(520),
        ];
        let d = draft(1, 0, &parts.iter().map(String::as_str).collect::<Vec<_>>());
        let r = render(&[d, draft(2, 1, &["alone"])], &[]);
        let a = article(&r.html, 1);
        for i in 1..=3 {
            assert!(a.contains(&format!("<span class=\"badge part\">part {i}/3</span>")));
        }
        assert!(a.contains("<span class=\"chain\">3 statuses</span>"));
        assert_eq!(a.matches("<section class=\"status\">").count(), 3);
        let first = status_length(&parts[0], 23);
        assert!(first < parts[0].chars().count(), "the link counts 23");
        assert!(a.contains(&format!("\">{first} / 500</span>")));
        assert!(a.contains("\">9 / 500</span>"));
        // Over the limit: shown, and marked.
        assert!(a.contains("<span class=\"count over\" title=\"characters, as the server counts them\">520 / 500</span>"));
        assert_eq!(r.html.matches("count over").count(), 1);
        // Newlines are kept in the text, for `white-space: pre-wrap`.
        assert!(a.contains("(1/3)\n\nOriginally posted"));
        // A single post has no badge.
        let b = article(&r.html, 2);
        assert!(!b.contains("badge part") && b.contains("\">5 / 500</span>"));
        assert_eq!(r.stats.statuses, 4);
    }

    #[test]
    fn threads_are_grouped_under_their_root() {
        let mut reply = draft(2, 2, &["reply"]);
        reply.reply_to = Some(Id(1));
        let mut deeper = draft(3, 3, &["deeper"]);
        deeper.reply_to = Some(Id(2));
        let mut elsewhere = draft(5, 4, &["replies to a tweet not in this preview"]);
        elsewhere.reply_to = Some(Id(99));
        let mut orphan = draft(6, 5, &["orphan"]);
        orphan.orphan = Some("posted on its own: the tweet it replies to was deleted".into());
        let drafts = vec![
            deeper,
            draft(4, 1, &["between"]),
            reply,
            draft(1, 0, &["root"]),
            elsewhere,
            orphan,
        ];
        let r = render(&drafts, &[]);
        let start = r
            .html
            .find("<div class=\"thread\" id=\"thread-1\">")
            .unwrap();
        let thread = div(&r.html, start);
        let end = start + thread.len();
        assert!(thread.contains("Thread of 3 posts"));
        // Root first, then its replies in order, each linking to its parent.
        let at = |t: u64| thread.find(&format!("id=\"tweet-{t}\"")).unwrap();
        assert!(at(1) < at(2) && at(2) < at(3));
        assert!(thread.contains("<article class=\"post\" id=\"tweet-1\">"));
        assert!(thread.contains("<article class=\"post reply\" id=\"tweet-2\">"));
        assert!(article(&r.html, 2).contains("href=\"#tweet-1\">↳ replies to #1</a>"));
        assert!(article(&r.html, 3).contains("href=\"#tweet-2\">↳ replies to #3</a>"));
        // A post posted between the thread's parts comes after the thread, on its own.
        assert!(!thread.contains("tweet-4"));
        let four = r.html.find("id=\"tweet-4\"").unwrap();
        assert!(four > end);
        assert_eq!(r.html.matches("<div class=\"thread\"").count(), 1);
        // A parent outside the preview: said, not linked.
        assert!(
            article(&r.html, 5).contains("<span class=\"replyto\">↳ replies to tweet 99</span>")
        );
        assert!(article(&r.html, 6).contains(
            "<p class=\"note orphan\">Posted on its own: the tweet it replies to was deleted</p>"
        ));
        assert_balanced(&r.html);
    }

    #[test]
    fn a_reply_cycle_or_a_reply_before_its_parent_shows_every_post_once() {
        let mut a = draft(1, 0, &["a"]);
        a.reply_to = Some(Id(2));
        let mut b = draft(2, 1, &["b"]);
        b.reply_to = Some(Id(1));
        // A reply posted before its parent.
        let mut c = draft(3, 2, &["c"]);
        c.reply_to = Some(Id(4));
        let d = draft(4, 3, &["d"]);
        let r = render(&[a, b, c, d], &[]);
        for t in 1..=4 {
            assert_eq!(r.html.matches(&format!("id=\"tweet-{t}\"")).count(), 1);
        }
        assert_eq!(r.stats.posts, 4);
        // The thread shows its root first.
        let thread = &r.html[r.html.find("id=\"thread-4\"").unwrap()..];
        assert!(thread.find("id=\"tweet-4\"").unwrap() < thread.find("id=\"tweet-3\"").unwrap());
    }

    #[test]
    fn skipped_tweets_are_listed_with_their_reasons_up_to_the_cap() {
        let skipped: Vec<PreviewSkip> = (0..SKIPPED_ROWS as u64 + 5)
            .map(|i| PreviewSkip {
                tweet: Id(1000 + i),
                url: format!("https://twitter.com/me/status/{}", 1000 + i),
                reason: if i % 2 == 0 {
                    "a retweet (--include-retweets posts them)".into()
                } else {
                    "older than --since".into()
                },
            })
            .collect();
        let mut summary = DryRun::default();
        summary.skipped.insert("a retweet".into(), 5003);
        summary.skipped.insert("older than --since".into(), 5002);
        let r = render_with(&[], &skipped, &summary, &mut |_| None);
        let table = &r.html[r.html.find("<section id=\"skipped\">").unwrap()..];
        assert!(table.contains("<h2>Skipped tweets (10,005)</h2>"));
        assert_eq!(table.matches("<tr><td>").count(), SKIPPED_ROWS);
        assert!(table.contains(
            "<tr><td><a class=\"original\" href=\"https://twitter.com/me/status/1000\" rel=\"nofollow noopener noreferrer\">1000</a></td><td>a retweet (--include-retweets posts them)</td></tr>"
        ));
        assert!(table.contains("<td>older than --since</td>"));
        assert!(!table.contains(">11004<"), "past the cap");
        assert!(table.contains("<p class=\"more\">and 5 more, not listed here.</p>"));
        // The header's figures.
        assert!(r.html.contains("<dt>skipped</dt><dd>10,005</dd>"));
        assert!(r.html.contains("<li><b>5,003</b> a retweet</li>"));
        assert!(r.html.contains("No tweet becomes a post."));
        assert_balanced(&r.html);
    }

    #[test]
    fn the_header_shows_the_figures_visibility_and_limits() {
        let summary = DryRun {
            tweets: 2345,
            tweets_posted: 1842,
            statuses: 1900,
            split_tweets: 40,
            long_tweets: 3,
            media: 611,
            media_missing: 2,
            orphans: 1,
            hours: 18.0,
            ..DryRun::default()
        };
        let r = render_with(&[], &[], &summary, &mut |_| None);
        for figure in [
            "<dt>tweets read</dt><dd>2,345</dd>",
            "<dt>posts</dt><dd>1,842</dd>",
            "<dt>statuses</dt><dd>1,900</dd>",
            "<dt>split into chains</dt><dd>40</dd>",
            "<dt>media files</dt><dd>611</dd>",
            "<div class=\"warn\"><dt>media missing</dt><dd>2</dd>",
            "<div class=\"warn\"><dt>posted on their own</dt><dd>1</dd>",
            "<dt>time at the server's pace</dt><dd>about 18 hours</dd>",
        ] {
            assert!(r.html.contains(figure), "{figure}");
        }
        assert!(r.html.contains("Visibility <b>unlisted</b>"));
        assert!(
            r.html
                .contains("at most <b>500</b> characters a status, a link counting 23")
        );
        assert!(
            r.html
                .contains("<title>Preview: archive.zip → me@server.example</title>")
        );
        assert_eq!(duration(0.2), "about 12 min");
        assert_eq!(duration(2.25), "about 2.3 hours");
        assert_eq!(duration(72.0), "about 3 days (72 hours)");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(999), "999");
    }

    #[test]
    fn hostile_text_is_escaped_and_only_web_addresses_are_links() {
        let mut d = draft(
            7,
            0,
            &["<script>alert(1)</script> & \"quotes\"\n\
                 see https://evil.example/x\"onmouseover=\"alert(1) and \
                 javascript:alert(1) and JAVASCRIPT://x.y and data:text/html,<b>x</b>\n\
                 (https://example.com/a_(b)). http://ok.example/p?q=1&r=2, ftp://no.example \
                 https:// alone, nohttps://glued.example\u{0}\u{7}\u{FFFF}"],
        );
        d.url = "javascript:alert(document.cookie)".into();
        d.language = Some("\"><script>".into());
        d.orphan = Some("<img src=x onerror=alert(1)>".into());
        d.missing = vec!["<b>video</b>".into()];
        d.media = vec![vec![
            DraftMedia {
                file: "tweets_media/\"><script>x</script>.jpg".into(),
                kind: "<i>photo</i>".into(),
                description: Some("<script>alt</script>".into()),
            },
            photo("evil.svg"),
        ]];
        let skipped = [PreviewSkip {
            tweet: Id(8),
            url: "https://twitter.com/me/status/8\"><script>".into(),
            reason: "<script>bad()</script>".into(),
        }];
        let mut summary = DryRun::default();
        summary.skipped.insert("<script>".into(), 1);
        let input = PreviewInput {
            title: "</title><script>alert(1)</script>".into(),
            limits: Limits::default(),
            summary: &summary,
            drafts: &[d],
            skipped: &skipped,
            visibility: "<b>public</b>",
        };
        let mut out = Vec::new();
        write_preview(&mut out, &input, &mut |_| {
            Some(b"<svg onload=alert(1)>".to_vec())
        })
        .unwrap();
        let html = String::from_utf8(out).unwrap();

        for bad in [
            "<script",
            "<img src=x",
            "<b>public",
            "<b>video",
            "<b>x",
            "<i>photo",
            "<svg",
        ] {
            assert!(!html.contains(bad), "`{bad}` got through");
        }
        // Every tag holds only the attributes the page writes: no `onmouseover` slipped in.
        for (tag, name) in attributes(&html) {
            assert!(
                [
                    "class",
                    "id",
                    "href",
                    "rel",
                    "lang",
                    "src",
                    "alt",
                    "loading",
                    "decoding",
                    "title",
                    "datetime",
                    "charset",
                    "name",
                    "content",
                    "http-equiv"
                ]
                .contains(&name.as_str()),
                "`{name}` on <{tag}>"
            );
        }
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; \"quotes\""));
        assert!(html.contains("<a href=\"https://evil.example/x\" rel=\"nofollow noopener noreferrer\">https://evil.example/x</a>\"onmouseover=\"alert(1)"));
        assert!(html.contains("<title>Preview: &lt;/title&gt;&lt;script&gt;"));
        // Links: the page's own anchors, and web addresses, each with the right `rel`.
        let links = hrefs(&html);
        assert!(
            links
                .iter()
                .all(|h| h.starts_with('#') || h.starts_with("http")),
            "{links:?}"
        );
        assert!(!html.to_ascii_lowercase().contains("href=\"javascript"));
        assert!(!html.contains("href=\"data:"));
        let web: Vec<&str> = links
            .iter()
            .copied()
            .filter(|h| h.starts_with("http"))
            .collect();
        assert_eq!(
            web,
            [
                "https://evil.example/x",
                "https://example.com/a_(b)",
                "http://ok.example/p?q=1&amp;r=2",
                // The skipped tweet's address, its quote percent-encoded by the URL parser.
                "https://twitter.com/me/status/8%22%3E%3Cscript%3E",
            ]
        );
        assert_eq!(
            html.matches(" rel=\"nofollow noopener noreferrer\"")
                .count(),
            web.len()
        );
        // The original tweet's address is no web address: shown, not linked.
        assert!(html.contains("<span class=\"original\">original tweet</span>"));
        // An unsafe language code is dropped rather than escaped into `lang`.
        assert!(!html.contains("lang=\"&quot;"));
        assert!(html.contains("<div class=\"text\">&lt;script&gt;"));
        // Controls and noncharacters, invalid in HTML, are replaced.
        assert!(html.contains("nohttps://glued.example\u{FFFD}\u{FFFD}\u{FFFD}"));
        // The SVG "photo" is neither embedded nor linked.
        assert!(html.contains(
            "<figure class=\"tile placeholder\"><div class=\"kind\">&lt;i&gt;photo&lt;/i&gt;</div>"
        ));
        // The name is what follows the last `/`, escaped; so is the description.
        assert!(html.contains(
            "<figcaption>script&gt;.jpg · 21 B<br><i>not embedded</i>\
             <span class=\"alt\"><b>ALT</b> &lt;script&gt;alt&lt;/script&gt;</span></figcaption>"
        ));
        // A "photo" that is an SVG (which could script) is not embedded.
        assert!(html.contains(
            "<div class=\"kind\">photo</div><figcaption>evil.svg · 21 B<br>\
             <i>not a JPEG, PNG, GIF or WebP image</i></figcaption>"
        ));
        assert!(!html.contains("src=\"data:"));
        assert!(
            html.contains(
                "content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\""
            )
        );
        assert_balanced(&html);
    }

    #[test]
    fn links_end_where_a_reader_would_end_them() {
        let spans = |t: &str| -> Vec<String> {
            find_links(t)
                .into_iter()
                .map(|(s, e)| t[s..e].to_string())
                .collect()
        };
        assert_eq!(spans("a https://x.example/p. b"), ["https://x.example/p"]);
        assert_eq!(spans("(see https://x.example/p)"), ["https://x.example/p"]);
        assert_eq!(
            spans("https://en.wikipedia.org/wiki/Rust_(language)!"),
            ["https://en.wikipedia.org/wiki/Rust_(language)"]
        );
        assert_eq!(
            spans("「https://x.example/日本」です"),
            ["https://x.example/日本"]
        );
        assert_eq!(
            spans("HTTPS://X.EXAMPLE, http://y.example"),
            ["HTTPS://X.EXAMPLE", "http://y.example"]
        );
        assert!(spans("nohttps://x.example @https://y.example").is_empty());
        assert!(spans("http:// https://").is_empty());
    }

    #[test]
    fn photos_are_embedded_within_their_caps_and_the_rest_are_placeholders() {
        let small = png(4, 3, |x, y| [x as u8 * 60, y as u8 * 80, 200]);
        let mut big = b"\xFF\xD8\xFF\xE0".to_vec();
        big.resize(PHOTO_MAX_BYTES + 1, 0);
        let mut d = draft(1, 0, &["media"]);
        d.media = vec![
            vec![
                photo("1-small.png"),
                photo("1-big.jpg"),
                photo("1-gone.jpg"),
            ],
            vec![video("1-clip.mp4", "video")],
            vec![video("1-loop.mp4", "animated_gif")],
        ];
        d.media[0][0].description = Some("A \"quoted\" <alt> & more".into());
        d.missing = vec!["photo".into(), "video".into(), "photo".into()];
        d.missing_files = vec![
            "tweets_media/1-a.jpg".into(),
            String::new(),
            "tweets_media/1-<b>.jpg".into(),
        ];
        let mut asked = Vec::new();
        let r = render_with(&[d], &[], &DryRun::default(), &mut |file| {
            asked.push(file.to_string());
            match file {
                "tweets_media/1-small.png" => Some(small.clone()),
                "tweets_media/1-big.jpg" => Some(big.clone()),
                "tweets_media/1-clip.mp4" => Some(vec![0; 3 * 1024 * 1024 + 200_000]),
                "tweets_media/1-loop.mp4" => Some(vec![0; 700]),
                _ => None,
            }
        });
        assert_eq!(asked.len(), 5, "each medium read once: {asked:?}");
        assert_eq!((r.stats.thumbnails, r.stats.placeholders), (1, 4));
        assert_eq!(r.stats.statuses, 3);
        let a = article(&r.html, 1);
        let data = format!(
            "src=\"data:image/png;base64,{}\"",
            base64::Engine::encode(&STANDARD, &small)
        );
        assert!(a.contains(&data));
        assert_eq!(
            a.matches("data:").count(),
            1,
            "only the small photo is embedded"
        );
        assert!(a.contains(&format!(
            "<img alt=\"A &quot;quoted&quot; &lt;alt&gt; &amp; more\" loading=\"lazy\" \
             decoding=\"async\" {data}><figcaption>1-small.png · {} B<span class=\"alt\">\
             <b>ALT</b> A \"quoted\" &lt;alt&gt; &amp; more</span></figcaption>",
            small.len()
        )));
        assert!(a.contains("<div class=\"kind\">photo</div><figcaption>1-big.jpg · 151 KiB<br><i>too large to embed here</i>"));
        assert!(a.contains("<figure class=\"tile placeholder unreadable\"><div class=\"kind\">photo</div><figcaption>1-gone.jpg<br><i>could not be read from the archive</i>"));
        assert!(a.contains(
            "<div class=\"kind\">video</div><figcaption>1-clip.mp4 · 3.2 MiB<br><i>not embedded</i>"
        ));
        assert!(a.contains(
            "<div class=\"kind\">GIF</div><figcaption>1-loop.mp4 · 700 B<br><i>not embedded</i>"
        ));
        // The first group with the text; the others as follow-ups, marked.
        assert_eq!(
            a.matches("<span class=\"badge followup\">media follow-up</span>")
                .count(),
            2
        );
        assert!(a.contains("\">(media 2/3)</div>") && a.contains("\">(media 3/3)</div>"));
        let first = &a[..a.find("<section class=\"status followup\">").unwrap()];
        assert!(first.contains("1-small.png") && !first.contains("1-clip.mp4"));
        assert!(a.contains(
            "<p class=\"note missing\">Not in the archive, posted without: 2 photos, 1 video \
             (data/tweets_media/1-a.jpg, data/tweets_media/1-&lt;b&gt;.jpg)</p>"
        ));
        assert_balanced(&r.html);
    }

    #[test]
    fn the_image_budget_bounds_what_is_embedded() {
        let photo_bytes = {
            let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
            b.resize(100 * 1024, 7);
            b
        };
        let drafts: Vec<Draft> = (0..100)
            .map(|i| {
                let mut d = draft(i + 1, i, &["photo"]);
                d.media = vec![vec![photo(&format!("{i}.png"))]];
                d
            })
            .collect();
        let r = render_with(&drafts, &[], &DryRun::default(), &mut |_| {
            Some(photo_bytes.clone())
        });
        let fit = (PHOTO_BUDGET_BYTES / photo_bytes.len() as u64) as usize;
        assert_eq!(r.stats.thumbnails, fit);
        assert_eq!(r.stats.placeholders, 100 - fit);
        assert_eq!(
            r.html
                .matches("<i>the page's image budget is used up</i>")
                .count(),
            100 - fit
        );
        assert!(r.stats.bytes < PHOTO_BUDGET_BYTES * 4 / 3 + 300 * 1024);
    }

    #[test]
    fn two_thousand_posts_make_a_bounded_page() {
        let text = "A tweet of some length, with a link https://example.com/some/path and \
                    a few words more to make it look like one. "
            .repeat(3);
        let drafts: Vec<Draft> = (0..2000u64)
            .map(|i| {
                let mut d = draft(1_000_000 + i, i, &[&text, &text]);
                if i % 10 != 0 {
                    d.reply_to = Some(Id(1_000_000 + i - 1));
                }
                d.media = vec![vec![
                    photo(&format!("{i}-a.jpg")),
                    photo(&format!("{i}-b.jpg")),
                ]];
                d
            })
            .collect();
        let skipped: Vec<PreviewSkip> = (0..20_000u64)
            .map(|i| PreviewSkip {
                tweet: Id(5_000_000_000_000_000_000 + i),
                url: format!(
                    "https://twitter.com/me/status/{}",
                    5_000_000_000_000_000_000 + i
                ),
                reason: "a reply to someone else (--include-replies posts them)".into(),
            })
            .collect();
        let jpeg = {
            let mut b = b"\xFF\xD8\xFF\xE0".to_vec();
            b.resize(60 * 1024, 1);
            b
        };
        let r = render_with(&drafts, &skipped, &DryRun::default(), &mut |_| {
            Some(jpeg.clone())
        });
        assert_eq!(r.stats.posts, 2000);
        assert_eq!(r.stats.statuses, 4000);
        assert_eq!(r.stats.thumbnails + r.stats.placeholders, 4000);
        assert_eq!(r.html.matches("<div class=\"thread\"").count(), 200);
        let images = r.stats.thumbnails as u64 * jpeg.len() as u64;
        assert!(images <= PHOTO_BUDGET_BYTES);
        let markup = r.stats.bytes - images.div_ceil(3) * 4;
        eprintln!(
            "2,000 posts, 20,000 skipped: {} bytes, of which {} markup; {} photos embedded",
            r.stats.bytes, markup, r.stats.thumbnails
        );
        // Markup: about 2 KB a post of two statuses and two tiles, 160 bytes a skipped row.
        assert!(markup < 2000 * 2600 + SKIPPED_ROWS as u64 * 200, "{markup}");
        assert!(r.stats.bytes < 20 * 1024 * 1024, "{}", r.stats.bytes);
    }

    /// Writes `/tmp/migrate-preview-large.html`: 2,000 posts with a real photo each and 10,000
    /// skipped tweets, to see that a browser copes (`cargo test --lib
    /// plan::preview::tests::large_sample_page -- --ignored --nocapture`).
    #[test]
    #[ignore = "writes a large sample page to /tmp for a look"]
    fn large_sample_page() {
        let text = "Low tide this morning: https://tides.example/today and the pools were full. ";
        let drafts: Vec<Draft> = (0..2000u64)
            .map(|i| {
                let mut d = draft(1_000_000 + i, i, &[&text.repeat(1 + (i % 7) as usize)]);
                if i % 5 != 0 {
                    d.reply_to = Some(Id(1_000_000 + i - 1));
                }
                d.media = vec![vec![photo(&format!("{i}.png"))]];
                d
            })
            .collect();
        let skipped: Vec<PreviewSkip> = (0..12_000u64)
            .map(|i| PreviewSkip {
                tweet: Id(9_000_000 + i),
                url: format!("https://twitter.com/me/status/{}", 9_000_000 + i),
                reason: "a retweet (--include-retweets posts them)".into(),
            })
            .collect();
        let summary = DryRun {
            tweets: 14_000,
            tweets_posted: 2000,
            statuses: 2000,
            media: 2000,
            hours: 18.0,
            ..DryRun::default()
        };
        let input = PreviewInput {
            title: "big-archive.zip (dry run, Mastodon's default limits)".into(),
            limits: Limits::default(),
            summary: &summary,
            drafts: &drafts,
            skipped: &skipped,
            visibility: "unlisted",
        };
        let mut out = Vec::new();
        let stats = write_preview(&mut out, &input, &mut |file| {
            let n: u32 = file
                .trim_start_matches("tweets_media/")
                .trim_end_matches(".png")
                .parse()
                .ok()?;
            Some(png(200, 150, |x, y| {
                [(x + n) as u8, (y * 2) as u8, (n * 7) as u8]
            }))
        })
        .unwrap();
        std::fs::write("/tmp/migrate-preview-large.html", &out).unwrap();
        eprintln!("/tmp/migrate-preview-large.html: {stats:?}");
    }

    /// Writes `/tmp/migrate-preview.html` for a look in a browser:
    /// `cargo test --lib plan::preview::tests::sample_page -- --ignored`, then
    /// `scripts/preview-screenshot.sh /tmp/migrate-preview.html /tmp/migrate-preview.png`.
    #[test]
    #[ignore = "writes a sample page to /tmp for a look"]
    fn sample_page() {
        let sunset = png(240, 160, |x, y| {
            [
                255 - (y as u8),
                (x * 160 / 240) as u8 + (y as u8 / 2),
                90 + (y as u8 / 2),
            ]
        });
        let sea = png(200, 150, |x, y| {
            let wave = ((x as f32 / 12.0).sin() * 8.0 + 70.0) as u32;
            if y > wave {
                [20, 70 + (y / 3) as u8, 140]
            } else {
                [200, 225, 250]
            }
        });
        let large = png(320, 240, |x, y| [(x % 256) as u8, (y % 256) as u8, 128]);
        let mut drafts = vec![
            draft(
                1001,
                0,
                &[
                    "Hello fediverse! Moving my old tweets over, one careful post at a time. 🐘\n\nOriginally posted on Twitter on 2019-05-02: https://twitter.com/me/status/1001",
                ],
            ),
            draft(
                1002,
                1,
                &[
                    "A long thread about tide pools, split to fit the server's limit. Tide pools are rocky pockets the sea leaves behind when it goes out; anemones, crabs and small fish live in them and wait for the water to come back. If you visit, step on bare rock only, and put back every stone you turn over, the right way up. (1/2)\n\nOriginally posted on Twitter on 2020-07-11: https://twitter.com/me/status/1002",
                    "The best time is an hour before low tide: check a tide table first (https://tides.example/today) and watch the waves. (2/2)",
                ],
            ),
            draft(1003, 2, &["Two photos from the beach, and a video."]),
            draft(
                1004,
                3,
                &[
                    "And a follow-up in the same thread, with a link: https://example.com/tide-pools?ref=preview&lang=en",
                ],
            ),
            draft(
                1005,
                4,
                &[
                    "<script>alert('not run')</script> is text here, and javascript:void(0) is no link.",
                ],
            ),
            draft(
                1006,
                5,
                &["This reply's parent was deleted before the archive was made."],
            ),
        ];
        drafts[1].language = Some("en".into());
        drafts[2].media = vec![
            vec![
                photo("1003-sunset.png"),
                photo("1003-sea.png"),
                photo("1003-large.png"),
            ],
            vec![video("1003-clip.mp4", "video")],
        ];
        drafts[2].media[0][1].description = Some("Waves on a blue sea under a pale sky".into());
        drafts[2].missing = vec!["animated_gif".into()];
        for (i, d) in drafts.iter_mut().enumerate() {
            d.created_at =
                chrono::DateTime::from_timestamp(1_556_800_000 + i as i64 * 86_400 * 40, 0);
        }
        drafts[3].reply_to = Some(Id(1002));
        drafts[3].language = Some("fr".into());
        drafts[5].orphan =
            Some("posted on its own: the tweet it replies to (998) is not in the archive".into());
        drafts[4].media = vec![vec![photo("1005-gone.jpg")]];
        let skipped = vec![
            PreviewSkip {
                tweet: Id(900),
                url: "https://twitter.com/me/status/900".into(),
                reason: "a retweet (--include-retweets posts them)".into(),
            },
            PreviewSkip {
                tweet: Id(901),
                url: "https://twitter.com/me/status/901".into(),
                reason: "a reply to someone else (--include-replies posts them)".into(),
            },
            PreviewSkip {
                tweet: Id(902),
                url: "https://twitter.com/me/status/902".into(),
                reason: "older than --since".into(),
            },
        ];
        let mut summary = DryRun {
            tweets: 9,
            tweets_posted: 6,
            statuses: 8,
            split_tweets: 1,
            long_tweets: 1,
            media: 4,
            media_missing: 1,
            orphans: 1,
            hours: 0.05,
            ..DryRun::default()
        };
        summary.skipped.insert("a retweet".into(), 1);
        summary.skipped.insert("a reply to someone else".into(), 1);
        summary.skipped.insert("older than --since".into(), 1);
        let input = PreviewInput {
            title: "archive.zip → me@server.example".into(),
            limits: Limits::default(),
            summary: &summary,
            drafts: &drafts,
            skipped: &skipped,
            visibility: "unlisted",
        };
        let mut large = large;
        large.resize(PHOTO_MAX_BYTES + 10, 0);
        let mut out = Vec::new();
        let stats = write_preview(&mut out, &input, &mut |file| match file {
            "tweets_media/1003-sunset.png" => Some(sunset.clone()),
            "tweets_media/1003-sea.png" => Some(sea.clone()),
            "tweets_media/1003-large.png" => Some(large.clone()),
            "tweets_media/1003-clip.mp4" => Some(vec![0; 2_345_678]),
            _ => None,
        })
        .unwrap();
        std::fs::write("/tmp/migrate-preview.html", &out).unwrap();
        eprintln!("/tmp/migrate-preview.html: {stats:?}");
    }
}
