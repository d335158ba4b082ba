//! Fediverse account addresses (`user@host`) and bare domains, parsed once at the edge.
//!
//! A [`Handle`] is what people write to name an account: `user@host`, `@user@host`,
//! `acct:user@host`, or a profile link (`https://host/@user`, `https://host/users/user`).
//! [`Handle::parse`] accepts all of them and keeps one normalised form, so that the rest of
//! migrate compares, de-duplicates and journals handles without re-parsing strings.
//! A [`Domain`] is the same host part on its own, as in a domain-block list.
//!
//! Invariants of a parsed value:
//! - the user name matches Mastodon's `Account::USERNAME_RE`
//!   (`[a-z0-9_]+([a-z0-9_.-]+[a-z0-9_]+)?`, case-insensitive): ASCII only, and `.`/`-` only
//!   between other characters. Its case is kept for display; comparisons ignore it, as Mastodon's
//!   `LOWER(username)` lookups do.
//! - the domain passed UTS 46 processing with the STD3 rules (letters, digits and hyphens
//!   per label; no leading or trailing hyphen; DNS lengths), so it is usable on the network. It is
//!   kept twice: lowercased Unicode for people (`թութ.հայ`, which is also how Mastodon stores and
//!   exports IDN domains), and ASCII/punycode for the network (`xn--…`). Equality and hashing use
//!   the ASCII form, so `թութ.հայ` and its punycode spelling are the same domain.
//! - an IP address is never a domain: an account lives on a named server.
//!
//! Nothing here checks that the account exists; that is WebFinger's job. An e-mail-like address
//! (`john@gmail.com`) is syntactically a handle.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use idna::uts46::{AsciiDenyList, DnsLength, Hyphens, Uts46};
use serde::{Serialize, Serializer};

/// Characters that are invisible but travel with copy-and-paste from web pages (zero-width
/// spaces and joiners, word joiner, a stray BOM); trimmed like whitespace at both ends.
fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}'
        )
}

fn trim_input(input: &str) -> &str {
    input.trim_matches(is_invisible)
}

// ------------------------------------------------------------------------------------------------
// Domain
// ------------------------------------------------------------------------------------------------

/// A validated, normalised domain name, as in `blocked_domains.csv` or the host of a [`Handle`].
///
/// `Display` (and [`Domain::as_str`]) give the lowercased Unicode form; [`Domain::ascii`] gives
/// the punycode form for DNS, TLS and URLs.
#[derive(Debug, Clone)]
pub struct Domain {
    unicode: String,
    ascii: String,
}

/// Why a string is not a [`Domain`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("the domain is empty")]
    Empty,
    #[error("`{domain}` contains a space")]
    Spaces { domain: String },
    #[error("`{domain}` is an IP address; a fediverse account needs a domain name")]
    IpAddress { domain: String },
    #[error("`{domain}` is not a valid domain name: {reason}")]
    Invalid {
        domain: String,
        reason: &'static str,
    },
}

/// Whether a URL parser reads `label`, as a host's last label, as a number — which makes the
/// whole host an IPv4 address (WHATWG URL's "ends in a number": decimal, or hex after `0x`;
/// found by the webfinger fuzz target, `1.0x1` being `1.0.0.1` to a URL).
fn is_number(label: &str) -> bool {
    let hex = label
        .get(..2)
        .filter(|p| p.eq_ignore_ascii_case("0x"))
        .map(|_| &label[2..]);
    match hex {
        Some(digits) => digits.bytes().all(|b| b.is_ascii_hexdigit()),
        None => label.bytes().all(|b| b.is_ascii_digit()),
    }
}

