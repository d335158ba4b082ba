//! Writes the committed test fixtures under `fixtures/` (except `fixtures/hostile/`).
//!
//! ```text
//! cargo run --example make_fixtures
//! ```
//!
//! The output is deterministic (fixed ids, dates, zip timestamps and permissions), so running it
//! again gives byte-identical files. Every archive is synthetic, modelled on the shapes described
//! in `../shared/FORMATS.md` §1; the expected figures of each fixture are listed in
//! `fixtures/README.md` and asserted in `tests/inspect.rs`.

#[path = "../tests/support/archive.rs"]
mod archive;

use std::error::Error;
use std::io::Write;
use std::path::Path;

use archive::*;

// People the fixture accounts talk to (all made up).
const KELP: User = User {
    id: "2950551801",
    screen_name: "kelpforest_kai",
    name: "Kai (kelp forest)",
};
const SEAL: User = User {
    id: "818202211",
    screen_name: "harborseal_hq",
    name: "Harbor Seal HQ",
};
const ANEMONE: User = User {
    id: "1266418920184569856",
    screen_name: "anemone_ana",
    name: "Ana Nemone",
};
const MUSSEL: User = User {
    id: "37705921",
    screen_name: "musselbed",
    name: "Mussel Bed News",
};
const CRAB: User = User {
    id: "4401175213",
    screen_name: "hermit_crab_club",
    name: "Hermit Crab Club 🦀",
};

/// The owner of `sample-archive.zip`.
const TIDEPOOL: Owner = Owner {
    id: "1580661436132757504",
    username: "tidepool_notes",
    display_name: "Tide Pool Notes 🌊",
    email: "tidepool.notes@example.com",
    created_at: "2022-10-13T17:02:11.402Z",
};
/// The owner of `gdpr-2019.zip`.
const ROCKPOOL: Owner = Owner {
    id: "3009912345",
    username: "rockpool_ro",
    display_name: "Ro at the Rock Pools",
    email: "ro@example.net",
    created_at: "2015-02-14T10:20:30.000Z",
};
/// The owner of `gdpr-2020.zip`.
const SANDHOPPER: Owner = Owner {
    id: "1187211234567890123",
    username: "sandhopper_sam",
    display_name: "Sam 🦐 Sandhopper",
    email: "sam@example.org",
    created_at: "2019-10-24T08:00:00.000Z",
};
/// The owner of `rezipped-extra-folder.zip` and `folder-archive/`.
const KEEPER: Owner = Owner {
    id: "1392847561029384756",
    username: "kelp_keeper",
    display_name: "Kelp Keeper",
    email: "keeper@example.com",
    created_at: "2021-05-13T16:00:00.000Z",
};
/// The owner of the `parts-*.zip` and `manifest-missing-file.zip` fixtures.
const SHORE: Owner = Owner {
    id: "1466093215702282241",
    username: "shore_sketches",
    display_name: "Shore Sketches ✏️",
    email: "shore@example.com",
    created_at: "2021-12-01T12:00:00.000Z",
};
/// The owner of `no-tweets.zip`.
const QUIET: Owner = Owner {
    id: "1512345678901234567",
    username: "quiet_lurker",
    display_name: "Quiet Lurker",
    email: "quiet@example.com",
    created_at: "2022-04-01T00:00:00.000Z",
};

/// The community of the community tweets.
const COMMUNITY: &str = "1701234567890123456";
/// The top folder of the re-zipped archive (X's download name without `.zip`).
const TOP: &str =
    "twitter-2024-05-01-5f2c0a7e9b1d4c3a8e6f0b2d7c9a1e4f3b5d8c0a2e4f6b8d0c1e3a5b7d9f1c2e";

fn main() -> Result<(), Box<dyn Error>> {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    std::fs::create_dir_all(&fixtures)?;

    let mut written = Vec::new();
    let mut zip = |name: &str, archive: Archive| -> Result<(), Box<dyn Error>> {
        let path = fixtures.join(name);
        archive.write_zip(&path)?;
        written.push((name.to_string(), std::fs::metadata(&path)?.len()));
        Ok(())
    };

    zip("sample-archive.zip", sample_archive())?;
    zip("gdpr-2019.zip", gdpr_2019())?;
    zip("gdpr-2020.zip", gdpr_2020())?;
    zip("rezipped-extra-folder.zip", rezipped())?;
    zip("parts-stripped-prefix.zip", parts_stripped_prefix())?;
    zip("parts-trailing-semicolon.zip", parts_trailing_semicolon())?;
    zip("parts-unordered.zip", parts_unordered())?;
    zip("parts-no-manifest.zip", parts_no_manifest())?;
    zip("parts-bom-crlf.zip", parts_bom_crlf())?;
    zip("manifest-missing-file.zip", manifest_missing_file())?;
    zip("no-tweets.zip", no_tweets())?;
    zip("classic-2015.zip", classic_2015())?;

    // The extracted folder: the re-zipped archive's content, without the __MACOSX litter.
    let folder = fixtures.join("folder-archive");
    if folder.exists() {
        std::fs::remove_dir_all(&folder)?;
    }
    keeper_archive().under(TOP).write_dir(&folder)?;
    written.push(("folder-archive/".to_string(), dir_size(&folder)?));

    for (name, size) in &written {
        say(&format!("{size:>8}  fixtures/{name}"));
    }
    say(&format!(
        "{:>8}  total",
        written.iter().map(|(_, size)| size).sum::<u64>()
    ));
    Ok(())
}

/// Prints a line of the summary (ignoring a closed stdout, as in `| head`).
fn say(line: &str) {
    let _ = writeln!(std::io::stdout(), "{line}");
}

fn dir_size(dir: &Path) -> std::io::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() {
            dir_size(&entry.path())?
        } else {
            meta.len()
        };
    }
    Ok(total)
}

/// A self-reply of `owner` to `parent`.
fn thread_on(tweet: Tweet, parent: &Tweet, owner: &Owner) -> Tweet {
    tweet.reply_to(Some(&parent.id), owner.id, owner.username)
}

/// Newest first, as X writes tweets.js.
fn newest_first(mut tweets: Vec<Tweet>) -> Vec<Tweet> {
    tweets.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
    tweets
}

