//! `direct-messages.js` and `direct-messages-group.js`: one entry per conversation
//! (`{"dmConversation":{"conversationId","messages":[…]}}`), each message an event of which only
//! `messageCreate` carries text (FORMATS.md §1.9). Other events (joins, renames, reactions) are
//! skipped. Private: readers of this module must never publish what they read.

use std::borrow::Cow;

use serde::Deserialize;

use super::model::Id;
use super::{Archive, ArchiveError, decode_or_skip};

/// Which of the two files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DmFile {
    /// One-to-one conversations.
    Direct,
    /// Group conversations.
    Group,
}

impl DmFile {
    /// The file, relative to `data/`.
    pub fn file(self) -> &'static str {
        match self {
            DmFile::Direct => "direct-messages.js",
            DmFile::Group => "direct-messages-group.js",
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DmEntry<'a> {
    #[serde(borrow)]
    dm_conversation: Conversation<'a>,
}

/// One conversation.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Conversation<'a> {
    #[serde(borrow, default)]
    pub conversation_id: Cow<'a, str>,
    #[serde(borrow, default)]
    pub messages: Vec<Event<'a>>,
}

/// One event of a conversation; only messages matter here.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event<'a> {
    #[serde(borrow, default)]
    pub message_create: Option<Message<'a>>,
}

/// A message.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message<'a> {
    #[serde(default)]
    pub id: Option<Id>,
    #[serde(default)]
    pub sender_id: Option<Id>,
    /// Absent in group conversations.
    #[serde(default)]
    pub recipient_id: Option<Id>,
    #[serde(borrow, default)]
    pub text: Cow<'a, str>,
    #[serde(borrow, default)]
    pub urls: Vec<DmUrl<'a>>,
}

/// A link of a message: the t.co form in the text and where it leads.
#[derive(Debug, Deserialize)]
pub struct DmUrl<'a> {
    #[serde(borrow, default)]
    pub url: Cow<'a, str>,
    #[serde(borrow, default, alias = "expandedUrl", alias = "expanded_url")]
    pub expanded: Option<Cow<'a, str>>,
}

impl Archive {
    /// Streams the conversations of one DM file. `Ok(false)` when the archive has no such file.
    pub fn for_each_conversation(
        &mut self,
        which: DmFile,
        mut f: impl FnMut(&Conversation<'_>),
    ) -> Result<bool, ArchiveError> {
        let rel = which.file();
        if !self.container.exists(rel) {
            return Ok(false);
        }
        let display = self.display_name(rel);
        self.stream(rel, |at, bytes, problems| {
            if let Some(DmEntry { dm_conversation }) =
                decode_or_skip(&display, at, bytes, problems)?
            {
                f(&dm_conversation);
            }
            Ok(())
        })?;
        Ok(true)
    }

    /// Whether the archive holds a DM file.
    pub fn has_conversations(&self, which: DmFile) -> bool {
        self.container.exists(which.file())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversations_keep_messages_and_skip_other_events() {
        let e: DmEntry = serde_json::from_str(
            r#"{"dmConversation":{"conversationId":"1-2","messages":[
              {"messageCreate":{"recipientId":"2","reactions":[],"urls":[{"url":"https://t.co/x","expanded":"https://a.example/@b","display":"a.example/@b"}],
               "text":"hi https://t.co/x","mediaUrls":[],"senderId":"1","id":"99","createdAt":"2024-01-01T00:00:00.000Z","editHistory":[]}},
              {"joinConversation":{"initiatingUserId":"3","participantsSnapshot":["1"],"createdAt":"2024-01-01T00:00:00.000Z"}},
              {"messageCreate":{"senderId":"3","id":"100","text":"group"}}]}}"#,
        )
        .unwrap();
        let c = e.dm_conversation;
        assert_eq!(c.conversation_id, "1-2");
        assert_eq!(c.messages.len(), 3);
        let m = c.messages[0].message_create.as_ref().unwrap();
        assert_eq!(m.sender_id, Some(Id(1)));
        assert_eq!(m.urls[0].expanded.as_deref(), Some("https://a.example/@b"));
        assert!(c.messages[1].message_create.is_none());
        let group = c.messages[2].message_create.as_ref().unwrap();
        assert!(group.recipient_id.is_none() && group.urls.is_empty());
    }
}
