//! A social graph to recreate: one [`GraphItem`] per CSV row, with a stable key for the
//! journal, and the pure decisions made before anything is sent — duplicates by canonical
//! handle, the account itself, what is already followed, and the follow limit.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

/// What one row asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    Follow {
        handle: String,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        reblogs: Option<bool>,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        notify: Option<bool>,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        languages: Option<Vec<String>>,
    },
    Block {
        handle: String,
    },
    Mute {
        handle: String,
        /// Mute notifications too (`Hide notifications`); `None` = the server's default (true).
        #[serde(skip_serializing_if = "Option::is_none", default)]
        notifications: Option<bool>,
    },
    DomainBlock {
        domain: String,
    },
    ListMember {
        list: String,
        handle: String,
    },
    Bookmark {
        uri: String,
    },
}

impl Op {
    /// The account address this operation is about, if any.
    pub fn handle(&self) -> Option<&str> {
        match self {
            Op::Follow { handle, .. }
            | Op::Block { handle }
            | Op::Mute { handle, .. }
            | Op::ListMember { handle, .. } => Some(handle),
            Op::DomainBlock { .. } | Op::Bookmark { .. } => None,
        }
    }

    /// The journal key before resolution: the kind and the input, lowercased.
    pub fn key(&self) -> String {
        match self {
            Op::Follow { handle, .. } => format!("follow:{}", handle.to_lowercase()),
            Op::Block { handle } => format!("block:{}", handle.to_lowercase()),
            Op::Mute { handle, .. } => format!("mute:{}", handle.to_lowercase()),
            Op::DomainBlock { domain } => format!("domain_block:{}", domain.to_lowercase()),
            Op::ListMember { list, handle } => {
                format!("list:{}:{}", list, handle.to_lowercase())
            }
            Op::Bookmark { uri } => format!("bookmark:{uri}"),
        }
    }

    /// The key after resolution: the same kind with the canonical handle, so that two spellings
    /// of one account are one item.
    pub fn canonical_key(&self, canonical: &str) -> String {
        let c = canonical.to_lowercase();
        match self {
            Op::Follow { .. } => format!("follow:{c}"),
            Op::Block { .. } => format!("block:{c}"),
            Op::Mute { .. } => format!("mute:{c}"),
            Op::ListMember { list, .. } => format!("list:{list}:{c}"),
            other => other.key(),
        }
    }

    pub fn verb(&self) -> &'static str {
        match self {
            Op::Follow { .. } => "follow",
            Op::Block { .. } => "block",
            Op::Mute { .. } => "mute",
            Op::DomainBlock { .. } => "domain block",
            Op::ListMember { .. } => "add to list",
            Op::Bookmark { .. } => "bookmark",
        }
    }
}

/// One row's operation and what the run learned about it (kept in the journal's payload, so a
/// resumed run does not ask again).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphItem {
    /// The row's line in the input file.
    pub line: u64,
    #[serde(flatten)]
    pub op: Op,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub canonical: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub actor: Option<String>,
    /// The account's id on the target server.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub account_id: Option<String>,
    /// Where a moved account went.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub moved_to: Option<String>,
    /// Whether the follow answer was optimistic and awaits confirmation.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub unconfirmed: bool,
}

impl GraphItem {
    pub fn new(line: u64, op: Op) -> GraphItem {
        GraphItem {
            line,
            op,
            canonical: None,
            actor: None,
            account_id: None,
            moved_to: None,
            unconfirmed: false,
        }
    }
}

/// Mastodon's follow limit (MASTODON.md §1.3): 7,500, or followers × 1.1 past that.
pub fn follow_limit(following: u64, followers: u64) -> u64 {
    const LIMIT: u64 = 7_500;
    if following < LIMIT {
        LIMIT
    } else {
        followers * 11 / 10
    }
}

/// Why an item is skipped before anything is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    Duplicate { of_line: u64 },
    Yourself,
    AlreadyFollowed,
}

impl Skip {
    pub fn reason(&self) -> String {
        match self {
            Skip::Duplicate { of_line } => format!("duplicate of line {of_line}"),
            Skip::Yourself => "your own account".into(),
            Skip::AlreadyFollowed => "already followed".into(),
        }
    }
}

/// Decides, for resolved items in input order, which are skipped: a later row naming the same
/// canonical account as an earlier one, the account itself, and follows of accounts already
/// followed (`following`, canonical handles, lowercase).
pub fn skips(
    items: &[(u64, &Op, &str)],
    me: &str,
    following: &HashSet<String>,
) -> Vec<Option<Skip>> {
    let me = me.to_lowercase();
    let mut seen: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
    items
        .iter()
        .map(|(line, op, canonical)| {
            let key = op.canonical_key(canonical);
            if let Some(&first) = seen.get(&key) {
                return Some(Skip::Duplicate { of_line: first });
            }
            seen.insert(key, *line);
            let c = canonical.to_lowercase();
            if op.handle().is_some() && c == me {
                return Some(Skip::Yourself);
            }
            if matches!(op, Op::Follow { .. }) && following.contains(&c) {
                return Some(Skip::AlreadyFollowed);
            }
            None
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn follow(h: &str) -> Op {
        Op::Follow {
            handle: h.into(),
            reblogs: None,
            notify: None,
            languages: None,
        }
    }

    #[test]
    fn limits() {
        assert_eq!(follow_limit(10, 0), 7500);
        assert_eq!(follow_limit(7500, 10_000), 11_000);
    }

    #[test]
    fn payloads_round_trip_without_nulls() {
        let item = GraphItem::new(3, follow("a@b.example"));
        let json = serde_json::to_string(&item).unwrap();
        assert_eq!(json, r#"{"line":3,"op":"follow","handle":"a@b.example"}"#);
        assert_eq!(serde_json::from_str::<GraphItem>(&json).unwrap(), item);
    }

    #[test]
    fn skips_duplicates_self_and_followed() {
        let a = follow("Ana@old.example");
        let a2 = follow("ana@new.example");
        let me = follow("me@home.example");
        let f = follow("friend@x.example");
        let b = Op::Block {
            handle: "ana@new.example".into(),
        };
        let followed: HashSet<String> = ["friend@x.example".to_string()].into();
        let got = skips(
            &[
                (1, &a, "ana@new.example"),
                (2, &a2, "Ana@New.example"),
                (3, &me, "me@home.example"),
                (4, &f, "friend@x.example"),
                (5, &b, "ana@new.example"),
            ],
            "me@home.example",
            &followed,
        );
        assert_eq!(
            got,
            vec![
                None,
                Some(Skip::Duplicate { of_line: 1 }),
                Some(Skip::Yourself),
                Some(Skip::AlreadyFollowed),
                None
            ]
        );
    }
}