impl Domain {
    /// Parses a bare domain: surrounding whitespace trimmed, case folded, one trailing root dot
    /// (`example.com.`) dropped, internationalised names accepted in either spelling.
    pub fn parse(input: &str) -> Result<Domain, DomainError> {
        let trimmed = trim_input(input);
        let domain = trimmed.strip_suffix('.').unwrap_or(trimmed);
        if domain.is_empty() {
            return Err(DomainError::Empty);
        }
        let invalid = |reason| DomainError::Invalid {
            domain: domain.to_owned(),
            reason,
        };
        if domain.chars().any(char::is_whitespace) {
            return Err(DomainError::Spaces {
                domain: domain.to_owned(),
            });
        }
        // Name the common mistakes before idna's verdict, which carries no reason.
        if domain.contains(['/', '?', '#']) {
            return Err(invalid("it looks like a link; give only the domain"));
        }
        if domain.contains('@') {
            return Err(invalid("it contains `@`; give only the domain"));
        }
        if domain.contains([':', '[', ']']) {
            return Err(invalid("a domain has no port or brackets"));
        }
        if domain.contains('_') {
            return Err(invalid("`_` is not allowed in a host name"));
        }
        if domain.split('.').any(str::is_empty) {
            return Err(invalid(
                "it has an empty label (two dots in a row, or a leading dot)",
            ));
        }
        // A numeric last label is an IPv4 address (or no valid DNS name: TLDs are never numeric).
        let last = domain.rsplit('.').next().unwrap_or(domain);
        if is_number(last) {
            return Err(DomainError::IpAddress {
                domain: domain.to_owned(),
            });
        }
        let uts46 = Uts46::new();
        // STD3 and DNS lengths: the strictness a name needs to be looked up and served over TLS.
        // CheckFirstLast rather than Check: `ab--cd` labels exist in the wild and resolve fine.
        let ascii = uts46
            .to_ascii(
                domain.as_bytes(),
                AsciiDenyList::STD3,
                Hyphens::CheckFirstLast,
                DnsLength::Verify,
            )
            .map_err(|_| {
                invalid("it has a character not allowed in domain names, a label that starts or ends with `-`, or is too long")
            })?
            .into_owned();
        // Again on the mapped name: characters UTS 46 ignores (`3212\u{FEFF}987654`) may hide
        // a number.
        if ascii.rsplit('.').next().is_some_and(is_number) {
            return Err(DomainError::IpAddress {
                domain: domain.to_owned(),
            });
        }
        let (unicode, result) = uts46.to_unicode(
            ascii.as_bytes(),
            AsciiDenyList::STD3,
            Hyphens::CheckFirstLast,
        );
        // The Unicode form is what CSV files get (Mastodon's exports write it), so it must read
        // back as the same domain: `xn--xn--xn--81e.com` decodes to a name that does not.
        let round_trip = uts46.to_ascii(
            unicode.as_bytes(),
            AsciiDenyList::STD3,
            Hyphens::CheckFirstLast,
            DnsLength::Verify,
        );
        if result.is_err() || round_trip.ok().as_deref() != Some(ascii.as_str()) {
            return Err(invalid("its punycode does not decode to a valid name"));
        }
        Ok(Domain {
            unicode: unicode.into_owned(),
            ascii,
        })
    }

    /// The lowercased Unicode form, for people and for Mastodon's CSV files.
    pub fn as_str(&self) -> &str {
        &self.unicode
    }

    /// The ASCII (punycode) form, for DNS, TLS and URLs.
    pub fn ascii(&self) -> &str {
        &self.ascii
    }
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.unicode)
    }
}

impl PartialEq for Domain {
    fn eq(&self, other: &Self) -> bool {
        self.ascii == other.ascii
    }
}

impl Eq for Domain {}

impl Hash for Domain {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.ascii.hash(state);
    }
}

impl PartialOrd for Domain {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Domain {
    fn cmp(&self, other: &Self) -> Ordering {
        self.ascii.cmp(&other.ascii)
    }
}

impl FromStr for Domain {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Domain::parse(s)
    }
}

impl Serialize for Domain {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.unicode)
    }
}

// ------------------------------------------------------------------------------------------------
// Handle
// ------------------------------------------------------------------------------------------------

