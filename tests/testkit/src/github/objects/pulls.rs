//! Pull request and label objects.

use serde_json::{Value, json};

use super::super::pull::Pull;
use super::super::state::User;
use super::{
    Urls, association, fake_sha, merge, path_segment, repo_id, repository, simple_user, stable_id,
    timestamp,
};

/// Everything a pull request object is built from besides the `Pull` itself.
pub(crate) struct PullContext<'a> {
    /// Addresses.
    pub(crate) urls: &'a Urls,
    /// The base repository's owner.
    pub(crate) owner: &'a User,
    /// The PR's author.
    pub(crate) author: &'a User,
    /// Owner of the head repository: `owner` unless the PR comes from a fork.
    pub(crate) head_owner: &'a User,
    /// The base repository's id (kept through renames and transfers).
    pub(crate) base_id: u64,
}

/// A `pull-request-simple`: one item of `GET /repos/{owner}/{repo}/pulls`.
pub(crate) fn pull_request_simple(ctx: &PullContext<'_>, pull: &Pull) -> Value {
    let urls = ctx.urls;
    let full_name = format!("{}/{}", pull.owner, pull.repo);
    let api = format!("{}/repos/{full_name}", urls.api);
    let url = format!("{api}/pulls/{}", pull.number);
    let html_url = format!("{}/{full_name}/pull/{}", urls.web, pull.number);
    let issue_url = format!("{api}/issues/{}", pull.number);
    let comments_url = format!("{issue_url}/comments");
    let review_comments_url = format!("{url}/comments");
    let commits_url = format!("{url}/commits");
    let statuses_url = format!("{api}/statuses/{}", pull.head_sha);
    let closed_at = (!pull.open).then(|| timestamp(pull.updated_at));
    let merged_at = pull.merged.then(|| timestamp(pull.updated_at));
    let fork = pull.fork_owner.is_some();
    let head_id = match fork {
        true => repo_id(&format!("{}/{}", ctx.head_owner.login, pull.repo)),
        false => ctx.base_id,
    };
    let labels: Vec<Value> = pull
        .labels
        .iter()
        .map(|name| label(&api, &full_name, name))
        .collect();
    let head = json!({
        "label": format!("{}:{}", ctx.head_owner.login, pull.branch),
        "ref": pull.branch,
        "sha": pull.head_sha,
        "user": simple_user(urls, ctx.head_owner),
        "repo": repository(urls, ctx.head_owner, &pull.repo, fork, &pull.base_branch, head_id),
    });
    let base = json!({
        "label": format!("{}:{}", pull.owner, pull.base_branch),
        "ref": pull.base_branch,
        "sha": pull.base_sha,
        "user": simple_user(urls, ctx.owner),
        "repo": repository(urls, ctx.owner, &pull.repo, false, &pull.base_branch, ctx.base_id),
    });
    let links = json!({
        "self": {"href": url},
        "html": {"href": html_url},
        "issue": {"href": issue_url},
        "comments": {"href": comments_url},
        "review_comments": {"href": review_comments_url},
        "review_comment": {"href": format!("{api}/pulls/comments{{/number}}")},
        "commits": {"href": commits_url},
        "statuses": {"href": statuses_url},
    });
    json!({
        "url": url,
        "id": stable_id(&format!("pull:{full_name}#{}", pull.number)),
        "node_id": format!("PR_{:x}", stable_id(&format!("pull:{full_name}#{}", pull.number))),
        "html_url": html_url,
        "diff_url": format!("{html_url}.diff"),
        "patch_url": format!("{html_url}.patch"),
        "issue_url": issue_url,
        "number": pull.number,
        "state": if pull.open { "open" } else { "closed" },
        "locked": false,
        "title": pull.title,
        "user": simple_user(urls, ctx.author),
        "body": pull.body,
        "created_at": timestamp(pull.created_at),
        "updated_at": timestamp(pull.updated_at),
        "closed_at": closed_at,
        "merged_at": merged_at,
        "merge_commit_sha": pull.merged.then(|| fake_sha(&format!("merge:{full_name}#{}", pull.number))),
        "assignee": null,
        "assignees": [],
        "requested_reviewers": [],
        "requested_teams": [],
        "labels": labels,
        "milestone": null,
        "draft": pull.draft,
        "commits_url": commits_url,
        "review_comments_url": review_comments_url,
        "review_comment_url": format!("{api}/pulls/comments{{/number}}"),
        "comments_url": comments_url,
        "statuses_url": statuses_url,
        "head": head,
        "base": base,
        "_links": links,
        "author_association": association(ctx.author, &pull.owner),
        "auto_merge": null,
        "active_lock_reason": null,
    })
}

/// A `pull-request`: what `GET /repos/{owner}/{repo}/pulls/{number}` returns.
pub(crate) fn pull_request(ctx: &PullContext<'_>, pull: &Pull) -> Value {
    let mut value = pull_request_simple(ctx, pull);
    let extra = json!({
        "merged": pull.merged,
        "mergeable": if pull.open { json!(true) } else { Value::Null },
        "rebaseable": if pull.open { json!(true) } else { Value::Null },
        "mergeable_state": if pull.open { "clean" } else { "unknown" },
        "merged_by": if pull.merged { simple_user(ctx.urls, ctx.owner) } else { Value::Null },
        "comments": 0,
        "review_comments": 0,
        "maintainer_can_modify": pull.fork_owner.is_some(),
        "commits": 1,
        "additions": 1,
        "deletions": 0,
        "changed_files": 1,
    });
    merge(&mut value, extra);
    value
}

/// A `label` of repository `full_name` whose API address is `repo_api`, as both the REST API
/// and webhook payloads show it (the id depends only on repository and name).
pub fn label(repo_api: &str, full_name: &str, name: &str) -> Value {
    let id = label_id(full_name, name);
    json!({
        "id": id,
        "node_id": format!("LA_{id:x}"),
        "url": format!("{repo_api}/labels/{}", path_segment(name)),
        "name": name,
        // A string, never null: `pull-request-simple` (the list) does not allow null there.
        "description": "",
        "color": "ededed",
        "default": false,
    })
}

/// The id the stand-in (and the webhook builder) gives label `name` of repository `full_name`.
pub fn label_id(full_name: &str, name: &str) -> u64 {
    stable_id(&format!("label:{full_name}:{name}"))
}
