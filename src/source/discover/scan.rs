//! The text scanner: fediverse handles and profile links in a piece of text.
//!
//! What counts (MASTODON.md §4.5, Mastodon's `MENTION_RE` and `USERNAME_RE`):
//! - `@user@host`: a user name of ASCII letters, digits and `_`, with `.` and `-` only inside;
//!   a host with at least one dot, in any script (IDN). The `@` must not follow a letter, a digit,
//!   `_`, `=` or `/`, so `ana@host.example` — an e-mail address — is not a handle, and neither
//!   is `?acct=@ana@host.example`. Trailing `.` and `-` belong to the sentence, not the host.
//! - profile links, from their path only (a query or fragment never names the account):
//!   `https://host/@user` (also `/@user@other`, a remote account seen through `host`, and the
//!   old `/web/@user`), `https://host/users/user` (Mastodon's actor URL), `https://host/u/user`
//!   (Lemmy), and Bluesky profiles `https://bsky.app/profile/<handle>` or their Bridgy Fed form
//!   `https://bsky.brid.gy/r/https://bsky.app/profile/<handle>`, which name the bridged account
//!   `<handle>@bsky.brid.gy` (only people who opted in to the bridge exist there: WebFinger tells).
//!   A link may lack its scheme when it has the unmistakable `host/@user` shape.
//! - Links to well-known non-fediverse sites (`youtube.com/@channel`, `medium.com/@writer`,
//!   `reddit.com/u/…`, …) are not profiles and cost no lookup.
//!
//! Inside a link nothing else is looked for: `@` signs in a link's query string are part of the
//! link. Nothing here decides that an account exists; every candidate goes through WebFinger.
//!
//! The scanner works on plain text: HTML entities decoded and t.co links replaced by their
//! targets first ([`expand_links`]). A t.co link that stands for a bare domain becomes that
//! domain, so that `@ana@` followed by a link to `http://mastodon.example` (Twitter turns a
//! domain written in a tweet into a link) reads as `@ana@mastodon.example` again; any other link
//! stays a link, and a handle never runs into it.

use std::ops::Range;

use serde::Serialize;
use url::Url;

use crate::source::handle::{Domain, Handle};

/// How a candidate was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Form {
    /// `@user@host`.
    Handle,
    /// A profile link on the account's server.
    ProfileUrl,
    /// A Bluesky profile, as its Bridgy Fed account.
    BlueskyProfile,
}

impl Form {
    pub fn as_str(self) -> &'static str {
        match self {
            Form::Handle => "handle",
            Form::ProfileUrl => "profile_url",
            Form::BlueskyProfile => "bluesky_profile",
        }
    }
}

/// One candidate in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub handle: Handle,
    pub form: Form,
    /// Where it is in the text (bytes, on character boundaries).
    pub span: Range<usize>,
}

/// Sites whose `/@name` or `/u/name` links are not fediverse accounts (a subdomain counts too).
const NOT_FEDIVERSE: [&str; 20] = [
    "twitter.com",
    "x.com",
    "t.co",
    "twimg.com",
    "youtube.com",
    "youtu.be",
    "medium.com",
    "tiktok.com",
    "instagram.com",
    "facebook.com",
    "reddit.com",
    "linkedin.com",
    "twitch.tv",
    "github.com",
    "substack.com",
    "patreon.com",
    "vimeo.com",
    "soundcloud.com",
    "pinterest.com",
    "google.com",
];

/// The host of Bridgy Fed's Bluesky bridge.
const BRIDGE: &str = "bsky.brid.gy";

/// Punctuation, beyond ASCII, that ends a link or a host.
fn is_closing_punctuation(c: char) -> bool {
    matches!(
        c,
        '…' | '“'
            | '”'
            | '‘'
            | '’'
            | '«'
            | '»'
            | '「'
            | '」'
            | '『'
            | '』'
            | '【'
            | '】'
            | '、'
            | '。'
            | '，'
            | '！'
            | '？'
            | '（'
            | '）'
            | '〈'
            | '〉'
            | '\u{FFFC}'
    )
}

/// A character that may be part of a host as people write it: letters and digits of any
/// script, `.`, `-`, `_` (refused later by the domain check, but it must not split a host), and
/// the combining signs of the Indic and Thai scripts, which are not all "alphabetic".
fn is_host_char(c: char) -> bool {
    c.is_alphanumeric()
        || matches!(c, '.' | '-' | '_')
        || ('\u{0300}'..='\u{036F}').contains(&c)
        || (('\u{0900}'..='\u{0DFF}').contains(&c) && !matches!(c, '\u{0964}' | '\u{0965}'))
        || ('\u{0E00}'..='\u{0EFF}').contains(&c)
}

