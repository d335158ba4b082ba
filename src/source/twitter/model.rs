//! Serde models of the archive's entries, as they are stored — numbers as strings, optional
//! fields absent rather than null, unknown fields ignored.
//!
//! Strings borrow from the element's bytes where they hold no escapes ([`Cow`]), so decoding a
//! tweet allocates little. Ids are parsed straight from their decimal text into `u64`: they
//! exceed 2^53 and must never pass through `f64` (see [`Id`]).

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

/// A Twitter snowflake id (tweet, user, media), stored in archives as a decimal string.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Id(pub u64);

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::str::FromStr for Id {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.trim()
            .parse::<u64>()
            .map(Id)
            .map_err(|_| format!("`{s}` is not a valid id"))
    }
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct IdVisitor;
        impl Visitor<'_> for IdVisitor {
            type Value = Id;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an id as a decimal string or integer")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Id, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Id, E> {
                Ok(Id(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Id, E> {
                u64::try_from(v)
                    .map(Id)
                    .map_err(|_| E::custom(format!("`{v}` is not a valid id")))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Id, E> {
                // A float has lost the low digits of a snowflake already: refuse, don't guess.
                Err(E::custom(format!("`{v}` is not an exact id")))
            }
        }
        d.deserialize_any(IdVisitor)
    }
}

/// A count or index stored as a string (`"12"`) or, in tools' rewrites, as a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Num(pub u64);

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct NumVisitor;
        impl Visitor<'_> for NumVisitor {
            type Value = Num;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a non-negative number, possibly as a string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Num, E> {
                v.trim()
                    .parse()
                    .map(Num)
                    .map_err(|_| E::custom(format!("`{v}` is not a number")))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Num, E> {
                Ok(Num(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Num, E> {
                // Twitter writes -1 for unknown user ids in mentions; a negative count is 0.
                Ok(Num(u64::try_from(v).unwrap_or(0)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Num, E> {
                Ok(Num(if v.is_finite() && v > 0.0 {
                    v as u64
                } else {
                    0
                }))
            }
        }
        d.deserialize_any(NumVisitor)
    }
}

/// One entry of a tweets file: `{"tweet": {…}}`, or the bare object in 2019 archives.
#[derive(Debug)]
pub struct TweetEntry<'a>(pub Tweet<'a>);

impl<'de: 'a, 'a> Deserialize<'de> for TweetEntry<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // The wrapper holds one key, `tweet`; a bare (2019) tweet has many and never that one.
        // An untagged enum would buffer the whole entry, so the first key decides instead.
        d.deserialize_map(EntryVisitor(std::marker::PhantomData))
    }
}

struct EntryVisitor<'a>(std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for EntryVisitor<'a> {
    type Value = TweetEntry<'a>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a tweet object, or {\"tweet\": {...}}")
    }
    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        // Peek at the first key: `tweet` means the wrapper. Otherwise decode the bare object
        // field by field, starting from the key we already hold.
        let Some(first) = map.next_key::<Cow<'de, str>>()? else {
            return Err(de::Error::custom("an empty object is not a tweet"));
        };
        let tweet = if first == "tweet" {
            let tweet: Tweet<'a> = map.next_value()?;
            while map.next_key::<de::IgnoredAny>()?.is_some() {
                map.next_value::<de::IgnoredAny>()?;
            }
            tweet
        } else {
            let rest = de::value::MapAccessDeserializer::new(FirstKeyThen {
                first: Some(first),
                map,
            });
            Tweet::deserialize(rest)?
        };
        tweet.settle().map(TweetEntry).map_err(de::Error::custom)
    }
}

/// A map access that yields one already-read key before the rest of the underlying map.
struct FirstKeyThen<'de, A> {
    first: Option<Cow<'de, str>>,
    map: A,
}

impl<'de, A: de::MapAccess<'de>> de::MapAccess<'de> for FirstKeyThen<'de, A> {
    type Error = A::Error;
    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        match self.first.take() {
            Some(Cow::Borrowed(k)) => seed
                .deserialize(de::value::BorrowedStrDeserializer::new(k))
                .map(Some),
            Some(Cow::Owned(k)) => seed
                .deserialize(de::value::StringDeserializer::new(k))
                .map(Some),
            None => self.map.next_key_seed(seed),
        }
    }
    fn next_value_seed<V: de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        self.map.next_value_seed(seed)
    }
}

