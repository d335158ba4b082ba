//! Hostile and broken servers (issue 7): the real binary against WebFinger hosts that never
//! finish, flood, redirect forever or to other schemes, claim accounts in domains they do not
//! speak for, or point at actors elsewhere; and against a target server that answers 200 with
//! a page that is not JSON, hands out status ids it then denies, sends rate-limit resets long
//! past or years ahead, floods its answers, or drops every third connection.
//!
//! Every run is measured: wall time against a bound (a run past its hard limit is killed and
//! the test fails rather than hangs), the child's own peak RSS (see [`Child::finish`]), the exit code
//! documented in README ("Exit codes"), a message naming the host or the problem, and never a
//! panic. For imports, the fake's state must hold each item exactly once, or the report must
//! list the item as failed with its reason.

#[path = "support/fake/mod.rs"]
mod fake;
#[path = "support/cli.rs"]
mod support_cli;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use fake::{
    ConnectionFault, EndpointClass, FakeConfig, FakeServer, FaultKind, FaultPlan, FaultRule,
    RateLimits, RemoteAccountSpec, State, WebfingerBehavior,
};
use support_cli::{Env, read_csv, resolve_env};

/// Peak RSS allowed to any run here. These runs peak at 21–30 MiB (debug build); the largest
/// answer `migrate` may hold is an API answer of 8 MiB (`Cap::Json`), so a body read past its
/// cap — or one buffered without end — goes well over this.
const RSS_LIMIT_MIB: f64 = 64.0;

/// One finished run of the binary.
#[derive(Debug)]
struct Measured {
    secs: f64,
    rss_mib: f64,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Measured {
    /// The exit code, never a panic, peak RSS under [`RSS_LIMIT_MIB`] and the run within
    /// `max_secs`.
    #[track_caller]
    fn check(&self, code: i32, max_secs: f64) {
        assert_eq!(self.code, Some(code), "exit code; {self:#?}");
        assert!(
            !self.stderr.contains("panicked") && !self.stdout.contains("panicked"),
            "{self:#?}"
        );
        assert!(
            self.secs <= max_secs,
            "took {:.1} s, bound {max_secs} s; {self:#?}",
            self.secs
        );
        assert!(
            self.rss_mib <= RSS_LIMIT_MIB,
            "peak RSS {:.1} MiB over {RSS_LIMIT_MIB} MiB",
            self.rss_mib
        );
    }

    /// The `--json` summary (the last line of standard output).
    fn summary(&self) -> serde_json::Value {
        let last = self
            .stdout
            .lines()
            .rev()
            .find(|l| l.contains("\"summary\""))
            .unwrap_or_else(|| panic!("a summary event; {self:#?}"));
        serde_json::from_str(last).expect("JSON summary")
    }
}

/// Reads a pipe to the end on its own thread, line by line, passing each line on as it comes.
fn drain(
    pipe: impl Read + Send + 'static,
) -> (mpsc::Receiver<String>, std::thread::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel();
    let t = std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (rx, t)
}

/// A running binary, reaped with `wait4` so its own peak RSS is known (see
/// `benches/support/mod.rs`), and killed if it outlives its hard limit.
struct Child {
    child: std::process::Child,
    start: Instant,
    out: mpsc::Receiver<String>,
    err: mpsc::Receiver<String>,
    threads: Vec<std::thread::JoinHandle<()>>,
    seen_out: Vec<String>,
    seen_err: Vec<String>,
}

impl Child {
    fn spawn(mut cmd: Command) -> Child {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn migrate");
        let (out, t1) = drain(child.stdout.take().expect("stdout"));
        let (err, t2) = drain(child.stderr.take().expect("stderr"));
        Child {
            child,
            start: Instant::now(),
            out,
            err,
            threads: vec![t1, t2],
            seen_out: Vec::new(),
            seen_err: Vec::new(),
        }
    }

    fn pid(&self) -> libc::pid_t {
        self.child.id() as libc::pid_t
    }

    /// Waits (up to `timeout`) for a line of standard output containing `needle`.
    fn wait_for_stdout(&mut self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.out.recv_timeout(left) {
                Ok(line) => {
                    self.seen_out.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => {
                    self.kill();
                    panic!(
                        "no line with {needle:?} within {timeout:?}; stdout:\n{}\nstderr:\n{}",
                        self.seen_out.join("\n"),
                        self.err.try_iter().collect::<Vec<_>>().join("\n")
                    );
                }
            }
        }
    }

    fn kill(&mut self) {
        // SAFETY: the child has not been reaped yet, so its pid is still ours.
        unsafe { libc::kill(self.pid(), libc::SIGKILL) };
        let _ = self.child.wait();
    }

