//! Hostile inputs (issue 7), through the real binary: each must end with a clear error (exit
//! code 2, as README documents for unusable input) or a reported skip, within a memory bound
//! measured on the child itself (`wait4`), and never with a panic.
//!
//! `fixtures/hostile/README.md` maps every item of the issue to its test, here or in
//! `tests/bad_input.rs` (bombs of `tweets.js` by ratio, an absurd declared size, `..` and
//! absolute entry names), which this file does not repeat. Large inputs are made at run time.

#[path = "support/archive.rs"]
mod archive;
#[path = "support/fake/mod.rs"]
mod fake;
#[path = "support/cli.rs"]
mod support_cli;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use archive::*;
use fake::{FakeConfig, FakeServer, RemoteAccountSpec};
use migrate::source::twitter::{MAX_ENTRY, MAX_RATIO};
use support_cli::Env;

// ------------------------------------------------------------------------------------------------
// Running the binary, measured
// ------------------------------------------------------------------------------------------------

#[must_use]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    /// Peak resident set size of the child, in KiB.
    max_rss_kib: i64,
    secs: f64,
}

/// Runs `cmd` (which must start from a cleared environment) to its end, measuring its own peak
/// memory; kills it after `limit`.
///
/// Why the detour: Linux keeps a process's peak RSS across `execve`, and a child spawned with
/// `vfork` (as `Command` does) starts from its parent's peak, here the whole test binary's.
/// So this binary is run again, small and with nothing else to do, to run only
/// [`spawn_measured_child`], which spawns `cmd` and reaps it with `wait4`: the figure is then
/// the child's own peak, or the helper's few MiB if that is more.
fn measured(cmd: Command, limit: Duration) -> Run {
    let files = tempfile::tempdir().expect("tempdir");
    let text = |s: &std::ffi::OsStr| s.to_string_lossy().into_owned();
    let args: Vec<String> = cmd.get_args().map(text).collect();
    let env: Vec<(String, String)> = cmd
        .get_envs()
        .filter_map(|(k, v)| Some((text(k), text(v?))))
        .chain([("NO_COLOR", "1"), ("MIGRATE_NO_PROGRESS", "1")].map(|(k, v)| (k.into(), v.into())))
        .collect();
    let spec = serde_json::json!({
        "program": text(cmd.get_program()),
        "args": args,
        "env": env,
        "cwd": cmd.get_current_dir().map(|d| text(d.as_os_str())),
        "limit_ms": limit.as_millis() as u64,
        "dir": files.path(),
    });
    let spec_path = files.path().join("spec.json");
    std::fs::write(&spec_path, spec.to_string()).expect("write the spec");
    let helper = Command::new(std::env::current_exe().expect("the test binary"))
        .args([
            "spawn_measured_child",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("HOSTILE_CHILD_SPEC", &spec_path)
        .stdin(Stdio::null())
        .output()
        .expect("run the helper");
    let result = std::fs::read_to_string(files.path().join("result.json")).unwrap_or_else(|_| {
        panic!(
            "the helper gave no result:\n{}\n{}",
            String::from_utf8_lossy(&helper.stdout),
            String::from_utf8_lossy(&helper.stderr)
        )
    });
    let result: serde_json::Value = serde_json::from_str(&result).expect("the result");
    assert!(
        result["timed_out"] == false,
        "migrate {:?} still running after {limit:?}",
        spec["args"]
    );
    let read = |name: &str| {
        String::from_utf8_lossy(&std::fs::read(files.path().join(name)).expect("output"))
            .into_owned()
    };
    Run {
        code: result["code"].as_i64().map(|c| c as i32),
        stdout: read("stdout"),
        stderr: read("stderr"),
        max_rss_kib: result["max_rss_kib"].as_i64().expect("max_rss_kib"),
        secs: result["secs"].as_f64().expect("secs"),
    }
}

/// The helper of [`measured`]; does nothing unless `HOSTILE_CHILD_SPEC` names a spec.
#[test]
#[ignore = "a helper that `measured` runs, not a test of its own"]
// The child is reaped with `wait4`, which clippy cannot see.
#[allow(clippy::zombie_processes)]
fn spawn_measured_child() {
    let Some(spec_path) = std::env::var_os("HOSTILE_CHILD_SPEC") else {
        return;
    };
    let spec: serde_json::Value =
        serde_json::from_slice(&std::fs::read(spec_path).expect("the spec")).expect("JSON");
    let dir = PathBuf::from(spec["dir"].as_str().expect("dir"));
    let mut cmd = Command::new(spec["program"].as_str().expect("program"));
    cmd.env_clear();
    for arg in spec["args"].as_array().expect("args") {
        cmd.arg(arg.as_str().expect("an argument"));
    }
    for pair in spec["env"].as_array().expect("env") {
        cmd.env(
            pair[0].as_str().expect("a name"),
            pair[1].as_str().expect("a value"),
        );
    }
    if let Some(cwd) = spec["cwd"].as_str() {
        cmd.current_dir(cwd);
    }
    let limit = Duration::from_millis(spec["limit_ms"].as_u64().expect("limit"));
    let started = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(dir.join("stdout")).expect("stdout file"))
        .stderr(std::fs::File::create(dir.join("stderr")).expect("stderr file"))
        .spawn()
        .expect("spawn migrate");
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero `rusage` is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let mut timed_out = false;
    loop {
        // SAFETY: `pid` is our own child, not yet reaped; both pointers are to live locals.
        let done = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if done == pid {
            break;
        }
        assert!(
            done == 0,
            "wait4 failed: {}",
            std::io::Error::last_os_error()
        );
        if !timed_out && started.elapsed() > limit {
            child.kill().ok();
            timed_out = true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let result = serde_json::json!({
        "code": libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)),
        "max_rss_kib": usage.ru_maxrss,
        "secs": started.elapsed().as_secs_f64(),
        "timed_out": timed_out,
    });
    std::fs::write(dir.join("result.json"), result.to_string()).expect("write the result");
}

/// `migrate ARGS` with a cleared environment and its own state directory, in `dir`.
fn migrate(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_migrate"));
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("MIGRATE_HOME", dir.join("state"))
        .env("TMPDIR", dir)
        .current_dir(dir)
        .args(args);
    cmd
}

fn run(dir: &Path, args: &[&str]) -> Run {
    measured(migrate(dir, args), Duration::from_secs(60))
}

/// Peak memory allowed on a hostile archive or CSV. A small valid archive takes about 15 MiB;
/// the bombs below would take hundreds of MiB to GiBs if inflated.
const MAX_RSS_KIB: i64 = 128 * 1024;

/// No panic, memory within `max_kib`.
fn assert_sane(what: &str, run: &Run, max_kib: i64) {
    eprintln!(
        "{what}: exit {:?}, peak RSS {} KiB, {:.2} s",
        run.code, run.max_rss_kib, run.secs
    );
    assert!(
        !run.stderr.contains("panicked"),
        "{what}: migrate panicked:\n{}",
        run.stderr
    );
    assert!(
        run.max_rss_kib < max_kib,
        "{what}: peak memory {} KiB (limit {max_kib} KiB)",
        run.max_rss_kib
    );
}

/// Exit code 2, an `error:` line naming every `needles`, no panic, bounded memory.
fn assert_refused(what: &str, run: &Run, needles: &[&str]) {
    assert_sane(what, run, MAX_RSS_KIB);
    assert_eq!(
        run.code,
        Some(2),
        "{what}: expected exit code 2\nstdout:\n{}\nstderr:\n{}",
        run.stdout,
        run.stderr
    );
    assert!(
        run.stderr.lines().any(|l| l.starts_with("error:")),
        "{what}: no `error:` line:\n{}",
        run.stderr
    );
    for needle in needles {
        assert!(
            run.stderr.contains(needle),
            "{what}: stderr does not mention {needle:?}:\n{}",
            run.stderr
        );
    }
}

/// Exit code 0, no panic, bounded memory.
fn assert_accepted(what: &str, run: &Run, max_kib: i64) {
    assert_sane(what, run, max_kib);
    assert_eq!(
        run.code,
        Some(0),
        "{what}: expected exit code 0\nstdout:\n{}\nstderr:\n{}",
        run.stdout,
        run.stderr
    );
}

// ------------------------------------------------------------------------------------------------
// Inputs
// ------------------------------------------------------------------------------------------------

const OWNER: Owner = Owner {
    id: "1488000000000000088",
    username: "hostile_harbor",
    display_name: "Hostile Harbor",
    email: "harbor@example.com",
    created_at: "2022-03-01T00:00:00.000Z",
};

/// A small valid zip archive: three tweets, one with a photo.
fn valid_archive() -> Archive {
    let tweets = vec![
        Tweet::new("2023-06-01T09:00:00Z", 0).text("Calm water & clear sky"),
        Tweet::new("2023-06-02T09:00:00Z", 0)
            .text("Harbour photo")
            .media(Media::photo("HoStIlEhArB0001")),
        Tweet::new("2023-06-03T09:00:00Z", 0).text("Boats 🚤"),
    ];
    modern_archive(
        &OWNER,
        "2023-07-01T00:00:00.000Z",
        &[tweets],
        Social {
            following: &["2950551801"],
            follower: &["37705921"],
            block: &[],
            mute: &[],
        },
    )
}

/// The valid archive as stored entries, `replace`d by name, with `extra` entries added.
fn zip_with(replace: &[RawEntry<'_>], extra: &[RawEntry<'_>]) -> Vec<u8> {
    let base = valid_archive();
    let mut entries: Vec<RawEntry<'_>> = base
        .entries
        .iter()
        .filter(|(p, _)| !p.ends_with('/'))
        .map(|(p, b)| {
            replace
                .iter()
                .find(|r| r.name == p.as_bytes())
                .map(|r| RawEntry { ..*r })
                .unwrap_or_else(|| RawEntry::stored(p.as_bytes(), b))
        })
        .collect();
    entries.extend(extra.iter().map(|e| RawEntry { ..*e }));
    raw_zip_entries(&entries)
}

/// A scratch directory holding one input.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Scratch {
        Scratch {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, bytes).expect("write the input");
        path
    }

    /// A copy of `fixtures/folder-archive` (a 2024 archive, extracted) with `data/<file>`
    /// edited by `edit`; returns the folder's name.
    fn folder_archive(&self, edits: &[(&str, &dyn Fn(String) -> String)]) -> &'static str {
        fn copy(from: &Path, to: &Path) {
            std::fs::create_dir_all(to).expect("mkdir");
            for entry in std::fs::read_dir(from).expect("read_dir").flatten() {
                let target = to.join(entry.file_name());
                if entry.path().is_dir() {
                    copy(&entry.path(), &target);
                } else {
                    std::fs::copy(entry.path(), &target).expect("copy");
                }
            }
        }
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/folder-archive");
        copy(&source, &self.path().join("archive"));
        let top = std::fs::read_dir(self.path().join("archive"))
            .expect("read_dir")
            .flatten()
            .next()
            .expect("one folder")
            .path();
        for (file, edit) in edits {
            let path = top.join("data").join(file);
            let before = std::fs::read_to_string(&path).expect("a data file");
            let after = edit(before.clone());
            assert_ne!(before, after, "the edit of {file} changed nothing");
            std::fs::write(&path, after).expect("write");
        }
        "archive"
    }
}