/// The fields of a tweet that `migrate` uses. Everything else is skipped.
///
/// Archives carry most ids twice (`id` and `id_str`, identical strings) and some tools keep only
/// one; both are read and [`Tweet::settle`] fills the `*_str` fields from either.
#[derive(Debug, Deserialize)]
pub struct Tweet<'a> {
    /// Filled by [`Tweet::settle`] from `id_str` or `id`.
    #[serde(skip)]
    pub id_str: Id,
    #[serde(rename = "id_str", default)]
    raw_id_str: Option<Id>,
    #[serde(rename = "id", default)]
    raw_id: Option<Id>,
    #[serde(borrow)]
    pub created_at: Cow<'a, str>,
    /// HTML-escaped (`&amp; &lt; &gt;`); entity indices count code points of this text.
    #[serde(borrow, default)]
    pub full_text: Cow<'a, str>,
    /// Filled by [`Tweet::settle`] from either spelling.
    #[serde(default)]
    pub in_reply_to_status_id_str: Option<Id>,
    #[serde(rename = "in_reply_to_status_id", default)]
    raw_in_reply_to_status_id: Option<Id>,
    /// Filled by [`Tweet::settle`] from either spelling.
    #[serde(default)]
    pub in_reply_to_user_id_str: Option<Id>,
    #[serde(rename = "in_reply_to_user_id", default)]
    raw_in_reply_to_user_id: Option<Id>,
    #[serde(borrow, default)]
    pub in_reply_to_screen_name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub lang: Option<Cow<'a, str>>,
    #[serde(default)]
    pub favorite_count: Option<Num>,
    #[serde(default)]
    pub retweet_count: Option<Num>,
    #[serde(default)]
    pub display_text_range: Option<[Num; 2]>,
    #[serde(borrow, default)]
    pub entities: Entities<'a>,
    #[serde(borrow, default)]
    pub extended_entities: Option<ExtendedEntities<'a>>,
    #[serde(default)]
    pub edit_info: Option<EditInfo>,
    #[serde(default)]
    pub possibly_sensitive: Option<bool>,
    /// Only in `deleted-tweets.js`.
    #[serde(borrow, default)]
    pub deleted_at: Option<Cow<'a, str>>,
    /// Only in `community-tweet.js`.
    #[serde(default)]
    pub community_id_str: Option<Id>,
    #[serde(rename = "community_id", default)]
    raw_community_id: Option<Id>,
}

impl Tweet<'_> {
    /// Merges the two spellings of each id; a tweet without any id is refused.
    fn settle(mut self) -> Result<Self, &'static str> {
        self.id_str = self
            .raw_id_str
            .or(self.raw_id)
            .ok_or("a tweet without `id_str` or `id`")?;
        self.in_reply_to_status_id_str = self
            .in_reply_to_status_id_str
            .or(self.raw_in_reply_to_status_id);
        self.in_reply_to_user_id_str = self
            .in_reply_to_user_id_str
            .or(self.raw_in_reply_to_user_id);
        self.community_id_str = self.community_id_str.or(self.raw_community_id);
        for m in self
            .extended_entities
            .iter_mut()
            .flat_map(|e| e.media.iter_mut())
        {
            m.id_str = m.id_str.or(m.raw_id);
            m.source_status_id_str = m.source_status_id_str.or(m.raw_source_status_id);
        }
        for m in &mut self.entities.user_mentions {
            m.id_str = m.id_str.or(m.raw_id);
        }
        Ok(self)
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct Entities<'a> {
    #[serde(borrow, default)]
    pub urls: Vec<UrlEntity<'a>>,
    #[serde(borrow, default)]
    pub user_mentions: Vec<MentionEntity<'a>>,
    #[serde(borrow, default)]
    pub hashtags: Vec<HashtagEntity<'a>>,
}

#[derive(Debug, Deserialize)]
pub struct UrlEntity<'a> {
    #[serde(borrow, default)]
    pub url: Cow<'a, str>,
    #[serde(borrow, default)]
    pub expanded_url: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub display_url: Option<Cow<'a, str>>,
    #[serde(default)]
    pub indices: Option<[Num; 2]>,
}