    /// Waits for the exit, killing the child (and failing) past `limit` from its start.
    fn finish(mut self, limit: Duration) -> Measured {
        let pid = self.pid();
        let mut hwm_kib = 0;
        let (status, usage) = loop {
            hwm_kib = hwm_kib.max(vm_hwm_kib(pid));
            let mut status: libc::c_int = 0;
            // SAFETY: rusage is plain data; wait4 only writes into the two locals.
            let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
            let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
            if r == pid {
                break (status, usage);
            }
            assert_eq!(r, 0, "wait4: {}", std::io::Error::last_os_error());
            if self.start.elapsed() > limit {
                // SAFETY: not reaped yet (wait4 answered 0), so the pid is still ours.
                unsafe { libc::kill(pid, libc::SIGKILL) };
                unsafe { libc::waitpid(pid, &mut status, 0) };
                let rest: Vec<String> = self.err.try_iter().collect();
                panic!(
                    "migrate did not end within {limit:?}; stdout:\n{}\nstderr:\n{}{}",
                    self.out.try_iter().collect::<Vec<_>>().join("\n"),
                    self.seen_err.join("\n"),
                    rest.join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let secs = self.start.elapsed().as_secs_f64();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        self.seen_out.extend(self.out.try_iter());
        self.seen_err.extend(self.err.try_iter());
        // `ru_maxrss` of a child started with vfork+exec also counts the peak of this test
        // process (hosting fake servers), which the kernel folds in at exec; the child's own
        // high-water mark, sampled every 10 ms while it ran, is the figure. `ru_maxrss` is the
        // fallback for a child too short-lived to be sampled.
        let rss_kib = if hwm_kib > 0 {
            hwm_kib
        } else {
            u64::try_from(usage.ru_maxrss).unwrap_or(0)
        };
        Measured {
            secs,
            rss_mib: rss_kib as f64 / 1024.0,
            code: libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)),
            stdout: self.seen_out.join("\n"),
            stderr: self.seen_err.join("\n"),
        }
    }
}

/// The high-water mark of `pid`'s resident memory (`VmHWM`), 0 when it cannot be read (the
/// process has exited).
fn vm_hwm_kib(pid: libc::pid_t) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Runs the binary to its end (at most `limit`), measured.
fn run(cmd: Command, limit: Duration) -> Measured {
    Child::spawn(cmd).finish(limit)
}

/// The binary for `env`, with every host the fake serves pinned to it, and `extra` host names
/// too (ones it does not serve: their TLS handshake is refused, and nothing goes to the real
/// network).
fn command(env: &Env, server: &FakeServer, extra: &[&str]) -> Command {
    let mut pins = resolve_env(server);
    for h in extra {
        pins.push(',');
        pins.push_str(&server.resolve_arg(h));
    }
    let mut cmd = env.command(server);
    cmd.env("MIGRATE_RESOLVE", pins);
    cmd
}

/// As [`command`], acting for alice on the home server.
fn as_alice(env: &Env, server: &FakeServer, token: &str, extra: &[&str]) -> Command {
    let mut cmd = command(env, server, extra);
    cmd.env("MIGRATE_SERVER", "social.example")
        .env("MIGRATE_TOKEN", token);
    cmd
}

type Report = Vec<HashMap<String, String>>;

/// The report row whose `column` is `value` (case-insensitive).
fn row<'a>(report: &'a Report, column: &str, value: &str) -> &'a HashMap<String, String> {
    report
        .iter()
        .find(|r| r[column].eq_ignore_ascii_case(value))
        .unwrap_or_else(|| panic!("{column} = {value} in {report:#?}"))
}

/// Requests the fake received whose key (`METHOD host/path` or `METHOD /path`) contains
/// `needle`.
fn requests(st: &State, needle: &str) -> u64 {
    st.counters
        .requests
        .iter()
        .filter(|(k, _)| k.contains(needle))
        .map(|(_, v)| *v)
        .sum()
}

