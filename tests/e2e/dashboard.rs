//! The dashboard against a running previewd: every replica serves it on its own address with a
//! strict Content-Security-Policy; previews appear and change phase in its JSON without a
//! reload; a preview's page shows its history and Events; GitHub text stays text. And in Debian's
//! headless Chromium: the open page updates itself, axe-core finds nothing serious, nothing
//! scrolls sideways at 375 px, and the console shows no error (CSP violations included).

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Namespace;
use kube::Api;
use kube::api::PostParams;
use previewd::model::crd::Phase;
use previewd_testkit::browser::{Browser, Violation};
use previewd_testkit::scenario::Scenario;
use serde_json::Value;

const READY: Duration = Duration::from_secs(90);
const HOSTILE: &str = "<script>alert(1)</script>\"><img src=x onerror=alert(2)>";

/// A scenario whose previewd serves the dashboard, and the dashboard's base URL.
async fn with_dashboard(prefix: &str) -> (Scenario, String) {
    let address = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        listener.local_addr().expect("its address").to_string()
    };
    let s = Scenario::start(prefix, |o| {
        o.env
            .push(("PREVIEWD_DASHBOARD_LISTEN".into(), address.clone()));
    })
    .await;
    (s, format!("http://{address}"))
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
    let (s, base) = with_dashboard("dashboard").await;
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

/// Serious or critical axe-core findings, shown whole.
fn serious(violations: &[Violation]) -> Vec<&Violation> {
    violations
        .iter()
        .filter(|v| matches!(v.impact.as_deref(), Some("serious" | "critical")))
        .collect()
}

/// Whether the page is wider than the window (a horizontal scroll).
const SCROLLS_SIDEWAYS: &str = "document.documentElement.scrollWidth > window.innerWidth";

#[tokio::test]
async fn in_a_browser_the_dashboard_updates_without_reloading_is_accessible_and_fits_a_phone() {
    let (s, base) = with_dashboard("dash-browser").await;
    // Someone else's namespace under PR 3's name: PR 3 fails, saying why.
    let mut squatter = Namespace::default();
    squatter.metadata.name = Some(s.preview_name(3));
    Api::<Namespace>::all(s.kube.clone())
        .create(&PostParams::default(), &squatter)
        .await
        .expect("create the squatting namespace");
    s.deliver(&s.payload("pr-opened", 1).title(HOSTILE)).await;
    s.deliver(&s.payload("pr-opened", 3)).await;
    s.wait_phase(1, Phase::Ready, None, READY).await;
    s.wait_phase(3, Phase::Failed, None, READY).await;

    let browser = Browser::start().await;
    let mut page = browser.page().await;
    page.viewport(1280, 900, false).await;
    page.goto(&format!("{base}/")).await;
    page.eval("window.loadedOnce = 'yes'").await;
    let row = |number: u64| {
        format!(
            "document.querySelector('tr[data-name=\"{}\"]')",
            s.preview_name(number)
        )
    };
    let title_of_first = format!(
        "{}.querySelector('td[data-label=\"Pull request\"]').textContent",
        row(1)
    );
    assert_eq!(page.eval(&title_of_first).await, format!("#1 {HOSTILE}"));
    assert_eq!(page.eval("document.images.length").await, 0);
    assert_eq!(page.eval("document.scripts.length").await, 1);
    let reason = page
        .eval(&format!("{}.querySelector('.message').textContent", row(3)))
        .await;
    assert!(
        reason.as_str().unwrap().contains("does not belong"),
        "{reason}"
    );

    // A new PR appears and turns Ready on the open page, which is not reloaded.
    s.deliver(&s.payload("pr-opened", 2)).await;
    page.wait_for(
        &format!(
            "(() => {{ const r = {}; return r !== null && r.textContent.includes('Ready'); }})()",
            row(2)
        ),
        READY,
    )
    .await;
    assert_eq!(
        page.eval("window.loadedOnce").await,
        "yes",
        "the page was reloaded"
    );
    assert_eq!(
        page.eval("document.images.length").await,
        0,
        "a live update made markup"
    );
    assert_eq!(page.eval(&title_of_first).await, format!("#1 {HOSTILE}"));

    let desktop = page.axe().await;
    assert!(serious(&desktop).is_empty(), "{desktop:#?}");
    page.viewport(375, 812, true).await;
    assert_eq!(
        page.eval(SCROLLS_SIDEWAYS).await,
        false,
        "the list scrolls sideways at 375 px"
    );
    let phone = page.axe().await;
    assert!(serious(&phone).is_empty(), "{phone:#?}");
    if let Ok(path) = std::env::var("PREVIEWD_SCREENSHOT_DIR") {
        page.viewport(1280, 700, false).await;
        let shot = page.screenshot().await;
        std::fs::write(std::path::Path::new(&path).join("dashboard.png"), shot)
            .expect("write the screenshot");
    }

    page.goto(&format!("{base}/previews/{}", s.preview_name(3)))
        .await;
    assert!(
        page.eval("document.getElementById('message').textContent")
            .await
            .as_str()
            .unwrap()
            .contains("does not belong")
    );
    assert_eq!(
        page.eval(SCROLLS_SIDEWAYS).await,
        false,
        "a preview's page scrolls sideways at 375 px"
    );
    let detail = page.axe().await;
    assert!(serious(&detail).is_empty(), "{detail:#?}");
    let errors = page.errors().await;
    assert!(errors.is_empty(), "the console showed errors: {errors:#?}");
}