/// `text` with the first `from` replaced, checked to be there.
fn replace_once(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "{from:?} is not in the file");
    text.replacen(from, to, 1)
}

// ------------------------------------------------------------------------------------------------
// Zip bombs and declared sizes
// ------------------------------------------------------------------------------------------------

#[test]
fn zip_bomb_by_ratio_in_the_first_file_read() {
    // data/manifest.js, the first file read, inflates to 200 MiB of blanks inside a valid JSON
    // object (1,000:1), read through `import --dry-run` this time (tests/bad_input.rs has the
    // bombs of tweets.js through `inspect`).
    let scratch = Scratch::new();
    let (deflated, crc, size) = deflate_bomb(b"window.__THAR_CONFIG = {", b' ', 200 << 20, b"}");
    let bomb = RawEntry {
        name: b"data/manifest.js",
        method: 8,
        data: &deflated,
        crc,
        uncompressed_size: u32::try_from(size).expect("under 4 GiB"),
    };
    assert!(size / deflated.len() as u64 > MAX_RATIO);
    scratch.write("bomb.zip", &zip_with(&[bomb], &[]));
    for args in [
        &["import", "bomb.zip", "--dry-run"][..],
        &["--json", "inspect", "bomb.zip"],
    ] {
        let r = run(scratch.path(), args);
        assert_refused(
            "ratio bomb in manifest.js",
            &r,
            &["manifest.js", "zip bomb"],
        );
    }
}