/// A fediverse account address, `user@host` with an optional port (`user@host:8443`).
///
/// `Display` gives `user@host` with the Unicode host (the form Mastodon exports);
/// [`Handle::ascii`] and [`Handle::acct`] use the punycode host, for network use.
/// Two handles are equal when their user names match case-insensitively and their hosts
/// (ASCII form) and ports are equal.
#[derive(Debug, Clone)]
pub struct Handle {
    username: String,
    domain: Domain,
    port: Option<u16>,
}

/// Why a string is not a [`Handle`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandleError {
    #[error("the account address is empty")]
    Empty,
    #[error("`{input}` contains a space")]
    Spaces { input: String },
    #[error("`{input}` has no server: write it as `{input}@server.example`")]
    NoHost { input: String },
    #[error("`{input}` has no user name before the `@`")]
    EmptyUser { input: String },
    #[error(
        "`{input}` has an `@` in the wrong place: an address is `user@server`, with at most one \
         `@` in front"
    )]
    TooManyAt { input: String },
    #[error("`{username}` is not a valid user name: {reason}")]
    BadUsername {
        username: String,
        reason: &'static str,
    },
    #[error("`{port}` is not a port number")]
    BadPort { port: String },
    #[error("bad server name: {0}")]
    BadDomain(#[from] DomainError),
    #[error("`{url}` is not a profile link: {reason}")]
    Url { url: String, reason: &'static str },
}

impl Handle {
    /// Parses any of the forms people use for an account:
    ///
    /// - `user@host`, `@user@host` (one leading `@`), `acct:user@host`;
    /// - profile links `https://host/@user` and `https://host/users/user` (a trailing `/` is
    ///   fine); `https://host/@user@other` — a remote account seen through `host` — names
    ///   `user@other`.
    ///
    /// Surrounding whitespace (and zero-width characters) are trimmed; a port may follow the
    /// host. A link with a query, a fragment or credentials is refused rather than guessed at.
    pub fn parse(input: &str) -> Result<Handle, HandleError> {
        let input = trim_input(input);
        if input.is_empty() {
            return Err(HandleError::Empty);
        }
        if input.chars().any(char::is_whitespace) {
            return Err(HandleError::Spaces {
                input: input.to_owned(),
            });
        }
        if let Some(rest) = strip_prefix_ignore_case(input, "acct:") {
            return Handle::parse_address(rest, input);
        }
        if strip_prefix_ignore_case(input, "https://").is_some()
            || strip_prefix_ignore_case(input, "http://").is_some()
        {
            return Handle::parse_url(input);
        }
        Handle::parse_address(input.strip_prefix('@').unwrap_or(input), input)
    }

    /// `user@host[:port]`, without any leading `@`; `whole` is the input, for messages.
    fn parse_address(address: &str, whole: &str) -> Result<Handle, HandleError> {
        let Some((username, host)) = address.split_once('@') else {
            return Err(if address.is_empty() {
                HandleError::Empty
            } else {
                HandleError::NoHost {
                    input: address.to_owned(),
                }
            });
        };
        if host.contains('@') {
            return Err(HandleError::TooManyAt {
                input: whole.to_owned(),
            });
        }
        if username.is_empty() {
            return Err(if host.is_empty() || whole.starts_with("@@") {
                HandleError::TooManyAt {
                    input: whole.to_owned(),
                }
            } else {
                HandleError::EmptyUser {
                    input: whole.to_owned(),
                }
            });
        }
        check_username(username)?;
        if host.is_empty() {
            return Err(HandleError::NoHost {
                input: username.to_owned(),
            });
        }
        let (name, port) = split_port(host)?;
        Ok(Handle {
            username: username.to_owned(),
            domain: Domain::parse(name)?,
            port,
        })
    }

    fn parse_url(input: &str) -> Result<Handle, HandleError> {
        let refuse = |reason| HandleError::Url {
            url: input.to_owned(),
            reason,
        };
        let url = url::Url::parse(input).map_err(|_| refuse("it does not parse as a URL"))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(refuse("it has a user name or password before the host"));
        }
        if url.query().is_some() {
            return Err(refuse("it has a query (`?…`)"));
        }
        if url.fragment().is_some() {
            return Err(refuse("it has a fragment (`#…`)"));
        }
        let host = url
            .host_str()
            .ok_or_else(|| refuse("it has no host"))?
            .to_owned();
        let mut segments: Vec<&str> = url
            .path_segments()
            .map(Iterator::collect)
            .unwrap_or_default();
        if segments.last() == Some(&"") {
            segments.pop();
        }
        let (username, remote) = match segments.as_slice() {
            [at_user] if at_user.starts_with('@') => {
                let at_user = &at_user[1..];
                match at_user.split_once('@') {
                    Some((user, remote)) => (user, Some(remote)),
                    None => (at_user, None),
                }
            }
            ["users", user] => (*user, None),
            _ => {
                return Err(refuse(
                    "expected `https://server/@user` or `https://server/users/user`",
                ));
            }
        };
        if username.is_empty() {
            return Err(HandleError::EmptyUser {
                input: input.to_owned(),
            });
        }
        match remote {
            // The remote part may itself carry a port; the link's own host is irrelevant.
            Some(remote) => Handle::parse_address(&format!("{username}@{remote}"), input),
            None => {
                check_username(username)?;
                Ok(Handle {
                    username: username.to_owned(),
                    domain: Domain::parse(&host)?,
                    port: url.port(),
                })
            }
        }
    }

    /// The user name, in the case it was written.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The server's domain.
    pub fn domain(&self) -> &Domain {
        &self.domain
    }

    /// The port, when the address names one (`user@host:8443`).
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// `host` or `host:port`, Unicode.
    pub fn host(&self) -> String {
        with_port(self.domain.as_str(), self.port)
    }

    /// `host` or `host:port`, ASCII: what to connect to.
    pub fn ascii_host(&self) -> String {
        with_port(self.domain.ascii(), self.port)
    }

    /// `user@host` with the punycode host, for network use (API queries, logs that must be ASCII).
    pub fn ascii(&self) -> String {
        format!("{}@{}", self.username, self.ascii_host())
    }

    /// The WebFinger resource, `acct:user@host`. The host is in its ASCII form: that is the
    /// name the server is reached by, and every implementation can match it.
    pub fn acct(&self) -> String {
        format!("acct:{}", self.ascii())
    }

    /// The comparison key: user name folded to lowercase (it is ASCII), ASCII host, port.
    fn key(&self) -> (String, &str, Option<u16>) {
        (
            self.username.to_ascii_lowercase(),
            self.domain.ascii(),
            self.port,
        )
    }
}

