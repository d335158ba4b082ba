#!/usr/bin/env python3
"""Independent oracle for tests/real_samples.rs.

Computes, straight from the real sample archives in ../shared/samples/twitter
(relative to the crate root), the figures that `migrate inspect --json` must
report. It shares no code with the Rust reader: it is a second, deliberately
simple implementation of the definitions written in the test's header comment
(and FORMATS.md §1), so a disagreement points at one of the two.

Usage:
    python3 tests/support/sample_oracle.py            # figures per set (JSON)
    python3 tests/support/sample_oracle.py --verbose  # plus tweet ids per figure
    python3 tests/support/sample_oracle.py --rust     # figures as Rust constants

Only figures are printed by default (counts and instants). With --verbose the
tweet ids behind each figure are printed too, to diagnose mismatches; never
paste that output into the project.
"""

import argparse
import glob
import json
import os
import re
import sys
from datetime import datetime, timezone

CRATE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SAMPLES = os.path.join(CRATE_ROOT, "..", "shared", "samples", "twitter")

FULL_SETS = [
    "x-archive-2026-03_milahu104",
    "x-archive-2024-11_alrocar",
    "gdpr-archive-2020-04_lumeninferius",
]
GRAPH_ONLY_SET = "twitter-to-sqlite-fixtures"

# A status URL: twitter.com or x.com (optionally www./mobile.), then either
# /<user>/status/<digits> or /i/web/status/<digits>, then nothing or a
# separator (query, fragment, or a further path such as /photo/1).
STATUS_URL = re.compile(
    r"^https?://(?:www\.|mobile\.)?(?:twitter|x)\.com/"
    r"(?:i/web|[A-Za-z0-9_]+)/status/[0-9]+(?:[/?#].*)?$",
    re.IGNORECASE,
)
TCO = re.compile(r"https://t\.co/\w+")
LEADING_MENTIONS = re.compile(r"^(?:@\w+\s+)+")
PLACEHOLDER = "\x00URL\x00"