/// The accounts alice follows (or has requested), by acct.
fn followed(st: &State) -> Vec<String> {
    let alice = st.account_id("alice").unwrap();
    st.follows
        .iter()
        .filter(|f| f.account_id == alice)
        .filter_map(|f| st.accounts.iter().find(|a| a.id == f.target_id))
        .map(|a| a.acct.to_lowercase())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// WebFinger hosts
// ---------------------------------------------------------------------------------------------

/// `migrate resolve handles.txt --json` with these handles; returns the run and its report.
fn resolve(
    env: &Env,
    server: &FakeServer,
    handles: &[&str],
    extra_args: &[&str],
    limit: Duration,
) -> (Measured, Report) {
    std::fs::write(env.path("handles.txt"), handles.join("\n") + "\n").unwrap();
    let mut cmd = command(env, server, &[]);
    cmd.args(["resolve", "handles.txt", "--json"])
        .args(extra_args);
    let m = run(cmd, limit);
    let report = if m.code == Some(0) {
        read_csv(&env.path("handles.resolve-report.csv"))
    } else {
        Vec::new()
    };
    (m, report)
}

#[test]
fn an_endless_webfinger_drip_ends_at_the_lookup_timeout() {
    // One byte every 200 ms, forever: every read succeeds, so only an overall deadline for
    // the answer ends it. Twelve handles, four lookups allowed on the host at once: the host
    // fails four times in the first round and is given up — the eight handles queued behind
    // them do not each spend a timeout on it.
    let config = FakeConfig::default().webfinger_host(
        "drip.example",
        WebfingerBehavior::Endless {
            chunk: 1,
            every: Duration::from_millis(200),
        },
    );
    let server = FakeServer::start(config);
    let env = Env::new();
    let handles: Vec<String> = (0..12).map(|i| format!("u{i}@drip.example")).collect();
    let handles: Vec<&str> = handles.iter().map(String::as_str).collect();
    let (m, report) = resolve(
        &env,
        &server,
        &handles,
        &["--per-host", "4"],
        Duration::from_secs(60),
    );
    m.check(0, 25.0);
    // The lookup timeout (10 s) is what ended it, not an early refusal.
    assert!(m.secs >= 9.0, "ended after {:.1} s: {m:#?}", m.secs);
    for h in &handles {
        let r = row(&report, "handle", h);
        assert_eq!(r["outcome"], "timed_out", "{r:?}");
        assert!(r["reason"].contains("did not answer in time"), "{r:?}");
    }
    assert_eq!(m.summary()["outcomes"]["timed_out"], 12, "{}", m.stdout);
    // No retry storm: four lookups time out together, then the host is given up.
    let asked = requests(&server.state(), "drip.example/.well-known/webfinger");
    assert_eq!(asked, 4, "{:?}", server.state().counters.requests);
    eprintln!("drip: {:.1} s, {:.1} MiB", m.secs, m.rss_mib);
}

#[test]
fn huge_and_endless_webfinger_answers_are_cut_at_the_cap() {
    // A 20 MB JRD with its length declared, and one without a length that never ends, sent
    // as fast as it is read.
    let config = FakeConfig::default()
        .webfinger_host(
            "huge.example",
            WebfingerBehavior::Huge { bytes: 20_000_000 },
        )
        .webfinger_host(
            "flood.example",
            WebfingerBehavior::Endless {
                chunk: 64 * 1024,
                every: Duration::ZERO,
            },
        );
    let server = FakeServer::start(config);
    server.add_remote_account("h@huge.example", false, false, None);
    let env = Env::new();
    let (m, report) = resolve(
        &env,
        &server,
        &["h@huge.example", "f@flood.example"],
        &[],
        Duration::from_secs(30),
    );
    m.check(0, 8.0);
    for h in ["h@huge.example", "f@flood.example"] {
        let r = row(&report, "handle", h);
        assert_eq!(r["outcome"], "invalid_answer", "{r:?}");
        assert!(
            r["reason"].contains("larger than 65536 bytes"),
            "the reason names the cap: {r:?}"
        );
    }
    // An invalid answer is final: asked once each.
    let st = server.state();
    assert_eq!(requests(&st, "huge.example/.well-known/webfinger"), 1);
    assert_eq!(requests(&st, "flood.example/.well-known/webfinger"), 1);
    eprintln!("huge + flood: {:.1} s, {:.1} MiB", m.secs, m.rss_mib);
}

#[test]
fn unknown_accounts_cost_one_lookup_each_and_host_meta_is_asked_once() {
    // Thirty handles a host does not know (a stale list): each is one WebFinger 404. The
    // host-meta fallback is asked once for the host, and its template, which names the same
    // lookup (as Mastodon's does), is not followed: before, each handle cost three requests.
    let server = FakeServer::start(FakeConfig::default());
    server.set_webfinger_host("stale.example", WebfingerBehavior::Mastodon);
    let env = Env::new();
    let handles: Vec<String> = (0..30).map(|i| format!("gone{i}@stale.example")).collect();
    let handles: Vec<&str> = handles.iter().map(String::as_str).collect();
    let (m, report) = resolve(&env, &server, &handles, &[], Duration::from_secs(30));
    m.check(0, 8.0);
    for h in &handles {
        assert_eq!(row(&report, "handle", h)["outcome"], "not_found");
    }
    let st = server.state();
    assert_eq!(requests(&st, "stale.example/.well-known/webfinger"), 30);
    assert_eq!(requests(&st, "stale.example/.well-known/host-meta"), 1);
}

#[test]
fn webfinger_redirects_forever_or_off_https_are_refused() {
    // A plain TCP listener on loopback stands for a local service (a database, an admin
    // page): a remote host's redirect to `http://127.0.0.1:…` must not reach it.
    let local = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    local.set_nonblocking(true).unwrap();
    let local_url = format!(
        "http://127.0.0.1:{}/.well-known/webfinger?resource=acct:l@local.example",
        local.local_addr().unwrap().port()
    );
    let config = FakeConfig::default()
        .webfinger_host("loop.example", WebfingerBehavior::RedirectLoop)
        .webfinger_host("plain.example", WebfingerBehavior::RedirectToHttp)
        .webfinger_host(
            "ftp.example",
            WebfingerBehavior::RedirectTo {
                location: "ftp://ftp.example/.well-known/webfinger".into(),
            },
        )
        .webfinger_host(
            "file.example",
            WebfingerBehavior::RedirectTo {
                location: "file:///etc/passwd".into(),
            },
        )
        .webfinger_host(
            "local.example",
            WebfingerBehavior::RedirectTo {
                location: local_url,
            },
        );
    let server = FakeServer::start(config);
    let env = Env::new();
    let handles = [
        "l@loop.example",
        "p@plain.example",
        "f@ftp.example",
        "e@file.example",
        "l@local.example",
    ];
    let (m, report) = resolve(&env, &server, &handles, &[], Duration::from_secs(30));
    m.check(0, 8.0);
    let reason = |h: &str| {
        let r = row(&report, "handle", h);
        assert_eq!(r["outcome"], "invalid_answer", "{r:?}");
        r["reason"].clone()
    };
    assert!(reason("l@loop.example").contains("more than 3 redirects"));
    assert!(reason("p@plain.example").contains("http://"));
    for h in ["f@ftp.example", "e@file.example", "l@local.example"] {
        let r = reason(h);
        assert!(
            r.contains("not https") || r.contains("http://"),
            "{h}: the reason names the refused redirect: {r}"
        );
    }
    // Forever is four requests: the first and three redirects.
    let st = server.state();
    assert_eq!(
        requests(&st, "loop.example/.well-known/webfinger"),
        4,
        "{:?}",
        st.counters.requests
    );
    assert!(
        local.accept().is_err(),
        "a remote host's redirect reached a plain-http service on loopback"
    );
    assert!(!m.stdout.contains("root:"), "file:// was never read");
}

#[test]
fn webfinger_redirects_to_private_addresses_are_refused() {
    // Server-side request forgery: a remote host redirects the lookup, over https, to this
    // machine, to the cloud metadata address, or to a name that resolves to loopback. As in
    // Mastodon, a remote host's lookups reach public addresses only (hosts pinned with
    // `--resolve` are the user's choice: every other test here runs through such pins).
    let server = FakeServer::start(FakeConfig::default());
    let server_port = server.port();
    let targets = [
        (
            "ip.example",
            format!(
                "https://127.0.0.1:{server_port}/.well-known/webfinger?resource=acct:v@good.example"
            ),
        ),
        (
            "v6.example",
            format!("https://[::ffff:127.0.0.1]:{server_port}/.well-known/webfinger"),
        ),
        (
            "nat64.example",
            "https://[64:ff9b::a9fe:a9fe]/latest/meta-data/".to_string(),
        ),
        (
            "cloud.example",
            "https://169.254.169.254/latest/meta-data/".to_string(),
        ),
        ("lan.example", "https://192.168.1.1/admin".to_string()),
        (
            "name.example",
            format!("https://localhost:{server_port}/.well-known/webfinger"),
        ),
    ];
    for (host, location) in &targets {
        server.set_webfinger_host(
            host,
            WebfingerBehavior::RedirectTo {
                location: location.clone(),
            },
        );
    }
    let env = Env::new();
    let handles: Vec<String> = targets.iter().map(|(h, _)| format!("v@{h}")).collect();
    let mut handles: Vec<&str> = handles.iter().map(String::as_str).collect();
    // A handle at a host name that is this machine, from an input file.
    handles.push("v@localhost");
    let (m, report) = resolve(&env, &server, &handles, &[], Duration::from_secs(30));
    m.check(0, 8.0);
    for h in &handles {
        let r = row(&report, "handle", h);
        assert_eq!(r["outcome"], "private_address", "{r:?}");
        assert!(
            r["reason"].contains("on this machine or a private network"),
            "{h}: the reason names the refused address: {r:?}"
        );
    }
    let r = row(&report, "handle", "v@cloud.example");
    assert!(r["reason"].contains("169.254.169.254"), "{r:?}");
    // The reason names the name the redirect led to, not only the host that was asked.
    let r = row(&report, "handle", "v@name.example");
    assert!(r["reason"].contains("`localhost` ("), "{r:?}");
    // A refusal depends on this machine's settings (`--resolve`, DNS, a proxy), not on the
    // host: it is not kept as the host's answer. Asked again, the hosts are asked again.
    let (m, _) = resolve(&env, &server, &handles, &[], Duration::from_secs(30));
    m.check(0, 8.0);
    let st = server.state();
    for (host, _) in &targets {
        assert_eq!(requests(&st, &format!("{host}/.well-known/webfinger")), 2);
    }
    // Nothing reached an address behind a redirect.
    for needle in ["127.0.0.1", "localhost", "::ffff", "169.254"] {
        assert_eq!(
            requests(&st, needle),
            0,
            "{needle}: {:?}",
            st.counters.requests
        );
    }
}

/// A forward proxy for https (`CONNECT host:port`) on loopback, standing for a proxy on the
/// local network: it resolves names itself (here, every name to the fake server) and records
/// what it was asked to reach.
fn connect_proxy(to: std::net::SocketAddr) -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let asked = Arc::new(Mutex::new(Vec::new()));
    let seen = asked.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut client) = conn else { continue };
            let seen = seen.clone();
            std::thread::spawn(move || {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if client.read(&mut byte).ok() != Some(1) || head.len() > 8192 {
                        return;
                    }
                    head.push(byte[0]);
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let mut words = head.split_whitespace();
                if words.next() != Some("CONNECT") {
                    let _ = client.write_all(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n");
                    return;
                }
                seen.lock()
                    .unwrap()
                    .push(words.next().unwrap_or("").to_string());
                let Ok(mut upstream) = std::net::TcpStream::connect(to) else {
                    return;
                };
                if client
                    .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .is_err()
                {
                    return;
                }
                let (Ok(mut client_in), Ok(mut upstream_out)) =
                    (client.try_clone(), upstream.try_clone())
                else {
                    return;
                };
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut client_in, &mut upstream_out);
                    let _ = upstream_out.shutdown(std::net::Shutdown::Write);
                });
                let _ = std::io::copy(&mut upstream, &mut client);
                let _ = client.shutdown(std::net::Shutdown::Write);
            });
        }
    });
    (port, asked)
}

