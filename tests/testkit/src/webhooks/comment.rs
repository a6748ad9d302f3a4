//! Who sent a payload, and the comment of an `issue_comment`: its author, body and id (a
//! command comment previewd reacts to must carry the id the GitHub stand-in gave it).

use serde_json::Value;

use super::Payload;

impl Payload {
    /// Makes `login` the sender (and, for a comment, its author).
    pub fn sender(self, login: &str) -> Self {
        let p = self.user_at("/sender", login);
        if p.get("/comment/user").is_some() {
            p.user_at("/comment/user", login)
        } else {
            p
        }
    }

    /// Makes `login` the comment's author and the sender, with this `author_association`
    /// (`OWNER`, `MEMBER`, `COLLABORATOR`, `CONTRIBUTOR`, `NONE`...), which previewd must not
    /// trust: permission comes from the API.
    pub fn comment_author(self, login: &str, author_association: &str) -> Self {
        self.sender(login)
            .set("/comment/author_association", author_association)
    }

    /// Sets the comment body of an `issue_comment`.
    pub fn comment_body(self, body: &str) -> Self {
        self.set("/comment/body", body)
    }

    /// Gives the comment id `id` (its `url` and `html_url` follow, `node_id` takes the
    /// stand-in's form), e.g. the id `GitHub::seed_comment` returned.
    pub fn comment_id(self, id: u64) -> Self {
        let old = self
            .get("/comment/id")
            .and_then(Value::as_u64)
            .expect("comment_id() needs an issue_comment payload");
        let (old, new) = (old.to_string(), id.to_string());
        let mut p = self;
        for pointer in ["/comment/url", "/comment/html_url"] {
            p = p.replace_in_strings(pointer, &old, &new, true);
        }
        p.set("/comment/id", id)
            .set("/comment/node_id", format!("IC_{id:x}"))
    }
}
