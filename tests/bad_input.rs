//! `migrate inspect` on broken and hostile inputs, built at run time in a temporary directory.
//! Each must end with exit code 2 and a clear `error:` on stderr naming the file (and, for JSON,
//! the line), never a panic; hostile zips must not make it write anything to disk or use
//! unbounded memory.

#[path = "support/archive.rs"]
mod archive;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use archive::*;

// ------------------------------------------------------------------------------------------------
// Running the binary, with a time limit and a measure of its peak memory
// ------------------------------------------------------------------------------------------------

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    /// Peak resident set size of the process, in KiB.
    max_rss_kib: i64,
}

/// Runs `migrate` in `cwd`, with `TMPDIR` pointing at `tmpdir`; kills it after `limit`.
// The child is reaped with `wait4` (to read its own peak memory), which clippy cannot see.
#[allow(clippy::zombie_processes)]
fn migrate_in(args: &[&str], cwd: &Path, tmpdir: &Path, limit: Duration) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_migrate"))
        .args(args)
        .current_dir(cwd)
        .env("TMPDIR", tmpdir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn migrate");
    let pid = child.id() as libc::pid_t;
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut out, &mut buf).ok();
        buf
    });
    let err = std::thread::spawn(move || {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut err, &mut buf).ok();
        buf
    });
    let started = Instant::now();
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero `rusage` is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
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
        if started.elapsed() > limit {
            child.kill().ok();
            panic!("migrate {args:?} still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    Run {
        code,
        stdout: String::from_utf8_lossy(&out.join().expect("stdout thread")).into_owned(),
        stderr: String::from_utf8_lossy(&err.join().expect("stderr thread")).into_owned(),
        max_rss_kib: usage.ru_maxrss,
    }
}

/// A scratch directory with `work/` (the current directory of the run) and `tmp/` (its TMPDIR).
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Scratch {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("work")).expect("work dir");
        std::fs::create_dir_all(dir.path().join("tmp")).expect("tmp dir");
        Scratch { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, bytes).expect("write input");
        path
    }

    /// Runs `migrate inspect <input>` (and with `--json` when `json`).
    fn inspect(&self, input: &Path, json: bool) -> Run {
        let input = input.to_str().expect("utf-8 path");
        let args: Vec<&str> = if json {
            vec!["--json", "inspect", input]
        } else {
            vec!["inspect", input]
        };
        migrate_in(
            &args,
            &self.path("work"),
            &self.path("tmp"),
            Duration::from_secs(120),
        )
    }

    /// Every file under the scratch directory, relative to it.
    fn files(&self) -> Vec<String> {
        fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, root, out);
                } else {
                    out.push(
                        path.strip_prefix(root)
                            .unwrap_or(&path)
                            .display()
                            .to_string(),
                    );
                }
            }
        }
        let mut out = Vec::new();
        walk(self.dir.path(), self.dir.path(), &mut out);
        out.sort();
        out
    }
}