#[test]
fn lookups_go_through_a_proxy_on_the_local_network() {
    // `HTTPS_PROXY` names a proxy on a private address (here loopback). The proxy is the
    // user's choice: reaching it is no request to a private address. Through it, the proxy
    // resolves the destination's name; an address in a URL is still judged here.
    let server =
        FakeServer::start(FakeConfig::default().remote(RemoteAccountSpec::new("ana@far.example")));
    server.set_webfinger_host(
        "sneaky.example",
        WebfingerBehavior::RedirectTo {
            location: format!("https://127.0.0.1:{}/.well-known/webfinger", server.port()),
        },
    );
    let (proxy, asked) = connect_proxy(server.addr());
    let env = Env::new();
    std::fs::write(
        env.path("handles.txt"),
        "ana@far.example\nv@sneaky.example\n",
    )
    .unwrap();
    let mut cmd = command(&env, &server, &[]);
    cmd.env("HTTPS_PROXY", format!("http://localhost:{proxy}"))
        .args(["resolve", "handles.txt", "--json"]);
    let m = run(cmd, Duration::from_secs(30));
    m.check(0, 8.0);
    let report = read_csv(&env.path("handles.resolve-report.csv"));
    let ana = row(&report, "handle", "ana@far.example");
    assert_eq!(ana["outcome"], "found", "{ana:?}");
    let sneaky = row(&report, "handle", "v@sneaky.example");
    assert_eq!(sneaky["outcome"], "private_address", "{sneaky:?}");
    let asked = asked.lock().unwrap().clone();
    assert!(
        asked.iter().any(|t| t == "far.example:443"),
        "the lookup went through the proxy: {asked:?}"
    );
    assert!(
        !asked.iter().any(|t| t.starts_with("127.0.0.1")),
        "the redirect to a private address was not followed: {asked:?}"
    );
}

#[test]
fn a_subject_in_a_domain_the_host_does_not_serve_is_never_adopted() {
    // `evil.example` answers for its handles with subjects in other domains:
    // - `victim@good.example`, a real account, whose own host names another actor;
    // - `nobody@good.example`, an account good.example does not have;
    // - `x@dark.example`, a domain nobody serves.
    // `old.example` is the honest case (its accounts moved to `new.example`, which agrees).
    let config = FakeConfig::default()
        .webfinger_host(
            "evil.example",
            WebfingerBehavior::ClaimsSubject {
                domain: "good.example".into(),
            },
        )
        .webfinger_host(
            "evil2.example",
            WebfingerBehavior::ClaimsSubject {
                domain: "dark.example".into(),
            },
        )
        .webfinger_host(
            "old.example",
            WebfingerBehavior::Canonicalizes {
                to: "new.example".into(),
            },
        )
        .remote(RemoteAccountSpec::new("victim@good.example").known())
        .remote(RemoteAccountSpec::new("victim@evil.example"))
        .remote(RemoteAccountSpec::new("nobody@evil.example"))
        .remote(RemoteAccountSpec::new("x@evil2.example"))
        .remote(RemoteAccountSpec::new("oli@new.example"));
    let server = FakeServer::start(config);
    let token = server.issue_token("alice", "read write follow");
    let env = Env::new();
    std::fs::write(
        env.path("following_accounts.csv"),
        "Account address,Show boosts,Notify on new posts,Languages\n\
         victim@evil.example,true,false,\n\
         nobody@evil.example,true,false,\n\
         x@evil2.example,true,false,\n\
         oli@old.example,true,false,\n",
    )
    .unwrap();
    let mut cmd = as_alice(&env, &server, &token, &["dark.example"]);
    cmd.args(["import", "following_accounts.csv", "--json"]);
    let m = run(cmd, Duration::from_secs(60));
    m.check(0, 20.0);
    let st = server.state();
    // Only the honest redirect is followed, under its confirmed name.
    assert_eq!(followed(&st), vec!["oli@new.example".to_string()]);
    let report = read_csv(&env.path("following_accounts.import-report.csv"));
    let failed = |line: &str, needle: &str| {
        let r = row(&report, "line", line);
        assert_eq!(r["outcome"], "failed", "{r:?}");
        assert!(r["reason"].contains(needle), "line {line}: {r:?}");
    };
    failed("2", "good.example");
    failed("2", "different actors");
    failed(
        "3",
        "nobody@good.example, which could not be confirmed: no such account",
    );
    failed("4", "dark.example");
    failed("4", "could not be confirmed");
    assert_eq!(row(&report, "line", "5")["outcome"], "done");
    // Refused by the confirming lookups themselves, at the claimed domains: one per claim.
    // For `nobody` (a 404), host-meta is asked; its template names the same lookup, which is
    // not made twice.
    assert_eq!(requests(&st, "GET good.example/.well-known/host-meta"), 1);
    assert_eq!(
        requests(&st, "GET good.example/.well-known/webfinger"),
        2,
        "{:?}",
        st.counters.requests
    );
    assert_eq!(requests(&st, "GET new.example/.well-known/webfinger"), 1);
    // The refused handles never reached the target server: one lookup and one resolving
    // search, both for the honest handle.
    assert_eq!(st.counters.requests_to("GET /api/v1/accounts/lookup"), 1);
    assert_eq!(st.counters.requests_to("GET /api/v2/search"), 1);
}

