//! The WebFinger answers: a JRD (`Jrd`, decoded with `serde_json::from_slice` exactly as the
//! private `parse_jrd` of `src/net/webfinger.rs` does), the choice of its `self` link, the
//! subject parser, the LRDD template of a host-meta XRD, and the lookup URL.
//!
//! The input is split at the first NUL: before it a JRD (and the same bytes as host-meta), after
//! it a `host` and a `resource` separated by a newline, for `webfinger_url`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use migrate::net::webfinger::{
    Jrd, is_activitypub_type, lrdd_template, parse_subject, self_link, webfinger_url,
};

fn check_subject(subject: &str) {
    if let Some((user, host)) = parse_subject(subject) {
        assert!(!user.is_empty() && !host.is_empty(), "{subject:?}");
        assert!(
            !user.contains(['@', '/'])
                && !user.chars().any(|c| c.is_whitespace() || c.is_control()),
            "{subject:?} gave user {user:?}"
        );
        // The host is a domain name in ASCII: it names itself in a URL, byte for byte.
        assert!(
            host.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.'),
            "{subject:?} gave host {host:?}"
        );
        assert_eq!(host, host.to_ascii_lowercase());
        let url = url::Url::parse(&format!("https://{host}/")).expect("a domain is a URL host");
        assert_eq!(url.host_str(), Some(host.as_str()), "{subject:?}");
    }
}

fuzz_target!(|data: &[u8]| {
    let (body, rest) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    if let Ok(jrd) = serde_json::from_slice::<Jrd>(body) {
        if let Some(subject) = &jrd.subject {
            check_subject(subject);
        }
        for alias in &jrd.aliases {
            if let Some(a) = alias.as_str() {
                check_subject(a);
            }
        }
        for link in &jrd.links {
            if let Some(kind) = &link.kind {
                let _ = is_activitypub_type(kind);
            }
        }
        if let Some(link) = self_link(&jrd) {
            assert_eq!(link.rel.as_deref(), Some("self"));
            assert!(link.kind.as_deref().is_some_and(is_activitypub_type));
            assert!(
                link.href
                    .as_deref()
                    .is_some_and(|h| url::Url::parse(h).is_ok())
            );
        }
    }
    let xrd = String::from_utf8_lossy(body);
    if let Some(template) = lrdd_template(&xrd) {
        assert!(template.contains("{uri}"), "{template:?}");
    }
    check_subject(&xrd);

    let rest = String::from_utf8_lossy(rest);
    let (host, resource) = rest.split_once('\n').unwrap_or((&rest, "acct:a@b.example"));
    if let Some(url) = webfinger_url(host, resource) {
        assert_eq!(url.scheme(), "https");
        assert!(url.host_str().is_some_and(|h| !h.is_empty()), "{url}");
        assert_eq!(url.path(), "/.well-known/webfinger", "{host:?} gave {url}");
        let pairs: Vec<_> = url.query_pairs().collect();
        assert_eq!(pairs.len(), 1, "{host:?} gave {url}");
        assert_eq!(pairs[0].0, "resource");
        assert_eq!(pairs[0].1, resource);
    }
});
