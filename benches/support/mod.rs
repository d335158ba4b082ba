//! What the end-to-end benchmarks share: synthetic archives cached in `target/bench-data/`, and
//! running the release binary as a child whose wall time, CPU time and peak RSS are measured.

#![allow(dead_code)]

#[path = "../../examples/gen_archive.rs"]
pub mod gen_archive;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use gen_archive::{Counts, GENERATOR_VERSION, Params};
use serde::{Deserialize, Serialize};

/// Where generated archives are kept between runs.
pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-data")
}

/// The cache entry written next to each archive.
#[derive(Serialize, Deserialize)]
struct Cached {
    generator_version: u32,
    params: Params,
    counts: Counts,
}

/// The archive for `p`, generated once and reused while the generator and parameters match.
pub fn archive(data_dir: &Path, p: &Params) -> (PathBuf, Counts) {
    let stem = format!(
        "x-archive-{}-seed{}-media{}",
        p.tweets, p.seed, p.media_fraction
    );
    let zip = data_dir.join(format!("{stem}.zip"));
    let meta = data_dir.join(format!("{stem}.json"));
    if let Ok(text) = std::fs::read_to_string(&meta)
        && let Ok(c) = serde_json::from_str::<Cached>(&text)
        && c.generator_version == GENERATOR_VERSION
        && c.params == *p
        && std::fs::metadata(&zip).is_ok_and(|m| m.len() == c.counts.zip_bytes)
    {
        eprintln!("reusing {}", zip.display());
        return (zip, c.counts);
    }
    std::fs::create_dir_all(data_dir).expect("create target/bench-data");
    let tmp = data_dir.join(format!("{stem}.zip.partial"));
    eprint!("generating {} tweets into {} … ", p.tweets, zip.display());
    let t = Instant::now();
    let counts = gen_archive::generate(p, &tmp).expect("generate the archive");
    std::fs::rename(&tmp, &zip).expect("rename the archive");
    eprintln!("{:.1} s", t.elapsed().as_secs_f64());
    let cached = Cached {
        generator_version: GENERATOR_VERSION,
        params: p.clone(),
        counts: counts.clone(),
    };
    std::fs::write(&meta, serde_json::to_string_pretty(&cached).expect("json"))
        .expect("write the cache entry");
    (zip, counts)
}

/// One measured run of a child process.
pub struct Run {
    pub secs: f64,
    /// User + system CPU time of the child.
    pub cpu_secs: f64,
    pub max_rss_kib: u64,
    pub exit: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Run {
    pub fn peak_rss_mib(&self) -> f64 {
        self.max_rss_kib as f64 / 1024.0
    }

    /// The last line of stdout as JSON (the `--json` summary).
    pub fn summary(&self) -> Option<serde_json::Value> {
        let text = String::from_utf8_lossy(&self.stdout);
        serde_json::from_str(text.lines().last()?).ok()
    }
}

/// Runs `cmd` to the end and reaps it with `wait4`, to get the child's own peak RSS and CPU
/// time (not the bench's, which may host a fake server).
pub fn run_measured(cmd: &mut Command) -> Run {
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn migrate");
    // The child's own peak, sampled from `/proc` (`VmHWM` only grows, so the last sample is
    // within 10 ms of the end). `ru_maxrss` from `wait4` would be charged the bench process's
    // own peak at the fork, which is larger than the child's when the bench hosts a server.
    let pid = child.id() as libc::pid_t;
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut peak = 0u64;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                peak = peak.max(vm_hwm_kib(pid));
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            peak
        })
    };
    let mut err_pipe = child.stderr.take().expect("stderr");
    let stderr_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err_pipe.read_to_end(&mut buf);
        buf
    });
    let mut stdout = Vec::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_end(&mut stdout)
        .expect("read the child's stdout");
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain data, and wait4 only writes into the two locals.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4: {}", std::io::Error::last_os_error());
    let secs = start.elapsed().as_secs_f64();
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let sampled = sampler.join().unwrap_or(0);
    // `child` was reaped above; dropping a Child neither waits nor kills.
    drop(child);
    let exit = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Run {
        secs,
        cpu_secs: tv(usage.ru_utime) + tv(usage.ru_stime),
        // Linux reports ru_maxrss in KiB; it is an upper bound (see above), the sample the
        // child's own figure.
        max_rss_kib: if sampled > 0 {
            sampled
        } else {
            u64::try_from(usage.ru_maxrss).unwrap_or(0)
        },
        exit,
        stdout,
        stderr: stderr_reader.join().unwrap_or_default(),
    }
}

/// The high-water mark of `pid`'s resident memory (`VmHWM`, KiB), 0 once it has exited.
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