fn is_user_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// A link found in a text: its bytes and whether it was written without a scheme.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Link {
    span: Range<usize>,
    schemeless: bool,
}

/// Finds candidates in `text` (see the module doc), in the order they appear.
pub fn scan(text: &str) -> Vec<Found> {
    let links = links(text);
    let mut found = Vec::new();
    for link in &links {
        let raw = &text[link.span.clone()];
        let url = if link.schemeless {
            format!("https://{raw}")
        } else {
            raw.to_string()
        };
        if let Some((handle, form)) = from_url(&url) {
            found.push(Found {
                handle,
                form,
                span: link.span.clone(),
            });
        }
    }
    found.extend(handles(text, &links));
    found.sort_by_key(|f| f.span.start);
    found
}

/// The candidate a link names, if it is a profile link (see the module doc).
pub fn from_url(url: &str) -> Option<(Handle, Form)> {
    let url = Url::parse(url.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https")
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return None;
    }
    let host = url.host_str()?.to_ascii_lowercase();
    let mut segments: Vec<&str> = url.path_segments()?.collect();
    if segments.last() == Some(&"") {
        segments.pop();
    }
    let bluesky = |name: &str| {
        Handle::parse(&format!("{name}@{BRIDGE}"))
            .ok()
            .map(|h| (h, Form::BlueskyProfile))
    };
    match (host.as_str(), segments.as_slice()) {
        ("bsky.app", ["profile", name]) => return bluesky(name),
        (BRIDGE, ["r", "https:" | "http:", "", "bsky.app", "profile", name]) => {
            return bluesky(name);
        }
        _ => {}
    }
    if NOT_FEDIVERSE
        .iter()
        .any(|site| host == *site || host.ends_with(&format!(".{site}")))
    {
        return None;
    }
    let host_port = match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.clone(),
    };
    let address = match segments.as_slice() {
        [at_user] | ["web", at_user] if at_user.starts_with('@') => {
            let user = &at_user[1..];
            if user.contains('@') {
                user.to_string()
            } else {
                format!("{user}@{host_port}")
            }
        }
        ["users" | "u", user] => format!("{user}@{host_port}"),
        _ => return None,
    };
    Handle::parse(&address).ok().map(|h| (h, Form::ProfileUrl))
}

/// The links of a text: `http(s)://…`, and scheme-less `host/@user…`.
fn links(text: &str) -> Vec<Link> {
    let bytes = text.as_bytes();
    let mut links: Vec<Link> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let rest = &bytes[i..];
        let scheme = if starts_with_ignore_case(rest, b"https://") {
            8
        } else if starts_with_ignore_case(rest, b"http://") {
            7
        } else {
            0
        };
        if scheme > 0 {
            let end = link_end(text, i + scheme);
            if end > i + scheme {
                links.push(Link {
                    span: i..end,
                    schemeless: false,
                });
                i = end;
                continue;
            }
        }
        i += 1;
    }
    // Scheme-less `host/@user`, outside the links found above.
    let mut extra = Vec::new();
    let mut from = 0;
    while let Some(pos) = text[from..].find("/@") {
        let slash = from + pos;
        from = slash + 2;
        if links.iter().any(|l| l.span.contains(&slash)) {
            continue;
        }
        let start = text[..slash]
            .char_indices()
            .rev()
            .take_while(|&(_, c)| c.is_alphanumeric() || matches!(c, '.' | '-'))
            .last()
            .map_or(slash, |(i, _)| i);
        let host = &text[start..slash];
        if !host.contains('.') || host.starts_with(['.', '-']) || host.ends_with(['.', '-']) {
            continue;
        }
        let before = text[..start].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || "@/._-:".contains(c)) {
            continue;
        }
        let end = link_end(text, slash);
        extra.push(Link {
            span: start..end,
            schemeless: true,
        });
    }
    links.extend(extra);
    links.sort_by_key(|l| l.span.start);
    links
}

