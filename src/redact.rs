//! The secrets this process holds — access tokens, OAuth client secrets — remembered as they
//! come in, so that the one text `migrate` does not compose itself, a panic message, is
//! scrubbed of them before it is printed. Everything else keeps tokens out by construction
//! ([`crate::cli::Secret`], redacting `Debug` impls); this is the net under it.

use std::sync::Mutex;

static SECRETS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// What a secret is replaced with.
pub const MASK: &str = "***";

/// Remembers `secret` for [`scrub`]. Values too short to be a credential are ignored (scrubbing
/// them would garble ordinary text).
pub fn remember(secret: &str) {
    if secret.len() < 8 {
        return;
    }
    let mut secrets = SECRETS.lock().unwrap_or_else(|e| e.into_inner());
    if !secrets.iter().any(|s| s == secret) {
        secrets.push(secret.to_string());
    }
}

/// `text` with every remembered secret replaced by [`MASK`]. If the list is busy (a panic
/// while remembering one), nothing of `text` can be vouched for, and none of it is returned.
pub fn scrub(text: &str) -> String {
    let Ok(secrets) = SECRETS.try_lock() else {
        return "(details withheld)".into();
    };
    // Longest first, so that a secret containing another is masked whole.
    let mut sorted: Vec<&String> = secrets.iter().collect();
    sorted.sort_by_key(|s| std::cmp::Reverse(s.len()));
    sorted
        .into_iter()
        .fold(text.to_string(), |t, s| t.replace(s.as_str(), MASK))
}

/// Replaces the default panic message with one that is scrubbed of secrets and says what to do.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let payload = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(no message)".into());
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "error: migrate stopped on an internal error (a bug){place}: {}\n\
             hint: what was done is in the journal: run the same command again to resume; please \
             report this message (it holds no token)",
            scrub(&payload)
        );
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembered_secrets_are_masked_and_short_values_ignored() {
        remember("tok-ABCDEFGH12345678");
        remember("tok-ABCDEFGH12345678-longer");
        remember("abc");
        let s = scrub("a tok-ABCDEFGH12345678-longer and tok-ABCDEFGH12345678, abc");
        assert_eq!(s, "a *** and ***, abc");
    }
}
