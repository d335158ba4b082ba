//! The pieces of the OAuth 2 authorization-code flow that are not HTTP calls: PKCE (RFC 7636,
//! S256), the `state` value, and the one-shot loopback listener that receives the redirect
//! (RFC 8252 §7.3) on `127.0.0.1` at an ephemeral port registered exactly.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A PKCE verifier and its S256 challenge.
pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

impl Pkce {
    pub fn new() -> Pkce {
        let verifier = random_token(48);
        let challenge = challenge_for(&verifier);
        Pkce {
            verifier,
            challenge,
        }
    }
}

impl Default for Pkce {
    fn default() -> Self {
        Self::new()
    }
}

/// `BASE64URL(SHA256(verifier))`.
pub fn challenge_for(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// `bytes` random bytes, base64url: for `state` and PKCE verifiers.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::fill(&mut buf[..]);
    URL_SAFE_NO_PAD.encode(buf)
}

/// What the browser brought back to the loopback listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Callback {
    Code {
        code: String,
        state: String,
    },
    /// The user declined, or the server refused (`error`, `error_description`).
    Denied {
        error: String,
        description: Option<String>,
    },
}

/// A listener bound before the app is registered, so the exact port can be registered.
pub struct LoopbackListener {
    listener: TcpListener,
    port: u16,
}

impl LoopbackListener {
    pub async fn bind() -> std::io::Result<LoopbackListener> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let port = listener.local_addr()?.port();
        Ok(LoopbackListener { listener, port })
    }

    pub fn redirect_uri(&self) -> String {
        format!("http://127.0.0.1:{}/callback", self.port)
    }

    /// Waits for the redirect to `/callback`, answers the browser with a short page, and
    /// returns what it carried. Other requests (a favicon) are answered 404 and ignored.
    pub async fn receive(self) -> std::io::Result<Callback> {
        loop {
            let (mut stream, _) = self.listener.accept().await?;
            let mut buf = vec![0u8; 8192];
            let mut len = 0;
            // Read up to the end of the request head; the callback has no body.
            while len < buf.len() {
                let n = stream.read(&mut buf[len..]).await?;
                if n == 0 {
                    break;
                }
                len += n;
                if buf[..len].windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
            let head = String::from_utf8_lossy(&buf[..len]);
            let target = head
                .lines()
                .next()
                .and_then(|l| l.strip_prefix("GET "))
                .and_then(|l| l.split(' ').next())
                .unwrap_or("");
            let Some(query) = target.strip_prefix("/callback") else {
                let _ = stream
                    .write_all(
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    )
                    .await;
                continue;
            };
            let callback = parse_callback(query.trim_start_matches('?'));
            let page = match &callback {
                Some(Callback::Code { .. }) => {
                    "migrate is now authorized. You can close this window and return to the terminal."
                }
                _ => {
                    "migrate was not authorized. You can close this window; the terminal says more."
                }
            };
            let response = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
                page.len()
            );
            let _ = stream.write_all(response.as_bytes()).await;
            let _ = stream.shutdown().await;
            if let Some(c) = callback {
                return Ok(c);
            }
        }
    }
}

/// Parses `code=…&state=…` or `error=…&error_description=…`.
pub fn parse_callback(query: &str) -> Option<Callback> {
    let mut code = None;
    let mut state = None;
    let mut error = None;
    let mut description = None;
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "code" => code = Some(v.into_owned()),
            "state" => state = Some(v.into_owned()),
            "error" => error = Some(v.into_owned()),
            "error_description" => description = Some(v.into_owned()),
            _ => {}
        }
    }
    if let Some(error) = error {
        return Some(Callback::Denied { error, description });
    }
    Some(Callback::Code {
        code: code?,
        state: state.unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_matches_rfc_7636_appendix_b() {
        assert_eq!(
            challenge_for("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let p = Pkce::new();
        assert!(p.verifier.len() >= 43 && p.verifier.len() <= 128);
        assert_ne!(Pkce::new().verifier, p.verifier);
    }

    #[test]
    fn callbacks() {
        assert_eq!(
            parse_callback("code=abc&state=xyz"),
            Some(Callback::Code {
                code: "abc".into(),
                state: "xyz".into()
            })
        );
        assert_eq!(
            parse_callback("error=access_denied&error_description=The+user+declined"),
            Some(Callback::Denied {
                error: "access_denied".into(),
                description: Some("The user declined".into())
            })
        );
        assert_eq!(parse_callback("state=only"), None);
    }

    #[tokio::test]
    async fn loopback_listener_receives_the_code() {
        let listener = LoopbackListener::bind().await.unwrap();
        let uri = listener.redirect_uri();
        assert!(uri.starts_with("http://127.0.0.1:"));
        let port: u16 = uri
            .rsplit(':')
            .next()
            .unwrap()
            .trim_end_matches("/callback")
            .parse()
            .unwrap();
        let task = tokio::spawn(listener.receive());
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        s.write_all(b"GET /favicon.ico HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        s.write_all(b"GET /callback?code=c0de&state=st HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let got = task.await.unwrap().unwrap();
        assert_eq!(
            got,
            Callback::Code {
                code: "c0de".into(),
                state: "st".into()
            }
        );
    }
}
