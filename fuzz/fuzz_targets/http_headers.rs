//! The headers and bodies of server answers that `src/net/http.rs` parses: the
//! `X-RateLimit-*` headers (`parse_rate_limit`, `parse_reset`), the `Link` header of paginated
//! answers (`parse_link_header`) and the error message of an error body (`server_message`).
//!
//! The input is cut at newlines: limit, remaining, reset, a `Link` value, a base URL; the whole
//! input is also an error body.

#![no_main]

use libfuzzer_sys::fuzz_target;
use migrate::net::http::{parse_link_header, parse_rate_limit, parse_reset, server_message};
use reqwest::header::{HeaderMap, HeaderValue};
use url::Url;

fuzz_target!(|data: &[u8]| {
    let mut fields = data.split(|&b| b == b'\n');
    let mut next = || fields.next().unwrap_or_default();
    let (limit, remaining, reset, link, base) = (next(), next(), next(), next(), next());

    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("x-ratelimit-limit", limit),
        ("x-ratelimit-remaining", remaining),
        ("x-ratelimit-reset", reset),
    ] {
        if let Ok(v) = HeaderValue::from_bytes(value) {
            headers.insert(name, v);
        }
    }
    let _ = parse_rate_limit(&headers);
    let _ = parse_reset(&String::from_utf8_lossy(reset));

    let base = Url::parse(&String::from_utf8_lossy(base)).unwrap_or_else(|_| {
        Url::parse("https://social.example/api/v1/accounts/1/following").expect("a URL")
    });
    let links = parse_link_header(&String::from_utf8_lossy(link), &base);
    // Both are joined onto the base: never anything but a parsed URL, so never a panic later.
    for url in links.next.iter().chain(links.prev.iter()) {
        assert!(Url::parse(url.as_str()).is_ok(), "{url}");
    }

    if let Some(message) = server_message(data) {
        assert!(message.chars().count() <= 500);
    }
});
