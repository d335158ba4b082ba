//! The account ids of a social-graph file (`following.js`, …): each entry is one key
//! (`following`, `blocking`, …) around `{"accountId", "userLink"?}`.

use std::collections::{BTreeMap, HashSet};

use super::model::Relation as Entry;
use super::{Archive, ArchiveError, Relation, decode_or_skip};

impl Archive {
    /// The account ids of a social-graph file; `None` when the file is absent.
    pub fn relation_ids(
        &mut self,
        relation: Relation,
    ) -> Result<Option<HashSet<u64>>, ArchiveError> {
        let rel = relation.file();
        if !self.container.exists(rel) {
            return Ok(None);
        }
        let display = self.display_name(rel);
        let key = relation.key();
        let mut ids = HashSet::new();
        self.stream(rel, |at, bytes, problems| {
            let entry: Option<BTreeMap<String, Entry>> =
                decode_or_skip(&display, at, bytes, problems)?;
            if let Some(e) = entry.as_ref().and_then(|m| m.get(key)) {
                ids.insert(e.account_id.0);
            }
            Ok(())
        })?;
        Ok(Some(ids))
    }
}