def load_js(path):
    """Parse a `window.YTD.x.partN = [...]` / `window.__THAR_CONFIG = {...}` file."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    body = text[text.index("=") + 1 :].strip()
    if body.endswith(";"):
        body = body[:-1]
    return json.loads(body)


def load_entries(path, key):
    """Entries of a data file, unwrapped from {key: {...}} when wrapped; [] when absent."""
    if not os.path.exists(path):
        return []
    return [e[key] if isinstance(e, dict) and key in e else e for e in load_js(path)]


def parse_created_at(s):
    return datetime.strptime(s, "%a %b %d %H:%M:%S %z %Y")


def rfc3339(dt):
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def unescape_once(s):
    """Single-pass unescape of the three entities X uses (&amp;lt; -> &lt;)."""
    return re.sub(r"&(amp|lt|gt);", lambda m: {"amp": "&", "lt": "<", "gt": ">"}[m.group(1)], s)


def norm_ws(s):
    return " ".join(s.split())


def edit_tweet_ids(t):
    ei = t.get("edit_info") or {}
    ids = (ei.get("initial") or {}).get("editTweetIds")
    if not ids:
        ids = ((ei.get("edit") or {}).get("editControlInitial") or {}).get("editTweetIds")
    return ids or []


def media_listing(set_dir):
    present = set()
    with open(os.path.join(set_dir, "MEDIA_LISTING.tsv"), encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            _size, path = line.split("\t", 1)
            present.add(path)
    return present


def expected_media_name(tweet_id, m):
    kind = m["type"]
    if kind == "photo":
        return f"{tweet_id}-{os.path.basename(m['media_url_https'])}"
    variants = [
        v for v in (m.get("video_info") or {}).get("variants", []) if v.get("content_type") == "video/mp4"
    ]
    best = max(variants, key=lambda v: int(v.get("bitrate", "0")))
    return f"{tweet_id}-{os.path.basename(best['url'].split('?', 1)[0])}"


def note_matches(tweet, note):
    """FORMATS.md §1.6 join rule: same second, then the cleaned tweet text is a prefix of the note."""
    note_at = datetime.strptime(note["createdAt"], "%Y-%m-%dT%H:%M:%S.%f%z").replace(microsecond=0)
    if parse_created_at(tweet["created_at"]) != note_at:
        return False
    text = TCO.sub(PLACEHOLDER, unescape_once(tweet["full_text"]))
    text = LEADING_MENTIONS.sub("", text)
    while True:
        stripped = text.rstrip()
        if stripped.endswith(PLACEHOLDER):
            text = stripped[: -len(PLACEHOLDER)]
        elif stripped.endswith("…"):
            text = stripped[: -len("…")]
        else:
            text = stripped
            break
    text = norm_ws(text)
    note_text = norm_ws(TCO.sub(PLACEHOLDER, note["core"]["text"]))
    return bool(text) and note_text.startswith(text)


def figures_for_set(name, verbose):
    set_dir = os.path.join(SAMPLES, name)
    data = os.path.join(set_dir, "data")
    out = {}
    ids = {}

    account = load_entries(os.path.join(data, "account.js"), "account")[0]
    account_id = account["accountId"]
    out["account"] = {
        "id": account_id,
        "username": account["username"],
        "display_name": account["accountDisplayName"],
    }
    manifest_path = os.path.join(data, "manifest.js")
    out["generated_at"] = (
        load_js(manifest_path)["archiveInfo"]["generationDate"] if os.path.exists(manifest_path) else None
    )

    # --- tweets: tweets.js / tweet.js and their part files, then community-tweet.js
    tweet_files = sorted(
        set(
            glob.glob(os.path.join(data, "tweet.js"))
            + glob.glob(os.path.join(data, "tweets.js"))
            + glob.glob(os.path.join(data, "tweet-part*.js"))
            + glob.glob(os.path.join(data, "tweets-part*.js"))
        )
    )
    raw = []  # (tweet, is_community)
    for path in tweet_files:
        raw += [(t, False) for t in load_entries(path, "tweet")]
    raw += [(t, True) for t in load_entries(os.path.join(data, "community-tweet.js"), "tweet")]
    seen = set()
    for t, _ in raw:
        if t["id_str"] in seen:
            print(f"warning: {name}: duplicate tweet id (ignored by oracle)", file=sys.stderr)
        seen.add(t["id_str"])

    deleted = {t["id_str"] for t in load_entries(os.path.join(data, "deleted-tweets.js"), "tweet")}

    kept = []
    edited_dropped = []
    deleted_dropped = []
    for t, community in raw:
        edits = edit_tweet_ids(t)
        if edits and t["id_str"] != edits[-1]:
            edited_dropped.append(t["id_str"])
            continue
        if t["id_str"] in deleted:
            deleted_dropped.append(t["id_str"])
            continue
        kept.append((t, community))
    kept_ids = {t["id_str"] for t, _ in kept}
    ids["edited_versions_dropped"] = edited_dropped
    ids["deleted_tweets_present_and_dropped"] = deleted_dropped

    classes = {"original": [], "self_replies": [], "replies": [], "retweets": []}
    quotes = []
    for t, _ in kept:
        reply_to = t.get("in_reply_to_user_id_str") or t.get("in_reply_to_user_id")
        if t["full_text"].startswith("RT @"):
            classes["retweets"].append(t["id_str"])
        elif reply_to is not None and reply_to == account_id:
            classes["self_replies"].append(t["id_str"])
        elif reply_to is not None:
            classes["replies"].append(t["id_str"])
        else:
            classes["original"].append(t["id_str"])
        urls = (t.get("entities") or {}).get("urls") or []
        if any(STATUS_URL.match(u.get("expanded_url") or "") for u in urls):
            quotes.append(t["id_str"])

    # --- long tweets: note-tweet.js joined to kept tweets
    notes = load_entries(os.path.join(data, "note-tweet.js"), "noteTweet")
    long_ids = set()
    for note in notes:
        matches = [t["id_str"] for t, _ in kept if note_matches(t, note)]
        if len(matches) > 1:
            print(f"warning: {name}: a note matches {len(matches)} tweets", file=sys.stderr)
        long_ids.update(matches)
    ids["long"] = sorted(long_ids)
    ids["notes_without_kept_tweet"] = [
        n["noteTweetId"] for n in notes if not any(note_matches(t, n) for t, _ in kept)
    ]
    derived_join = os.path.join(set_dir, "DERIVED_note_tweet_join.json")
    if os.path.exists(derived_join):
        with open(derived_join, encoding="utf-8") as f:
            join = json.load(f)["noteTweetId_to_tweet_id"]
        expected = {tid for tid in join.values() if tid in kept_ids}
        if expected != long_ids:
            print(f"warning: {name}: note join differs from DERIVED_note_tweet_join.json", file=sys.stderr)
        ids["derived_join_tweets_absent"] = sorted(tid for tid in join.values() if tid not in seen)

    out["tweets"] = {
        "total": len(kept),
        "original": len(classes["original"]),
        "self_replies": len(classes["self_replies"]),
        "replies": len(classes["replies"]),
        "retweets": len(classes["retweets"]),
        "quotes": len(quotes),
        "long": len(long_ids),
        "edited_versions_dropped": len(edited_dropped),
        "deleted_excluded": len(deleted),
        "community": sum(1 for _, c in kept if c),
    }
    ids.update(classes)
    ids["quotes"] = quotes

    # --- threads: connected groups of >= 2 kept tweets linked by self-replies
    parent = {tid: tid for tid in kept_ids}

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for t, _ in kept:
        reply_to = t.get("in_reply_to_user_id_str") or t.get("in_reply_to_user_id")
        up = t.get("in_reply_to_status_id_str") or t.get("in_reply_to_status_id")
        if reply_to == account_id and up in kept_ids:
            parent[find(t["id_str"])] = find(up)
    groups = {}
    for tid in kept_ids:
        groups.setdefault(find(tid), []).append(tid)
    threads = [sorted(g, key=int) for g in groups.values() if len(g) >= 2]
    out["threads"] = {"count": len(threads), "longest": max((len(g) for g in threads), default=0)}
    ids["threads"] = sorted(threads, key=lambda g: int(g[0]))

    # --- media
    listing = media_listing(set_dir)
    media = {"photo": 0, "video": 0, "animated_gif": 0, "missing": 0}
    missing = []
    expected_files = {}
    for t, community in kept:
        for m in (t.get("extended_entities") or {}).get("media") or []:
            media[m["type"]] += 1
            fname = expected_media_name(t["id_str"], m)
            expected_files.setdefault(t["id_str"], []).append(fname)
            dirs = ["community_tweet_media"] if community else ["tweets_media", "tweet_media"]
            if not any(f"data/{d}/{fname}" in listing for d in dirs):
                media["missing"] += 1
                missing.append(fname)
    out["media"] = media
    ids["media_missing"] = missing
    derived_media = os.path.join(set_dir, "DERIVED_media_files.json")
    if os.path.exists(derived_media):
        with open(derived_media, encoding="utf-8") as f:
            derived = json.load(f)["tweets"]
        for tid, files in expected_files.items():
            d = [x["expected_file"] for x in derived.get(tid, [])]
            if sorted(d) != sorted(files):
                print(f"warning: {name}: media names for a tweet differ from DERIVED", file=sys.stderr)
        absent = [
            x["expected_file"]
            for tid, xs in derived.items()
            if tid in kept_ids
            for x in xs
            if not x["present_in_listing"]
        ]
        if sorted(absent) != sorted(missing):
            print(f"warning: {name}: missing media differ from DERIVED", file=sys.stderr)

    # --- dates
    instants = [parse_created_at(t["created_at"]) for t, _ in kept]
    out["dates"] = {
        "first": rfc3339(min(instants)) if instants else None,
        "last": rfc3339(max(instants)) if instants else None,
    }

    out["graph"] = graph_counts(data)
    if verbose:
        out["_ids"] = ids
    return out


def graph_counts(data):
    return {
        "following": len(load_entries(os.path.join(data, "following.js"), "following")),
        "followers": len(load_entries(os.path.join(data, "follower.js"), "follower")),
        "blocks": len(load_entries(os.path.join(data, "block.js"), "blocking")),
        "mutes": len(load_entries(os.path.join(data, "mute.js"), "muting")),
    }


def rust_constants(figures):
    """The `counts`/`first`/`last` of each `Expected` in tests/real_samples.rs.

    Counts and instants only: account names and ids are read from the samples at test time.
    """
    lines = []
    for name, f in figures.items():
        lines.append(f"// {name}")
        lines.append("counts: &[")
        for group in ("tweets", "threads", "media", "graph"):
            for key, value in (f.get(group) or {}).items():
                lines.append(f'    ("/{group}/{key}", {value}),')
        lines.append("],")
        if "dates" in f:
            lines.append(f'first: "{f["dates"]["first"]}",')
            lines.append(f'last: "{f["dates"]["last"]}",')
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--verbose", action="store_true", help="also print the tweet ids behind each figure")
    ap.add_argument("--rust", action="store_true", help="print the figures in the shape of the Rust constants")
    args = ap.parse_args()
    if not os.path.isdir(SAMPLES):
        sys.exit(f"samples not found at {SAMPLES}")
    figures = {}
    for name in FULL_SETS:
        figures[name] = figures_for_set(name, args.verbose)
    fixtures = os.path.join(SAMPLES, GRAPH_ONLY_SET)
    acc = load_entries(os.path.join(fixtures, "account.js"), "account")[0]
    figures[GRAPH_ONLY_SET] = {
        "account": {"id": acc["accountId"], "username": acc["username"], "display_name": acc["accountDisplayName"]},
        "graph": graph_counts(fixtures),
    }
    if args.rust:
        print(rust_constants(figures))
        return
    if not args.verbose:
        for f in figures.values():
            f.pop("account", None)
            f.pop("generated_at", None)
    print(json.dumps(figures, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
