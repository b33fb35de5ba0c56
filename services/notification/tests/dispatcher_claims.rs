//! R21: a round of due emails is claimed in one statement, and still no
//! email is taken by two dispatchers: each claim holds only for an email
//! still due and unchanged since its dispatcher listed it. Outcomes that
//! finish together are recorded in one transaction, each as if alone.

use std::time::Duration;

use chrono::Utc;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use twotier_notification::domain::{
    AttemptOutcome, Backoff, Delivery, EventSource, Language, NewNotification, Outcome, Status,
    Template,
};
use twotier_notification::mail::{Settlement, Settlements};
use twotier_notification::store::migration::Migrator;
use twotier_notification::store::notification::{self as store, Origin};
use twotier_testkit::TestDatabase;

const LEASE: Duration = Duration::from_secs(30);

async fn database(label: &str) -> (TestDatabase, DatabaseConnection) {
    let test = TestDatabase::new(label).await;
    let db = twotier_platform::db::connect(&test.url, 4).await.unwrap();
    twotier_platform::db::migrate::<Migrator>(&db, "notification")
        .await
        .unwrap();
    (test, db)
}

/// Records `count` pending emails of one event.
async fn record(db: &DatabaseConnection, count: usize) {
    let origin = Origin {
        tenant_id: "provider".into(),
        source: EventSource {
            upstream: "partnership".into(),
            event_id: uuid::Uuid::now_v7().to_string(),
            event_type: "twotier.partnership.v1.PartnershipAccepted".into(),
            position: 1,
        },
        traceparent: String::new(),
        tracestate: String::new(),
        at: Utc::now(),
    };
    let emails = (0..count)
        .map(|i| NewNotification {
            recipient: format!("admin{i}@example.com"),
            template: Template::PartnershipAccepted,
            language: Language::English,
            subject: "Accepted".into(),
            body: "Your invitation was accepted.".into(),
            sealed_link: None,
        })
        .collect();
    store::record(db, &origin, emails).await.unwrap();
}

/// What a dispatcher that listed the due emails now would claim.
async fn listed_round(db: &DatabaseConnection) -> Vec<(String, Delivery)> {
    let now = Utc::now();
    store::due(db, now, 64)
        .await
        .unwrap()
        .into_iter()
        .map(|email| (email.id, email.delivery.claim(now, LEASE).unwrap()))
        .collect()
}

async fn claim(db: &DatabaseConnection, round: &[(String, Delivery)]) -> Vec<String> {
    let round: Vec<(&str, Delivery)> = round.iter().map(|(id, d)| (id.as_str(), *d)).collect();
    store::claim(db, &round, Utc::now()).await.unwrap()
}

#[tokio::test]
async fn a_round_claimed_in_one_statement_starts_one_attempt_per_email() {
    let (_test, db) = database("claim_round").await;
    record(&db, 5).await;
    let round = listed_round(&db).await;
    assert_eq!(round.len(), 5);

    let mut claimed = claim(&db, &round).await;
    claimed.sort();
    let mut listed: Vec<String> = round.iter().map(|(id, _)| id.clone()).collect();
    listed.sort();
    assert_eq!(claimed, listed, "every listed email is claimed");

    for id in &claimed {
        let notification = store::get(&db, id).await.unwrap().unwrap();
        assert_eq!(
            notification.delivery_attempts.len(),
            1,
            "one attempt started"
        );
        assert_eq!(notification.delivery_attempts[0].attempt, 1);
    }
    assert!(
        listed_round(&db).await.is_empty(),
        "leased emails are not due"
    );
}

#[tokio::test]
async fn a_dispatcher_claiming_from_a_stale_list_takes_nothing() {
    let (_test, db) = database("claim_stale").await;
    record(&db, 3).await;
    // Both dispatchers listed the same emails; the first one claims them.
    let first = listed_round(&db).await;
    let stale = first.clone();
    assert_eq!(claim(&db, &first).await.len(), 3);
    assert!(claim(&db, &stale).await.is_empty(), "a live lease holds");

    // Fault: the first dispatcher's lease runs out (it died mid-send), so
    // the emails are due again; the second still works from its old list.
    db.execute_unprepared("UPDATE notification SET lease_until = '2000-01-01T00:00:00Z'")
        .await
        .unwrap();
    assert!(
        claim(&db, &stale).await.is_empty(),
        "a list from before the last attempt claims nothing"
    );
    let fresh = listed_round(&db).await;
    assert_eq!(
        claim(&db, &fresh).await.len(),
        3,
        "a fresh list claims them"
    );
    for (id, _) in &first {
        let notification = store::get(&db, id).await.unwrap().unwrap();
        let attempts: Vec<i32> = notification
            .delivery_attempts
            .iter()
            .map(|a| a.attempt)
            .collect();
        assert_eq!(attempts, [1, 2], "one attempt per successful claim");
    }
}