fn with_port(host: &str, port: Option<u16>) -> String {
    match port {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

fn strip_prefix_ignore_case<'a>(input: &'a str, prefix: &str) -> Option<&'a str> {
    let head = input.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &input[prefix.len()..])
}

/// Mastodon's `USERNAME_RE`: word characters, with `.` and `-` allowed only inside.
fn check_username(username: &str) -> Result<(), HandleError> {
    let bad = |reason| HandleError::BadUsername {
        username: username.to_owned(),
        reason,
    };
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let bytes = username.as_bytes();
    if !bytes.iter().all(|&b| word(b) || b == b'.' || b == b'-') {
        return Err(bad(
            "only letters a–z, digits, `_`, and `.` or `-` between them are allowed",
        ));
    }
    if !word(bytes[0]) || !word(bytes[bytes.len() - 1]) {
        return Err(bad("it may not start or end with `.` or `-`"));
    }
    Ok(())
}

fn split_port(host: &str) -> Result<(&str, Option<u16>), HandleError> {
    match host.rsplit_once(':') {
        None => Ok((host, None)),
        Some((name, port)) => match port.parse::<u16>() {
            Ok(number) if number != 0 && port.bytes().all(|b| b.is_ascii_digit()) => {
                Ok((name, Some(number)))
            }
            _ => Err(HandleError::BadPort {
                port: port.to_owned(),
            }),
        },
    }
}

