//! The GitHub REST stand-in of the integration tests, as a server for demos and scripts.
//!
//! ```text
//! cargo run --example github_standin -- --port 0
//! listening on http://127.0.0.1:PORT        <- always the first line of stdout
//! ```
//! Point previewd at that URL with token `previewd-test-token`. Besides the API:
//! `GET /_standin/requests` (every API request, in order), `GET /_standin/comments` (every
//! comment), `PUT /_standin/pulls/{owner}/{repo}/{number}` (create or change a PR from a JSON
//! object with fields of `Pull`, e.g. `{"title": "x", "head_sha": "...", "open": false}`).

use std::io::Write;
use std::net::SocketAddr;

use previewd_testkit::github::{GitHub, admin_routes};

#[tokio::main]
async fn main() {
    let mut port: u16 = 0;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => {
                let value = args.next().unwrap_or_default();
                port = value
                    .parse()
                    .unwrap_or_else(|_| usage(&format!("--port needs a number, got {value:?}")));
            }
            "-h" | "--help" => usage(""),
            other => usage(&format!("unknown argument {other:?}")),
        }
    }
    let github = GitHub::start_with(SocketAddr::from(([127, 0, 0, 1], port)), admin_routes).await;
    let mut stdout = std::io::stdout();
    writeln!(stdout, "listening on {}", github.url()).expect("write to stdout");
    stdout.flush().expect("flush stdout");
    eprintln!("token: {} (user {})", GitHub::TOKEN, GitHub::LOGIN);
    tokio::signal::ctrl_c().await.expect("wait for Ctrl-C");
}

fn usage(problem: &str) -> ! {
    if !problem.is_empty() {
        eprintln!("github_standin: {problem}");
    }
    eprintln!("usage: github_standin [--port PORT]   (0 = any free port)");
    std::process::exit(if problem.is_empty() { 0 } else { 2 })
}
