//! WebFinger for many handles at once, as `resolve` and `discover` do it: answers cached in the
//! journal first (definite answers only, for as long as the journal keeps them), the rest
//! concurrently within the resolver's limits, each new definite answer cached. Hosts that do
//! not answer are left uncached, so that the next run asks them again.

use std::collections::{HashMap, HashSet};

use crate::net::webfinger::{LOOKUPS_IN_FLIGHT, Resolution, Resolver};
use crate::run::journal::{CachedLookup, Journal};
use crate::run::tokens::state_dir;
use crate::source::handle::Handle;

use super::{CliError, GlobalArgs, exit};

/// The answers, one per handle asked.
pub struct Lookups {
    pub results: HashMap<Handle, Resolution>,
    /// How many came from the journal's cache.
    pub from_cache: usize,
}

/// The runtime the lookups run on.
pub fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::new(exit::FAILED, e))
}

/// The journal, for its cache; `None` when there is no usable state directory (the lookups
/// then simply go to the network).
pub fn journal(global: &GlobalArgs) -> Option<Journal> {
    state_dir(global.state_dir.as_deref())
        .ok()
        .and_then(|d| Journal::open(&d).ok())
}

/// Looks up every handle of `handles` (duplicates are asked once). `progress(done, total)`
/// counts distinct handles answered: the cached ones at once, then each lookup as it finishes.
pub fn lookup_all(
    rt: &tokio::runtime::Runtime,
    resolver: &Resolver,
    journal: Option<&Journal>,
    handles: impl IntoIterator<Item = Handle>,
    mut progress: impl FnMut(u64, u64),
) -> Lookups {
    let mut results: HashMap<Handle, Resolution> = HashMap::new();
    let mut ask = Vec::new();
    let mut seen = HashSet::new();
    for h in handles {
        if !seen.insert(h.clone()) {
            continue;
        }
        match journal.and_then(|j| cached(j, &h)) {
            Some(r) => {
                results.insert(h, r);
            }
            None => ask.push(h),
        }
    }
    let from_cache = results.len();
    let total = seen.len() as u64;
    progress(from_cache as u64, total);
    let asked = rt.block_on(async {
        let mut set = tokio::task::JoinSet::new();
        let mut ask = ask.into_iter();
        let spawn = |set: &mut tokio::task::JoinSet<_>, h: Handle| {
            let resolver = resolver.clone();
            set.spawn(async move {
                let mut r = resolver.resolve(h.username(), &h.ascii_host()).await;
                r.handle = h.to_string();
                (h, r)
            });
        };
        for h in ask.by_ref().take(LOOKUPS_IN_FLIGHT) {
            spawn(&mut set, h);
        }
        let mut out = Vec::new();
        while let Some(joined) = set.join_next().await {
            if let Some(h) = ask.next() {
                spawn(&mut set, h);
            }
            if let Ok(pair) = joined {
                out.push(pair);
                progress((from_cache + out.len()) as u64, total);
            }
        }
        out
    });
    // The answers are kept together: one transaction, one sync. A cache that cannot be
    // written costs only lookups next time.
    if let Some(j) = journal {
        let _ = j.batch(|j| {
            for (h, r) in asked.iter().filter(|(_, r)| r.outcome.is_cacheable()) {
                j.cache_lookup(&h.ascii(), &CachedLookup::of(r))?;
            }
            Ok(())
        });
    }
    results.extend(asked);
    Lookups {
        results,
        from_cache,
    }
}

/// A definite cached answer for `h`.
fn cached(journal: &Journal, h: &Handle) -> Option<Resolution> {
    journal
        .cached_lookup(&h.ascii())
        .ok()
        .flatten()?
        .resolution(&h.to_string())
}