fn starts_with_ignore_case(haystack: &[u8], prefix: &[u8]) -> bool {
    haystack.len() >= prefix.len() && haystack[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// Where a link that continues at `from` ends: at a space, a quote or closing punctuation,
/// minus trailing sentence punctuation (and an unbalanced closing bracket).
fn link_end(text: &str, from: usize) -> usize {
    let mut end = text[from..]
        .char_indices()
        .find(|&(_, c)| {
            c.is_whitespace()
                || c.is_control()
                || matches!(c, '"' | '<' | '>' | '`' | '{' | '}' | '|' | '^')
                || is_closing_punctuation(c)
        })
        .map_or(text.len(), |(i, _)| from + i);
    loop {
        let link = &text[from..end];
        let Some(last) = link.chars().next_back() else {
            break;
        };
        let unbalanced = |open: char, close: char| {
            last == close && link.matches(open).count() < link.matches(close).count()
        };
        if matches!(last, '.' | ',' | ';' | ':' | '!' | '?' | '\'' | '*')
            || unbalanced('(', ')')
            || unbalanced('[', ']')
        {
            end -= last.len_utf8();
        } else {
            break;
        }
    }
    end
}

/// `@user@host` outside `links`.
fn handles(text: &str, links: &[Link]) -> Vec<Found> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    for (at, _) in text.match_indices('@') {
        if links.iter().any(|l| l.span.contains(&at)) {
            continue;
        }
        if let Some(prev) = text[..at].chars().next_back()
            && (prev.is_alphanumeric() || matches!(prev, '_' | '=' | '/'))
        {
            continue;
        }
        let user_start = at + 1;
        let user_end = user_start
            + bytes[user_start..]
                .iter()
                .take_while(|&&b| is_user_byte(b))
                .count();
        if user_end == user_start
            || bytes.get(user_end) != Some(&b'@')
            || !is_word_byte(bytes[user_start])
            || !is_word_byte(bytes[user_end - 1])
        {
            continue;
        }
        let host_start = user_end + 1;
        // A host never runs into a link (a t.co link standing right after `@user@`).
        let limit = links
            .iter()
            .map(|l| l.span.start)
            .find(|&s| s >= host_start)
            .unwrap_or(text.len());
        let mut host_end = text[host_start..limit]
            .char_indices()
            .find(|&(_, c)| !is_host_char(c))
            .map_or(limit, |(i, _)| host_start + i);
        while host_end > host_start && matches!(bytes[host_end - 1], b'.' | b'-' | b'_') {
            host_end -= 1;
        }
        let host = &text[host_start..host_end];
        // `a@b.example@c`: no telling which is meant.
        if !host.contains('.') || text[host_end..].starts_with('@') {
            continue;
        }
        let user = &text[user_start..user_end];
        if let Ok(handle) = Handle::parse(&format!("{user}@{host}")) {
            found.push(Found {
                handle,
                form: Form::Handle,
                span: at..host_end,
            });
        }
    }
    found
}

/// The domain a link stands for when it is nothing more (`http://mastodon.example/`).
fn bare_domain(url: &str) -> Option<String> {
    let url = Url::parse(url.trim()).ok()?;
    let bare = matches!(url.scheme(), "http" | "https")
        && url.username().is_empty()
        && url.password().is_none()
        && url.port().is_none()
        && matches!(url.path(), "" | "/")
        && url.query().is_none()
        && url.fragment().is_none();
    if !bare {
        return None;
    }
    Domain::parse(url.host_str()?)
        .ok()
        .map(|d| d.as_str().to_string())
}

/// The plain text of an archive text: HTML entities decoded when `escaped`, then each short link
/// (`https://t.co/…`) replaced by where it leads — the bare domain for a link to a domain alone,
/// else the full link. Links without a target stay as they are.
pub fn expand_links<'a>(
    text: &str,
    escaped: bool,
    links: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
) -> String {
    let mut out = if escaped {
        html_escape::decode_html_entities(text).into_owned()
    } else {
        text.to_string()
    };
    let mut links: Vec<(&str, &str)> = links
        .into_iter()
        .filter_map(|(short, long)| Some((short, long?)))
        .filter(|(short, long)| !short.is_empty() && !long.is_empty())
        .collect();
    // The longest first, so that no short link is replaced inside a longer one.
    links.sort_by_key(|(short, _)| std::cmp::Reverse(short.len()));
    for (short, long) in links {
        if out.contains(short) {
            let target = bare_domain(long).unwrap_or_else(|| long.to_string());
            out = out.replace(short, &target);
        }
    }
    out
}

/// Characters of context on each side of a candidate in its snippet.
const CONTEXT_CHARS: usize = 40;
/// The longest snippet, in characters (a candidate inside a very long link is cut).
const SNIPPET_MAX: usize = 200;

