#!/usr/bin/env bash
# Runs every fuzz target of migrate, one after the other, and prints a summary line for each.
#
#   fuzz/run.sh                 # every target, 30 minutes each (issue 7)
#   fuzz/run.sh 480             # every target, 8 minutes each
#   fuzz/run.sh 600 ytd manifest
#
# Needs a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz --locked`). The corpora
# (fuzz/corpus/<target>, not committed) are seeded from the project's fixtures and from
# fuzz/seeds/<target> on every run, and grow from one run to the next. A crash stops that
# target only: its input is left in fuzz/artifacts/<target>/, and the next target runs. Logs go
# to fuzz/logs/<target>.log; the summary (executions, coverage, corpus, time, crashes) to
# fuzz/logs/summary.txt. Runs under `nice`, one target at a time (the machine is shared).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
cd "$here"

secs="${1:-1800}"
shift || true
all=(ytd manifest archive_zip mastodon_csv webfinger http_headers text_split tweet_text)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${all[@]}")

# The archive's data files, extracted from the fixtures: `<zip>-<entry>` with its bytes.
extract() { # extract DEST [NAME-FILTER]
    python3 - "$root" "$1" "${2:-}" <<'PY'
import pathlib, sys, zipfile
root, dest, only = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3]
for z in sorted((root / "fixtures").glob("*.zip")):
    with zipfile.ZipFile(z) as f:
        for info in f.infolist():
            name = info.filename.rsplit("/", 1)[-1]
            if not name.endswith(".js") or (only and name != only):
                continue
            # The ytd target reads its first byte as a buffer size.
            data = f.read(info)
            prefix = b"" if only else bytes([len(data) % 64])
            (dest / f"{z.stem}-{name}").write_bytes(prefix + data)
for js in (root / "fixtures" / "folder-archive").rglob("*.js"):
    if not only or js.name == only:
        data = js.read_bytes()
        prefix = b"" if only else bytes([len(data) % 64])
        (dest / f"folder-{js.name}").write_bytes(prefix + data)
PY
}

seed() { # seed TARGET
    local t="$1" corpus="corpus/$1"
    mkdir -p "$corpus"
    [ -d "seeds/$t" ] && cp -n seeds/"$t"/* "$corpus"/ 2>/dev/null || true
    case "$t" in
        ytd) extract "$corpus" ;;
        manifest) extract "$corpus" manifest.js ;;
        archive_zip) cp -n "$root"/fixtures/*.zip "$corpus"/ ;;
        mastodon_csv)
            for f in "$root"/fixtures/csv/*.csv "$root"/fixtures/csv/*.txt; do
                # The first byte picks the options: 0 detects everything.
                { printf '\0'; cat "$f"; } > "$corpus/$(basename "$f")"
            done ;;
    esac
}

# LeakSanitizer reports the 32 bytes glibc allocates to register a thread-local destructor in
# each thread the archive reader spawns (`__cxa_thread_atexit_impl`): not a leak of ours.
leaks_for() {
    case "$1" in
        archive_zip) echo "-detect_leaks=0" ;;
    esac
}

dict_for() {
    case "$1" in
        ytd | manifest | archive_zip | webfinger) echo "-dict=$here/dicts/json.dict" ;;
        mastodon_csv) echo "-dict=$here/dicts/csv.dict" ;;
    esac
}

mkdir -p logs
nice -n 10 cargo +nightly fuzz build -O
for t in "${targets[@]}"; do
    seed "$t"
    log="logs/$t.log"
    start=$(date +%s)
    set +e
    # shellcheck disable=SC2046
    nice -n 10 cargo +nightly fuzz run -O "$t" "corpus/$t" -- \
        -max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
        $(dict_for "$t") $(leaks_for "$t") >"$log" 2>&1
    code=$?
    set -e
    wall=$(( $(date +%s) - start ))
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1 || true)
    last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
    cov=$(grep -o 'cov: [0-9]*' <<<"$last" | grep -o '[0-9]*' || true)
    ft=$(grep -o 'ft: [0-9]*' <<<"$last" | grep -o '[0-9]*' || true)
    corp=$(grep -o 'corp: [0-9]*' <<<"$last" | grep -o '[0-9]*' || true)
    corpus=$(find "corpus/$t" -type f | wc -l)
    crashes=$(find "artifacts/$t" -type f 2>/dev/null | wc -l)
    line="$t: execs=${execs:-?} cov=${cov:-?} ft=${ft:-?} corp=${corp:-?} files=$corpus wall=${wall}s exit=$code artifacts=$crashes"
    echo "$line" | tee -a logs/summary.txt
done