#[test]
fn a_subject_with_control_characters_is_refused_and_never_printed() {
    // Found by the webfinger fuzz target. The URL parser drops tabs and line breaks, so a
    // subject `acct:x@good\n.example` named `good.example` to the confirming lookup, and an
    // escape sequence in the subject reached the terminal in messages. Such a subject is now
    // no valid subject: nothing is asked of any other host, and no control byte is printed.
    let config = FakeConfig::default()
        .webfinger_host(
            "nl.example",
            WebfingerBehavior::ClaimsSubject {
                domain: "good\n.example".into(),
            },
        )
        .webfinger_host(
            "esc.example",
            WebfingerBehavior::ClaimsSubject {
                domain: "good.example\u{1b}[2J\u{1b}]0;owned\u{7}".into(),
            },
        )
        .remote(RemoteAccountSpec::new("victim@good.example").known())
        .remote(RemoteAccountSpec::new("victim@nl.example"))
        .remote(RemoteAccountSpec::new("victim@esc.example"));
    let server = FakeServer::start(config);
    let env = Env::new();
    let (m, report) = resolve(
        &env,
        &server,
        &["victim@nl.example", "victim@esc.example"],
        &[],
        Duration::from_secs(30),
    );
    m.check(0, 8.0);
    for h in ["victim@nl.example", "victim@esc.example"] {
        let r = row(&report, "handle", h);
        assert_eq!(r["outcome"], "invalid_answer", "{r:?}");
        assert!(r["reason"].contains("no valid subject"), "{r:?}");
    }
    let st = server.state();
    assert_eq!(
        requests(&st, "good.example/.well-known/webfinger"),
        0,
        "{:?}",
        st.counters.requests
    );
    for (name, text) in [("stdout", &m.stdout), ("stderr", &m.stderr)] {
        assert!(
            !text.contains(['\u{1b}', '\u{7}']),
            "a control character reached {name}: {text:?}"
        );
    }
    let written = std::fs::read_to_string(env.path("handles.resolve-report.csv")).unwrap();
    assert!(!written.contains('\u{1b}'), "{written:?}");
}

#[test]
fn an_actor_on_another_host_is_shown_and_never_followed_in_its_place() {
    // `fa.example` answers for `x@fa.example` with an actor on `far.example` — the actor of
    // a real account there, which the home server knows. Following must never land on it.
    let config = FakeConfig::default()
        .webfinger_host(
            "fa.example",
            WebfingerBehavior::ForeignActor {
                actor_host: "far.example".into(),
            },
        )
        .remote(RemoteAccountSpec::new("x@fa.example"))
        .remote(RemoteAccountSpec::new("x@far.example").known())
        .remote(RemoteAccountSpec::new("ana@far.example"));
    let server = FakeServer::start(config);
    let token = server.issue_token("alice", "read write follow");
    let env = Env::new();
    let (m, report) = resolve(
        &env,
        &server,
        &["x@fa.example"],
        &[],
        Duration::from_secs(30),
    );
    m.check(0, 8.0);
    let r = row(&report, "handle", "x@fa.example");
    assert_eq!(r["canonical_handle"], "x@fa.example", "{r:?}");
    assert_eq!(r["actor_url"], "https://far.example/users/x", "{r:?}");

    std::fs::write(env.path("follows.csv"), "x@fa.example\nana@far.example\n").unwrap();
    let mut cmd = as_alice(&env, &server, &token, &[]);
    cmd.args(["import", "follows.csv", "--type", "follows", "--json"]);
    let m = run(cmd, Duration::from_secs(60));
    m.check(0, 20.0);
    let st = server.state();
    assert_eq!(followed(&st), vec!["ana@far.example".to_string()]);
    let report = read_csv(&env.path("follows.import-report.csv"));
    let r = row(&report, "line", "1");
    assert_eq!(r["outcome"], "failed", "{r:?}");
    assert!(r["reason"].contains("could not find"), "{r:?}");
}

// ---------------------------------------------------------------------------------------------
// The target server
// ---------------------------------------------------------------------------------------------

/// A home server with limits out of reach (headers on every answer, as on a real server),
/// alice's token, and the sample archive in the work directory.
fn archive_server(config: impl FnOnce(&mut FakeConfig)) -> (FakeServer, Env, String) {
    let mut c = FakeConfig {
        rate_limits: RateLimits::disabled(),
        media_processing: fake::MediaProcessing::AfterPolls(1),
        ..FakeConfig::default()
    };
    c.rate_limits.per_token = Some(fake::Limit::new(100_000, 300));
    config(&mut c);
    let server = FakeServer::start(c);
    let token = server.issue_token("alice", "read write follow");
    let env = Env::new();
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/sample-archive.zip"),
        env.path("sample-archive.zip"),
    )
    .unwrap();
    (server, env, token)
}

/// The statuses the sample archive becomes (`--no-media` keeps every tweet, without files).
const SAMPLE_STATUSES: usize = 31;

fn import_archive(env: &Env, server: &FakeServer, token: &str, extra: &[&str]) -> Command {
    let mut cmd = as_alice(env, server, token, &[]);
    cmd.args(["import", "sample-archive.zip", "--no-media", "--json"])
        .args(extra);
    cmd
}