fn entries(tweets: &[Tweet], owner: &Owner, wrapped: bool) -> Vec<J> {
    tweets
        .iter()
        .map(|t| t.entry(owner.username, wrapped))
        .collect()
}

/// Placeholder files for the media of `tweets` under `data/<dir>/`.
fn add_media(archive: &mut Archive, dir: &str, tweets: &[&Tweet]) {
    for tweet in tweets {
        for medium in &tweet.media {
            archive.add(
                &format!("data/{dir}/{}", medium.file_name(&tweet.id)),
                medium.placeholder(),
            );
        }
    }
}

const README_TXT: &str = "Synthetic test archive written by examples/make_fixtures.rs.\n\n\
Real archives ship X's own field-by-field documentation here (data/README.txt). This one only\n\
mimics the layout: manifest.js, account.js, tweets.js and friends, and the media folders.\n";

// ------------------------------------------------------------------------------------------------
// sample-archive.zip: a realistic 2024 archive with every quirk
// ------------------------------------------------------------------------------------------------

fn sample_archive() -> Archive {
    let me = &TIDEPOOL;
    let style = Style::Multiline;

    // --- tweets-part1.js: the older tweets (13 entries) ---
    let t_first = Tweet::new("2022-11-20T08:15:00Z", 0).text(
        "Hello! This account logs what I find in the tide pools around the bay, one low tide at a time.",
    );
    let b1 = Tweet::new("2022-12-03T16:00:00Z", 0)
        .text("Thread: a low-tide walk, minute by minute 🧵")
        .source(IPHONE);
    let b2 = thread_on(Tweet::new("2022-12-03T16:02:00Z", 0), &b1, me)
        .text("16:02 — the first anemones, closed up tight like green gumdrops.")
        .source(IPHONE);
    let t_cjk = Tweet::new("2023-01-05T10:00:00Z", 0)
        .text("潮だまりで小さなカニを見つけた 🦀🌊 ")
        .hashtag("tidepools")
        .lang("ja");
    let t_escape = Tweet::new("2023-01-14T09:30:00Z", 0)
        .text("Pool rules: look & don't touch, put rocks back <3, and photos > souvenirs.");
    let p1 = Tweet::new("2023-02-11T12:00:00Z", 0)
        .text("Two sea stars, one rock ⭐⭐")
        .media(Media::photo("Fm3kQ2aXoAE1xYz"))
        .media(Media::photo("Fm3kQ2bWIAA7pLs"))
        .counts(12, 3);
    let r1 = Tweet::new("2023-02-12T08:00:00Z", 0)
        .mention(KELP)
        .text(" same here — the purple urchins are everywhere this year.")
        .reply_to(Some("1624786011923456001"), KELP.id, KELP.screen_name);
    let rt1 = Tweet::new("2023-03-01T18:20:00Z", 0)
        .text("RT ")
        .mention(SEAL)
        .text(": Pup season starts next week 🦭 Please keep 50 m away from resting seals and keep dogs on a leash.")
        .media(Media::photo("FqSealPupS34s0n").retweeted_from("1631002233445566778", SEAL));
    let q1 = Tweet::new("2023-03-15T11:11:00Z", 0)
        .text("The best explainer on why tide tables differ from town to town 👇 ")
        .link("https://twitter.com/musselbed/status/1636001122334455667");
    let a_mention = Tweet::new("2023-04-02T07:45:00Z", 0)
        .mention(ANEMONE)
        .text(" you were right about the nudibranchs at the north end!");
    let v1 = Tweet::new("2023-04-22T19:05:00Z", 0)
        .text("Waves filling the pool at the turn of the tide 🎥")
        .media(Media::video(
            "HiWavesF1ll1ngP",
            ["LoWavesF1ll1ngP", "PlWavesF1ll1ngP"],
        ));
    let s_orphan = Tweet::new("2023-05-06T10:00:00Z", 0)
        .text("Update on the mystery egg case: it is from a swell shark!")
        .reply_to(
            Some(&snowflake("2023-05-05T09:00:00Z", 123, 0)),
            me.id,
            me.username,
        );
    let please_rt = Tweet::new("2023-06-01T12:00:00Z", 0)
        .text("Please RT ")
        .mention(CRAB)
        .text(": beach clean-up on Saturday at 9, bring gloves & a bucket.");

    // --- tweets.js: the newer tweets, plus the end of thread B (29 entries) ---
    let b3 = thread_on(Tweet::new("2022-12-03T16:05:00Z", 0), &b2, me)
        .text("16:05 — a hermit crab trading shells. The new one is clearly too big.")
        .source(IPHONE);
    let b4 = thread_on(Tweet::new("2022-12-03T16:09:00Z", 0), &b3, me)
        .text("16:09 — sculpin! Perfectly still, perfectly camouflaged.")
        .source(IPHONE);
    let b5 = thread_on(Tweet::new("2022-12-03T16:15:00Z", 0), &b4, me)
        .text("16:15 — tide's turning, time to head back. Thanks for walking along 👣")
        .source(IPHONE);
    let a1 = Tweet::new("2023-07-08T06:30:00Z", 0)
        .text("Low tide at 06:12 this morning, −0.4 m. Three things I saw 🧵");
    let a2 = thread_on(Tweet::new("2023-07-08T06:31:00Z", 0), &a1, me)
        .text("1. A gumboot chiton the size of my shoe.");
    let a3 = thread_on(Tweet::new("2023-07-08T06:32:00Z", 0), &a1, me)
        .text("2. An octopus den (nobody home).");
    let a4 = thread_on(Tweet::new("2023-07-08T06:40:00Z", 0), &a2, me)
        .text("…and the chiton was still there an hour later.");
    let g1 = Tweet::new("2023-08-01T14:00:00Z", 0)
        .text("When the wave hits just right")
        .media(Media::gif("F2nWqZkXoAAbGif"));
    let p2 = Tweet::new("2023-08-14T19:05:00Z", 0)
        .text("Sunset over the outer reef 🌅")
        .media(Media::photo("F3hTpQ1aUAAm9sN"));
    let r2 = Tweet::new("2023-09-02T10:10:00Z", 0)
        .mention(SEAL)
        .text(" do you have volunteer shifts in October?")
        .reply_to(None, SEAL.id, SEAL.screen_name);
    let r3 = Tweet::new("2023-09-03T15:00:00Z", 0)
        .mention(CRAB)
        .text(" count me in for Saturday!")
        .reply_to(Some("1698123456789012345"), CRAB.id, CRAB.screen_name)
        .without_screen_name();
    let q2 = Tweet::new("2023-10-10T09:00:00Z", 0)
        .mention(ANEMONE)
        .text(" exactly this 👉 ")
        .link("https://x.com/kelpforest_kai/status/1711000000000000001")
        .reply_to(Some("1711712345678901234"), ANEMONE.id, ANEMONE.screen_name);
    let q3 = Tweet::new("2023-10-20T20:20:00Z", 0)
        .text("Good news for the colony 🎉 ")
        .link("https://twitter.com/harborseal_hq/status/1714000000000000002?s=20");
    let not_quote = Tweet::new("2023-11-01T08:00:00Z", 0)
        .text("Follow Kai for kelp facts: ")
        .link("https://twitter.com/kelpforest_kai")
        .text(" and read the survey report: ")
        .link("https://example.com/reports/status/12345");
    // An edited pair: E1 (first version, `initial` listing both) is dropped, E2 kept.
    let e1_id = snowflake("2023-11-20T12:00:00Z", 123, 0);
    let e2_id = snowflake("2023-11-20T12:03:00Z", 123, 0);
    let e1 = Tweet::new("2023-11-20T12:00:00Z", 0)
        .text("Found a sea lemon nudibrnch!")
        .media(Media::photo("F_seaLemonNud1"))
        .edit(EditInfo::Initial(vec![e1_id.clone(), e2_id.clone()]));
    let e2 = Tweet::new("2023-11-20T12:03:00Z", 0)
        .text("Found a sea lemon nudibranch!")
        .media(Media::photo("F_seaLemonNud1"))
        .edit(EditInfo::Edit {
            initial: e1_id.clone(),
            ids: vec![e1_id.clone(), e2_id.clone()],
        });
    // Edited twice: X1 and X2 dropped (X2 carries the `edit` form), X3 kept.
    let x_ids: Vec<String> = [
        "2023-12-05T17:00:00Z",
        "2023-12-05T17:04:00Z",
        "2023-12-05T17:10:00Z",
    ]
    .iter()
    .map(|when| snowflake(when, 123, 0))
    .collect();
    let x1 = Tweet::new("2023-12-05T17:00:00Z", 0)
        .text("December tide table is up: lowest tide on the 13th")
        .edit(EditInfo::Initial(x_ids.clone()));
    let later = EditInfo::Edit {
        initial: x_ids[0].clone(),
        ids: x_ids.clone(),
    };
    let x2 = Tweet::new("2023-12-05T17:04:00Z", 0)
        .text("December tide table is up: lowest tide on the 14th")
        .edit(later.clone());
    let x3 = Tweet::new("2023-12-05T17:10:00Z", 0)
        .text("December tide table is up: lowest tide on the 14th at 05:40")
        .edit(later);
    // D1 is in tweets.js AND in deleted-tweets.js: dropped.
    let d1 = Tweet::new("2024-01-10T10:00:00Z", 0)
        .text("Early start at the east cove")
        .media(Media::photo("GDe1EastCove01"));
    let s_del = thread_on(Tweet::new("2024-01-10T10:05:00Z", 0), &d1, me)
        .text("(the photo above is from the east cove, not the south pools)");
    let conv1 = Tweet::new("2024-02-14T13:00:00Z", 0)
        .mention(MUSSEL)
        .text(" the east cove survey found 212 mussels per square metre")
        .reply_to(Some("1757000000000000003"), MUSSEL.id, MUSSEL.screen_name);
    // A self-reply that still starts with the other person's @mention.
    let conv2 = thread_on(Tweet::new("2024-02-14T13:01:00Z", 0), &conv1, me)
        .mention(MUSSEL)
        .text(" (that's up from 180 last spring)");

    // Long posts: two in the same second (a thread), one reply whose note omits the @mention.
    let n1 = LongPost {
        segments: vec![
            Seg::Text(
                "Why does one beach have two low tides? Tide tables are computed for a reference station, & our harbour gauge sits 6 km north of the pools. The shape of the bay matters > anything: a narrow inlet delays the water by 20–40 minutes. Charts: ",
            ),
            Seg::Link("https://example.org/tides/why-two-low-tides"),
            Seg::Text(
                "\n\nSo if the table says 06:12, plan for 06:40 at the south pools, and bring a watch rather than a phone: phones and tide pools do not mix.",
            ),
        ],
        cut_after: "So if the table says",
    };
    let n2 = LongPost {
        segments: vec![Seg::Text(
            "Part two, about the pools themselves (and to whoever asked why my exported notes say &amp; instead of &: blame the archive). The south pools are the deepest, so they hold water longest and stay coolest on hot afternoons. That is why the anemones there stay open at noon while the ones on the north ledge close up by ten. If you only have an hour, spend it in the south, move slowly, and let your eyes adjust to the glare before you decide a pool is empty. It almost never is.",
        )],
        // The tweet stores `&amp;amp;`: unescaping it twice would break the join.
        cut_after: "close up by ten.",
    };
    let n3 = LongPost {
        segments: vec![Seg::Text(
            "Great question! Short version -> urchin barrens form when predators like sea otters and sunflower stars disappear, so urchins eat the kelp faster than it can grow back. Longer version: the sea star wasting disease from 2013 onward removed one of the main urchin predators along this coast, and warm-water years stressed the kelp at the same time. Restoration groups now remove urchins by hand & replant; it works, slowly. <3 to every diver doing it.",
        )],
        cut_after: "one of the main urchin predators",
    };
    let n4 = LongPost {
        segments: vec![Seg::Text(
            "Plankton bloom update: the water in the north pools has turned a murky green-brown this week. That is normal for late April, when longer days and the first warm spells feed a burst of diatoms. It will clear in a week or two. In the meantime the visibility is poor, so expect fewer photos from me and more notes like this one.",
        )],
        cut_after: "",
    };
    let l1 = n1.truncated_into(Tweet::new("2024-03-12T10:27:58Z", 0));
    let l2 = n2.truncated_into(thread_on(Tweet::new("2024-03-12T10:27:58Z", 1), &l1, me));
    let l3 = n3
        .truncated_into(
            Tweet::new("2024-04-02T16:25:47Z", 0)
                .mention(KELP)
                .text(" ")
                .mention(ANEMONE)
                .text(" ")
                .reply_to(Some("1775190000000000007"), KELP.id, KELP.screen_name),
        )
        .media(Media::photo("GKa9LongReply1"));
    // Same second as the orphan note n4, but not its tweet.
    let decoy = Tweet::new("2024-04-20T09:00:00Z", 0).text("Short and sweet: low tide at 9.");
    let rt2 = Tweet::new("2024-05-05T05:05:00Z", 0)
        .text("RT ")
        .mention(ANEMONE)
        .text(": 🐙 Octopus week! Share your best tide pool octopus photos with ")
        .hashtag("OctopusWeek")
        .text(" and we'll feature a few every day. Please don't lift them out of the wat…");
    let t_season = Tweet::new("2024-06-30T21:45:10Z", 0)
        .text("That's a wrap for the season — thanks for reading! 🌊");

    // --- community-tweet.js ---
    let c1 = Tweet::new("2023-09-15T16:00:00Z", 0)
        .text("Community photo challenge: my entry is this tiny decorator crab 🦀")
        .media(Media::photo("F6cOmMuNiTy01x"))
        .community(COMMUNITY);
    let c2 = Tweet::new("2024-07-01T08:30:00Z", 0)
        .mention(KELP)
        .text(" congrats on the 100th survey!")
        .reply_to(Some("1807654321098765432"), KELP.id, KELP.screen_name)
        .community(COMMUNITY);

    // --- deleted-tweets.js ---
    let d1_deleted = d1.clone().deleted_at("2024-06-20T07:00:00Z");
    let d2 = Tweet::new("2024-07-02T09:00:00Z", 0)
        .text("Oops, wrong account")
        .media(Media::photo("GDe2OopsWr0ng1"))
        .deleted_at("2024-07-02T10:00:00Z");

    let part1 = newest_first(vec![
        t_first, b1, b2, t_cjk, t_escape, p1, r1, rt1, q1, a_mention, v1, s_orphan, please_rt,
    ]);
    let part0 = newest_first(vec![
        b3,
        b4,
        b5,
        a1,
        a2,
        a3,
        a4,
        g1,
        p2.clone(),
        r2,
        r3,
        q2,
        q3,
        not_quote,
        e1,
        e2.clone(),
        x1,
        x2,
        x3,
        d1,
        s_del,
        conv1,
        conv2,
        l1.clone(),
        l2.clone(),
        l3.clone(),
        decoy.clone(),
        rt2,
        t_season,
    ]);
    assert_eq!((part0.len(), part1.len()), (29, 13));
    let community = vec![c2, c1.clone()];
    let deleted = vec![d2.clone(), d1_deleted.clone()];
    let notes = vec![
        n4.orphan_note("2024-04-20T09:00:00Z", 3),
        n3.note(&l3, 2),
        n2.note(&l2, 1),
        n1.note(&l1, 0),
    ];

    let following = [
        "2950551801",
        "818202211",
        "1266418920184569856",
        "37705921",
        "4401175213",
    ];
    let follower = [
        "2950551801",
        "1266418920184569856",
        "90210777",
        "1600000000000000123",
    ];
    let block = ["666000666", "1555555555555555555"];
    let mute = ["31337", "1444444444444444444", "2222222222"];

    let mut archive = Archive::new();
    archive.add("Your archive.html", VIEWER_HTML);
    archive.add(
        "assets/js/ondemand.s.js",
        "/* synthetic stub of the offline viewer */\n",
    );
    let manifest = Manifest {
        owner: *me,
        generation_date: "2024-07-03T12:34:56.789Z",
        size_bytes: 48_213_775,
        data_types: vec![
            DataType::one("account", "account.js", 1),
            DataType::one("block", "block.js", block.len()),
            DataType::one("communityTweet", "community-tweet.js", community.len())
                .with_media("data/community_tweet_media"),
            DataType::media("communityTweetMedia", "data/community_tweet_media"),
            DataType::one("deletedNoteTweet", "deleted-note-tweet.js", 0),
            DataType::one("deletedTweets", "deleted-tweets.js", deleted.len())
                .with_media("data/deleted_tweets_media"),
            DataType::media("deletedTweetsMedia", "data/deleted_tweets_media"),
            DataType::one("follower", "follower.js", follower.len()),
            DataType::one("following", "following.js", following.len()),
            DataType::one("like", "like.js", 3),
            DataType::one("mute", "mute.js", mute.len()),
            DataType::one("noteTweet", "note-tweet.js", notes.len()),
            DataType::one("profile", "profile.js", 1).with_media("data/profile_media"),
            DataType::media("profileMedia", "data/profile_media"),
            DataType::one(
                "tweetHeaders",
                "tweet-headers.js",
                part0.len() + part1.len(),
            ),
            DataType {
                key: "tweets",
                media_directory: Some("data/tweets_media"),
                files: vec![
                    file_entry("tweets.js", 0, part0.len()),
                    file_entry("tweets-part1.js", 1, part1.len()),
                ],
            },
            DataType::media("tweetsMedia", "data/tweets_media"),
        ],
    };
    archive.add("data/manifest.js", manifest.render());
    archive.add("data/README.txt", README_TXT);
    archive.add("data/account.js", account(me, None, style));
    archive.add(
        "data/profile.js",
        profile(
            me,
            "Low tides, small creatures, big feelings. Looking, not touching. 🦀🐚",
            style,
        ),
    );
    archive.add(
        "data/tweets.js",
        ytd("tweets.part0", entries(&part0, me, true), style),
    );
    archive.add(
        "data/tweets-part1.js",
        ytd("tweets.part1", entries(&part1, me, true), style),
    );
    let headers: Vec<&Tweet> = part0.iter().chain(&part1).collect();
    archive.add("data/tweet-headers.js", tweet_headers(&headers, me, style));
    archive.add(
        "data/community-tweet.js",
        ytd(
            "community_tweet.part0",
            entries(&community, me, true),
            style,
        ),
    );
    archive.add(
        "data/deleted-tweets.js",
        ytd("deleted_tweets.part0", entries(&deleted, me, true), style),
    );
    archive.add("data/note-tweet.js", ytd("note_tweet.part0", notes, style));
    archive.add(
        "data/deleted-note-tweet.js",
        ytd("deleted_note_tweet.part0", Vec::new(), style),
    );
    archive.add(
        "data/like.js",
        likes(
            &[
                (
                    "1790000000000000011",
                    Some("Tide pools are tiny oceans & I love them"),
                ),
                ("1790000000000000012", None),
                (
                    "1790000000000000013",
                    Some("Low tide at 5:40 tomorrow > set an alarm"),
                ),
            ],
            style,
        ),
    );
    for (kind, ids) in [
        (Graph::Following, &following[..]),
        (Graph::Follower, &follower[..]),
        (Graph::Block, &block[..]),
        (Graph::Mute, &mute[..]),
    ] {
        archive.add(
            &format!("data/{}", kind.file()),
            graph(kind, ids, true, style),
        );
    }

    // Media: every kept tweet's files except p2's (the one missing file). The dropped edit
    // version e1 has no file of its own; d1's and d2's files are in deleted_tweets_media/.
    let with_files: Vec<&Tweet> = part0
        .iter()
        .chain(&part1)
        .filter(|t| t.id != p2.id && !deleted.iter().any(|d| d.id == t.id) && t.id != e1_id)
        .collect();
    add_media(&mut archive, "tweets_media", &with_files);
    add_media(&mut archive, "community_tweet_media", &[&c1]);
    add_media(&mut archive, "deleted_tweets_media", &[&d1_deleted, &d2]);
    archive.add(
        &format!("data/profile_media/{}-avatar.jpg", me.id),
        placeholder_jpeg(),
    );

    say(&format!(
        "sample-archive.zip: missing media file data/tweets_media/{}",
        p2.media_files()[0]
    ));
    say(&format!(
        "sample-archive.zip: long tweets {} {} {} (kept edit {}, decoy {})",
        l1.id, l2.id, l3.id, e2.id, decoy.id
    ));
    archive
}