#[derive(Debug, Deserialize)]
pub struct MentionEntity<'a> {
    #[serde(borrow, default)]
    pub screen_name: Cow<'a, str>,
    #[serde(borrow, default)]
    pub name: Option<Cow<'a, str>>,
    /// `-1` for suspended or renamed users, hence a [`Num`] and not an [`Id`].
    #[serde(default)]
    pub id_str: Option<Num>,
    #[serde(rename = "id", default)]
    raw_id: Option<Num>,
    #[serde(default)]
    pub indices: Option<[Num; 2]>,
}

#[derive(Debug, Deserialize)]
pub struct HashtagEntity<'a> {
    #[serde(borrow, default)]
    pub text: Cow<'a, str>,
    #[serde(default)]
    pub indices: Option<[Num; 2]>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ExtendedEntities<'a> {
    #[serde(borrow, default)]
    pub media: Vec<Media<'a>>,
}

/// One photo, video or animated GIF of `extended_entities.media` (`entities.media` says
/// "photo" for every kind and lists only the first, so it is not used).
#[derive(Debug, Deserialize)]
pub struct Media<'a> {
    #[serde(borrow, rename = "type", default)]
    pub kind: Cow<'a, str>,
    #[serde(default)]
    pub id_str: Option<Id>,
    #[serde(rename = "id", default)]
    raw_id: Option<Id>,
    #[serde(borrow, default)]
    pub media_url_https: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub media_url: Option<Cow<'a, str>>,
    /// The t.co link in the text, shared by all media of the tweet.
    #[serde(borrow, default)]
    pub url: Option<Cow<'a, str>>,
    #[serde(default)]
    pub indices: Option<[Num; 2]>,
    #[serde(borrow, default)]
    pub video_info: Option<VideoInfo<'a>>,
    #[serde(default)]
    pub source_status_id_str: Option<Id>,
    #[serde(rename = "source_status_id", default)]
    raw_source_status_id: Option<Id>,
}

#[derive(Debug, Deserialize)]
pub struct VideoInfo<'a> {
    #[serde(borrow, default)]
    pub variants: Vec<Variant<'a>>,
    #[serde(default)]
    pub duration_millis: Option<Num>,
}

#[derive(Debug, Deserialize)]
pub struct Variant<'a> {
    #[serde(default)]
    pub bitrate: Option<Num>,
    #[serde(borrow, default)]
    pub content_type: Cow<'a, str>,
    #[serde(borrow, default)]
    pub url: Cow<'a, str>,
}