#[test]
fn zip_bomb_by_absolute_size() {
    // data/tweets.js stored as 16 MiB (a valid, empty array padded with blanks) that declares
    // 3 GiB: at 192:1 it is under the ratio limit, so only the absolute cap can refuse it.
    let scratch = Scratch::new();
    let mut data = b"window.YTD.tweets.part0 = [".to_vec();
    data.resize(16 << 20, b' ');
    data.push(b']');
    let declared: u32 = 3 << 30;
    assert!(u64::from(declared) / data.len() as u64 <= MAX_RATIO);
    assert!(u64::from(declared) > MAX_ENTRY);
    let entry = RawEntry {
        name: b"data/tweets.js",
        method: 0,
        data: &data,
        crc: crc32(&data),
        uncompressed_size: declared,
    };
    scratch.write("big.zip", &zip_with(&[entry], &[]));
    let r = run(scratch.path(), &["inspect", "big.zip"]);
    assert_refused(
        "3 GiB declared",
        &r,
        &["data/tweets.js", &format!("{declared} bytes")],
    );
}

#[test]
fn an_entry_declaring_2_gb() {
    // The zip says data/tweets.js (a few KiB of valid JSON) inflates to 2,000,000,000 bytes:
    // just under the absolute cap, far over the ratio.
    let scratch = Scratch::new();
    let mut zip = valid_archive().zip_bytes();
    assert!(patch_declared_size(
        &mut zip,
        "data/tweets.js",
        2_000_000_000
    ));
    scratch.write("2gb.zip", &zip);
    for args in [
        &["inspect", "2gb.zip"][..],
        &["import", "2gb.zip", "--dry-run"],
    ] {
        let r = run(scratch.path(), args);
        assert_refused("2 GB tweets.js", &r, &["tweets.js", "2000000000 bytes"]);
    }

    // A photo that declares 2 GB, read only for the preview page: the page is written without
    // it, and nothing near 2 GB is ever allocated.
    let scratch = Scratch::new();
    let base = valid_archive();
    let photo = base
        .entries
        .iter()
        .map(|(p, _)| p.clone())
        .find(|p| p.starts_with("data/tweets_media/") && p.ends_with(".jpg"))
        .expect("the photo");
    let mut zip = base.zip_bytes();
    assert!(patch_declared_size(&mut zip, &photo, 2_000_000_000));
    scratch.write("photo.zip", &zip);
    let r = run(
        scratch.path(),
        &["import", "photo.zip", "--dry-run", "--preview", "p.html"],
    );
    assert_accepted("2 GB photo in a preview", &r, MAX_RSS_KIB);
    let page = std::fs::read_to_string(scratch.path().join("p.html")).expect("the preview");
    assert!(page.contains("Harbour photo"), "the tweet is in the page");
}