// ------------------------------------------------------------------------------------------------
// gdpr-2019.zip: bare entries, compact printing, no manifest, no userLink, tweet_media/
// ------------------------------------------------------------------------------------------------

fn gdpr_2019() -> Archive {
    let me = &ROCKPOOL;
    let style = Style::Compact;
    let old = |when: &str| {
        Tweet::new(when, 0)
            .no_edit_info()
            .legacy_geo()
            .source(IPHONE)
    };

    let r1 = old("2018-06-01T09:00:00Z")
        .text("First rock pool of the summer 🌞")
        .media(Media::photo("DeXk2pLWAAEr0ck"));
    let r2 = thread_on(old("2018-06-01T09:05:00Z"), &r1, me)
        .text("The water was 14 °C. Brave little shrimps.");
    let r3 = thread_on(old("2018-06-01T09:12:00Z"), &r2, me).text("Home now, sandy but happy.");
    let r4 = old("2018-09-09T18:00:00Z")
        .text("RT ")
        .mention(MUSSEL)
        .text(": Storm warning for the coast tonight. Stay off the rocks and the harbour wall.");
    let r5 = old("2018-11-11T11:00:00Z")
        .mention(KELP)
        .text(" thanks for the ID help, it was a dogwhelk after all!")
        .reply_to(Some("1061583335566778899"), KELP.id, KELP.screen_name)
        .without_screen_name();
    let r6 = old("2019-02-02T14:30:00Z")
        .text("Rock pool timelapse, 2 hours in 15 seconds ⏱")
        .media(Media::video(
            "Xq7Rr0ckP00lHiQ",
            ["Lo360Rr0ckPool", "Pl270Rr0ckPool"],
        ));
    let r7 = old("2019-03-03T08:00:00Z").text(
        "Q&A night at the aquarium: what lives under a rock? <spoiler> everything </spoiler>",
    );
    let r8 = old("2019-05-20T20:00:00Z")
        .text("Worth reading 👇 ")
        .link("https://twitter.com/anemone_ana/status/1130000000000000001");
    let tweets = newest_first(vec![r1, r2, r3, r4, r5, r6, r7, r8]);

    let mut archive = Archive::new();
    archive.add("Your archive.html", VIEWER_HTML);
    archive.add("data/account.js", account(me, Some("+15555550123"), style));
    archive.add(
        "data/profile.js",
        profile(me, "Rock pools, every weekend, any weather.", style),
    );
    // Bare entries: no {"tweet": …} wrapper.
    archive.add(
        "data/tweet.js",
        ytd("tweet.part0", entries(&tweets, me, false), style),
    );
    archive.add(
        "data/following.js",
        graph(
            Graph::Following,
            &["2950551801", "37705921", "1266418920184569856"],
            false,
            style,
        ),
    );
    archive.add(
        "data/follower.js",
        graph(Graph::Follower, &["2950551801", "77777777"], false, style),
    );
    archive.add(
        "data/block.js",
        graph(Graph::Block, &["666000666"], false, style),
    );
    archive.add("data/mute.js", graph(Graph::Mute, &[], false, style));
    archive.add(
        "data/like.js",
        likes(
            &[("1100000000000000001", Some("Rock pools > swimming pools"))],
            style,
        ),
    );
    let refs: Vec<&Tweet> = tweets.iter().collect();
    add_media(&mut archive, "tweet_media", &refs);
    archive
}