impl fmt::Display for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.username, self.domain.as_str())?;
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        Ok(())
    }
}

impl PartialEq for Handle {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for Handle {}

impl Hash for Handle {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.key().hash(state);
    }
}

impl PartialOrd for Handle {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Handle {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key().cmp(&other.key())
    }
}

impl FromStr for Handle {
    type Err = HandleError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Handle::parse(s)
    }
}

impl Serialize for Handle {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handle(input: &str) -> Handle {
        Handle::parse(input).unwrap_or_else(|e| panic!("`{input}` should parse: {e}"))
    }

    fn error(input: &str) -> HandleError {
        match Handle::parse(input) {
            Ok(h) => panic!("`{input}` should be refused, got `{h}`"),
            Err(e) => e,
        }
    }

    #[test]
    fn plain_address() {
        let h = handle("alice@example.com");
        assert_eq!(h.username(), "alice");
        assert_eq!(h.domain().as_str(), "example.com");
        assert_eq!(h.port(), None);
        assert_eq!(h.to_string(), "alice@example.com");
        assert_eq!(h.acct(), "acct:alice@example.com");
    }

    #[test]
    fn every_form_gives_the_same_handle() {
        let expected = handle("alice@example.com");
        for input in [
            "@alice@example.com",
            "acct:alice@example.com",
            "ACCT:alice@example.com",
            "https://example.com/@alice",
            "https://example.com/@alice/",
            "https://example.com/users/alice",
            "https://example.com/users/alice/",
            "http://example.com/@alice",
            "HTTPS://Example.COM/@alice",
            "  \talice@example.com \r\n",
            "\u{200B}@alice@example.com\u{FEFF}",
            "alice@EXAMPLE.com",
            "alice@example.com.",
        ] {
            assert_eq!(handle(input), expected, "{input}");
        }
    }

    #[test]
    fn remote_account_seen_through_a_server() {
        let h = handle("https://mastodon.social/@bob@example.org");
        assert_eq!(h.to_string(), "bob@example.org");
    }

    #[test]
    fn case_is_kept_for_display_and_ignored_for_comparison() {
        let a = handle("Gargron@Mastodon.Social");
        assert_eq!(a.to_string(), "Gargron@mastodon.social");
        assert_eq!(a, handle("gargron@mastodon.social"));
        let mut set = std::collections::HashSet::new();
        set.insert(a);
        assert!(set.contains(&handle("GARGRON@mastodon.social")));
    }

    #[test]
    fn idn_hosts_in_either_spelling() {
        let h = handle("@nare@թութ.հայ");
        assert_eq!(h.to_string(), "nare@թութ.հայ");
        assert!(h.ascii().starts_with("nare@xn--"), "{}", h.ascii());
        assert!(h.acct().starts_with("acct:nare@xn--"));
        let punycode = handle(&h.ascii());
        assert_eq!(punycode, h);
        assert_eq!(punycode.to_string(), "nare@թութ.հայ");
        assert_eq!(handle("https://թութ.հայ/@nare"), h);
    }