/// A one-line excerpt of `text` around `span`: some context on each side, whitespace collapsed,
/// `…` where it was cut.
pub fn snippet(text: &str, span: Range<usize>) -> String {
    let start = span.start.min(text.len());
    let end = span.end.clamp(start, text.len());
    let from = text[..start]
        .char_indices()
        .rev()
        .nth(CONTEXT_CHARS - 1)
        .map_or(0, |(i, _)| i);
    let to = text[end..]
        .char_indices()
        .nth(CONTEXT_CHARS)
        .map_or(text.len(), |(i, _)| end + i);
    let mut out = String::new();
    if from > 0 {
        out.push('…');
    }
    out.push_str(
        &text[from..to]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
    );
    if out.chars().count() > SNIPPET_MAX {
        out = out.chars().take(SNIPPET_MAX).collect();
        out.push('…');
    } else if to < text.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The handles found in `text`, as `user@host` strings, with their form.
    fn found(text: &str) -> Vec<(String, Form)> {
        scan(text)
            .into_iter()
            .map(|f| (f.handle.to_string(), f.form))
            .collect()
    }

    fn handles_in(text: &str) -> Vec<String> {
        found(text).into_iter().map(|(h, _)| h).collect()
    }

    #[test]
    fn plain_handles_and_mastodon_user_names() {
        assert_eq!(
            found("I'm now @ana@mastodon.example!"),
            vec![("ana@mastodon.example".into(), Form::Handle)]
        );
        assert_eq!(
            handles_in("@bob.smith@social.example and @ca-t@x.example and @_u_@y.example"),
            vec![
                "bob.smith@social.example",
                "ca-t@x.example",
                "_u_@y.example"
            ]
        );
        // Bridgy Fed user names carry the Bluesky handle's dots.
        assert_eq!(
            handles_in("bridged: @patak.cat@bsky.brid.gy"),
            vec!["patak.cat@bsky.brid.gy"]
        );
        // `.` and `-` only inside the user name.
        assert!(handles_in("@ana.@x.example @-ana@x.example @ana-@x.example").is_empty());
        // Case is kept for display.
        assert_eq!(
            handles_in("@Gargron@Mastodon.Social"),
            vec!["Gargron@mastodon.social"]
        );
        // The Twitter dot-mention idiom and brackets.
        assert_eq!(
            handles_in(".@ana@a.example (@bo@b.example) [@cy@c.example]"),
            vec!["ana@a.example", "bo@b.example", "cy@c.example"]
        );
    }

    #[test]
    fn trailing_punctuation_belongs_to_the_sentence() {
        for text in [
            "follow @ana@mastodon.example.",
            "follow @ana@mastodon.example, please",
            "follow @ana@mastodon.example!",
            "follow @ana@mastodon.example?",
            "follow @ana@mastodon.example…",
            "follow @ana@mastodon.example’s posts",
            "follow @ana@mastodon.example:",
            "«@ana@mastodon.example»",
            "“@ana@mastodon.example”",
            "@ana@mastodon.example-",
            "@ana@mastodon.example🎉",
            "(@ana@mastodon.example)",
            "@ana@mastodon.example\n",
        ] {
            assert_eq!(handles_in(text), vec!["ana@mastodon.example"], "{text:?}");
        }
    }

    #[test]
    fn internationalised_hosts() {
        let h = scan("Armenian: @nare@թութ.հայ, bye");
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].handle.to_string(), "nare@թութ.հայ");
        assert!(h[0].handle.ascii().starts_with("nare@xn--"));
        // Either spelling names the same account.
        let puny = h[0].handle.ascii();
        assert_eq!(scan(&format!("@{puny}"))[0].handle, h[0].handle);
        assert_eq!(handles_in("@kim@사회.한국 안녕"), vec!["kim@사회.한국"]);
        assert_eq!(handles_in("@yu@マストドン.例。"), vec!["yu@マストドン.例"]);
        assert_eq!(handles_in("@ravi@हिन्दी.भारत"), vec!["ravi@हिन्दी.भारत"]);
    }

    #[test]
    fn e_mail_addresses_are_not_handles() {
        assert!(
            handles_in("write to ana@mastodon.example or mail bob.smith@mail.example").is_empty()
        );
        assert!(handles_in("mailto:ana@mastodon.example").is_empty());
        assert!(handles_in("ana_b@x.example, 3@x.example").is_empty());
        // A handle next to an address is still found.
        assert_eq!(
            handles_in("me@mail.example / @me@social.example"),
            vec!["me@social.example"]
        );
    }

    #[test]
    fn what_is_not_a_handle() {
        for text in [
            "@ana only a Twitter mention",
            "@ana@localhost has no dot",
            "@ana@",
            "@@",
            "@ana@@x.example",
            "@ana@x.example@y.example",
            "@ana@10.0.0.1",
            "@ana@exa_mple.com",
            "@bøb@x.example",
            "icon@2x.png",
            "=@ana@x.example",
            "@ana@.example",
        ] {
            assert!(
                handles_in(text).is_empty(),
                "{text:?}: {:?}",
                handles_in(text)
            );
        }
    }

    #[test]
    fn profile_links() {
        for (text, handle, form) in [
            (
                "https://mastodon.example/@ana",
                "ana@mastodon.example",
                Form::ProfileUrl,
            ),
            (
                "https://mastodon.example/@ana/",
                "ana@mastodon.example",
                Form::ProfileUrl,
            ),
            (
                "HTTPS://Mastodon.Example/@ana",
                "ana@mastodon.example",
                Form::ProfileUrl,
            ),
            (
                "http://mastodon.example/users/ana",
                "ana@mastodon.example",
                Form::ProfileUrl,
            ),
            (
                "https://lemmy.example/u/lem",
                "lem@lemmy.example",
                Form::ProfileUrl,
            ),
            (
                "https://big.example/@bo@small.example",
                "bo@small.example",
                Form::ProfileUrl,
            ),
            (
                "https://old.example/web/@ana",
                "ana@old.example",
                Form::ProfileUrl,
            ),
            (
                "https://self.example:8443/@me",
                "me@self.example:8443",
                Form::ProfileUrl,
            ),
            ("https://թութ.հայ/@nare", "nare@թութ.հայ", Form::ProfileUrl),
            (
                "https://bsky.app/profile/alice.bsky.social",
                "alice.bsky.social@bsky.brid.gy",
                Form::BlueskyProfile,
            ),
            (
                "https://bsky.brid.gy/r/https://bsky.app/profile/alice.bsky.social",
                "alice.bsky.social@bsky.brid.gy",
                Form::BlueskyProfile,
            ),
            // The query and fragment are not the account.
            (
                "https://mastodon.example/@ana?utm_source=x",
                "ana@mastodon.example",
                Form::ProfileUrl,
            ),
            (
                "https://mastodon.example/@ana#top",
                "ana@mastodon.example",
                Form::ProfileUrl,
            ),
        ] {
            assert_eq!(found(text), vec![(handle.to_string(), form)], "{text}");
        }
    }

    #[test]
    fn links_that_are_not_profiles() {
        for text in [
            "https://mastodon.example/@ana/109876543210",
            "https://mastodon.example/users/ana/statuses/1",
            "https://mastodon.example/about",
            "https://lemmy.example/c/rust",
            "https://www.youtube.com/@channel",
            "https://medium.com/@writer",
            "https://old.reddit.com/u/someone",
            "https://twitter.com/@ana",
            "https://t.co/AbCdEfGhIj",
            "https://bsky.app/profile/did:plc:abc123",
            "https://bsky.brid.gy/ap/did:plc:abc123",
            "https://127.0.0.1/@ana",
            "https://user:pw@mastodon.example/@ana",
            "ftp://mastodon.example/@ana",
        ] {
            assert!(found(text).is_empty(), "{text}: {:?}", found(text));
        }
    }

    #[test]
    fn handles_in_query_strings_are_part_of_the_link() {
        for text in [
            "https://share.example/intent?text=@eve@mastodon.example",
            "https://share.example/?who=@eve@mastodon.example&x=1",
            "https://share.example/go?to=https://mastodon.example/@eve",
            "https://share.example/#@eve@mastodon.example",
            "https://share.example/a,@eve@mastodon.example",
        ] {
            assert!(found(text).is_empty(), "{text}: {:?}", found(text));
        }
        // The handle after the link still counts.
        assert_eq!(
            handles_in("https://share.example/?q=@eve@x.example then @ana@y.example"),
            vec!["ana@y.example"]
        );
    }

    #[test]
    fn links_without_scheme() {
        assert_eq!(
            found("find me at mastodon.example/@fay, thanks"),
            vec![("fay@mastodon.example".into(), Form::ProfileUrl)]
        );
        assert!(found("not/@me and x/@y").is_empty());
        assert!(found("ana@host.example/@x").is_empty());
    }

    #[test]
    fn links_end_at_sentence_punctuation() {
        assert_eq!(
            handles_in("see (https://mastodon.example/@ana)."),
            vec!["ana@mastodon.example"]
        );
        assert_eq!(
            handles_in("“https://mastodon.example/@ana”"),
            vec!["ana@mastodon.example"]
        );
        let s = scan("x https://mastodon.example/@ana. y");
        assert_eq!(
            &"x https://mastodon.example/@ana. y"[s[0].span.clone()],
            "https://mastodon.example/@ana"
        );
    }

    #[test]
    fn expanding_links_rejoins_a_linked_domain_and_keeps_other_links_apart() {
        // Twitter made the domain of a handle a t.co link.
        let text = expand_links(
            "@lin@https://t.co/AAAAAAAAAA &amp; more",
            true,
            [("https://t.co/AAAAAAAAAA", Some("http://mastodon.example"))],
        );
        assert_eq!(text, "@lin@mastodon.example & more");
        assert_eq!(handles_in(&text), vec!["lin@mastodon.example"]);
        // A link to a page after `@user@` is a boundary: no `mal@news.example`.
        let text = expand_links(
            "@mal@https://t.co/BBBBBBBBBB",
            true,
            [(
                "https://t.co/BBBBBBBBBB",
                Some("https://news.example/story/1"),
            )],
        );
        assert_eq!(text, "@mal@https://news.example/story/1");
        assert!(scan(&text).is_empty(), "{:?}", scan(&text));
        // An unexpanded t.co link is a boundary too.
        assert!(scan("@zed@https://t.co/CCCCCCCCCC").is_empty());
        // Profile links behind t.co are found.
        let text = expand_links(
            "new home: https://t.co/DDDDDDDDDD",
            true,
            [(
                "https://t.co/DDDDDDDDDD",
                Some("https://pleroma.example/users/pat"),
            )],
        );
        assert_eq!(handles_in(&text), vec!["pat@pleroma.example"]);
        // Short links that prefix one another, and links without target.
        let text = expand_links(
            "a https://t.co/x b https://t.co/xy c https://t.co/z",
            false,
            [
                ("https://t.co/x", Some("https://one.example/@a")),
                ("https://t.co/xy", Some("https://two.example/@b")),
                ("https://t.co/z", None),
                ("", Some("https://three.example/@c")),
            ],
        );
        assert_eq!(
            text,
            "a https://one.example/@a b https://two.example/@b c https://t.co/z"
        );
    }

    #[test]
    fn snippets() {
        let text = "short text @ana@x.example here";
        let f = &scan(text)[0];
        assert_eq!(snippet(text, f.span.clone()), text);
        let long = format!("{}\n\n@ana@x.example{}", "a ".repeat(50), " b".repeat(50));
        let f = &scan(&long)[0];
        let s = snippet(&long, f.span.clone());
        assert!(s.starts_with('…') && s.ends_with('…'), "{s}");
        assert!(s.contains("a @ana@x.example b"), "{s}");
        assert!(!s.contains('\n'));
        let huge = format!("https://x.example/@a{}", "?q".repeat(500));
        assert!(snippet(&huge, 0..huge.len()).chars().count() <= SNIPPET_MAX + 1);
        assert_eq!(snippet("", 0..0), "");
        assert_eq!(snippet("abc", 5..9), "abc");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// No text makes the scanner panic, and every span it returns is valid.
        #[test]
        fn scanning_never_panics(text in "(\\PC|[@/.:?=#\\-_ ]|https://|t\\.co/|@a@b\\.c|\u{0301}|ें){0,80}") {
            for f in scan(&text) {
                proptest::prop_assert!(text.get(f.span.clone()).is_some());
                let _ = snippet(&text, f.span);
            }
            let expanded = expand_links(&text, true, [("https://t.co/x", Some(text.as_str()))]);
            let _ = scan(&expanded);
            let _ = from_url(&text);
            let _ = from_url(&format!("https://{text}"));
        }

        /// A handle written in running text is found as written.
        #[test]
        fn written_handles_are_found(
            user in "[a-z0-9_]{1,8}([.-][a-z0-9_]{1,8}){0,2}",
            host in "[a-z]{1,10}(\\.[a-z]{2,6}){1,2}",
            before in "[ (\\n]{0,2}",
            after in "[ .,!?)\\n]{0,2}",
        ) {
            let text = format!("x{before}@{user}@{host}{after} y");
            let handles: Vec<String> = scan(&text).into_iter().map(|f| f.handle.to_string()).collect();
            let expected = if before.is_empty() { vec![] } else { vec![format!("{user}@{host}")] };
            proptest::prop_assert_eq!(handles, expected);
        }
    }
}