// ------------------------------------------------------------------------------------------------
// gdpr-2020.zip: tweet.js + tweet-part1.js, compact printing, wrapper, manifest with "tweet"
// ------------------------------------------------------------------------------------------------

fn gdpr_2020() -> Archive {
    let me = &SANDHOPPER;
    let style = Style::Compact;
    let t = |when: &str| Tweet::new(when, 0).no_edit_info();

    let s1 = t("2020-03-01T10:00:00Z")
        .text("Sand hoppers at dusk, hundreds of them")
        .media(Media::photo("ERs4nDh0pPeR01"));
    let s2 =
        thread_on(t("2020-03-01T10:02:00Z"), &s1, me).text("They jump when the torch hits them.");
    let s3 = t("2020-06-15T12:00:00Z")
        .text("RT ")
        .mention(SEAL)
        .text(": The beach is closed at the north end until August to protect the pups.");
    let s4 = t("2020-09-30T23:59:59Z").text("Last one before I download my archive 📦");
    let s5 = t("2020-05-05T05:05:05Z")
        .text("When the tide comes in faster than you thought")
        .media(Media::gif("EXg1fT1d3C0m1n"))
        .source(ANDROID);
    let s6 = t("2019-11-11T11:11:11Z").text("Hello world, sand hoppers incoming");
    let s7 = t("2019-12-24T18:00:00Z")
        .mention(CRAB)
        .text(" merry crabmas 🎄")
        .reply_to(Some("1209512345678901248"), CRAB.id, CRAB.screen_name);
    let s8 = thread_on(t("2020-03-01T10:05:00Z"), &s2, me).text("Video next time, promise.");
    let s9 = t("2020-01-15T09:00:00Z")
        .text("This thread on beach hoppers is great ")
        .link("https://twitter.com/musselbed/status/1217000000000000005");
    let s10 = t("2020-02-02T02:02:02Z")
        .mention(SEAL)
        .text(" is the north beach open this weekend?")
        .reply_to(None, SEAL.id, SEAL.screen_name);

    let part0 = newest_first(vec![s1, s2, s3, s4, s5]);
    let part1 = newest_first(vec![s6, s7, s8, s9, s10]);
    let following = ["818202211", "4401175213"];
    let follower = ["818202211", "4401175213", "12345"];
    let mute = ["98765432"];

    let mut archive = Archive::new();
    archive.add("Your archive.html", VIEWER_HTML);
    let manifest = Manifest {
        owner: *me,
        generation_date: "2020-10-05T14:00:00.123Z",
        size_bytes: 2_345_678,
        data_types: vec![
            DataType::one("account", "account.js", 1),
            DataType::one("block", "block.js", 0),
            DataType::one("follower", "follower.js", follower.len()),
            DataType::one("following", "following.js", following.len()),
            DataType::one("mute", "mute.js", mute.len()),
            DataType::one("profile", "profile.js", 1),
            DataType {
                key: "tweet",
                media_directory: Some("data/tweet_media"),
                files: vec![
                    file_entry("tweet.js", 0, part0.len()),
                    file_entry("tweet-part1.js", 1, part1.len()),
                ],
            },
        ],
    };
    archive.add("data/manifest.js", manifest.render());
    archive.add("data/account.js", account(me, None, style));
    archive.add("data/profile.js", profile(me, "", style));
    archive.add(
        "data/tweet.js",
        ytd("tweet.part0", entries(&part0, me, true), style),
    );
    archive.add(
        "data/tweet-part1.js",
        ytd("tweet.part1", entries(&part1, me, true), style),
    );
    archive.add(
        "data/following.js",
        graph(Graph::Following, &following, true, style),
    );
    archive.add(
        "data/follower.js",
        graph(Graph::Follower, &follower, true, style),
    );
    // An empty file printed as in the 2020 sample: `[]`, not `[ ]`.
    archive.add("data/block.js", "window.YTD.block.part0 = []");
    archive.add("data/mute.js", graph(Graph::Mute, &mute, true, style));
    let refs: Vec<&Tweet> = part0.iter().chain(&part1).collect();
    add_media(&mut archive, "tweet_media", &refs);
    archive
}

