//! R21: a round of due emails is claimed in one statement, and still no
//! email is taken by two dispatchers: each claim holds only for an email
//! still due and unchanged since its dispatcher listed it. Outcomes that
//! finish together are recorded in one transaction, each as if alone.

use std::time::Duration;

use chrono::Utc;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};
use twotier_notification::domain::{
    AttemptOutcome, Backoff, Delivery, EventSource, Language, NewNotification, Notification,
    Outcome, Status, Template,
};
use twotier_notification::mail::{Settlement, Settlements};
use twotier_notification::store::migration::Migrator;
use twotier_notification::store::notification::{self as store, Origin};
use twotier_outbox::Outbox;
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
            about: String::new(),
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

/// Records `count` pending emails and claims them all, as one dispatcher
/// about to hand them over; each with the delivery its claim started.
async fn claimed_round(db: &DatabaseConnection, count: usize) -> Vec<(String, Delivery)> {
    record(db, count).await;
    let round = listed_round(db).await;
    assert_eq!(claim(db, &round).await.len(), count, "every email claimed");
    round
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
async fn a_failure_after_a_claim_from_a_list_older_than_the_last_settle_is_recorded() {
    let (_test, db) = database("claim_after_settle").await;
    let first = claimed_round(&db, 1).await;
    // Fault: the first dispatcher's lease runs out mid-send, and a second
    // lists the email meanwhile.
    db.execute_unprepared("UPDATE notification SET lease_until = '2000-01-01T00:00:00Z'")
        .await
        .unwrap();
    let stale = listed_round(&db).await;
    assert_eq!(stale.len(), 1);
    // Then the first one's attempt fails for now, and its backoff passes.
    let recorder = Settlements::new(Outbox::new(db.clone()));
    let try_later = |_| Outcome::Transient("421 try later".into());
    assert_eq!(settle(&recorder, &first, try_later).await, [Some(1)]);
    twotier_testkit::wait_until("the backoff passes", Duration::from_secs(30), || async {
        !listed_round(&db).await.is_empty()
    })
    .await;

    // The second claims from its older list (the email is due again) and
    // its attempt fails for good: that is recorded, not taken for a
    // settle made elsewhere.
    assert_eq!(claim(&db, &stale).await.len(), 1);
    let refused = |_| Outcome::Permanent("550 no such mailbox".into());
    assert_eq!(settle(&recorder, &stale, refused).await, [Some(2)]);
    let notification = notification(&db, &first[0].0).await;
    assert_eq!(notification.status, Status::Failed);
    assert_eq!(
        outcomes(&notification),
        [
            (1, AttemptOutcome::TransientFailure),
            (2, AttemptOutcome::PermanentFailure)
        ]
    );
    assert_eq!(reports(&db).await, 2, "one report per attempt");
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

/// How the attempt `leased` started on email `id` ended: `outcome`, in the
/// email's span `span`.
fn settlement(id: &str, leased: Delivery, outcome: Outcome, span: tracing::Span) -> Settlement {
    let settled = leased
        .settle(outcome, Utc::now(), Backoff::capped_at(LEASE))
        .unwrap();
    let report = twotier_outbox::Event::new(
        "notification",
        id,
        "provider",
        &twotier_proto::notification::EmailSent {
            notification: format!("notifications/{id}"),
            attempts: leased.attempts,
            ..Default::default()
        },
    );
    Settlement {
        id: id.to_owned(),
        claimed: leased,
        settled,
        report,
        span,
    }
}

/// Records `settled` all at once through `recorder`, as a dispatcher's
/// deliveries finishing together do; each answer, in order.
async fn settle_all(
    recorder: &Settlements,
    settled: Vec<Settlement>,
) -> Vec<Result<Option<i32>, DbErr>> {
    futures::future::join_all(settled.into_iter().map(|s| recorder.record(s))).await
}

/// Settles each email of `claimed` with the outcome `outcome` gives its
/// place, all at once; each email's answer, in `claimed`'s order.
async fn settle(
    recorder: &Settlements,
    claimed: &[(String, Delivery)],
    outcome: impl Fn(usize) -> Outcome,
) -> Vec<Option<i32>> {
    let settled = claimed
        .iter()
        .enumerate()
        .map(|(i, (id, leased))| settlement(id, *leased, outcome(i), tracing::Span::none()))
        .collect();
    settle_all(recorder, settled)
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

async fn notification(db: &DatabaseConnection, id: &str) -> Notification {
    store::get(db, id).await.unwrap().unwrap()
}

fn outcomes(notification: &Notification) -> Vec<(i32, AttemptOutcome)> {
    notification
        .delivery_attempts
        .iter()
        .map(|a| (a.attempt, a.outcome))
        .collect()
}

#[tokio::test]
async fn outcomes_finishing_together_are_each_recorded_once_as_their_own() {
    let (_test, db) = database("settle_group").await;
    let round = claimed_round(&db, 20).await;
    let recorder = Settlements::new(Outbox::new(db.clone()));

    // Every other email's server answered "try later".
    let outcome = |i: usize| match i % 2 {
        0 => Outcome::Delivered,
        _ => Outcome::Transient("421 try later".into()),
    };
    let answers = settle(&recorder, &round, outcome).await;
    assert_eq!(answers, vec![Some(1); 20], "every attempt settled here");
    for (i, (id, _)) in round.iter().enumerate() {
        let notification = notification(&db, id).await;
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
async fn a_settled_group_recorded_again_records_each_outcome_once() {
    let (_test, db) = database("settle_group_rewritten").await;
    let round = claimed_round(&db, 9).await;
    let recorder = Settlements::new(Outbox::new(db.clone()));
    let outcome = |i: usize| match i % 3 {
        0 => Outcome::Delivered,
        1 => Outcome::Transient("421 try later".into()),
        _ => Outcome::Permanent("550 no such mailbox".into()),
    };
    assert_eq!(settle(&recorder, &round, outcome).await, vec![Some(1); 9]);
    let mut first = Vec::new();
    for (id, _) in &round {
        first.push(notification(&db, id).await);
    }

    // Fault: as when the connection broke while the commit's answer was
    // on its way and the settlements retry the group, which had committed:
    // the same outcomes are recorded again.
    let again = settle(&recorder, &round, outcome).await;
    assert_eq!(again, vec![None; 9], "nothing settled a second time");
    assert_eq!(reports(&db).await, 9, "one report per email, not two");
    for ((id, _), before) in round.iter().zip(&first) {
        let after = notification(&db, id).await;
        assert_eq!(after.status, before.status);
        assert_eq!(
            after.next_attempt_at, before.next_attempt_at,
            "backoff not moved"
        );
        assert_eq!(
            outcomes(&after),
            outcomes(before),
            "one attempt, its outcome kept"
        );
    }
}

#[tokio::test]
async fn a_group_holding_an_email_another_dispatcher_settled_first_records_the_rest() {
    let (_test, db) = database("settle_group_raced").await;
    let round = claimed_round(&db, 5).await;
    let recorder = Settlements::new(Outbox::new(db.clone()));
    // Fault: another dispatcher (whose lease on the first email had run
    // out) settles it before this dispatcher's group is recorded.
    let replica = Settlements::new(Outbox::new(db.clone()));
    assert_eq!(
        settle(&replica, &round[..1], |_| Outcome::Delivered).await,
        [Some(1)]
    );

    let answers = settle(&recorder, &round, |_| Outcome::Delivered).await;
    assert_eq!(answers[0], None, "settled by the other dispatcher first");
    assert_eq!(answers[1..], [Some(1); 4], "the rest of the group recorded");
    assert_eq!(
        reports(&db).await,
        5,
        "the email settled twice reports once"
    );
    for (id, _) in &round {
        assert_eq!(notification(&db, id).await.status, Status::Sent);
    }
}

#[tokio::test]
async fn a_failed_attempt_on_an_email_another_dispatcher_claimed_since_changes_only_that_attempt() {
    let (_test, db) = database("settle_group_reclaimed").await;
    let round = claimed_round(&db, 3).await;
    // Fault: the first email's lease runs out mid-handover and another
    // dispatcher claims it again (its second attempt).
    let (first, _) = &round[0];
    db.execute_unprepared(&format!(
        "UPDATE notification SET lease_until = '2000-01-01T00:00:00Z' WHERE id = '{first}'"
    ))
    .await
    .unwrap();
    let reclaimed = listed_round(&db).await;
    assert_eq!(claim(&db, &reclaimed).await, std::slice::from_ref(first));
    let taken_over = notification(&db, first).await;

    let recorder = Settlements::new(Outbox::new(db.clone()));
    let outcome = |i: usize| match i {
        0 => Outcome::Transient("421 try later".into()),
        1 => Outcome::Delivered,
        _ => Outcome::Permanent("550 no such user".into()),
    };
    let answers = settle(&recorder, &round, outcome).await;
    assert_eq!(answers, [None, Some(1), Some(1)]);

    let first = notification(&db, first).await;
    assert_eq!(first.status, Status::Pending);
    assert_eq!(first.attempts, 2, "the other dispatcher's claim stands");
    assert_eq!(first.next_attempt_at, taken_over.next_attempt_at);
    assert_eq!(first.last_error, taken_over.last_error);
    assert_eq!(
        outcomes(&first),
        [
            (1, AttemptOutcome::TransientFailure),
            (2, AttemptOutcome::Unconfirmed)
        ],
        "the old attempt's outcome recorded, the new one untouched"
    );
    assert_eq!(notification(&db, &round[1].0).await.status, Status::Sent);
    assert_eq!(notification(&db, &round[2].0).await.status, Status::Failed);
    assert_eq!(reports(&db).await, 2, "no report for the stale attempt");
}

#[tokio::test]
async fn an_email_settled_twice_in_one_turn_is_recorded_once() {
    let (_test, db) = database("settle_group_twice").await;
    let round = claimed_round(&db, 2).await;
    let recorder = Settlements::new(Outbox::new(db.clone()));
    let (id, leased) = &round[0];
    let (other, other_leased) = &round[1];
    let twice = vec![
        settlement(id, *leased, Outcome::Delivered, tracing::Span::none()),
        settlement(id, *leased, Outcome::Delivered, tracing::Span::none()),
        settlement(
            other,
            *other_leased,
            Outcome::Delivered,
            tracing::Span::none(),
        ),
    ];

    let answers: Vec<Option<i32>> = settle_all(&recorder, twice)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(answers, [Some(1), None, Some(1)]);
    assert_eq!(reports(&db).await, 2, "one report per email");
}

#[tokio::test]
async fn an_outcome_the_database_refuses_leaves_the_rest_of_its_group_recorded() {
    let (_test, db) = database("settle_group_poisoned").await;
    let round = claimed_round(&db, 4).await;
    // Fault: the database refuses to write one email's outcome.
    let poison = if db.get_database_backend() == DbBackend::Sqlite {
        vec![
            "CREATE TRIGGER poison BEFORE UPDATE ON notification WHEN NEW.last_error = 'poison' \
             BEGIN SELECT RAISE(ABORT, 'poisoned row'); END",
        ]
    } else {
        vec![
            "CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
             IF NEW.last_error = 'poison' THEN RAISE EXCEPTION 'poisoned row'; END IF; \
             RETURN NEW; END $$",
            "CREATE TRIGGER poison BEFORE UPDATE ON notification FOR EACH ROW \
             EXECUTE FUNCTION poison()",
        ]
    };
    for statement in poison {
        db.execute_unprepared(statement).await.unwrap();
    }
    let recorder = Settlements::new(Outbox::new(db.clone()));
    let settled = round
        .iter()
        .enumerate()
        .map(|(i, (id, leased))| {
            let outcome = match i {
                1 => Outcome::Transient("poison".into()),
                _ => Outcome::Delivered,
            };
            settlement(id, *leased, outcome, tracing::Span::none())
        })
        .collect();

    let answers = settle_all(&recorder, settled).await;
    assert!(answers[1].is_err(), "the refused outcome is not recorded");
    for (i, answer) in answers.iter().enumerate().filter(|(i, _)| *i != 1) {
        assert_eq!(answer.as_ref().ok(), Some(&Some(1)), "email {i} recorded");
        assert_eq!(notification(&db, &round[i].0).await.status, Status::Sent);
    }
    let refused = notification(&db, &round[1].0).await;
    assert_eq!(outcomes(&refused), [(1, AttemptOutcome::Unconfirmed)]);
    assert_eq!(reports(&db).await, 3);
}

#[tokio::test]
async fn each_report_of_a_group_carries_its_own_emails_trace() {
    use opentelemetry::trace::TracerProvider as _;
    use tracing_subscriber::layer::SubscriberExt;
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
    let _traced = tracing::subscriber::set_default(subscriber);

    let (_test, db) = database("settle_group_traces").await;
    let round = claimed_round(&db, 2).await;
    let traces = [
        "0af7651916cd43dd8448eb211c80319c",
        "4bf92f3577b34da6a3ce929d0e0e4736",
    ];
    let settled = round
        .iter()
        .zip(traces)
        .map(|((id, leased), trace)| {
            let span = tracing::info_span!("email.send");
            twotier_platform::telemetry::set_remote_parent(
                &span,
                &format!("00-{trace}-b7ad6b7169203331-01"),
                "",
            );
            settlement(id, *leased, Outcome::Delivered, span)
        })
        .collect();
    for answer in settle_all(&Settlements::new(Outbox::new(db.clone())), settled).await {
        assert_eq!(answer.unwrap(), Some(1));
    }

    for ((id, _), trace) in round.iter().zip(traces) {
        let row = db
            .query_one_raw(Statement::from_sql_and_values(
                db.get_database_backend(),
                match db.get_database_backend() {
                    DbBackend::Postgres => {
                        "SELECT traceparent FROM outbox_event WHERE aggregate_id = $1"
                    }
                    _ => "SELECT traceparent FROM outbox_event WHERE aggregate_id = ?",
                },
                [id.clone().into()],
            ))
            .await
            .unwrap()
            .unwrap();
        let traceparent: String = row.try_get("", "traceparent").unwrap();
        assert!(
            traceparent.contains(trace),
            "{id}'s report carries its email's trace {trace}: {traceparent}"
        );
    }
}
