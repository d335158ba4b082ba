//! Everything that talks to a server: [`http`] (the one funnel), [`mastodon`] (the client API
//! and OAuth), [`oauth`] (PKCE and the loopback redirect), [`webfinger`] (handle resolution).
//! Nothing here knows about archives.

pub mod http;
pub mod mastodon;
pub mod oauth;
pub mod webfinger;