// ------------------------------------------------------------------------------------------------
// rezipped-extra-folder.zip and folder-archive/: data/ one level down
// ------------------------------------------------------------------------------------------------

fn keeper_archive() -> Archive {
    let me = &KEEPER;
    let k1 = Tweet::new("2024-01-01T00:00:01Z", 0).text("Happy new year from the kelp bed! 🎉");
    let k2 = Tweet::new("2024-02-02T12:00:00Z", 0)
        .text("Kelp holdfast, up close")
        .media(Media::photo("GFk3lpH0ldfast"));
    let k3 = thread_on(Tweet::new("2024-02-02T12:01:00Z", 0), &k2, me)
        .text("Every holdfast is a tiny apartment block for brittle stars.");
    let k4 = Tweet::new("2024-03-03T15:00:00Z", 0)
        .mention(SEAL)
        .text(" we saw two pups near the kelp line today")
        .reply_to(Some("1764300000000000009"), SEAL.id, SEAL.screen_name);
    let k5 = Tweet::new("2024-04-04T04:04:04Z", 0)
        .text("RT ")
        .mention(KELP)
        .text(": Kelp grows up to 60 cm a day in good conditions 🌿");
    let k6 = Tweet::new("2024-04-30T18:00:00Z", 0)
        .text("This 👇 ")
        .link("https://x.com/kelpforest_kai/status/1785000000000000006");
    let mut archive = modern_archive(
        me,
        "2024-05-01T09:00:00.000Z",
        &[newest_first(vec![k1, k2, k3, k4, k5, k6])],
        Social {
            following: &["2950551801"],
            follower: &["2950551801", "818202211"],
            block: &[],
            mute: &[],
        },
    );
    archive.add(
        "assets/js/ondemand.s.js",
        "/* synthetic stub of the offline viewer */\n",
    );
    archive
}

