use super::*;
use crate::config::FileConfig;
use crate::model::crd::PhaseChange;
use crate::ops::fixtures::{self, now};
use crate::ops::list::rows;

const HOSTILE: &str = "<script>alert(1)</script>\"><img src=x onerror=alert(2)>";

/// PR `number` of `repository` titled `title`, in `phase` (failed with a hostile reason).
fn preview(repository: &str, number: u64, phase: Phase, title: &str) -> PreviewEnvironment {
    let mut pe = fixtures::preview(repository, number, phase);
    pe.spec.pull.title = title.into();
    pe.spec.pull.head_sha = "b".repeat(40);
    let status = pe.status.as_mut().expect("a status");
    status.deployed_sha = Some("b".repeat(40));
    status.message = (phase == Phase::Failed).then(|| format!("apply failed: {HOSTILE}"));
    status.history = vec![PhaseChange {
        phase,
        at: now(),
        sha: Some("b".repeat(40)),
        message: None,
    }];
    pe
}

fn cards(previews: &[PreviewEnvironment]) -> Vec<Card> {
    rows(previews, &FileConfig::default())
        .iter()
        .map(|r| card(r, now()))
        .collect()
}

use crate::model::crd::Phase;

#[test]
fn the_list_groups_by_repository_and_links_pull_requests_previews_and_commits() {
    let previews = [
        preview("o/b", 2, Phase::Failed, "Second"),
        preview("o/a", 1, Phase::Ready, "First"),
    ];
    let html = list(&cards(&previews), &Filters::default(), now());
    let a = html.find("<h2>o/a</h2>").expect("o/a's section");
    let b = html.find("<h2>o/b</h2>").expect("o/b's section");
    assert!(a < b, "{html}");
    assert!(
        html.contains(
            "<a href=\"https://github.com/o/a/pull/1\" rel=\"noopener noreferrer\">#1 First</a>"
        ),
        "{html}"
    );
    assert!(
        html.contains("<a href=\"https://o-a-pr1.preview.test\""),
        "{html}"
    );
    assert!(html.contains("<a href=\"https://github.com/o/a/commit/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\" rel=\"noopener noreferrer\">bbbbbbb</a>"), "{html}");
    assert!(
        html.contains("<span class=\"phase phase-failed\">✖ Failed</span>"),
        "{html}"
    );
    assert!(
        html.contains("<html lang=\"en\">") && html.contains("<label for=\"phase\">"),
        "{html}"
    );
    assert!(!html.contains("<style") && !html.contains(" style=") && !html.contains("<script>"));
}

#[test]
fn text_from_github_is_never_markup() {
    let previews = [preview("o/a", 1, Phase::Failed, HOSTILE)];
    let mut pe = previews[0].clone();
    pe.spec.pull.author = HOSTILE.into();
    let list_html = list(
        &cards(std::slice::from_ref(&pe)),
        &Filters::default(),
        now(),
    );
    let card = cards(std::slice::from_ref(&pe)).remove(0);
    let detail_html = detail(&pe, &card, &[]);
    for html in [&list_html, &detail_html] {
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(
            html.contains(
                "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"
            ),
            "{html}"
        );
    }
}

#[test]
fn a_pull_request_address_that_is_not_a_web_address_is_not_a_link() {
    let mut pe = preview("o/a", 1, Phase::Ready, "t");
    pe.spec.pull.pull_request_url = "javascript:alert(1)".into();
    let c = cards(&[pe]).remove(0);
    assert_eq!(c.pr_url, None);
    assert_eq!(c.commit_url, None);
    let html = list(&[c], &Filters::default(), now());
    assert!(!html.contains("javascript:"), "{html}");
}

#[test]
fn filters_keep_one_repository_or_one_phase() {
    let all = cards(&[
        preview("o/a", 1, Phase::Ready, "x"),
        preview("o/a", 2, Phase::Failed, "y"),
        preview("o/b", 3, Phase::Ready, "z"),
    ]);
    let by = |repository: Option<&str>, phase: Option<&str>| {
        let f = Filters {
            repository: repository.map(str::to_owned),
            phase: phase.map(str::to_owned),
        };
        all.iter()
            .filter(|c| f.keep(c))
            .map(|c| c.number)
            .collect::<Vec<_>>()
    };
    assert_eq!(by(None, None), [1, 2, 3]);
    assert_eq!(by(Some("O/A"), None), [1, 2]);
    assert_eq!(by(None, Some("Ready")), [1, 3]);
    assert_eq!(by(Some("o/a"), Some("Failed")), [2]);
    assert_eq!(by(Some(""), Some("")), [1, 2, 3]);
    let html = list(
        &all,
        &Filters {
            repository: Some("o/b".into()),
            phase: None,
        },
        now(),
    );
    assert!(
        html.contains("<option value=\"o/b\" selected>o/b</option>"),
        "{html}"
    );
    assert!(!html.contains("#1 x"), "{html}");
    assert!(list(&[], &Filters::default(), now()).contains("No previews."));
}

#[test]
fn a_preview_page_shows_its_conditions_history_and_events() {
    let pe = preview("o/a", 1, Phase::Ready, "t");
    let c = cards(std::slice::from_ref(&pe)).remove(0);
    let event = Event {
        type_: Some("Normal".into()),
        reason: Some("Ready".into()),
        note: Some("ready at bbbbbbb".into()),
        event_time: Some(crate::model::time::to_k8s_micro(now())),
        ..Event::default()
    };
    let html = detail(&pe, &c, &[event]);
    assert!(html.contains("<body data-preview=\"o-a-pr1\">"), "{html}");
    assert!(html.contains("<h2>Phase history</h2>"), "{html}");
    assert!(
        html.contains("<td data-label=\"Phase\">Ready</td>"),
        "{html}"
    );
    assert!(
        html.contains("<td data-label=\"Note\">ready at bbbbbbb</td>"),
        "{html}"
    );
    assert!(
        html.contains("<h2>Conditions</h2>\n<p class=\"empty\">None.</p>"),
        "{html}"
    );
}