/// The common expectations: exit 2, no panic, an `error:` line, and every `needles` in stderr.
fn assert_refused(what: &str, run: &Run, needles: &[&str]) {
    assert!(
        !run.stderr.contains("panicked"),
        "{what}: migrate panicked:\n{}",
        run.stderr
    );
    assert_eq!(
        run.code,
        Some(2),
        "{what}: expected exit code 2\nstdout:\n{}\nstderr:\n{}",
        run.stdout,
        run.stderr
    );
    assert!(
        run.stderr.lines().any(|l| l.starts_with("error:")),
        "{what}: no line starting with `error:` on stderr:\n{}",
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

// ------------------------------------------------------------------------------------------------
// A small valid archive to break
// ------------------------------------------------------------------------------------------------

const OWNER: Owner = Owner {
    id: "1488000000000000077",
    username: "broken_bay",
    display_name: "Broken Bay",
    email: "broken@example.com",
    created_at: "2022-02-01T00:00:00.000Z",
};

const CRAB: User = User {
    id: "4401175213",
    screen_name: "hermit_crab_club",
    name: "Hermit Crab Club",
};

/// Two parts of three tweets each.
fn parts() -> Vec<Vec<Tweet>> {
    let root = Tweet::new("2023-02-01T10:00:00Z", 0).text("A thread about broken files 🧵");
    let child = Tweet::new("2023-02-01T10:01:00Z", 0)
        .text("They happen more often than you think.")
        .reply_to(Some(&root.id), OWNER.id, OWNER.username);
    vec![
        vec![
            Tweet::new("2023-06-01T09:00:00Z", 0).text("Low tide & sunshine > rain"),
            child,
            Tweet::new("2023-05-01T09:00:00Z", 0)
                .text("Beach photo")
                .media(Media::photo("GbRoKeNbAy0001")),
        ],
        vec![
            root,
            Tweet::new("2023-03-01T09:00:00Z", 0)
                .mention(CRAB)
                .text(" see you Saturday")
                .reply_to(Some("1630000000000000001"), CRAB.id, CRAB.screen_name),
            Tweet::new("2023-04-01T09:00:00Z", 0).text("潮だまり 🦀"),
        ],
    ]
}

fn valid_archive() -> Archive {
    modern_archive(
        &OWNER,
        "2023-07-01T00:00:00.000Z",
        &parts(),
        Social {
            following: &["2950551801"],
            follower: &["2950551801", "37705921"],
            block: &[],
            mute: &[],
        },
    )
}

fn text_of(archive: &Archive, path: &str) -> String {
    String::from_utf8(archive.get(path).expect("entry exists").to_vec()).expect("utf-8")
}

/// The 1-based number of the `nth` (0-based) line of `text` containing `needle`.
fn line_of(text: &str, needle: &str, nth: usize) -> usize {
    text.lines()
        .enumerate()
        .filter(|(_, line)| line.contains(needle))
        .nth(nth)
        .map(|(i, _)| i + 1)
        .unwrap_or_else(|| panic!("{needle:?} #{nth} not in the text"))
}

// ------------------------------------------------------------------------------------------------
// Not an archive at all
// ------------------------------------------------------------------------------------------------

#[test]
fn the_valid_archive_used_below_is_accepted() {
    // A control: the breakage, not the base archive, is what the other tests refuse.
    let scratch = Scratch::new();
    let input = scratch.write("base.zip", &valid_archive().zip_bytes());
    let run = scratch.inspect(&input, true);
    assert_eq!(run.code, Some(0), "stderr:\n{}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("json output");
    assert_eq!(
        json.pointer("/tweets/total").and_then(|v| v.as_u64()),
        Some(6)
    );
}

#[test]
fn a_file_that_is_not_a_zip() {
    let scratch = Scratch::new();
    let input = scratch.write("notes.zip", b"Just some notes, not a zip archive.\n");
    for json in [false, true] {
        let run = scratch.inspect(&input, json);
        assert_refused("text file named .zip", &run, &["notes.zip"]);
    }
}

#[test]
fn an_empty_file() {
    let scratch = Scratch::new();
    let input = scratch.write("empty.zip", b"");
    assert_refused(
        "empty file",
        &scratch.inspect(&input, false),
        &["empty.zip"],
    );
}

#[test]
fn a_path_that_does_not_exist() {
    let scratch = Scratch::new();
    let input = scratch.path("nowhere-to-be-found.zip");
    assert_refused(
        "missing path",
        &scratch.inspect(&input, false),
        &["nowhere-to-be-found.zip"],
    );
}

#[test]
fn a_truncated_zip() {
    // A valid zip cut in half: no central directory any more.
    let scratch = Scratch::new();
    let whole =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sample-archive.zip"))
            .expect("read the committed sample archive");
    let input = scratch.write("half.zip", &whole[..whole.len() / 2]);
    for json in [false, true] {
        assert_refused(
            "zip cut in half",
            &scratch.inspect(&input, json),
            &["half.zip"],
        );
    }
}

#[test]
fn a_zip_with_a_corrupted_entry() {
    // The central directory is intact, but bytes in the middle of data/tweets.js's deflate
    // stream are overwritten: inflating fails or the CRC does not match.
    let scratch = Scratch::new();
    let mut zip = valid_archive().zip_bytes();
    let name = b"data/tweets.js";
    let header = zip
        .windows(4 + 26 + name.len())
        .position(|w| w[..4] == [0x50, 0x4b, 0x03, 0x04] && &w[30..] == name)
        .expect("local header of data/tweets.js");
    let u16_at = |at: usize| u16::from_le_bytes([zip[at], zip[at + 1]]) as usize;
    let u32_at =
        |at: usize| u32::from_le_bytes([zip[at], zip[at + 1], zip[at + 2], zip[at + 3]]) as usize;
    let compressed = u32_at(header + 18);
    let data = header + 30 + u16_at(header + 26) + u16_at(header + 28);
    for byte in &mut zip[data + compressed / 3..data + compressed / 3 + 16] {
        *byte ^= 0x5a;
    }
    let input = scratch.write("corrupt.zip", &zip);
    assert_refused(
        "corrupted entry",
        &scratch.inspect(&input, false),
        &["tweets.js"],
    );
}

#[test]
fn a_zip_without_a_data_folder() {
    let scratch = Scratch::new();
    let mut other = Archive::new();
    other.add("README.md", "# Holiday photos\n");
    other.add("photos/IMG_0001.jpg", placeholder_jpeg());
    other.add("photos/IMG_0002.jpg", placeholder_jpeg());
    let input = scratch.write("holiday.zip", &other.zip_bytes());
    for json in [false, true] {
        assert_refused(
            "zip without data/",
            &scratch.inspect(&input, json),
            &["holiday.zip"],
        );
    }
}

#[test]
fn a_folder_without_a_data_folder() {
    let scratch = Scratch::new();
    let folder = scratch.path("just-photos");
    let mut other = Archive::new();
    other.add("photos/IMG_0001.jpg", placeholder_jpeg());
    other.write_dir(&folder).expect("write folder");
    assert_refused(
        "folder without data/",
        &scratch.inspect(&folder, false),
        &["just-photos"],
    );
}

// ------------------------------------------------------------------------------------------------
// Broken data files
// ------------------------------------------------------------------------------------------------

#[test]
fn malformed_json_in_one_part() {
    // In tweets-part1.js (multi-line printing), the second entry's `"retweeted" : false` becomes
    // `"retweeted" : flase`: the error must name the part and the line of that token.
    let scratch = Scratch::new();
    let mut archive = valid_archive();
    let text = text_of(&archive, "data/tweets-part1.js");
    let line = line_of(&text, "\"retweeted\" : false", 1);
    let broken: Vec<String> = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i + 1 == line {
                l.replace("false", "flase")
            } else {
                l.to_string()
            }
        })
        .collect();
    archive.add("data/tweets-part1.js", broken.join("\n"));
    let input = scratch.write("badjson.zip", &archive.zip_bytes());
    let line = format!("line {line}");
    for json in [false, true] {
        assert_refused(
            "malformed JSON in a part",
            &scratch.inspect(&input, json),
            &["tweets-part1.js", &line],
        );
    }
}

#[test]
fn malformed_json_in_a_compact_2020_file() {
    // No manifest (files found by name), compact printing, and a missing comma between two keys
    // of the third entry: `"favorite_count" : "0"` directly followed by the next key.
    let scratch = Scratch::new();
    let style = Style::Compact;
    let tweets: Vec<Tweet> = parts()
        .into_iter()
        .flatten()
        .map(Tweet::no_edit_info)
        .collect();
    let entries: Vec<J> = tweets
        .iter()
        .map(|t| t.entry(OWNER.username, true))
        .collect();
    let text = ytd("tweet.part0", entries, style);
    let line = line_of(&text, "\"favorite_count\" : \"0\",", 2);
    let broken: Vec<String> = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i + 1 == line {
                l.trim_end_matches(',').to_string()
            } else {
                l.to_string()
            }
        })
        .collect();
    // serde_json reports the missing comma at the next token, on the following line.
    let error_line = line + 1;
    let mut archive = Archive::new();
    archive.add("data/account.js", account(&OWNER, None, style));
    archive.add("data/tweet.js", broken.join("\n"));
    let input = scratch.write("compact.zip", &archive.zip_bytes());
    assert_refused(
        "malformed compact tweet.js",
        &scratch.inspect(&input, false),
        &["tweet.js", &format!("line {error_line}")],
    );
}