/// AppleDouble companion file, as macOS's "Compress" adds under `__MACOSX/`.
fn apple_double() -> Vec<u8> {
    let mut bytes = vec![0x00, 0x05, 0x16, 0x07, 0x00, 0x02, 0x00, 0x00];
    bytes.extend_from_slice(b"Mac OS X        ");
    bytes.extend_from_slice(&[0x00, 0x02, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x32]);
    bytes
}

fn rezipped() -> Archive {
    let inner = keeper_archive().under(TOP);
    // Interleave the __MACOSX/…/._name companions after each file.
    let mut out = Archive::new();
    for (path, bytes) in &inner.entries {
        out.add(path, bytes.clone());
        if !path.ends_with('/') {
            let (dir, name) = path.rsplit_once('/').expect("under a top folder");
            out.add(&format!("__MACOSX/{dir}/._{name}"), apple_double());
        }
    }
    out
}

// ------------------------------------------------------------------------------------------------
// Part quirks: stripped prefix, trailing `;`, unordered parts, a manifest entry that is absent
// ------------------------------------------------------------------------------------------------

/// The three parts of the shore_sketches fixtures (a thread runs part1 → part0 → part2).
fn shore_parts() -> [Vec<Tweet>; 3] {
    let me = &SHORE;
    let p1a =
        Tweet::new("2023-03-01T09:00:00Z", 0).text("How I sketch in the field, a short thread 🧵");
    let p0b = thread_on(Tweet::new("2023-03-01T09:01:00Z", 0), &p1a, me)
        .text("Step 1: find a dry rock to sit on.");
    let p2a = thread_on(Tweet::new("2023-03-01T09:02:00Z", 0), &p0b, me)
        .text("Step 2: draw the shapes first, details last.");
    let p0a = Tweet::new("2023-05-10T10:00:00Z", 0).text("Sketching limpets today.");
    let p0c = Tweet::new("2023-07-01T12:00:00Z", 0)
        .text("RT ")
        .mention(ANEMONE)
        .text(": Drawing challenge: sketch one tide pool creature a day in July ✏️");
    let p1b = Tweet::new("2023-08-08T08:08:08Z", 0).text("Sketchbook number 12 is full!");
    let p1c = Tweet::new("2023-01-01T07:00:00Z", 0)
        .mention(MUSSEL)
        .text(" happy new year! Any first-tide plans?")
        .reply_to(Some("1609500000000000001"), MUSSEL.id, MUSSEL.screen_name);
    let p2b = Tweet::new("2022-12-12T12:12:12Z", 0).text("Test post, please ignore");
    let p2c = Tweet::new("2023-09-09T09:09:09Z", 0)
        .text("Finished limpet page")
        .media(Media::photo("GSk3tchL1mpet1"));
    [
        newest_first(vec![p0a, p0b, p0c]),
        newest_first(vec![p1a, p1b, p1c]),
        newest_first(vec![p2a, p2b, p2c]),
    ]
}