    #[test]
    fn names_that_change_once_mapped_are_refused() {
        // Found by the `mastodon_csv` fuzz target: `xn--xn--xn--81e.com` passed, and its Unicode
        // form (`xn--xn-\u{35e}.com`), which a written CSV holds, did not parse again.
        assert!(matches!(
            Domain::parse("xn--xn--xn--81e.com"),
            Err(DomainError::Invalid { .. })
        ));
        assert!(Handle::parse("a@xn--xn--xn--81e.com").is_err());
        // Found the same way: an ignored character hid an IP address until after mapping.
        assert!(matches!(
            Domain::parse("3212\u{feff}987654"),
            Err(DomainError::IpAddress { .. })
        ));
        assert!(matches!(
            Domain::parse("10.0.0.1\u{ad}"),
            Err(DomainError::IpAddress { .. })
        ));
        // Found by the webfinger fuzz target: a hex last label makes a URL read the host as an
        // IPv4 address (`127.0x1` is 127.0.0.1) or refuse it (`lemmy.0X0e1…`).
        for host in [
            "127.0x1",
            "1.0X1",
            "a.0x",
            "lemmy.0X0e184467440737051630c",
            "0x7f000001",
        ] {
            assert!(
                matches!(Domain::parse(host), Err(DomainError::IpAddress { .. })),
                "{host}"
            );
        }
        // Labels that only start like a number are names.
        for host in ["a.0xz", "example.0x1z", "0x1.example", "a.x0"] {
            assert!(Domain::parse(host).is_ok(), "{host}");
        }
        // Real punycode still reads, both ways.
        let d = Domain::parse("xn--y9a3aq.xn--y9a3aq").unwrap();
        assert_eq!(Domain::parse(d.as_str()).unwrap(), d);
    }

    #[test]
    fn usernames_with_dots_and_dashes() {
        // Bridgy Fed puts Bluesky handles, dots included, in the user name.
        assert_eq!(handle("@patak.cat@bsky.brid.gy").username(), "patak.cat");
        assert_eq!(handle("a-b_c.d@x.org").username(), "a-b_c.d");
        assert_eq!(handle("_@x.org").username(), "_");
        assert_eq!(handle("john.doe@gmail.com").username(), "john.doe");
    }

    #[test]
    fn ports() {
        let h = handle("alice@localhost:3000");
        assert_eq!(h.port(), Some(3000));
        assert_eq!(h.to_string(), "alice@localhost:3000");
        assert_eq!(h.acct(), "acct:alice@localhost:3000");
        assert_ne!(h, handle("alice@localhost"));
        assert_eq!(handle("https://example.com:8443/@alice").port(), Some(8443));
        assert_eq!(handle("https://example.com:443/@alice").port(), None);
        assert!(matches!(error("alice@host:"), HandleError::BadPort { .. }));
        assert!(matches!(error("alice@host:0"), HandleError::BadPort { .. }));
        assert!(matches!(
            error("alice@host:99999"),
            HandleError::BadPort { .. }
        ));
        assert!(matches!(
            error("alice@host:+80"),
            HandleError::BadPort { .. }
        ));
    }

    #[test]
    fn refusals() {
        assert_eq!(error(""), HandleError::Empty);
        assert_eq!(error("   "), HandleError::Empty);
        assert_eq!(error("@"), HandleError::Empty);
        assert!(matches!(error("bob"), HandleError::NoHost { .. }));
        assert!(matches!(error("@bob"), HandleError::NoHost { .. }));
        assert!(matches!(error("bob@"), HandleError::NoHost { .. }));
        assert!(matches!(error("@example.com"), HandleError::NoHost { .. }));
        assert!(matches!(
            error("@@example.com"),
            HandleError::TooManyAt { .. }
        ));
        assert!(matches!(
            error("@@bob@example.com"),
            HandleError::TooManyAt { .. }
        ));
        assert!(matches!(
            error("bob@@example.com"),
            HandleError::TooManyAt { .. }
        ));
        assert!(matches!(
            error("a@b@example.com"),
            HandleError::TooManyAt { .. }
        ));
        assert!(matches!(
            error("bob smith@example.com"),
            HandleError::Spaces { .. }
        ));
        assert!(matches!(
            error("bob@exa mple.com"),
            HandleError::Spaces { .. }
        ));
        assert!(matches!(
            error("bo!b@example.com"),
            HandleError::BadUsername { .. }
        ));
        assert!(matches!(
            error("bob.@example.com"),
            HandleError::BadUsername { .. }
        ));
        assert!(matches!(
            error(".bob@example.com"),
            HandleError::BadUsername { .. }
        ));
        assert!(matches!(
            error("-bob@example.com"),
            HandleError::BadUsername { .. }
        ));
        assert!(matches!(
            error("bøb@example.com"),
            HandleError::BadUsername { .. }
        ));
        assert!(matches!(
            error("!community@lemmy.ml"),
            HandleError::BadUsername { .. }
        ));
        assert!(matches!(
            error("bob@exa_mple.com"),
            HandleError::BadDomain(_)
        ));
        assert!(matches!(
            error("bob@-example.com"),
            HandleError::BadDomain(_)
        ));
        assert!(matches!(
            error("bob@example..com"),
            HandleError::BadDomain(_)
        ));
        assert!(matches!(
            error("bob@example.com/x"),
            HandleError::BadDomain(_)
        ));
        assert!(matches!(
            error("bob@127.0.0.1"),
            HandleError::BadDomain(DomainError::IpAddress { .. })
        ));
        assert!(matches!(
            error("bob@[::1]"),
            HandleError::BadPort { .. } | HandleError::BadDomain(_)
        ));
        assert!(matches!(error("acct:bob"), HandleError::NoHost { .. }));
        assert!(matches!(
            error("mailto:bob@example.com"),
            HandleError::BadUsername { .. }
        ));
    }

