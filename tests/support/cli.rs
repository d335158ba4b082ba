//! Running the real `migrate` binary against the fake server: a hermetic environment (cleared
//! variables, a temporary state directory), the test CA passed with `--ca-cert`, and every host
//! the fake serves pinned to it with `--resolve`.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use super::fake::FakeServer;

/// A test's environment for the binary.
pub struct Env {
    pub state: tempfile::TempDir,
    pub work: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Env {
        Env {
            state: tempfile::tempdir().expect("state dir"),
            work: tempfile::tempdir().expect("work dir"),
        }
    }

    pub fn state_dir(&self) -> &Path {
        self.state.path()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.work.path().join(name)
    }

    /// A command for the binary with the fake's CA and hosts, and this environment's state.
    pub fn command(&self, server: &FakeServer) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_migrate"));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("BROWSER", "none")
            .env("MIGRATE_HOME", self.state.path())
            .env("MIGRATE_CA_CERT", server.ca_pem_path())
            .env("MIGRATE_NO_PROGRESS", "1")
            .env("MIGRATE_RESOLVE", resolve_env(server))
            .current_dir(self.work.path());
        cmd
    }

    /// Runs the binary to the end with `args` (no standard input).
    #[must_use]
    pub fn run(&self, server: &FakeServer, args: &[&str]) -> Output {
        self.command(server)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("the binary runs")
    }
}

impl Default for Env {
    fn default() -> Self {
        Env::new()
    }
}

/// `MIGRATE_RESOLVE` pinning every served host (and ones added later, when given) to the fake.
pub fn resolve_env(server: &FakeServer) -> String {
    server
        .hosts()
        .iter()
        .map(|h| server.resolve_arg(h))
        .collect::<Vec<_>>()
        .join(",")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The rows of a CSV file with a header, each as a map from column name to value.
pub fn read_csv(path: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let headers = r.headers().expect("a header").clone();
    r.records()
        .map(|rec| {
            let rec = rec.expect("a CSV record");
            headers
                .iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// Asserts an exit code, showing both streams when it differs.
pub fn assert_code(o: &Output, code: i32) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "exit code\n--- stdout\n{}\n--- stderr\n{}",
        stdout(o),
        stderr(o)
    );
    assert!(!stderr(o).contains("panicked"), "{}", stderr(o));
}

/// A running binary whose standard error is read line by line as it comes.
pub struct Running {
    pub child: Child,
    lines: mpsc::Receiver<String>,
    pub seen: Vec<String>,
}

impl Running {
    pub fn spawn(mut cmd: Command) -> Running {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn the binary");
        let err = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Running {
            child,
            lines: rx,
            seen: Vec::new(),
        }
    }

    /// Waits (up to `timeout`) for a line of standard error containing `needle`.
    pub fn wait_for(&mut self, needle: &str, timeout: Duration) -> String {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "no line with {needle:?} within {timeout:?}; stderr so far:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    pub fn write_stdin(&mut self, text: &str) {
        let stdin = self.child.stdin.as_mut().expect("stdin");
        stdin.write_all(text.as_bytes()).expect("write stdin");
        stdin.flush().expect("flush stdin");
    }

    /// Waits for the exit; returns the code, standard output and the rest of standard error.
    pub fn finish(mut self) -> (Option<i32>, String, String) {
        drop(self.child.stdin.take());
        let mut out = String::new();
        if let Some(mut o) = self.child.stdout.take() {
            let _ = std::io::Read::read_to_string(&mut o, &mut out);
        }
        let status = self.child.wait().expect("wait");
        while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(200)) {
            self.seen.push(line);
        }
        (status.code(), out, self.seen.join("\n"))
    }
}

/// The first `https://…` URL in a line.
pub fn url_in(line: &str) -> String {
    let start = line.find("https://").expect("a URL in the line");
    line[start..]
        .split_whitespace()
        .next()
        .expect("URL")
        .to_string()
}

pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Plays the user in the browser for the out-of-band flow: authorize (auto-approved for the
/// logged-in user), follow Doorkeeper's redirect to the native page, read the code.
pub fn oob_code(server: &FakeServer, authorize: &str) -> String {
    rt().block_on(async {
        let r = server.client().get(authorize).send().await.unwrap();
        let page = if r.status().is_redirection() {
            let to = r.headers()["location"].to_str().unwrap().to_string();
            let to = if to.starts_with('/') {
                format!("https://social.example{to}")
            } else {
                to
            };
            server
                .client()
                .get(&to)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        } else {
            r.text().await.unwrap()
        };
        page.split("<code id=\"code\">")
            .nth(1)
            .and_then(|s| s.split("</code>").next())
            .expect("the page shows the code")
            .to_string()
    })
}

pub fn stored_token_file(env: &Env) -> std::path::PathBuf {
    env.state_dir().join("accounts/alice@social.example.json")
}

/// Logs `alice` in through the out-of-band flow; returns the token stored.
pub fn login(server: &FakeServer, env: &Env) -> String {
    server.set_logged_in_user("alice");
    let mut cmd = env.command(server);
    cmd.args(["login", "social.example", "--no-browser"]);
    let mut running = Running::spawn(cmd);
    let authorize = url_in(&running.wait_for("/oauth/authorize", Duration::from_secs(20)));
    let code = oob_code(server, &authorize);
    running.write_stdin(&format!("{code}\n"));
    let (status, out, err) = running.finish();
    assert_eq!(status, Some(0), "{out}\n{err}");
    let stored: serde_json::Value =
        serde_json::from_slice(&std::fs::read(stored_token_file(env)).unwrap()).unwrap();
    stored["token"].as_str().unwrap().to_string()
}