const SHORE_SOCIAL: Social<'static> = Social {
    following: &["1266418920184569856", "37705921"],
    follower: &["1266418920184569856"],
    block: &["666000666"],
    mute: &["31337"],
};

fn shore_archive(parts: &[Vec<Tweet>]) -> Archive {
    modern_archive(&SHORE, "2023-09-10T10:00:00.000Z", parts, SHORE_SOCIAL)
}

fn parts_stripped_prefix() -> Archive {
    let [p0, p1, _] = shore_parts();
    let mut archive = shore_archive(&[p0, p1.clone()]);
    // Some tools strip `window.YTD.tweets.part1 = `: a bare JSON array.
    let bare = render(&J::Arr(entries(&p1, &SHORE, true)), Style::Multiline);
    archive.add("data/tweets-part1.js", bare);
    archive
}

fn parts_trailing_semicolon() -> Archive {
    let [p0, p1, _] = shore_parts();
    let mut archive = shore_archive(&[p0, p1.clone()]);
    let text = ytd("tweets.part1", entries(&p1, &SHORE, true), Style::Multiline);
    archive.add("data/tweets-part1.js", format!("{text};\n"));
    archive
}

fn parts_unordered() -> Archive {
    let parts = shore_parts();
    let built = shore_archive(&parts);
    // The manifest lists part2, part0, part1 (in that order), and the zip holds part2 first.
    let manifest = Manifest {
        owner: SHORE,
        generation_date: "2023-09-10T10:00:00.000Z",
        size_bytes: 123_456,
        data_types: vec![
            DataType::one("account", "account.js", 1),
            DataType::one("block", "block.js", SHORE_SOCIAL.block.len()),
            DataType::one("follower", "follower.js", SHORE_SOCIAL.follower.len()),
            DataType::one("following", "following.js", SHORE_SOCIAL.following.len()),
            DataType::one("mute", "mute.js", SHORE_SOCIAL.mute.len()),
            DataType {
                key: "tweets",
                media_directory: Some("data/tweets_media"),
                files: vec![
                    file_entry("tweets-part2.js", 2, parts[2].len()),
                    file_entry("tweets.js", 0, parts[0].len()),
                    file_entry("tweets-part1.js", 1, parts[1].len()),
                ],
            },
            DataType::media("tweetsMedia", "data/tweets_media"),
        ],
    };
    let mut archive = Archive::new();
    for first in ["Your archive.html", "data/tweets-part2.js"] {
        archive.add(first, built.get(first).expect("built").to_vec());
    }
    for (path, bytes) in &built.entries {
        archive.add(path, bytes.clone());
    }
    archive.add("data/manifest.js", manifest.render());
    archive
}

fn parts_no_manifest() -> Archive {
    // No manifest.js: the parts must be found by name (tweets.js, tweets-part1.js, -part2.js).
    let mut archive = shore_archive(&shore_parts());
    archive.remove("data/manifest.js");
    archive
}

fn parts_bom_crlf() -> Archive {
    // tweets-part1.js re-saved by a Windows editor: a UTF-8 byte-order mark and CRLF line ends.
    let [p0, p1, _] = shore_parts();
    let mut archive = shore_archive(&[p0, p1.clone()]);
    let text = ytd("tweets.part1", entries(&p1, &SHORE, true), Style::Multiline);
    archive.add(
        "data/tweets-part1.js",
        format!("\u{feff}{}", text.replace('\n', "\r\n")),
    );
    archive
}

fn manifest_missing_file() -> Archive {
    let [p0, p1, _] = shore_parts();
    let mut archive = shore_archive(&[p0, p1]);
    // The manifest still lists tweets-part1.js (3 tweets) but the file is gone.
    archive.remove("data/tweets-part1.js");
    let manifest = String::from_utf8(archive.get("data/manifest.js").expect("manifest").to_vec())
        .expect("utf-8");
    let with_note = manifest.replace(
        "    \"tweets\" : {",
        "    \"noteTweet\" : {\n      \"files\" : [ {\n        \"fileName\" : \"data/note-tweet.js\",\n        \"globalName\" : \"YTD.note_tweet.part0\",\n        \"count\" : \"0\"\n      } ]\n    },\n    \"tweets\" : {",
    );
    assert_ne!(manifest, with_note, "manifest layout changed");
    archive.add("data/manifest.js", with_note);
    archive
}

