//! How Mastodon counts a status's length (`StatusLengthValidator`, MASTODON.md §3.9a): the
//! content warning plus the text, where every http(s) URL counts as
//! `characters_reserved_per_url` and a mention `@user@domain` counts as `@user`.
//!
//! Mastodon counts grapheme clusters; no segmentation crate is available to the tests, so this
//! counts `char`s. The two agree except for multi-codepoint clusters (ZWJ emoji, flags,
//! combining marks), which the fake counts as longer than Mastodon does.

pub fn status_length(text: &str, spoiler_text: &str, per_url: usize) -> usize {
    spoiler_text.chars().count() + countable_length(text, per_url)
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

pub fn countable_length(text: &str, per_url: usize) -> usize {
    let chars: Vec<char> = text.chars().collect();
    let mut count = 0;
    let mut i = 0;
    while i < chars.len() {
        let prev = if i == 0 { None } else { Some(chars[i - 1]) };
        if let Some(len) = url_at(&chars, i, prev) {
            count += per_url;
            i += len;
            continue;
        }
        if let Some((counted, len)) = mention_at(&chars, i, prev) {
            count += counted;
            i += len;
            continue;
        }
        count += 1;
        i += 1;
    }
    count
}

/// The length of an http(s) URL starting at `i`, as the linkifier would take it.
fn url_at(chars: &[char], i: usize, prev: Option<char>) -> Option<usize> {
    if prev.is_some_and(|p| is_word(p) || p == '/' || p == '@') {
        return None;
    }
    let rest: String = chars[i..chars.len().min(i + 8)].iter().collect();
    let lower = rest.to_ascii_lowercase();
    let scheme = if lower.starts_with("https://") {
        8
    } else if lower.starts_with("http://") {
        7
    } else {
        return None;
    };
    let mut end = i + scheme;
    while end < chars.len() && !chars[end].is_whitespace() && !"<>\"".contains(chars[end]) {
        end += 1;
    }
    // Trailing punctuation ends a sentence, not the URL.
    while end > i + scheme && ".,:;!?'".contains(chars[end - 1]) {
        end -= 1;
    }
    if end > i + scheme && chars[end - 1] == ')' {
        let body: String = chars[i..end].iter().collect();
        if body.matches('(').count() < body.matches(')').count() {
            end -= 1;
        }
    }
    // A host needs at least one character.
    (end > i + scheme && is_word(chars[i + scheme])).then_some(end - i)
}

/// The mentions Mastodon's parser finds in `text`: (user, domain when given). Only the ASCII
/// `@`, after a non-word character other than `=` and `/`.
pub fn mentions(text: &str) -> Vec<(String, Option<String>)> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let prev = i.checked_sub(1).map(|p| chars[p]);
        if chars[i] == '@' && !prev.is_some_and(|p| is_word(p) || p == '=' || p == '/') {
            if let Some(user_end) =
                scan_name(&chars, i + 1, |c| c.is_ascii_alphanumeric() || c == '_')
            {
                let user: String = chars[i + 1..user_end].iter().collect();
                let domain = (user_end < chars.len() && chars[user_end] == '@')
                    .then(|| scan_name(&chars, user_end + 1, is_word))
                    .flatten();
                let end = domain.unwrap_or(user_end);
                out.push((
                    user,
                    domain.map(|d| chars[user_end + 1..d].iter().collect()),
                ));
                i = end;
                continue;
            }
        }
        i += 1;
    }
    out
}

/// A mention `@user@domain` at `i`: (counted length, consumed length). Local mentions
/// (`@user`) count in full and are left to the plain path.
fn mention_at(chars: &[char], i: usize, prev: Option<char>) -> Option<(usize, usize)> {
    if chars[i] != '@' || prev.is_some_and(|p| is_word(p) || p == '=' || p == '/') {
        return None;
    }
    let user_end = scan_name(chars, i + 1, |c| c.is_ascii_alphanumeric() || c == '_')?;
    if user_end >= chars.len() || chars[user_end] != '@' {
        return None;
    }
    let domain_end = scan_name(chars, user_end + 1, is_word)?;
    Some((user_end - i, domain_end - i))
}

/// `[a-z0-9_]+([.-]+[a-z0-9_]+)*` starting at `start` (with `word` as the class); the end.
fn scan_name(chars: &[char], start: usize, word: impl Fn(char) -> bool) -> Option<usize> {
    let mut end = start;
    while end < chars.len() && word(chars[end]) {
        end += 1;
    }
    if end == start {
        return None;
    }
    loop {
        let mut sep = end;
        while sep < chars.len() && (chars[sep] == '.' || chars[sep] == '-') {
            sep += 1;
        }
        if sep == end || sep >= chars.len() || !word(chars[sep]) {
            return Some(end);
        }
        end = sep;
        while end < chars.len() && word(chars[end]) {
            end += 1;
        }
    }
}
