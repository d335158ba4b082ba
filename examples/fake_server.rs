//! Runs the fake Mastodon + WebFinger server (tests/support/fake) on its own, for trying the
//! CLI by hand:
//!
//! ```sh
//! cargo run --example fake_server -- [--seconds N] [--time-scale F] [--logged-in]
//! ```
//!
//! It prints the port, the test CA's PEM path, the host names it serves (with `--resolve`
//! values) and a token for the local account `alice`, then serves until Ctrl-C or until
//! `--seconds` have passed.

#[path = "../tests/support/fake/mod.rs"]
mod fake;

use std::time::Duration;

use fake::{FakeConfig, FakeServer, RemoteAccountSpec, WebfingerBehavior};

struct Args {
    seconds: Option<u64>,
    time_scale: f64,
    logged_in: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        seconds: None,
        time_scale: 1.0,
        logged_in: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--seconds" => {
                let v = it.next().ok_or("--seconds needs a value")?;
                args.seconds = Some(v.parse().map_err(|_| format!("bad --seconds `{v}`"))?);
            }
            "--time-scale" => {
                let v = it.next().ok_or("--time-scale needs a value")?;
                args.time_scale = v.parse().map_err(|_| format!("bad --time-scale `{v}`"))?;
            }
            "--logged-in" => args.logged_in = true,
            "-h" | "--help" => {
                return Err(
                    "usage: fake_server [--seconds N] [--time-scale F] [--logged-in]".into(),
                );
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(args)
}

/// One remote host per WebFinger behaviour, each with an account to resolve.
fn demo_config(args: &Args) -> FakeConfig {
    let mut config = FakeConfig {
        time_scale: args.time_scale,
        logged_in_user: args.logged_in.then(|| "alice".to_string()),
        ..FakeConfig::default()
    }
    .webfinger_host("pleroma.example", WebfingerBehavior::Pleroma)
    .webfinger_host("misskey.example", WebfingerBehavior::Misskey)
    .webfinger_host("lemmy.example", WebfingerBehavior::Lemmy)
    .webfinger_host(
        "example.com",
        WebfingerBehavior::SplitDomain {
            web_host: "mastodon.example.com".into(),
        },
    )
    .webfinger_host(
        "old.example",
        WebfingerBehavior::Canonicalizes {
            to: "new.example".into(),
        },
    )
    .webfinger_host("missing.example", WebfingerBehavior::NotFound)
    .webfinger_host("gone.example", WebfingerBehavior::Gone)
    .webfinger_host(
        "hostmeta.example",
        WebfingerBehavior::HostMetaFallback {
            lrdd_path: "/fediverse/webfinger".into(),
        },
    )
    .webfinger_host("broken.example", WebfingerBehavior::InvalidJson)
    .webfinger_host(
        "huge.example",
        WebfingerBehavior::Huge {
            bytes: 5 * 1024 * 1024,
        },
    )
    .webfinger_host(
        "slow.example",
        WebfingerBehavior::Slow {
            delay: Duration::from_secs(5),
        },
    )
    .webfinger_host("loop.example", WebfingerBehavior::RedirectLoop)
    .webfinger_host("plain.example", WebfingerBehavior::RedirectToHttp);
    for acct in [
        "bob@remote.example",
        "karolat@pleroma.example",
        "syuilo@misskey.example",
        "rust@lemmy.example",
        "alice@example.com",
        "a@new.example",
        "hm@hostmeta.example",
        "x@huge.example",
        "s@slow.example",
    ] {
        config = config.remote(RemoteAccountSpec::new(acct));
    }
    config
        .remote(RemoteAccountSpec::new("known@remote.example").known())
        .remote(RemoteAccountSpec::new("locked@remote.example").locked())
        .remote(RemoteAccountSpec::new("moved@remote.example").moved_to("bob@remote.example"))
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let server = FakeServer::start(demo_config(&args));
    let token = server.issue_token("alice", "read write follow");
    let port = server.port();
    println!("port: {port}");
    println!("ca: {}", server.ca_pem_path().display());
    println!("server: https://{}", server.home_host());
    println!("token (alice): {token}");
    println!("hosts:");
    for host in server.hosts() {
        println!("  {host}  --resolve {}", server.resolve_arg(&host));
    }
    println!(
        "try: migrate --server https://{} --token {token} --ca-cert {} --resolve {} …",
        server.home_host(),
        server.ca_pem_path().display(),
        server.resolve_arg(&server.home_host())
    );

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let limit = async {
            match args.seconds {
                Some(s) => tokio::time::sleep(Duration::from_secs(s)).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => eprintln!("stopping (Ctrl-C)"),
            _ = limit => eprintln!("stopping (time is up)"),
        }
    });
    let st = server.state();
    eprintln!(
        "served {} requests; {} answered 429; {} faults",
        st.counters.requests.values().sum::<u64>(),
        st.counters.rate_limited,
        st.counters.faults.total()
    );
}