// ------------------------------------------------------------------------------------------------
// no-tweets.zip: an account that never posted
// ------------------------------------------------------------------------------------------------

fn no_tweets() -> Archive {
    modern_archive(
        &QUIET,
        "2024-02-29T23:59:59.999Z",
        &[Vec::new()],
        Social {
            following: &["2950551801", "818202211", "37705921"],
            follower: &[],
            block: &[],
            mute: &[],
        },
    )
}

// ------------------------------------------------------------------------------------------------
// classic-2015.zip: the retired "Tweet archive" (tweets.csv + Grailbird data/js/), to be refused
// ------------------------------------------------------------------------------------------------

fn classic_2015() -> Archive {
    let mut archive = Archive::new();
    archive.add(
        "index.html",
        "<!DOCTYPE html>\n<html><head><title>Your Tweet archive</title>\
<link rel=\"stylesheet\" href=\"css/application.min.css\"></head>\
<body><script src=\"js/require.min.js\" data-main=\"js/main\"></script></body></html>\n",
    );
    archive.add("css/application.min.css", "body{margin:0}\n");
    archive.add("js/main.js", "/* synthetic stub */\n");
    archive.add(
        "tweets.csv",
        "\"tweet_id\",\"in_reply_to_status_id\",\"in_reply_to_user_id\",\"timestamp\",\"source\",\"text\",\"retweeted_status_id\",\"retweeted_status_user_id\",\"retweeted_status_timestamp\",\"expanded_urls\"\n\
\"559000000000000001\",\"\",\"\",\"2015-01-24 02:02:37 +0000\",\"<a href=\"\"http://twitter.com\"\" rel=\"\"nofollow\"\">Twitter Web Client</a>\",\"Low tide at noon tomorrow, who's coming?\",\"\",\"\",\"\",\"\"\n\
\"558000000000000002\",\"\",\"\",\"2015-01-20 18:30:00 +0000\",\"<a href=\"\"http://twitter.com\"\" rel=\"\"nofollow\"\">Twitter Web Client</a>\",\"RT @musselbed: Winter storms moved the sandbar again\",\"557900000000000003\",\"37705921\",\"2015-01-20 17:00:00 +0000\",\"\"\n",
    );
    archive.add(
        "data/js/tweet_index.js",
        "var tweet_index =  [ {\n  \"file_name\" : \"data\\/js\\/tweets\\/2015_01.js\",\n  \"year\" : 2015,\n  \"var_name\" : \"tweets_2015_01\",\n  \"tweet_count\" : 2,\n  \"month\" : 1\n} ]",
    );
    archive.add(
        "data/js/payload_details.js",
        "var payload_details =  {\n  \"tweets\" : 2,\n  \"created_at\" : \"2015-02-01 10:00:00 +0000\",\n  \"lang\" : \"en\"\n}",
    );
    archive.add(
        "data/js/user_details.js",
        "var user_details =  {\n  \"screen_name\" : \"oldtimer_olga\",\n  \"location\" : \"\",\n  \"full_name\" : \"Olga Oldtimer\",\n  \"bio\" : \"\",\n  \"id\" : \"14141414\",\n  \"created_at\" : \"2008-03-03 03:03:03 +0000\"\n}",
    );
    archive.add(
        "data/js/tweets/2015_01.js",
        "Grailbird.data.tweets_2015_01 = \n [ {\n  \"source\" : \"<a href=\\\"http:\\/\\/twitter.com\\\" rel=\\\"nofollow\\\">Twitter Web Client<\\/a>\",\n  \"entities\" : {\n    \"user_mentions\" : [ ],\n    \"media\" : [ ],\n    \"hashtags\" : [ ],\n    \"urls\" : [ ]\n  },\n  \"geo\" : { },\n  \"id_str\" : \"559000000000000001\",\n  \"text\" : \"Low tide at noon tomorrow, who's coming?\",\n  \"id\" : 559000000000000001,\n  \"created_at\" : \"2015-01-24 02:02:37 +0000\",\n  \"user\" : {\n    \"name\" : \"Olga Oldtimer\",\n    \"screen_name\" : \"oldtimer_olga\",\n    \"protected\" : false,\n    \"id_str\" : \"14141414\",\n    \"profile_image_url_https\" : \"https:\\/\\/pbs.twimg.com\\/profile_images\\/1\\/olga_normal.jpg\",\n    \"id\" : 14141414,\n    \"verified\" : false\n  }\n}, {\n  \"source\" : \"<a href=\\\"http:\\/\\/twitter.com\\\" rel=\\\"nofollow\\\">Twitter Web Client<\\/a>\",\n  \"entities\" : {\n    \"user_mentions\" : [ {\n      \"name\" : \"Mussel Bed News\",\n      \"screen_name\" : \"musselbed\",\n      \"indices\" : [ 3, 13 ],\n      \"id_str\" : \"37705921\",\n      \"id\" : 37705921\n    } ],\n    \"media\" : [ ],\n    \"hashtags\" : [ ],\n    \"urls\" : [ ]\n  },\n  \"geo\" : { },\n  \"id_str\" : \"558000000000000002\",\n  \"text\" : \"RT @musselbed: Winter storms moved the sandbar again\",\n  \"id\" : 558000000000000002,\n  \"created_at\" : \"2015-01-20 18:30:00 +0000\",\n  \"retweeted_status\" : {\n    \"id_str\" : \"557900000000000003\",\n    \"text\" : \"Winter storms moved the sandbar again\",\n    \"created_at\" : \"2015-01-20 17:00:00 +0000\"\n  },\n  \"user\" : {\n    \"name\" : \"Olga Oldtimer\",\n    \"screen_name\" : \"oldtimer_olga\",\n    \"protected\" : false,\n    \"id_str\" : \"14141414\",\n    \"id\" : 14141414,\n    \"verified\" : false\n  }\n} ]",
    );
    archive
}
