//! Issue comment and reaction objects.

use serde_json::{Value, json};

use super::super::state::{Comment, Reaction, User};
use super::{Urls, association, simple_user, timestamp};

/// An `issue-comment`.
pub(crate) fn comment(
    urls: &Urls,
    comment: &Comment,
    author: &User,
    reactions: &[(&str, usize)],
) -> Value {
    let full_name = format!("{}/{}", comment.owner, comment.repo);
    let url = format!(
        "{}/repos/{full_name}/issues/comments/{}",
        urls.api, comment.id
    );
    json!({
        "id": comment.id,
        "node_id": format!("IC_{:x}", comment.id),
        "url": url,
        "html_url": format!("{}/{full_name}/pull/{}#issuecomment-{}", urls.web, comment.number, comment.id),
        "issue_url": format!("{}/repos/{full_name}/issues/{}", urls.api, comment.number),
        "body": comment.body,
        "user": simple_user(urls, author),
        "created_at": timestamp(comment.created_at),
        "updated_at": timestamp(comment.updated_at),
        "author_association": association(author, &comment.owner),
        "performed_via_github_app": null,
        "reactions": rollup(&format!("{url}/reactions"), reactions),
    })
}

/// The `reaction-rollup` of a comment: a count per content and the total.
fn rollup(url: &str, counts: &[(&str, usize)]) -> Value {
    let mut value = json!({
        "url": url,
        "total_count": counts.iter().map(|(_, n)| n).sum::<usize>(),
    });
    for (content, n) in counts {
        value[*content] = json!(n);
    }
    value
}

/// A `reaction`.
pub(crate) fn reaction(urls: &Urls, reaction: &Reaction, user: &User) -> Value {
    json!({
        "id": reaction.id,
        "node_id": format!("REA_{:x}", reaction.id),
        "user": simple_user(urls, user),
        "content": reaction.content,
        "created_at": timestamp(reaction.created_at),
    })
}