#[test]
fn a_part_cut_short() {
    // tweets.js ends in the middle of its second entry (a download cut short).
    let scratch = Scratch::new();
    let mut archive = valid_archive();
    let text = text_of(&archive, "data/tweets.js");
    let cut = text
        .match_indices("\"full_text\"")
        .nth(1)
        .map(|(at, _)| at)
        .expect("second full_text");
    let short = &text[..cut];
    archive.add("data/tweets.js", short);
    let input = scratch.write("cut.zip", &archive.zip_bytes());
    let run = scratch.inspect(&input, false);
    assert_refused("part cut short", &run, &["tweets.js"]);
    // The position is either the end of the file or the start of the unfinished entry.
    let end_line = short.lines().count();
    let entry_line = line_of(&text, "\"tweet\" : {", 1) - 1;
    assert!(
        run.stderr.contains(&format!("line {end_line}"))
            || run.stderr.contains(&format!("line {entry_line}")),
        "no position (line {end_line} or line {entry_line}) in:\n{}",
        run.stderr
    );
}

#[test]
fn a_part_that_is_an_html_page() {
    // What a browser saves when the download link had expired.
    let scratch = Scratch::new();
    let mut archive = valid_archive();
    archive.add(
        "data/tweets.js",
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>Something went wrong</title></head>\n<body><p>This page is down. Try again later.</p></body>\n</html>\n",
    );
    let input = scratch.write("html.zip", &archive.zip_bytes());
    for json in [false, true] {
        assert_refused(
            "HTML instead of JSON",
            &scratch.inspect(&input, json),
            &["tweets.js"],
        );
    }
}

