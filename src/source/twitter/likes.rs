//! `like.js`: the tweets the user liked — their id, their text (HTML-escaped, like `full_text`,
//! and sometimes missing) and a `twitter.com/i/web/status/<id>` link. There is no author and no
//! date (FORMATS.md §1.9), and the t.co links in the text come without their expansions.

use std::borrow::Cow;

use serde::Deserialize;

use super::model::Id;
use super::{Archive, ArchiveError, decode_or_skip};

/// The file, relative to `data/`.
pub const FILE: &str = "like.js";

#[derive(Debug, Deserialize)]
struct LikeEntry<'a> {
    #[serde(borrow)]
    like: Like<'a>,
}

/// One liked tweet.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Like<'a> {
    pub tweet_id: Id,
    /// HTML-escaped; absent for some entries.
    #[serde(borrow, default)]
    pub full_text: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub expanded_url: Option<Cow<'a, str>>,
}

impl Archive {
    /// Streams `like.js`, calling `f` for each like. `Ok(false)` when the archive has no such
    /// file. An entry of another shape is a problem and is skipped; malformed JSON is an error.
    pub fn for_each_like(&mut self, mut f: impl FnMut(&Like<'_>)) -> Result<bool, ArchiveError> {
        if !self.container.exists(FILE) {
            return Ok(false);
        }
        let display = self.display_name(FILE);
        self.stream(FILE, |at, bytes, problems| {
            if let Some(LikeEntry { like }) = decode_or_skip(&display, at, bytes, problems)? {
                f(&like);
            }
            Ok(())
        })?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn likes_decode_with_and_without_text() {
        let e: LikeEntry = serde_json::from_str(
            r#"{"like":{"tweetId":"1172534048360677378","fullText":"a &amp; b","expandedUrl":"https://twitter.com/i/web/status/1172534048360677378"}}"#,
        )
        .unwrap();
        assert_eq!(e.like.tweet_id, Id(1172534048360677378));
        assert_eq!(e.like.full_text.as_deref(), Some("a &amp; b"));
        let bare: LikeEntry = serde_json::from_str(r#"{"like":{"tweetId":"5"}}"#).unwrap();
        assert!(bare.like.full_text.is_none() && bare.like.expanded_url.is_none());
        assert!(serde_json::from_str::<LikeEntry>(r#"{"like":{"fullText":"x"}}"#).is_err());
    }
}