// ------------------------------------------------------------------------------------------------
// JSON
// ------------------------------------------------------------------------------------------------

#[test]
fn deeply_nested_json() {
    // 50,000 nested objects in an entry decoded as a map (following.js): serde_json's recursion
    // limit, a clear error naming the file and line, no stack overflow.
    let scratch = Scratch::new();
    let deep = format!("{}1{}", "{\"a\":".repeat(50_000), "}".repeat(50_000));
    let folder = scratch.folder_archive(&[("following.js", &|t: String| {
        replace_once(
            &t,
            "\"userLink\"",
            &format!("\"deep\" : {deep}, \"userLink\""),
        )
    })]);
    let r = run(scratch.path(), &["inspect", folder]);
    assert_refused(
        "deep object in following.js",
        &r,
        &["data/following.js", "line 5", "recursion limit"],
    );

    // 100,000 nested arrays in a field migrate does not read, in a tweet; and 1,000,000 in the
    // manifest: skipped without recursion, every tweet still read.
    let scratch = Scratch::new();
    let arrays = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    let folder = scratch.folder_archive(&[
        ("tweets.js", &|t: String| {
            replace_once(
                &t,
                "\"retweeted\" : false,",
                &format!("\"retweeted\" : false, \"extra\" : {},", arrays(100_000)),
            )
        }),
        ("manifest.js", &|t: String| {
            replace_once(
                &t,
                "window.__THAR_CONFIG = {",
                &format!(
                    "window.__THAR_CONFIG = {{ \"deep\" : {},",
                    arrays(1_000_000)
                ),
            )
        }),
    ]);
    let r = run(scratch.path(), &["--json", "inspect", folder]);
    assert_accepted("deep arrays in ignored fields", &r, MAX_RSS_KIB);
    let summary: serde_json::Value = serde_json::from_str(&r.stdout).expect("JSON");
    assert_eq!(summary["tweets"]["total"], 6, "{summary}");
    assert_eq!(summary["problems"].as_array().map(Vec::len), Some(0));

    // 3,000,000 opening brackets and nothing else: the splitter only counts depth.
    let scratch = Scratch::new();
    let folder = scratch.folder_archive(&[("tweets.js", &|_| {
        format!("window.YTD.tweets.part0 = [{}", "[".repeat(3_000_000))
    })]);
    let r = run(scratch.path(), &["inspect", folder]);
    assert_refused("3M open brackets", &r, &["data/tweets.js", "truncated"]);
}