// ------------------------------------------------------------------------------------------------
// Hostile zips
// ------------------------------------------------------------------------------------------------

/// Peak memory allowed to `migrate` on a hostile zip (the bombs inflate to 200 MiB).
const MAX_RSS_KIB: i64 = 128 * 1024;

/// The valid archive with `data/tweets.js` replaced by a deflate bomb of `count` × `byte`
/// between `prefix` and `suffix`.
fn bomb_zip(prefix: &[u8], byte: u8, count: u64, suffix: &[u8]) -> Vec<u8> {
    let base = valid_archive();
    let (deflated, crc, size) = deflate_bomb(prefix, byte, count, suffix);
    let mut entries: Vec<RawEntry<'_>> = base
        .entries
        .iter()
        .filter(|(p, _)| !p.ends_with('/') && p != "data/tweets.js")
        .map(|(p, b)| RawEntry::stored(p.as_bytes(), b))
        .collect();
    entries.push(RawEntry {
        name: b"data/tweets.js",
        method: 8,
        data: &deflated,
        crc,
        uncompressed_size: u32::try_from(size).expect("under 4 GiB"),
    });
    raw_zip_entries(&entries)
}

#[test]
fn the_hand_made_deflate_bomb_is_a_valid_zip_entry() {
    // A check of the test tool itself: the zip crate inflates a small bomb to exactly the
    // intended bytes, with a matching CRC.
    let zip = bomb_zip(b"window.YTD.tweets.part0 = [", b' ', 100_003, b"]");
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).expect("zip opens");
    let mut entry = archive.by_name("data/tweets.js").expect("entry");
    let mut content = Vec::new();
    std::io::Read::read_to_end(&mut entry, &mut content).expect("inflates, CRC matches");
    let mut expected = b"window.YTD.tweets.part0 = [".to_vec();
    expected.extend(std::iter::repeat_n(b' ', 100_003));
    expected.push(b']');
    assert!(content == expected, "the bomb inflates to other bytes");
    assert!(
        entry.compressed_size() * 500 < entry.size(),
        "ratio too low"
    );
}

/// Runs `migrate inspect` on a bomb and checks it is refused cheaply: exit 2 naming the entry,
/// bounded memory, nothing written to disk.
fn assert_bomb_refused(what: &str, zip: &[u8]) {
    let scratch = Scratch::new();
    let input = scratch.write("bomb.zip", zip);
    let before = scratch.files();
    let run = scratch.inspect(&input, false);
    assert_refused(what, &run, &["tweets.js"]);
    assert!(
        run.max_rss_kib < MAX_RSS_KIB,
        "{what}: peak memory {} KiB (limit {MAX_RSS_KIB} KiB)",
        run.max_rss_kib
    );
    assert_eq!(scratch.files(), before, "{what}: files appeared on disk");
}

#[test]
fn a_zip_bomb_of_zeros() {
    // data/tweets.js: 200 MiB of zero bytes deflated to about 200 KiB (1,000:1).
    let zip = bomb_zip(b"", 0, 200 << 20, b"");
    assert!(zip.len() < 300 << 10, "bomb is {} bytes", zip.len());
    assert_bomb_refused("zip bomb of zeros", &zip);
}

