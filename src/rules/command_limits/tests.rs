use super::*;
use crate::model::command::Command;
use crate::model::pull::PullFacts;
use chrono::TimeZone;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap()
}

fn minutes_ago(n: i64) -> DateTime<Utc> {
    now() - chrono::Duration::minutes(n)
}

fn waiting(login: &str, id: u64) -> PendingCommand {
    PendingCommand {
        comment_id: id,
        login: login.into(),
        command: Command::Deploy {
            sha: None,
            force: false,
        },
        created_at: Some(now()),
    }
}

fn comment(login: &str, written: DateTime<Utc>) -> CommandEvent {
    CommandEvent {
        pull: PullFacts::default(),
        open: true,
        comment_id: 1_000,
        created_at: Some(written),
        login: login.into(),
        command: Command::Deploy {
            sha: None,
            force: false,
        },
    }
}

#[test]
fn a_flood_from_one_user_leaves_room_for_others() {
    let flood: Vec<_> = (0..3).map(|id| waiting("mallory", id)).collect();
    assert_eq!(
        not_recorded(&flood, &comment("mallory", now()), now()),
        Some("too many commands of this user waiting")
    );
    assert_eq!(
        not_recorded(&flood, &comment("maintainer", now()), now()),
        None
    );
    let crowd: Vec<_> = (0..20)
        .map(|id| waiting(&format!("user{id}"), id))
        .collect();
    assert_eq!(
        not_recorded(&crowd, &comment("maintainer", now()), now()),
        Some("too many commands waiting")
    );
}

#[test]
fn comments_older_than_an_hour_do_not_run() {
    assert_eq!(
        not_recorded(&[], &comment("a", minutes_ago(59)), now()),
        None
    );
    assert_eq!(
        not_recorded(&[], &comment("a", minutes_ago(61)), now()),
        Some("command comment written more than an hour ago")
    );
    // A clock ahead of ours is not held against the comment.
    assert_eq!(
        not_recorded(&[], &comment("a", minutes_ago(-5)), now()),
        None
    );
}

#[test]
fn no_comment_runs_twice_however_many_come_between() {
    let (mut processed, mut up_to) = (Vec::new(), None);
    for id in 1..=250 {
        remember(&mut processed, &mut up_to, id);
    }
    assert_eq!(processed.len(), REMEMBERED);
    assert_eq!(up_to, Some(150));
    assert!((1..=250).all(|id| taken(&processed, up_to, id)));
    assert!(!taken(&processed, up_to, 251));
    remember(&mut processed, &mut up_to, 250);
    assert_eq!(processed.len(), REMEMBERED);
}

#[test]
fn a_refusal_is_answered_once_an_hour_per_user() {
    let mut refusals = Vec::new();
    assert!(!refusal_is_quiet(&refusals, "mallory", now()));
    note_refusal(&mut refusals, "mallory", minutes_ago(30));
    assert!(refusal_is_quiet(&refusals, "mallory", now()));
    assert!(!refusal_is_quiet(&refusals, "eve", now()));
    assert!(!refusal_is_quiet(
        &refusals,
        "mallory",
        now() + chrono::Duration::minutes(31)
    ));
    for i in 0..80 {
        note_refusal(&mut refusals, &format!("user{i}"), now());
    }
    assert_eq!(refusals.len(), REFUSALS_REMEMBERED);
    note_refusal(&mut refusals, "user79", now());
    assert_eq!(refusals.iter().filter(|r| r.login == "user79").count(), 1);
}

#[test]
fn the_notice_has_one_bounded_line_per_user() {
    let answers: Vec<(String, String)> = [("a", "first"), ("b", "bee"), ("a", "second")]
        .iter()
        .map(|(l, t)| ((*l).into(), (*t).into()))
        .collect();
    assert_eq!(notice(&answers), "bee\n\nsecond");
    let crowd: Vec<(String, String)> = (0..120)
        .map(|i| (format!("user{i}"), "x".repeat(5_000)))
        .collect();
    let text = notice(&crowd);
    assert!(text.starts_with("(110 more users' commands answered before these)"));
    let help = crate::model::command::HELP;
    assert!(
        help.chars().count() < NOTICE_LINE,
        "the help is shown whole"
    );
    assert_eq!(
        text.matches("… (3500 more characters)").count(),
        NOTICE_USERS
    );
    assert!(text.chars().count() < 16_000, "{}", text.len());
}