/// `edit_info`: `{"initial": {…}}` on the first version, `{"edit": {"editControlInitial": {…}}}`
/// on later ones. Both carry the full list of version ids, oldest first.
#[derive(Debug, Default, Deserialize)]
pub struct EditInfo {
    #[serde(default)]
    pub initial: Option<EditControl>,
    #[serde(default)]
    pub edit: Option<EditLater>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EditControl {
    #[serde(default)]
    pub edit_tweet_ids: Vec<Id>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EditLater {
    #[serde(default)]
    pub initial_tweet_id: Option<Id>,
    #[serde(default)]
    pub edit_control_initial: Option<EditControl>,
}

impl EditInfo {
    /// The id of the newest version of this tweet, when the archive says.
    pub fn latest_version(&self) -> Option<Id> {
        let ids = match (&self.initial, &self.edit) {
            (Some(c), _) if !c.edit_tweet_ids.is_empty() => &c.edit_tweet_ids,
            (
                _,
                Some(EditLater {
                    edit_control_initial: Some(c),
                    ..
                }),
            ) => &c.edit_tweet_ids,
            _ => return None,
        };
        ids.iter().copied().max()
    }
}

/// `note-tweet.js`: the full text of a long tweet, linked to its tweet only by time and text.
#[derive(Debug, Deserialize)]
pub struct NoteEntry<'a> {
    #[serde(borrow, rename = "noteTweet")]
    pub note: Note<'a>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Note<'a> {
    pub note_tweet_id: Id,
    #[serde(borrow)]
    pub created_at: Cow<'a, str>,
    #[serde(borrow)]
    pub core: NoteCore<'a>,
}

#[derive(Debug, Deserialize)]
pub struct NoteCore<'a> {
    /// Not HTML-escaped, unlike `full_text`.
    #[serde(borrow, default)]
    pub text: Cow<'a, str>,
    #[serde(borrow, default)]
    pub urls: Vec<NoteUrl<'a>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NoteUrl<'a> {
    #[serde(borrow, default)]
    pub short_url: Cow<'a, str>,
    #[serde(borrow, default)]
    pub expanded_url: Cow<'a, str>,
}

/// `account.js`.
#[derive(Debug, Deserialize)]
pub struct AccountEntry {
    pub account: Account,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    pub account_id: Id,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub account_display_name: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
}

/// `profile.js`.
#[derive(Debug, Deserialize)]
pub struct ProfileEntry {
    pub profile: Profile,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    #[serde(default)]
    pub description: ProfileDescription,
    #[serde(default)]
    pub avatar_media_url: Option<String>,
    #[serde(default)]
    pub header_media_url: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProfileDescription {
    #[serde(default)]
    pub bio: Option<String>,
    #[serde(default)]
    pub website: Option<String>,
    #[serde(default)]
    pub location: Option<String>,
}

/// An entry of `following.js`, `follower.js`, `block.js` or `mute.js`: one key (`following`,
/// `follower`, `blocking`, `muting`) around `{accountId, userLink?}`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Relation {
    pub account_id: Id,
}

/// The `dataTypes.*.files[]` of `manifest.js`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    #[serde(default)]
    pub user_info: Option<ManifestUser>,
    #[serde(default)]
    pub archive_info: Option<ManifestArchive>,
    #[serde(default)]
    pub data_types: std::collections::BTreeMap<String, ManifestDataType>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManifestUser {
    #[serde(default)]
    pub account_id: Option<Id>,
    #[serde(default)]
    pub user_name: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManifestArchive {
    #[serde(default)]
    pub generation_date: Option<String>,
    #[serde(default)]
    pub is_partial_archive: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManifestDataType {
    #[serde(default)]
    pub media_directory: Option<String>,
    #[serde(default)]
    pub files: Vec<ManifestFile>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManifestFile {
    pub file_name: String,
    #[serde(default)]
    pub global_name: Option<String>,
    #[serde(default)]
    pub count: Option<Num>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapped_and_bare_entries_decode_alike() {
        let wrapped = r#"{"tweet":{"id_str":"1234567890123456789","id":"1234567890123456789","created_at":"Fri Feb 20 09:10:58 +0000 2026","full_text":"hi &amp; bye"}}"#;
        let bare = r#"{"created_at":"Fri Feb 20 09:10:58 +0000 2026","full_text":"hi &amp; bye","id":"1234567890123456789"}"#;
        for text in [wrapped, bare] {
            let TweetEntry(t) = serde_json::from_str(text).unwrap();
            assert_eq!(t.id_str, Id(1234567890123456789));
            assert_eq!(t.full_text, "hi &amp; bye");
        }
    }

    #[test]
    fn a_tweet_needs_an_id() {
        let err =
            serde_json::from_str::<TweetEntry>(r#"{"tweet":{"created_at":"x"}}"#).unwrap_err();
        assert!(err.to_string().contains("without"), "{err}");
    }

    #[test]
    fn ids_never_go_through_floats() {
        // 2^53 + 1 is not representable as f64.
        let t: Id = serde_json::from_str("\"9007199254740993\"").unwrap();
        assert_eq!(t, Id(9007199254740993));
        let t: Id = serde_json::from_str("9007199254740993").unwrap();
        assert_eq!(t, Id(9007199254740993));
        assert!(serde_json::from_str::<Id>("\"18446744073709551616\"").is_err());
        assert!(serde_json::from_str::<Id>("1.5e3").is_err());
    }

    #[test]
    fn latest_edit_version_from_either_shape() {
        let first: EditInfo =
            serde_json::from_str(r#"{"initial":{"editTweetIds":["5","9"],"editsRemaining":"4"}}"#)
                .unwrap();
        let later: EditInfo = serde_json::from_str(
            r#"{"edit":{"initialTweetId":"5","editControlInitial":{"editTweetIds":["5","9"]}}}"#,
        )
        .unwrap();
        assert_eq!(first.latest_version(), Some(Id(9)));
        assert_eq!(later.latest_version(), Some(Id(9)));
    }
}