#[test]
fn a_zip_bomb_that_is_valid_json() {
    // data/tweets.js: `window.YTD.tweets.part0 = [`, 200 MiB of spaces, `]`. Valid JSON (an empty
    // array), so only the expansion ratio gives it away: no reader needs 200 MiB of blanks.
    let zip = bomb_zip(b"window.YTD.tweets.part0 = [", b' ', 200 << 20, b"]");
    assert!(zip.len() < 300 << 10, "bomb is {} bytes", zip.len());
    assert_bomb_refused("zip bomb of whitespace", &zip);
}

#[test]
fn an_entry_that_declares_an_absurd_size() {
    // data/tweets.js is small and valid, but the zip says it inflates to 4 GiB − 16 bytes: more
    // than 1,000 times (deflate's limit) its compressed size.
    let scratch = Scratch::new();
    let mut zip = valid_archive().zip_bytes();
    assert!(
        patch_declared_size(&mut zip, "data/tweets.js", 0xffff_fff0),
        "data/tweets.js not found in the zip"
    );
    let input = scratch.write("absurd.zip", &zip);
    let before = scratch.files();
    let run = scratch.inspect(&input, false);
    assert_refused("absurd declared size", &run, &["tweets.js"]);
    assert!(
        run.max_rss_kib < MAX_RSS_KIB,
        "absurd size: peak memory {} KiB",
        run.max_rss_kib
    );
    assert_eq!(
        scratch.files(),
        before,
        "absurd size: files appeared on disk"
    );
}

#[test]
fn an_entry_that_declares_a_size_smaller_than_its_content() {
    // The zip says data/tweets.js inflates to 100 bytes; it inflates to several KiB.
    let scratch = Scratch::new();
    let mut zip = valid_archive().zip_bytes();
    assert!(patch_declared_size(&mut zip, "data/tweets.js", 100));
    let input = scratch.write("short.zip", &zip);
    assert_refused(
        "size smaller than content",
        &scratch.inspect(&input, false),
        &["tweets.js"],
    );
}

/// The valid archive's files as stored entries, plus `extra` (raw name, content).
fn raw_with(extra: (&[u8], &[u8])) -> Vec<u8> {
    let base = valid_archive();
    let mut entries: Vec<(&[u8], &[u8])> = base
        .entries
        .iter()
        .filter(|(p, _)| !p.ends_with('/'))
        .map(|(p, b)| (p.as_bytes(), b.as_slice()))
        .collect();
    entries.insert(2, extra);
    raw_zip(&entries)
}

#[test]
fn an_entry_name_with_dot_dot() {
    let scratch = Scratch::new();
    // Resolved against work/ (the current directory) this lands in the scratch root; against
    // the archive's folder, one level above the scratch directory.
    let name = "data/../../../escaped-by-dotdot.txt";
    let input = scratch.write("dotdot.zip", &raw_with((name.as_bytes(), b"gotcha\n")));
    let before = scratch.files();
    for json in [false, true] {
        let run = scratch.inspect(&input, json);
        assert_refused("entry name with ..", &run, &["escaped-by-dotdot.txt"]);
    }
    assert_eq!(
        scratch.files(),
        before,
        "files appeared in the scratch directory"
    );
    let outside = scratch
        .dir
        .path()
        .parent()
        .expect("parent")
        .join("escaped-by-dotdot.txt");
    assert!(!outside.exists(), "{} was written", outside.display());
}

#[test]
fn an_entry_name_with_an_absolute_path() {
    let scratch = Scratch::new();
    let target = scratch.path("absolute-target").join("escaped-absolute.txt");
    let name = target.to_str().expect("utf-8").to_string();
    assert!(name.starts_with('/'));
    let input = scratch.write("absolute.zip", &raw_with((name.as_bytes(), b"gotcha\n")));
    let before = scratch.files();
    for json in [false, true] {
        let run = scratch.inspect(&input, json);
        assert_refused("absolute entry name", &run, &["escaped-absolute.txt"]);
    }
    assert!(!target.exists(), "{} was written", target.display());
    assert_eq!(
        scratch.files(),
        before,
        "files appeared in the scratch directory"
    );
}
