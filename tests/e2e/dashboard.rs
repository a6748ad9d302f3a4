//! The dashboard against a running previewd: every replica serves it on its own address with a
//! strict Content-Security-Policy; previews appear and change phase in its JSON without a
//! reload; a preview's page shows its history and Events; GitHub text stays text.

use std::time::{Duration, Instant};

use previewd::model::crd::Phase;
use previewd_testkit::scenario::Scenario;
use serde_json::Value;

const READY: Duration = Duration::from_secs(90);
const HOSTILE: &str = "<script>alert(1)</script>\"><img src=x onerror=alert(2)>";

fn free_address() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").to_string()
}

async fn get(url: &str) -> (u16, reqwest::header::HeaderMap, String) {
    let response = reqwest::get(url).await.expect("the dashboard answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().await.expect("a body"))
}

/// The dashboard's cards, once it has listed the previews.
async fn cards(base: &str) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, _, body) = get(&format!("{base}/api/previews")).await;
        if status == 200 {
            return serde_json::from_str::<Vec<Value>>(&body).expect("cards as JSON");
        }
        assert!(Instant::now() < deadline, "never listed: {status} {body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits until the card of PR `number` shows `phase` in the JSON the page polls.
async fn wait_card(base: &str, number: u64, phase: &str) -> Value {
    let deadline = Instant::now() + READY;
    loop {
        let all = cards(base).await;
        if let Some(card) = all
            .iter()
            .find(|c| c["number"] == number && c["phase"] == phase)
        {
            return card.clone();
        }
        assert!(
            Instant::now() < deadline,
            "PR {number} never {phase}: {all:#?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn the_dashboard_lists_previews_live_and_keeps_github_text_as_text() {
    let address = free_address();
    let s = Scenario::start("dashboard", |o| {
        o.env
            .push(("PREVIEWD_DASHBOARD_LISTEN".into(), address.clone()));
    })
    .await;
    let base = format!("http://{address}");
    assert!(cards(&base).await.is_empty());

    s.deliver(&s.payload("pr-opened", 1).title(HOSTILE)).await;
    s.wait_phase(1, Phase::Ready, None, READY).await;
    let card = wait_card(&base, 1, "Ready").await;
    assert_eq!(card["title"], HOSTILE);
    assert_eq!(card["repository"], s.full_name());
    assert!(
        card["url"].as_str().unwrap().starts_with("https://"),
        "{card:#}"
    );

    let (status, headers, page) = get(&format!("{base}/")).await;
    assert_eq!(status, 200);
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(
        page.contains(&format!("<h2>{}</h2>", s.full_name())),
        "{page}"
    );
    assert!(
        !page.contains("<script>alert") && !page.contains("<img"),
        "{page}"
    );
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{page}"
    );
    assert!(
        !page.contains("http://") || !page.contains("src=\"http"),
        "no external resources"
    );

    // A new PR appears in what the page polls, and turns Ready, with no reload.
    s.deliver(&s.payload("pr-opened", 2)).await;
    let second = wait_card(&base, 2, "Ready").await;
    let name = second["name"].as_str().unwrap().to_owned();

    let (status, _, detail) = get(&format!("{base}/previews/{name}")).await;
    assert_eq!(status, 200, "{detail}");
    assert!(detail.contains("<h2>Phase history</h2>"), "{detail}");
    assert!(
        detail.contains("<td data-label=\"Phase\">Ready</td>"),
        "{detail}"
    );
    assert!(
        detail.contains("<td data-label=\"Reason\">Ready</td>"),
        "an Event: {detail}"
    );
    let (status, _, _) = get(&format!("{base}/previews/no-such-preview")).await;
    assert_eq!(status, 404);
    let (status, headers, script) = get(&format!("{base}/static/dashboard.js")).await;
    assert_eq!(status, 200);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert!(script.contains("textContent") && !script.contains("innerHTML"));
    let filtered: Vec<Value> =
        serde_json::from_str(&get(&format!("{base}/api/previews?phase=Failed")).await.2).unwrap();
    assert!(filtered.is_empty(), "{filtered:#?}");
}