/// The statuses on the server that are not deleted, oldest first.
fn live_statuses(st: &State) -> Vec<fake::Status> {
    let mut v: Vec<_> = st.statuses.iter().filter(|s| !s.deleted).cloned().collect();
    v.sort_by_key(|s| s.id.parse::<u64>().unwrap_or(0));
    v
}

/// Each status on the server once: no two with the same text.
#[track_caller]
fn assert_no_doubles(st: &State) {
    let texts: Vec<&str> = st.statuses.iter().map(|s| s.text.as_str()).collect();
    let distinct: std::collections::HashSet<&str> = texts.iter().copied().collect();
    assert_eq!(texts.len(), distinct.len(), "a status was posted twice");
}

fn archive_report(env: &Env) -> Report {
    read_csv(&env.path("sample-archive.import-report.csv"))
}

/// The sample's reply structure: (status, the earlier status it replies to), by creation
/// order (see `SAMPLE_STATUSES` in tests/archive_import.rs).
const SAMPLE_REPLIES: &[(usize, usize)] = &[
    (2, 1),
    (3, 2),
    (4, 3),
    (5, 4),
    (15, 14),
    (16, 14),
    (17, 15),
    (27, 26),
    (28, 27),
];

/// The server holds the sample exactly once, its threads intact.
#[track_caller]
fn assert_sample_once(st: &State) {
    assert_no_doubles(st);
    let live = live_statuses(st);
    assert_eq!(live.len(), SAMPLE_STATUSES, "every status once");
    for (i, s) in live.iter().enumerate() {
        let parent = SAMPLE_REPLIES
            .iter()
            .find(|(c, _)| *c == i)
            .map(|(_, p)| live[*p].id.as_str());
        assert_eq!(
            s.in_reply_to_id.as_deref(),
            parent,
            "status {i}: {}",
            s.text
        );
    }
}

/// The `--json` summary says every tweet is done.
#[track_caller]
fn assert_all_done(m: &Measured) {
    let summary = m.summary();
    assert_eq!(summary["completed"], true, "{summary}");
    assert_eq!(summary["done"], 30, "{summary}");
    assert_eq!(summary["failed"], 0, "{summary}");
}

#[test]
fn a_200_page_that_is_not_json_on_the_first_request_is_asked_again() {
    // A proxy's challenge page where the API should be, on the first request of a follows
    // import: a passing failure, asked again — not a panic, a silent skip or a stopped run.
    let (server, env, token) = archive_server(|c| {
        c.faults = FaultPlan::new(1).rule(FaultRule::nth(
            EndpointClass::Any,
            FaultKind::Unparsable { processed: false },
            1,
        ))
    });
    std::fs::write(env.path("follows.csv"), "ana@far.example\n").unwrap();
    server.add_remote_account("ana@far.example", true, false, None);
    let mut cmd = as_alice(&env, &server, &token, &[]);
    cmd.args(["import", "follows.csv", "--type", "follows"]);
    let m = run(cmd, Duration::from_secs(60));
    m.check(0, 10.0);
    assert_eq!(server.state().counters.faults.unparsable, 1);
    assert_eq!(followed(&server.state()).len(), 1);
}

#[test]
fn a_garbled_answer_to_a_post_it_did_create_is_replayed_not_doubled() {
    // The second status (a thread's first post) is created, but its answer is an HTML page:
    // the same Idempotency-Key sent again returns it, and its replies chain to it.
    let (server, env, token) = archive_server(|c| {
        c.faults = FaultPlan::new(1)
            .rule(FaultRule::nth(
                EndpointClass::Statuses,
                FaultKind::Unparsable { processed: true },
                2,
            ))
            .rule(FaultRule::nth(
                EndpointClass::Statuses,
                FaultKind::Unparsable { processed: false },
                10,
            ))
    });
    let m = run(
        import_archive(&env, &server, &token, &[]),
        Duration::from_secs(60),
    );
    m.check(0, 15.0);
    let st = server.state();
    assert_eq!(st.counters.faults.unparsable, 2);
    assert_sample_once(&st);
    assert_all_done(&m);
}

#[test]
fn a_reply_parent_the_server_gave_an_id_for_then_denies_is_reported() {
    // The thread's first post is created and answered, then vanishes (removed by a
    // moderator): the reply to it is refused with Mastodon's 404. Nothing is posted twice;
    // the reply is posted on its own, and the report says so.
    let (server, env, token) = archive_server(|c| {
        c.faults = FaultPlan::new(1).rule(FaultRule::nth(
            EndpointClass::Statuses,
            FaultKind::Vanish,
            2,
        ))
    });
    let m = run(
        import_archive(&env, &server, &token, &[]),
        Duration::from_secs(60),
    );
    m.check(0, 15.0);
    let st = server.state();
    assert_eq!(st.counters.faults.vanished, 1);
    assert_no_doubles(&st);
    let vanished = st
        .statuses
        .iter()
        .find(|s| s.deleted)
        .expect("one vanished");
    assert!(vanished.text.starts_with("Thread: a low-tide walk"));
    assert!(
        st.statuses
            .iter()
            .all(|s| s.in_reply_to_id.as_deref() != Some(vanished.id.as_str())),
        "nothing replies to the vanished status"
    );
    let report = archive_report(&env);
    let reply = row(&report, "tweet_id", "1599071460382093312");
    assert!(
        st.statuses
            .iter()
            .any(|s| s.text.starts_with("16:02 — the first anemones")
                && !s.deleted
                && s.in_reply_to_id.is_none()),
        "the reply is posted on its own"
    );
    assert_eq!(reply["outcome"], "done", "{reply:?}");
    assert!(
        reply["notes"].contains("the status it replies to is gone from the server"),
        "{reply:?}"
    );
    // Every other tweet is on the server: 31 statuses less the vanished one.
    assert_eq!(live_statuses(&st).len(), SAMPLE_STATUSES - 1);
    let summary = m.summary();
    assert_eq!(summary["completed"], true, "{summary}");
    assert_eq!(
        summary["failed"].as_u64().unwrap() + summary["done"].as_u64().unwrap(),
        30
    );
}