#[test]
fn invalid_utf8_and_lone_surrogates_in_text_fields() {
    // A tweet's full_text with the bytes FF FE: malformed JSON (JSON is UTF-8), refused with
    // the file, line and column of the first bad byte.
    let scratch = Scratch::new();
    let archive = valid_archive();
    let tweets =
        String::from_utf8(archive.get("data/tweets.js").expect("tweets").to_vec()).expect("utf-8");
    let line = tweets
        .lines()
        .position(|l| l.contains("Calm water"))
        .expect("the tweet")
        + 1;
    let mut bytes = tweets
        .replacen("Calm water", "Calm \u{1}water", 1)
        .into_bytes();
    let at = bytes.iter().position(|&b| b == 1).expect("the marker");
    bytes.splice(at..at + 1, [0xFF, 0xFE]);
    let column = String::from_utf8_lossy(&bytes[..at])
        .lines()
        .last()
        .expect("a line")
        .chars()
        .count()
        + 1;
    let mut broken = archive;
    broken.add("data/tweets.js", bytes);
    scratch.write("utf8.zip", &broken.zip_bytes());
    let r = run(scratch.path(), &["inspect", "utf8.zip"]);
    assert_refused(
        "invalid UTF-8 in full_text",
        &r,
        &[
            "data/tweets.js",
            &format!("line {line}, column {column}"),
            "invalid unicode",
        ],
    );

    // An escaped lone surrogate (`\ud800`) is no Unicode text either.
    let scratch = Scratch::new();
    let mut broken = valid_archive();
    let text = tweets.replacen("Calm water", "Calm \\ud800 water", 1);
    broken.add("data/tweets.js", text);
    scratch.write("surrogate.zip", &broken.zip_bytes());
    let r = run(scratch.path(), &["import", "surrogate.zip", "--dry-run"]);
    assert_refused("lone surrogate", &r, &["data/tweets.js", "escape"]);

    // Latin-1 in a CSV: refused before anything touches the network, with the line.
    let scratch = Scratch::new();
    scratch.write("follows.csv", b"ana@far.example\nj\xFCrgen@far.example\n");
    let r = run(scratch.path(), &["import", "follows.csv", "--dry-run"]);
    assert_refused("Latin-1 CSV", &r, &["line 2", "not UTF-8", "UTF-8"]);
}