#[tokio::test]
async fn two_dispatchers_claiming_one_round_at_once_in_opposite_orders_never_claim_an_email_twice()
{
    let (test, db) = database("claim_race").await;
    record(&db, 40).await;
    let round = listed_round(&db).await;
    assert_eq!(round.len(), 40);
    // A second connection pool, as a replica has.
    let replica = twotier_platform::db::connect(&test.url, 4).await.unwrap();

    let reversed: Vec<(String, Delivery)> = round.iter().rev().cloned().collect();
    let (mine, theirs) = tokio::join!(claim(&db, &round), claim(&replica, &reversed));
    let mut all: Vec<String> = mine.iter().chain(&theirs).cloned().collect();
    all.sort();
    let before = all.len();
    all.dedup();
    assert_eq!(before, all.len(), "no email claimed by both");
    assert_eq!(all.len(), 40, "every email claimed by one of them");
}

/// Settles each email of `claimed` with the outcome `outcome` gives its
/// place, all at once through `settlements`, as a dispatcher's deliveries
/// finishing together do; each email's answer, in `claimed`'s order.
async fn settle(
    settlements: &Settlements,
    claimed: &[(String, Delivery)],
    outcome: impl Fn(usize) -> Outcome,
) -> Vec<Option<i32>> {
    let now = Utc::now();
    let settling = claimed.iter().enumerate().map(|(i, (id, leased))| {
        let settled = leased
            .settle(outcome(i), now, Backoff::capped_at(LEASE))
            .unwrap();
        let report = twotier_outbox::Event::new(
            "notification",
            id.clone(),
            "provider",
            &twotier_proto::notification::EmailSent {
                notification: format!("notifications/{id}"),
                attempts: leased.attempts,
                ..Default::default()
            },
        );
        settlements.record(Settlement {
            id: id.clone(),
            claimed: *leased,
            settled,
            report,
            span: tracing::Span::none(),
        })
    });
    futures::future::join_all(settling)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect()
}

async fn reports(db: &DatabaseConnection) -> i64 {
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT COUNT(*) AS n FROM outbox_event",
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

#[tokio::test]
async fn outcomes_finishing_together_are_each_recorded_once_as_their_own() {
    let (_test, db) = database("settle_group").await;
    record(&db, 20).await;
    let round = listed_round(&db).await;
    assert_eq!(claim(&db, &round).await.len(), 20);
    let settlements = Settlements::new(twotier_outbox::Outbox::new(db.clone()));

    // Every other email's server answered "try later".
    let outcome = |i: usize| match i % 2 {
        0 => Outcome::Delivered,
        _ => Outcome::Transient("421 try later".into()),
    };
    let answers = settle(&settlements, &round, outcome).await;
    assert_eq!(answers, vec![Some(1); 20], "every attempt settled here");
    for (i, (id, _)) in round.iter().enumerate() {
        let notification = store::get(&db, id).await.unwrap().unwrap();
        let attempt = &notification.delivery_attempts[..];
        assert_eq!(attempt.len(), 1);
        if i % 2 == 0 {
            assert_eq!(notification.status, Status::Sent);
            assert!(notification.sent_at.is_some());
            assert_eq!(attempt[0].outcome, AttemptOutcome::Delivered);
        } else {
            assert_eq!(notification.status, Status::Pending);
            assert_eq!(notification.sent_at, None);
            assert_eq!(notification.last_error, "421 try later");
            assert_eq!(attempt[0].outcome, AttemptOutcome::TransientFailure);
            assert_eq!(attempt[0].error, "421 try later");
            assert!(notification.next_attempt_at > Utc::now(), "backs off");
        }
    }
    assert!(
        listed_round(&db).await.is_empty(),
        "the failed ones wait for their backoff"
    );
    assert_eq!(reports(&db).await, 20, "one report per email");
}

#[tokio::test]
async fn a_group_holding_an_email_another_dispatcher_settled_first_records_the_rest() {
    let (_test, db) = database("settle_group_raced").await;
    record(&db, 5).await;
    let round = listed_round(&db).await;
    assert_eq!(claim(&db, &round).await.len(), 5);
    let settlements = Settlements::new(twotier_outbox::Outbox::new(db.clone()));
    // Fault: another dispatcher (whose lease on the first email had run
    // out) settles it before this dispatcher's group is recorded.
    let replica = Settlements::new(twotier_outbox::Outbox::new(db.clone()));
    assert_eq!(
        settle(&replica, &round[..1], |_| Outcome::Delivered).await,
        [Some(1)]
    );

    let answers = settle(&settlements, &round, |_| Outcome::Delivered).await;
    assert_eq!(answers[0], None, "settled by the other dispatcher first");
    assert_eq!(answers[1..], [Some(1); 4], "the rest of the group recorded");
    assert_eq!(
        reports(&db).await,
        5,
        "the email settled twice reports once"
    );
    for (id, _) in &round {
        let notification = store::get(&db, id).await.unwrap().unwrap();
        assert_eq!(notification.status, Status::Sent);
    }
}