#[test]
fn a_status_denied_while_reconciling_is_never_posted_twice() {
    // The third status is created but its answer hangs, and the run is killed. Two hours
    // later the key is forgotten, so the rerun searches the account's statuses — and the
    // server lists the status but answers 404 for its source.
    let (server, env, token) = archive_server(|c| {
        c.faults = FaultPlan::new(1).rule(FaultRule::nth(
            EndpointClass::Statuses,
            FaultKind::Stall(Duration::from_secs(30)),
            3,
        ))
    });
    let mut child = Child::spawn(import_archive(&env, &server, &token, &[]));
    let started = Instant::now();
    while server.state().counters.faults.stalled == 0 {
        assert!(started.elapsed() < Duration::from_secs(30), "no stall");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(100));
    child.kill();
    assert_eq!(live_statuses(&server.state()).len(), 3);
    server.advance(Duration::from_secs(2 * 3600));
    let db = rusqlite::Connection::open(env.state_dir().join("journal.sqlite3")).unwrap();
    let past = (chrono::Utc::now() - chrono::Duration::hours(2))
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let sending = db
        .execute(
            "UPDATE items SET sent_at = ?1 WHERE state = 'sending'",
            [&past],
        )
        .unwrap();
    assert_eq!(sending, 1, "one tweet was left in flight");
    drop(db);
    server.set_fault_plan(FaultPlan::new(2).rule(FaultRule::new(
        EndpointClass::PathPrefix("/api/v1/statuses/".into()),
        FaultKind::Deny,
        1.0,
    )));
    let m = run(
        import_archive(&env, &server, &token, &[]),
        Duration::from_secs(60),
    );
    m.check(0, 15.0);
    let st = server.state();
    assert!(st.counters.faults.denied >= 1, "the status was looked for");
    assert_no_doubles(&st);
    // The tweet whose status could not be checked is reported, not posted again.
    let report = archive_report(&env);
    let third = row(&report, "tweet_id", "1599071460382093312");
    assert_eq!(third["outcome"], "failed", "{third:?}");
    assert!(
        third["notes"].contains("may be this tweet's, but the server would not show its text"),
        "with a reason naming the status: {third:?}"
    );
    assert_eq!(live_statuses(&st).len(), SAMPLE_STATUSES);
}

/// `X-RateLimit-Reset` instants no server should send.
fn long_ago() -> chrono::DateTime<chrono::Utc> {
    "2001-01-01T00:00:00Z".parse().unwrap()
}

fn years_ahead() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now() + chrono::Duration::days(10 * 365)
}

#[test]
fn a_rate_limit_reset_in_the_past_is_waited_out_briefly_not_hot_looped() {
    // Four 429s whose reset is 2001: each is waited out (a second), then the run goes on.
    let (server, env, token) = archive_server(|c| {
        c.faults = FaultPlan::new(1).rule(
            FaultRule::new(
                EndpointClass::Statuses,
                FaultKind::RateLimitedUntil(long_ago()),
                1.0,
            )
            .max(4),
        )
    });
    let m = run(
        import_archive(&env, &server, &token, &[]),
        Duration::from_secs(60),
    );
    m.check(0, 20.0);
    let st = server.state();
    assert_eq!(st.counters.faults.rate_limited, 4);
    assert_eq!(
        st.counters.requests_to("POST /api/v1/statuses"),
        SAMPLE_STATUSES as u64 + 4,
        "one retry per 429"
    );
    // Not a hot loop: each 429 cost a wait.
    assert!(m.secs >= 3.0, "took {:.1} s", m.secs);
    assert_sample_once(&st);
    assert_all_done(&m);
}

#[test]
fn endless_429s_reset_in_the_past_stop_the_run_after_a_few_tries() {
    let (server, env, token) = archive_server(|c| {
        c.faults = FaultPlan::new(1).rule(FaultRule::new(
            EndpointClass::Statuses,
            FaultKind::RateLimitedUntil(long_ago()),
            1.0,
        ))
    });
    let m = run(
        import_archive(&env, &server, &token, &[]),
        Duration::from_secs(60),
    );
    m.check(3, 20.0);
    let st = server.state();
    let tries = st.counters.requests_to("POST /api/v1/statuses");
    assert!((2..=8).contains(&tries), "{tries} tries");
    assert!(m.secs >= (tries - 1) as f64 * 0.9, "waits between tries");
    assert!(m.stderr.contains("rate window"), "{}", m.stderr);
    assert!(live_statuses(&st).is_empty());
}

#[test]
fn a_rate_limit_reset_years_ahead_is_bounded_by_the_window_period() {
    let (server, env, token) = archive_server(|c| {
        c.faults = FaultPlan::new(1).rule(FaultRule::new(
            EndpointClass::Statuses,
            FaultKind::RateLimitedUntil(years_ahead()),
            1.0,
        ))
    });
    let mut child = Child::spawn(import_archive(&env, &server, &token, &[]));
    let line = child.wait_for_stdout("\"waiting\"", Duration::from_secs(20));
    let waiting: serde_json::Value = serde_json::from_str(&line).unwrap();
    let until: chrono::DateTime<chrono::Utc> = waiting["until"].as_str().unwrap().parse().unwrap();
    let ahead = until - chrono::Utc::now();
    // At most the posts' window of 3 hours (Mastodon's), never the years the header says.
    assert!(
        ahead <= chrono::Duration::minutes(3 * 60 + 1) && ahead > chrono::Duration::zero(),
        "waits until {until}: {line}"
    );
    // SAFETY: the child has not been reaped.
    unsafe { libc::kill(child.pid(), libc::SIGINT) };
    let m = child.finish(Duration::from_secs(30));
    m.check(3, 30.0);
    assert!(m.stderr.contains("Ctrl-C"), "{}", m.stderr);
    assert_eq!(
        server.state().counters.requests_to("POST /api/v1/statuses"),
        1
    );
}

#[test]
fn no_wait_and_a_reset_years_ahead_stop_at_once() {
    let (server, env, token) = archive_server(|c| {
        c.faults = FaultPlan::new(1).rule(FaultRule::new(
            EndpointClass::Statuses,
            FaultKind::RateLimitedUntil(years_ahead()),
            1.0,
        ))
    });
    let m = run(
        import_archive(&env, &server, &token, &["--no-wait"]),
        Duration::from_secs(60),
    );
    m.check(3, 10.0);
    assert!(m.stderr.contains("statuses rate window"), "{}", m.stderr);
    assert_eq!(
        server.state().counters.requests_to("POST /api/v1/statuses"),
        1
    );
}