// ------------------------------------------------------------------------------------------------
// Entry names
// ------------------------------------------------------------------------------------------------

#[test]
fn entry_names_with_nul_and_backslash_dot_dot() {
    // tests/bad_input.rs refuses `data/../../x` and `/abs/x`; here a NUL (which C APIs would cut
    // at) and Windows separators.
    for (what, name, shown) in [
        ("NUL", &b"data/tweets.js\0.txt"[..], "data/tweets.js\\0.txt"),
        ("backslashes", b"data\\..\\..\\evil.txt", "evil.txt"),
    ] {
        let scratch = Scratch::new();
        let extra = RawEntry::stored(name, b"gotcha\n");
        scratch.write("names.zip", &zip_with(&[], &[extra]));
        for args in [
            &["inspect", "names.zip"][..],
            &["import", "names.zip", "--dry-run"],
        ] {
            let r = run(scratch.path(), args);
            assert_refused(what, &r, &[shown]);
        }
        let left: Vec<_> = std::fs::read_dir(scratch.path())
            .expect("read_dir")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n != "names.zip" && n != "state")
            .collect();
        assert!(left.is_empty(), "{what}: files written: {left:?}");
    }
}

// ------------------------------------------------------------------------------------------------
// Entities and ids
// ------------------------------------------------------------------------------------------------

#[test]
fn entity_indices_out_of_range_or_overlapping() {
    // The first tweet's link entity says [900, 2] (out of range and reversed); two mentions
    // overlap it and each other, one with indices at u64::MAX. The link is still expanded (found
    // in the text), nothing panics, the t.co link is gone from the post.
    let scratch = Scratch::new();
    let folder = scratch.folder_archive(&[("tweets.js", &|t: String| {
        let t = replace_once(
            &t,
            "\"indices\" : [\n              \"7\",\n              \"30\"\n            ]",
            "\"indices\" : [ \"900\", \"2\" ]",
        );
        replace_once(
            &t,
            "\"user_mentions\" : [ ],",
            "\"user_mentions\" : [ { \"screen_name\" : \"x\", \"indices\" : [ \"5\", \"12\" ] }, \
             { \"screen_name\" : \"y\", \"indices\" : [ \"3\", \"18446744073709551615\" ] } ],",
        )
    })]);
    let r = run(
        scratch.path(),
        &["import", folder, "--dry-run", "--preview", "p.html"],
    );
    assert_accepted("bad entity indices", &r, MAX_RSS_KIB);
    let page = std::fs::read_to_string(scratch.path().join("p.html")).expect("the preview");
    assert!(
        page.contains("https://x.com/kelpforest_kai/status/1785000000000000006"),
        "the link was not expanded"
    );
    assert!(!page.contains("t.co/uzssU7xcLx"), "the t.co link is left");
}