    #[test]
    fn link_refusals() {
        for url in [
            "https://example.com/@alice?acct=eve@evil.example",
            "https://example.com/@alice#eve@evil.example",
            "https://eve@example.com/@alice",
            "https://eve:pw@example.com/@alice",
            "https://example.com/@alice/109876543210",
            "https://example.com/users/alice/statuses/1",
            "https://example.com/alice",
            "https://example.com/",
            "https://example.com",
            "https://",
        ] {
            assert!(
                matches!(error(url), HandleError::Url { .. }),
                "{url}: {:?}",
                Handle::parse(url)
            );
        }
        assert!(matches!(
            error("https://example.com/@"),
            HandleError::EmptyUser { .. }
        ));
        assert!(matches!(
            error("https://127.0.0.1/@alice"),
            HandleError::BadDomain(DomainError::IpAddress { .. })
        ));
        assert!(matches!(
            error("https://example.com/@al%69ce"),
            HandleError::BadUsername { .. }
        ));
    }

    #[test]
    fn messages_name_their_subject() {
        assert_eq!(
            error("bob").to_string(),
            "`bob` has no server: write it as `bob@server.example`"
        );
        assert_eq!(
            error("bob@ex_ample.com").to_string(),
            "bad server name: `ex_ample.com` is not a valid domain name: `_` is not allowed in a host name"
        );
    }

    #[test]
    fn domains() {
        let d = Domain::parse("  Example.COM. ").unwrap();
        assert_eq!(d.as_str(), "example.com");
        assert_eq!(d.ascii(), "example.com");
        let idn = Domain::parse("ԹՈՒԹ.հայ").unwrap();
        assert_eq!(idn.as_str(), "թութ.հայ");
        assert!(idn.ascii().starts_with("xn--"));
        assert_eq!(Domain::parse(idn.ascii()).unwrap(), idn);
        assert_eq!(Domain::parse("localhost").unwrap().as_str(), "localhost");
        assert_eq!(
            Domain::parse("ab--cd.example").unwrap().as_str(),
            "ab--cd.example"
        );

        assert_eq!(Domain::parse(" "), Err(DomainError::Empty));
        assert_eq!(Domain::parse("."), Err(DomainError::Empty));
        for bad in [
            "exa mple.com",
            "https://example.com",
            "example.com/",
            "a@example.com",
            "example.com:80",
            ".example.com",
            "example..com",
            "-example.com",
            "example-.com",
            "ex_ample.com",
            "ex!ample.com",
            "10.0.0.1",
            "example.123",
            &format!("{}.com", "a".repeat(64)),
        ] {
            assert!(Domain::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn serializes_as_display() {
        let h = handle("@nare@թութ.հայ");
        assert_eq!(serde_json::to_string(&h).unwrap(), "\"nare@թութ.հայ\"");
    }
}
