//! A tweet's text (`tweet_text`): entity replacement on the HTML-escaped text, unescaping,
//! mentions; and a long tweet's (`note_text`).
//!
//! The tweet is built from fuzzer-chosen tokens — free text (escaped the archive's way), t.co
//! links, `@name`s and fediverse addresses — and entities whose indices either point at a token
//! or are arbitrary (out of range, reversed, overlapping). Invariants besides not panicking,
//! from the promises of `tweet_text` and the property tests in `src/plan/text.rs`:
//!
//! - unescaping is applied exactly once: without mentions and entities, the text comes back as
//!   it was before escaping (trimmed);
//! - every t.co link that has an expansion and stands whole in the text is expanded, and every
//!   media link is gone, whatever the indices say;
//! - nobody is notified but the mapped account: every mention Mastodon's `MENTION_RE` would find
//!   in the result is `real@fedi.example` (checked with an independent model of the regex).

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use migrate::plan::text::{MentionStyle, TextOptions, note_text, tweet_text};
use migrate::source::handle::Handle;
use migrate::source::twitter::model::{NoteEntry, TweetEntry};
use serde_json::json;

/// t.co links of the same length, so that none is a prefix of another.
const URL_LINKS: [&str; 3] = [
    "https://t.co/LiNk000001",
    "https://t.co/LiNk000002",
    "https://t.co/LiNk000003",
];
const MEDIA_LINKS: [&str; 2] = ["https://t.co/MeDi000001", "https://t.co/MeDi000002"];
const EXPANSIONS: [&str; 3] = [
    "https://ok.example/",
    "https://example.com/a?b=1&amp;c=2",
    "https://blog.example/p/1#x",
];
const NAMES: [&str; 6] = [
    "mapped",
    "Mapped",
    "bob",
    "a_b",
    "x",
    "averyveryverylongname",
];

#[derive(Debug, Arbitrary)]
enum Token {
    Text(String),
    Link(u8),
    Media(u8),
    Mention(u8),
    /// `@` and a name made of the fuzzer's bytes (kept to name characters).
    AnyMention(String),
    Address(bool),
}

#[derive(Debug, Arbitrary)]
enum At {
    /// The span of the n-th token (right or wrong for the entity).
    Token(u8),
    Raw(u16, u16),
    None,
}

#[derive(Debug, Arbitrary)]
struct Input {
    tokens: Vec<Token>,
    urls: Vec<(u8, u8, At)>,
    media: Vec<(u8, At)>,
    mentions: Vec<(u8, At)>,
    profile_links: bool,
    drop_reply_mentions: bool,
    note_urls: Vec<(u8, u8)>,
}

/// Free text as a tweet may hold it, without anything that starts a link or a mention (those
/// come from their own tokens, so that the invariants know where they are).
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| {
            if matches!(c, '@' | '＠' | ':') {
                ' '
            } else {
                c
            }
        })
        .collect()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Whether `needle` stands in `hay` not followed by an ASCII letter or digit.