#[test]
fn ids_that_overflow_u64() {
    // 2^64 as a tweet id, 2^64 + 1 as the account id, a 23-digit followed account, and a count
    // in the manifest past u64: each entry is skipped and reported, the rest is read.
    let scratch = Scratch::new();
    let folder = scratch.folder_archive(&[
        ("tweets.js", &|t: String| {
            let t = replace_once(
                &t,
                "\"id_str\" : \"1785368518972813312\"",
                "\"id_str\" : \"18446744073709551616\"",
            );
            replace_once(
                &t,
                "\"id\" : \"1785368518972813312\"",
                "\"id\" : \"18446744073709551616\"",
            )
        }),
        ("account.js", &|t: String| {
            replace_once(&t, "1392847561029384756", "18446744073709551617")
        }),
        ("following.js", &|t: String| {
            replace_once(&t, "\"2950551801\"", "\"99999999999999999999999\"")
        }),
    ]);
    let r = run(scratch.path(), &["--json", "inspect", folder]);
    assert_accepted("overflowing ids", &r, MAX_RSS_KIB);
    let summary: serde_json::Value = serde_json::from_str(&r.stdout).expect("JSON");
    assert_eq!(summary["tweets"]["total"], 5, "one tweet of six skipped");
    let problems = summary["problems"].to_string();
    for needle in [
        "data/tweets.js",
        "`18446744073709551616` is not a valid id",
        "data/account.js",
        "`18446744073709551617` is not a valid id",
    ] {
        assert!(problems.contains(needle), "{needle} not in {problems}");
    }
    let r = run(scratch.path(), &["import", folder, "--dry-run"]);
    assert_accepted("overflowing ids, dry run", &r, MAX_RSS_KIB);
}

// ------------------------------------------------------------------------------------------------
// CSV and handles files
// ------------------------------------------------------------------------------------------------

fn far_server() -> FakeServer {
    FakeServer::start(
        FakeConfig::default()
            .remote(RemoteAccountSpec::new("ana@far.example"))
            .remote(RemoteAccountSpec::new("bo@far.example")),
    )
}

/// `migrate import FILE --dry-run --json` against the fake server, measured.
fn import_dry_run(env: &Env, server: &FakeServer, file: &str, limit: Duration) -> Run {
    let token = server.issue_token("alice", "read write follow");
    let mut cmd = env.command(server);
    cmd.env("MIGRATE_SERVER", "social.example")
        .env("MIGRATE_TOKEN", &token)
        .args(["import", file, "--dry-run", "--json"]);
    measured(cmd, limit)
}

fn summary_of(run: &Run) -> serde_json::Value {
    let line = run
        .stdout
        .lines()
        .rev()
        .find(|l| l.contains("\"summary\""))
        .unwrap_or_else(|| panic!("no summary:\n{}\n{}", run.stdout, run.stderr));
    serde_json::from_str(line).expect("a JSON summary")
}

fn webfinger_lookups(server: &FakeServer) -> u64 {
    server
        .state()
        .counters
        .requests
        .iter()
        .filter(|(k, _)| k.starts_with("GET far.example/.well-known/webfinger"))
        .map(|(_, n)| n)
        .sum()
}

#[test]
fn a_csv_with_a_10_mb_line() {
    // A follows file whose second line is 10 MB: that row is reported as too long (the report
    // keeps a short excerpt), the others are read.
    let server = far_server();
    let env = Env::new();
    let mut text = String::from("ana@far.example\n");
    text.push_str(&"x".repeat(10 << 20));
    text.push_str("@far.example\nbo@far.example\n");
    std::fs::write(env.path("follows.csv"), &text).expect("write");
    let r = import_dry_run(&env, &server, "follows.csv", Duration::from_secs(60));
    assert_accepted("10 MB line", &r, MAX_RSS_KIB);
    let summary = summary_of(&r);
    // `total` counts the rows read; the unreadable one is among the failures.
    assert_eq!(summary["total"], 2, "{summary}");
    assert_eq!(summary["failed"], 1, "{summary}");
    assert_eq!(
        summary["failed_by_reason"]["unreadable row"], 1,
        "{summary}"
    );
    let report = support_cli::read_csv(&env.path("follows.import-report.csv"));
    let line2 = report.iter().find(|r| r["line"] == "2").expect("line 2");
    assert!(
        line2.values().any(|v| v.contains("longer than 64 KiB")),
        "{line2:?}"
    );
    assert!(report.iter().any(|r| r["line"] == "3"), "line 3 was read");
    let longest = report
        .iter()
        .map(|r| r.values().map(String::len).sum::<usize>());
    assert!(
        longest.max().unwrap_or(0) < 4096,
        "the report holds the long line"
    );
}