/// The instant in "which reopens at 2026-11-23 23:10 UTC".
fn reopens_at(stderr: &str) -> chrono::DateTime<chrono::Utc> {
    let at = stderr
        .split("reopens at ")
        .nth(1)
        .and_then(|s| s.get(..16))
        .unwrap_or_else(|| panic!("a reopening time in {stderr}"));
    chrono::NaiveDateTime::parse_from_str(at, "%Y-%m-%d %H:%M")
        .unwrap_or_else(|e| panic!("{at}: {e}"))
        .and_utc()
}

#[test]
fn a_stopped_run_names_the_bounded_reopening_not_the_header() {
    // The run waits (or would wait) until a bounded instant; the message it stops with must
    // name that instant, not 2001 ("run again then" would be now) nor ten years ahead.
    for (reset, args) in [(long_ago(), &[][..]), (years_ahead(), &["--no-wait"][..])] {
        let (server, env, token) = archive_server(|c| {
            c.faults = FaultPlan::new(1).rule(FaultRule::new(
                EndpointClass::Statuses,
                FaultKind::RateLimitedUntil(reset),
                1.0,
            ))
        });
        let m = run(
            import_archive(&env, &server, &token, args),
            Duration::from_secs(60),
        );
        m.check(3, 20.0);
        let at = reopens_at(&m.stderr);
        let now = chrono::Utc::now();
        assert!(
            at >= now - chrono::Duration::minutes(1)
                && at <= now + chrono::Duration::minutes(3 * 60 + 1),
            "header reset {reset}: {}",
            m.stderr
        );
    }
}

#[test]
fn a_huge_or_endless_api_answer_is_cut_at_the_cap() {
    // The first request of a follows import gets a 200 that never ends.
    let (server, env, token) = archive_server(|c| {
        c.faults = FaultPlan::new(1).rule(FaultRule::nth(
            EndpointClass::Any,
            FaultKind::HugeBody {
                status: 200,
                length: None,
            },
            1,
        ))
    });
    server.add_remote_account("ana@far.example", true, false, None);
    std::fs::write(env.path("follows.csv"), "ana@far.example\n").unwrap();
    let mut cmd = as_alice(&env, &server, &token, &[]);
    cmd.args(["import", "follows.csv", "--type", "follows"]);
    let m = run(cmd, Duration::from_secs(60));
    m.check(1, 10.0);
    assert!(
        m.stderr.contains("https://social.example/") && m.stderr.contains("larger than 8388608"),
        "{}",
        m.stderr
    );
    eprintln!("endless API answer: {:.1} s, {:.1} MiB", m.secs, m.rss_mib);
}

#[test]
fn huge_error_bodies_are_skimmed_and_the_error_kept() {
    // Two status posts answered 503 with a body of 200 MB declared, then one that never
    // ends: each is a server error to retry, whatever its body.
    let (server, env, token) = archive_server(|c| {
        c.faults = FaultPlan::new(1)
            .rule(FaultRule::nth(
                EndpointClass::Statuses,
                FaultKind::HugeBody {
                    status: 503,
                    length: Some(200_000_000),
                },
                3,
            ))
            .rule(FaultRule::nth(
                EndpointClass::Statuses,
                FaultKind::HugeBody {
                    status: 500,
                    length: None,
                },
                7,
            ))
    });
    let m = run(
        import_archive(&env, &server, &token, &[]),
        Duration::from_secs(60),
    );
    m.check(0, 15.0);
    let st = server.state();
    assert_eq!(st.counters.faults.huge_body, 2);
    assert_sample_once(&st);
    assert_all_done(&m);
    eprintln!("huge error bodies: {:.1} s, {:.1} MiB", m.secs, m.rss_mib);
}

/// Every third connection dropped, and connections that serve two requests each (so that
/// there are connections to drop).
fn every_third_connection(kind: FaultKind) -> impl FnOnce(&mut FakeConfig) {
    move |c| {
        c.connection_fault = Some(ConnectionFault { every: 3, kind });
        c.requests_per_connection = Some(2);
    }
}

#[test]
fn every_third_connection_dropped_posts_each_status_once() {
    for kind in [FaultKind::DropBeforeProcessing, FaultKind::LostResponse] {
        let (server, env, token) = archive_server(every_third_connection(kind.clone()));
        let m = run(
            import_archive(&env, &server, &token, &[]),
            Duration::from_secs(90),
        );
        m.check(0, 45.0);
        let st = server.state();
        assert!(
            st.counters.faults.dropped_connections >= 5,
            "{kind:?}: {:?}",
            st.counters.faults
        );
        assert_sample_once(&st);
        assert_all_done(&m);
        eprintln!(
            "{kind:?}: {:.1} s, {:.1} MiB, {} connections dropped",
            m.secs, m.rss_mib, st.counters.faults.dropped_connections
        );
    }
}

#[test]
fn every_third_connection_dropped_follows_each_account_once() {
    let (server, env, token) = archive_server(every_third_connection(FaultKind::LostResponse));
    let handles: Vec<String> = (0..12)
        .map(|i| format!("u{i}@far{}.example", i % 3))
        .collect();
    for h in &handles {
        server.add_remote_account(h, i_known(h), false, None);
    }
    std::fs::write(env.path("follows.csv"), handles.join("\n") + "\n").unwrap();
    let mut cmd = as_alice(&env, &server, &token, &[]);
    cmd.args(["import", "follows.csv", "--type", "follows", "--json"]);
    let m = run(cmd, Duration::from_secs(90));
    m.check(0, 45.0);
    let st = server.state();
    assert!(
        st.counters.faults.dropped_connections >= 3,
        "{:?}",
        st.counters.faults
    );
    let mut f = followed(&st);
    f.sort();
    let mut want: Vec<String> = handles.iter().map(|h| h.to_lowercase()).collect();
    want.sort();
    assert_eq!(f, want, "each account followed once");
    let summary = m.summary();
    assert_eq!(summary["completed"], true, "{summary}");
    eprintln!(
        "follows with drops: {:.1} s, {:.1} MiB, {} connections dropped",
        m.secs, m.rss_mib, st.counters.faults.dropped_connections
    );
}

/// Half the accounts are already known to the home server (lookup finds them); the others
/// need a resolving search.
fn i_known(handle: &str) -> bool {
    handle.len() % 2 == 0
}
