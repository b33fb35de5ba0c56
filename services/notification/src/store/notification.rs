//! Notifications and their delivery attempts: recording them from events,
//! the dispatcher's due, claim and settle, and reading them.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{CaseStatement, Cond, Expr, LockBehavior, LockType, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, TransactionTrait,
};
use twotier_outbox::Tx;
use twotier_platform::{Error, paging};

use super::entities::{delivery_attempt, notification};
use crate::domain::{
    AttemptOutcome, Delivery, DeliveryAttempt, EventSource, NewNotification, Notification,
    NotificationFilter, Outgoing, SealedLink, Settled, Status,
};

/// Where recorded emails come from: the event and the trace handling it.
#[derive(Debug, Clone)]
pub struct Origin {
    /// The provider tenant the event concerns.
    pub tenant_id: String,
    /// The event.
    pub source: EventSource,
    /// W3C `traceparent` of the handling.
    pub traceparent: String,
    /// W3C `tracestate` to go with it.
    pub tracestate: String,
    /// When recorded.
    pub at: DateTime<Utc>,
}

/// Records `emails`, each as [`NewNotification::delivery`] says. The unique key (event, recipient, template,
/// what it is about) makes recording idempotent: an event handled twice
/// still yields one email each (R21).
pub async fn record(
    db: &impl ConnectionTrait,
    origin: &Origin,
    emails: Vec<NewNotification>,
) -> Result<(), DbErr> {
    for email in emails {
        let (delivery, last_error) = email.delivery(origin.at);
        let row = notification::ActiveModel {
            id: Set(uuid::Uuid::now_v7().to_string()),
            tenant_id: Set(origin.tenant_id.clone()),
            recipient: Set(email.recipient),
            template: Set(email.template.name().to_owned()),
            language: Set(email.language.code().to_owned()),
            subject: Set(email.subject),
            body: Set(email.body),
            status: Set(status_key(delivery.status).to_owned()),
            attempts: Set(delivery.attempts),
            next_attempt_at: Set(delivery.next_attempt_at),
            lease_until: Set(delivery.lease_until),
            last_error: Set(last_error.to_owned()),
            source_upstream: Set(origin.source.upstream.clone()),
            source_event_id: Set(origin.source.event_id.clone()),
            source_event_type: Set(origin.source.event_type.clone()),
            source_position: Set(i64::try_from(origin.source.position).unwrap_or(i64::MAX)),
            created_at: Set(origin.at),
            sent_at: Set(None),
            traceparent: Set(origin.traceparent.clone()),
            tracestate: Set(origin.tracestate.clone()),
            sealed_link: Set(email.sealed_link.map(|link| link.to_string())),
            about: Set(email.about),
        };
        notification::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([
                    notification::Column::SourceEventId,
                    notification::Column::Recipient,
                    notification::Column::Template,
                    notification::Column::About,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Up to `limit` emails due at `now` ([`Delivery::is_due`]), longest
/// waiting first.
pub async fn due(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<Outgoing>, DbErr> {
    let due = notification::Entity::find()
        .filter(due_at(now))
        .order_by_asc(notification::Column::NextAttemptAt)
        .limit(limit);
    let rows = twotier_platform::db::all(db, due).await?;
    Ok(rows.into_iter().map(outgoing).collect())
}

/// Writes the leases of `round` (each email's id with the delivery its
/// claim computed) and records the attempts they start (as unconfirmed
/// until settled), for those emails still due at `now` and unchanged since
/// they were listed (a replica working through an older list must not retry
/// what another just tried and backed off); the ids this dispatcher got. The
/// attempt count is the delivery's version: each claim bumps it. One
/// statement claims the whole round: per email it would cost a transaction
/// of its own, as many commits as the emails it hands over.
pub async fn claim(
    db: &DatabaseConnection,
    round: &[(&str, Delivery)],
    now: DateTime<Utc>,
) -> Result<Vec<String>, DbErr> {
    let Some(((first_id, first), rest)) = round.split_first() else {
        return Ok(Vec::new());
    };
    let id_is = |id: &str| notification::Column::Id.eq(id);
    let mut unchanged = Cond::any();
    let mut attempts = Expr::case(id_is(first_id), first.attempts);
    let mut lease_until = Expr::case(id_is(first_id), first.lease_until);
    for (id, leased) in round {
        unchanged = unchanged.add(
            Cond::all()
                .add(id_is(id))
                .add(notification::Column::Attempts.eq(leased.attempts.saturating_sub(1))),
        );
    }
    for (id, leased) in rest {
        attempts = attempts.case(id_is(id), leased.attempts);
        lease_until = lease_until.case(id_is(id), leased.lease_until);
    }
    // Rows another dispatcher is claiming are skipped, not waited for: two
    // claims locking a round's rows in different orders would deadlock.
    let claimable = notification::Entity::find()
        .select_only()
        .column(notification::Column::Id)
        .filter(unchanged)
        .filter(due_at(now))
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .into_query();
    let txn = db.begin().await?;
    let claimed = notification::Entity::update_many()
        .col_expr(
            notification::Column::Attempts,
            attempts
                .finally(Expr::col(notification::Column::Attempts))
                .into(),
        )
        .col_expr(
            notification::Column::LeaseUntil,
            lease_until
                .finally(Expr::col(notification::Column::LeaseUntil))
                .into(),
        )
        .filter(notification::Column::Id.in_subquery(claimable))
        .exec_with_returning(&txn)
        .await?;
    if claimed.is_empty() {
        return Ok(Vec::new());
    }
    let started = claimed.iter().map(|row| delivery_attempt::ActiveModel {
        notification_id: Set(row.id.clone()),
        attempt: Set(row.attempts),
        attempted_at: Set(now),
        outcome: Set(outcome_key(AttemptOutcome::Unconfirmed).to_owned()),
        error: Set(String::new()),
    });
    delivery_attempt::Entity::insert_many(started)
        .exec_without_returning(&txn)
        .await?;
    txn.commit().await?;
    Ok(claimed.into_iter().map(|row| row.id).collect())
}

/// Records, in `txn`, how the attempts of `group` ended (each email's id,
/// the delivery its claim started, and what the outcome makes of it; no
/// email twice) and the emails' new states, in one statement each; for
/// each email, whether it was settled here, not by another dispatcher
/// first nor by an earlier write of the same group (every attempt's
/// outcome is recorded all the same: it happened).
pub async fn settle(txn: &Tx, group: &[(&str, Delivery, &Settled)]) -> Result<Vec<bool>, DbErr> {
    if group.is_empty() {
        return Ok(Vec::new());
    }
    let backend = txn.get_database_backend();
    let mut unchanged = Cond::any();
    for (id, claimed, settled) in group {
        // The claim is still the email's latest (no claim since bumped the
        // count) and unsettled (a claim sets the lease, a settle clears
        // it), so a group written again after its commit's answer was lost
        // records each outcome once. Every row's guard has one shape,
        // whatever its outcome needs, so a group's statement depends on
        // its size alone and PostgreSQL reuses its prepared statement.
        let attempts_unchanged = Cond::any()
            .add(
                Cond::all()
                    .add(notification::Column::Attempts.eq(claimed.attempts))
                    .add(notification::Column::LeaseUntil.is_not_null()),
            )
            .add(Expr::val(!settled.needs_attempt_unchanged()));
        unchanged = unchanged.add(
            Cond::all()
                .add(notification::Column::Id.eq(*id))
                .add(notification::Column::Status.eq(status_key(Status::Pending)))
                .add(attempts_unchanged),
        );
    }
    let email_is = |id: &str, _: &Delivery| Cond::all().add(notification::Column::Id.eq(id));
    let mut update = notification::Entity::update_many()
        .col_expr(
            notification::Column::Status,
            per_row(group, email_is, notification::Column::Status, |s| {
                status_key(s.delivery.status).into()
            }),
        )
        .col_expr(
            notification::Column::LastError,
            per_row(group, email_is, notification::Column::LastError, |s| {
                s.error.clone().into()
            }),
        )
        .col_expr(
            notification::Column::LeaseUntil,
            per_row(group, email_is, notification::Column::LeaseUntil, |s| {
                s.delivery.lease_until.into()
            }),
        )
        .col_expr(
            notification::Column::NextAttemptAt,
            per_row(group, email_is, notification::Column::NextAttemptAt, |s| {
                s.delivery.next_attempt_at.into()
            }),
        )
        .col_expr(
            notification::Column::SentAt,
            per_row(group, email_is, notification::Column::SentAt, |s| {
                s.sent_at.into()
            }),
        )
        .filter(unchanged)
        .into_query();
    update.returning_col(notification::Column::Id);
    let written: Vec<String> = txn
        .query_all_raw(backend.build(&update))
        .await?
        .iter()
        .map(|row| row.try_get::<String>("", "id"))
        .collect::<Result<_, _>>()?;

    let mut attempts = Cond::any();
    for (id, claimed, _) in group {
        attempts = attempts.add(attempt_is(id, claimed));
    }
    delivery_attempt::Entity::update_many()
        .col_expr(
            delivery_attempt::Column::Outcome,
            per_row(group, attempt_is, delivery_attempt::Column::Outcome, |s| {
                outcome_key(s.outcome).into()
            }),
        )
        .col_expr(
            delivery_attempt::Column::Error,
            per_row(group, attempt_is, delivery_attempt::Column::Error, |s| {
                s.error.clone().into()
            }),
        )
        .filter(attempts)
        .exec(&**txn)
        .await?;
    Ok(group
        .iter()
        .map(|(id, _, _)| written.iter().any(|written| written == id))
        .collect())
}

/// The attempt `claimed` started on email `id`.
fn attempt_is(id: &str, claimed: &Delivery) -> Cond {
    Cond::all()
        .add(delivery_attempt::Column::NotificationId.eq(id))
        .add(delivery_attempt::Column::Attempt.eq(claimed.attempts))
}

/// `column`'s new value in each row of `group` (picked by `row_is` from the
/// email's id and claimed delivery), taken from its settlement by `value`;
/// unchanged elsewhere.
fn per_row(
    group: &[(&str, Delivery, &Settled)],
    row_is: impl Fn(&str, &Delivery) -> Cond,
    column: impl sea_orm::sea_query::IntoColumnRef,
    value: impl Fn(&Settled) -> Expr,
) -> Expr {
    let mut case = CaseStatement::new();
    for (id, claimed, settled) in group {
        case = case.case(row_is(id, claimed), value(settled));
    }
    case.finally(Expr::col(column)).into()
}

/// One page of the notifications matching `filter`, newest first, after
/// the domain page token `page_token`; with the next page's token.
pub async fn list(
    db: &DatabaseConnection,
    filter: &NotificationFilter,
    page_size: u64,
    page_token: &str,
) -> Result<(Vec<Notification>, String), Error> {
    let fingerprint = paging::fingerprint(&[
        filter.tenant_id.as_deref().unwrap_or("*"),
        &filter.recipient,
        &filter.event_type,
        filter.status.map(status_key).unwrap_or(""),
    ]);
    let after: Option<String> = paging::decode_token(page_token, &fingerprint)?;
    let mut query = notification::Entity::find()
        .order_by_desc(notification::Column::Id)
        .limit(page_size + 1);
    if let Some(tenant) = &filter.tenant_id {
        query = query.filter(notification::Column::TenantId.eq(tenant));
    }
    if !filter.recipient.is_empty() {
        query = query.filter(notification::Column::Recipient.eq(&filter.recipient));
    }
    if !filter.event_type.is_empty() {
        query = query.filter(notification::Column::SourceEventType.eq(&filter.event_type));
    }
    if let Some(status) = filter.status {
        query = query.filter(notification::Column::Status.eq(status_key(status)));
    }
    if let Some(after) = after {
        query = query.filter(notification::Column::Id.lt(after));
    }
    let rows = twotier_platform::db::all(db, query).await?;
    let (rows, token) = paging::finish_page(rows, page_size, &fingerprint, |row| row.id.clone());
    Ok((rows.into_iter().map(read).collect(), token))
}

/// Notification `id` with its attempts, oldest first.
pub async fn get(db: &DatabaseConnection, id: &str) -> Result<Option<Notification>, DbErr> {
    let Some(row) = notification::Entity::find_by_id(id.to_owned())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let attempts = delivery_attempt::Entity::find()
        .filter(delivery_attempt::Column::NotificationId.eq(id))
        .order_by_asc(delivery_attempt::Column::Attempt)
        .all(db)
        .await?;
    let mut notification = read(row);
    notification.delivery_attempts = attempts
        .into_iter()
        .map(|attempt| DeliveryAttempt {
            attempt: attempt.attempt,
            attempted_at: attempt.attempted_at,
            outcome: outcome_of(&attempt.outcome),
            error: attempt.error,
        })
        .collect();
    Ok(Some(notification))
}

/// [`Delivery::is_due`] as a query, so the database picks the due rows and
/// a guarded update takes one only while it still holds.
fn due_at(now: DateTime<Utc>) -> Cond {
    let unleased = Cond::any()
        .add(notification::Column::LeaseUntil.is_null())
        .add(notification::Column::LeaseUntil.lt(now));
    Cond::all()
        .add(notification::Column::Status.eq(status_key(Status::Pending)))
        .add(notification::Column::NextAttemptAt.lte(now))
        .add(unleased)
}

/// The emails waiting to be delivered: how many, and since when the oldest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Queue {
    /// Pending emails.
    pub depth: u64,
    /// When the oldest pending email was recorded.
    pub oldest: Option<DateTime<Utc>>,
}

/// The delivery queue as it stands.
pub async fn queue(db: &impl ConnectionTrait) -> Result<Queue, DbErr> {
    let pending = || {
        notification::Entity::find()
            .filter(notification::Column::Status.eq(status_key(Status::Pending)))
    };
    let depth = pending().count(db).await?;
    let oldest = pending()
        .order_by_asc(notification::Column::CreatedAt)
        .one(db)
        .await?
        .map(|row| row.created_at);
    Ok(Queue { depth, oldest })
}

fn status_key(status: Status) -> &'static str {
    match status {
        Status::Pending => "pending",
        Status::Sent => "sent",
        Status::Failed => "failed",
    }
}

fn status_of(stored: &str) -> Status {
    match stored {
        "sent" => Status::Sent,
        "failed" => Status::Failed,
        _ => Status::Pending,
    }
}

fn outcome_key(outcome: AttemptOutcome) -> &'static str {
    match outcome {
        AttemptOutcome::Delivered => "delivered",
        AttemptOutcome::TransientFailure => "transient_failure",
        AttemptOutcome::PermanentFailure => "permanent_failure",
        AttemptOutcome::Unconfirmed => "unconfirmed",
    }
}

fn outcome_of(stored: &str) -> AttemptOutcome {
    match stored {
        "delivered" => AttemptOutcome::Delivered,
        "permanent_failure" => AttemptOutcome::PermanentFailure,
        "unconfirmed" => AttemptOutcome::Unconfirmed,
        _ => AttemptOutcome::TransientFailure,
    }
}

fn delivery(row: &notification::Model) -> Delivery {
    Delivery {
        status: status_of(&row.status),
        attempts: row.attempts,
        next_attempt_at: row.next_attempt_at,
        lease_until: row.lease_until,
    }
}

fn outgoing(row: notification::Model) -> Outgoing {
    Outgoing {
        delivery: delivery(&row),
        sealed_link: row.sealed_link.as_deref().and_then(SealedLink::parse),
        source: source(&row),
        tenant_id: row.tenant_id,
        id: row.id,
        template: row.template,
        recipient: row.recipient,
        subject: row.subject,
        body: row.body,
        traceparent: row.traceparent,
        tracestate: row.tracestate,
    }
}

fn source(row: &notification::Model) -> EventSource {
    EventSource {
        upstream: row.source_upstream.clone(),
        event_id: row.source_event_id.clone(),
        event_type: row.source_event_type.clone(),
        position: u64::try_from(row.source_position).unwrap_or_default(),
    }
}

fn read(row: notification::Model) -> Notification {
    Notification {
        status: status_of(&row.status),
        source: source(&row),
        id: row.id,
        tenant_id: row.tenant_id,
        recipient: row.recipient,
        template: row.template,
        language: row.language,
        subject: row.subject,
        attempts: row.attempts,
        created_at: row.created_at,
        sent_at: row.sent_at,
        last_error: row.last_error,
        next_attempt_at: row.next_attempt_at,
        delivery_attempts: Vec::new(),
    }
}