#[test]
fn a_csv_in_utf16() {
    // Excel's "Unicode text": UTF-16 with a BOM, either byte order, or without one. Refused
    // before any network use, with the encoding named and a hint.
    let text = "Account address,Show boosts\nana@far.example,true\n";
    let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
    for (what, bytes, name) in [
        (
            "UTF-16LE with BOM",
            [&[0xFF, 0xFE][..], &le].concat(),
            "UTF-16 (little-endian)",
        ),
        (
            "UTF-16BE with BOM",
            [&[0xFE, 0xFF][..], &be].concat(),
            "UTF-16 (big-endian)",
        ),
        ("UTF-16LE without BOM", le.clone(), "UTF-16"),
    ] {
        let scratch = Scratch::new();
        scratch.write("following_accounts.csv", &bytes);
        for args in [
            &["import", "following_accounts.csv", "--dry-run"][..],
            &["resolve", "following_accounts.csv"],
        ] {
            let r = run(scratch.path(), args);
            assert_refused(what, &r, &[name, "hint:", "UTF-8"]);
        }
    }
    // The project's own fixture, as Excel writes it.
    let scratch = Scratch::new();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/csv/utf16le.csv");
    scratch.write("utf16le.csv", &std::fs::read(fixture).expect("the fixture"));
    let r = run(scratch.path(), &["import", "utf16le.csv", "--dry-run"]);
    assert_refused("fixtures/csv/utf16le.csv", &r, &["UTF-16"]);
}

#[test]
fn a_handles_file_with_100000_duplicates() {
    // 100,000 lines naming two accounts in every spelling a handle takes: one WebFinger lookup
    // per account, 99,998 rows reported as duplicates, bounded memory and time. A repeated row
    // costs a line number and an index: the peak is about 14 MiB in a release build and 24 MiB
    // in a debug one (it was 114 MiB when every row kept its own entry, payload and report line).
    let server = far_server();
    let env = Env::new();
    let spellings = [
        "ana@far.example",
        "@ana@far.example",
        "ANA@FAR.EXAMPLE",
        "acct:ana@far.example",
        "https://far.example/@ana",
        "bo@far.example",
        " @Bo@far.example ",
    ];
    let mut text = String::new();
    for i in 0..100_000 {
        text.push_str(spellings[i % spellings.len()]);
        text.push('\n');
    }
    std::fs::write(env.path("handles.txt"), &text).expect("write");
    let r = import_dry_run(&env, &server, "handles.txt", Duration::from_secs(120));
    assert_accepted("100,000 duplicates", &r, 48 * 1024);
    let summary = summary_of(&r);
    assert_eq!(summary["total"], 100_000, "{summary}");
    assert_eq!(summary["failed"], 0, "{summary}");
    let duplicates: u64 = summary["skipped_by_reason"]
        .as_object()
        .expect("skipped_by_reason")
        .iter()
        .filter(|(k, _)| k.contains("duplicate"))
        .map(|(_, v)| v.as_u64().unwrap_or(0))
        .sum();
    assert_eq!(duplicates, 99_998, "{summary}");
    assert_eq!(webfinger_lookups(&server), 2, "one lookup per account");
    eprintln!(
        "100,000 duplicates: {:.1} s, peak RSS {} KiB",
        r.secs, r.max_rss_kib
    );
}