fn has_whole(hay: &str, needle: &str) -> bool {
    hay.match_indices(needle).any(|(i, _)| {
        !hay[i + needle.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
    })
}

/// Where Mastodon's `MENTION_RE` finds a mention: the user (and domain) of each, lowercased.
/// A copy of the model in `src/plan/text.rs`'s tests, written from the regex.
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

/// An entity with its `indices` when it has any (old tweets have none).
fn entity(mut fields: serde_json::Value, at: &At, spans: &[(usize, usize)]) -> serde_json::Value {
    let indices = match at {
        At::Token(n) if !spans.is_empty() => {
            let (s, e) = spans[usize::from(*n) % spans.len()];
            json!([s.to_string(), e.to_string()])
        }
        At::Raw(s, e) => json!([s.to_string(), e.to_string()]),
        _ => return fields,
    };
    fields["indices"] = indices;
    fields
}

fuzz_target!(|input: Input| {
    if input.tokens.len() > 64 {
        return;
    }
    // The raw (unescaped) text, the archive's escaped text, and each token's span in code
    // points of the escaped text.
    let mut raw = String::new();
    let mut escaped = String::new();
    let mut spans = Vec::new();
    let mut has_mentions = false;
    for token in &input.tokens {
        let piece = match token {
            Token::Text(t) => clean(t),
            // Links stand apart, as Twitter writes them.
            Token::Link(n) => {
                let l = URL_LINKS[usize::from(*n) % URL_LINKS.len()];
                format!(" {l} ")
            }
            Token::Media(n) => format!(" {} ", MEDIA_LINKS[usize::from(*n) % MEDIA_LINKS.len()]),
            Token::Mention(n) => {
                has_mentions = true;
                format!("@{}", NAMES[usize::from(*n) % NAMES.len()])
            }
            Token::AnyMention(name) => {
                has_mentions = true;
                let name: String = name
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
                    .take(20)
                    .collect();
                format!("@{name}")
            }
            Token::Address(mapped) => {
                has_mentions = true;
                if *mapped {
                    "@mapped@twitter.example".to_owned()
                } else {
                    "@alice@example.social".to_owned()
                }
            }
        };
        let e = escape(&piece);
        let start = escaped.chars().count();
        // The span of a link token is the link, without the spaces around it.
        let (s, len) = if matches!(token, Token::Link(_) | Token::Media(_)) {
            (start + 1, e.chars().count() - 2)
        } else {
            (start, e.chars().count())
        };
        spans.push((s, s + len));
        raw.push_str(&piece);
        escaped.push_str(&e);
    }

    let urls: Vec<_> = input
        .urls
        .iter()
        .take(8)
        .map(|(l, x, at)| {
            let fields = json!({
                "url": URL_LINKS[usize::from(*l) % URL_LINKS.len()],
                "expanded_url": EXPANSIONS[usize::from(*x) % EXPANSIONS.len()],
            });
            entity(fields, at, &spans)
        })
        .collect();
    let media: Vec<_> = input
        .media
        .iter()
        .take(4)
        .map(|(l, at)| {
            let fields = json!({
                "type": "photo",
                "url": MEDIA_LINKS[usize::from(*l) % MEDIA_LINKS.len()],
            });
            entity(fields, at, &spans)
        })
        .collect();
    let mentions: Vec<_> = input
        .mentions
        .iter()
        .take(8)
        .map(|(n, at)| {
            let fields = json!({ "screen_name": NAMES[usize::from(*n) % NAMES.len()] });
            entity(fields, at, &spans)
        })
        .collect();
    let no_entities = urls.is_empty() && media.is_empty() && mentions.is_empty();
    let mut tweet = json!({
        "id_str": "1500000000000000001",
        "created_at": "Thu Mar 04 10:00:00 +0000 2021",
        "full_text": escaped,
        "entities": { "urls": urls, "user_mentions": mentions, "hashtags": [] },
    });
    if !media.is_empty() {
        tweet["extended_entities"] = json!({ "media": media });
    }
    let json = json!({ "tweet": tweet }).to_string();
    let TweetEntry(tweet) = serde_json::from_str(&json).expect("the tweet decodes");

    let opts = TextOptions {
        drop_reply_mentions: input.drop_reply_mentions,
        mention_style: if input.profile_links {
            MentionStyle::ProfileLink
        } else {
            MentionStyle::Fullwidth
        },
        mention_map: [(
            "mapped".to_owned(),
            Handle::parse("real@fedi.example").expect("a handle"),
        )]
        .into_iter()
        .collect(),
    };
    let out = tweet_text(&tweet, &opts);

    if no_entities && !has_mentions {
        assert_eq!(out.text, raw.trim(), "unescaped more or less than once");
    }
    // A t.co link stands once in a real tweet; when the fuzzer writes it twice, an entity whose
    // span points at one occurrence rightly leaves the other alone.
    let once = |link: &str| escaped.matches(link).count() <= 1;
    for (l, _, _) in input.urls.iter().take(8) {
        let link = URL_LINKS[usize::from(*l) % URL_LINKS.len()];
        if has_whole(&escaped, link) && once(link) {
            assert!(
                !has_whole(&out.text, link),
                "{link} not expanded: {:?}",
                out.text
            );
        }
    }
    for (l, _) in input.media.iter().take(4) {
        let link = MEDIA_LINKS[usize::from(*l) % MEDIA_LINKS.len()];
        if once(link) {
            assert!(
                !has_whole(&out.text, link),
                "{link} left in: {:?}",
                out.text
            );
        }
    }
    for m in mastodon_mentions(&out.text) {
        assert_eq!(m, "real@fedi.example", "in {:?}", out.text);
    }
    assert_eq!(out.text, out.text.trim());

    // The long-tweet path on the same raw text.
    let note_urls: Vec<_> = input
        .note_urls
        .iter()
        .take(8)
        .map(|(l, x)| {
            json!({
                "shortUrl": URL_LINKS[usize::from(*l) % URL_LINKS.len()],
                "expandedUrl": EXPANSIONS[usize::from(*x) % EXPANSIONS.len()],
            })
        })
        .collect();
    let note = json!({ "noteTweet": {
        "noteTweetId": "1500000000000000002",
        "createdAt": "2021-03-04T10:00:00.000Z",
        "core": { "text": raw, "urls": note_urls },
    }})
    .to_string();
    let NoteEntry { note } = serde_json::from_str(&note).expect("the note decodes");
    let out = note_text(&note.core, &opts);
    for m in mastodon_mentions(&out.text) {
        assert_eq!(m, "real@fedi.example", "in {:?}", out.text);
    }
});
