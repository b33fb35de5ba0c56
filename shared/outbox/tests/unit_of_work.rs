//! The unit of work of one command ([`Outbox::command`]): its own writes,
//! its events and its audit record commit together or not at all.

mod common;

use common::*;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};
use twotier_outbox::{Event, Outbox, Reply};
use twotier_platform::Error;
use twotier_platform::auth::{CallContext, Caller, Role, serve_as};
use twotier_platform::idempotency::IdempotencyKey;

const RESOURCE: &str = "providers/p1/notes/n1";

/// Runs `command` as a provider admin's call, as the gRPC layer does.
async fn as_a_call<F: Future>(command: F) -> F::Output {
    let caller = Caller {
        subject: "admin@p1".into(),
        tenant_id: "p1".into(),
        roles: vec![Role::GlobalAdmin],
        email: None,
        bearer: String::new(),
        via_service: None,
    };
    let call = CallContext {
        caller,
        rpc: "/twotier.test.v1.Notes/Write".into(),
    };
    serve_as(call, command).await
}

/// No event of a command that did not commit, and no record of it as done.
async fn assert_nothing_committed(db: &DatabaseConnection) {
    assert_eq!(
        count(db, "SELECT COUNT(*) AS n FROM outbox_event").await,
        0,
        "no events"
    );
    assert_eq!(
        count(
            db,
            "SELECT COUNT(*) AS n FROM audit_record WHERE outcome = 'OK'"
        )
        .await,
        0,
        "no OK audit record"
    );
}

async fn count(db: &DatabaseConnection, query: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), query))
        .await
        .expect("count")
        .expect("one row");
    row.try_get::<i64>("", "n").expect("n")
}

/// A table for the command's own write.
async fn notes_table(db: &DatabaseConnection) {
    db.execute_unprepared("CREATE TABLE note (value TEXT NOT NULL)")
        .await
        .expect("note table");
}

/// A command that writes a note and appends two events about it, under
/// the request id `key` if any.
async fn write_note(
    outbox: &Outbox,
    value: &str,
    key: Option<&IdempotencyKey>,
) -> Result<Note, Error> {
    as_a_call(outbox.command(RESOURCE, key, async |tx| {
        tx.execute_unprepared(&format!("INSERT INTO note (value) VALUES ('{value}')"))
            .await?;
        for _ in 0..2 {
            let note = Note {
                value: value.to_owned(),
            };
            tx.append(Event::new("note", "n1", "p1", &note)).await?;
        }
        Ok::<_, Error>(Reply::new(Note {
            value: value.to_owned(),
        }))
    }))
    .await
}

#[tokio::test]
async fn a_commands_write_events_and_audit_record_commit_together() {
    let (_guard, db) = database("uow_commit").await;
    notes_table(&db).await;
    let outbox = Outbox::new(db.clone());

    let answer = write_note(&outbox, "first", None).await.expect("committed");

    assert_eq!(answer.value, "first");
    assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM note").await, 1);
    assert_eq!(
        count(&db, "SELECT COUNT(*) AS n FROM outbox_event").await,
        2
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) AS n FROM audit_record WHERE outcome = 'OK' \
             AND resource = 'providers/p1/notes/n1' AND actor_subject = 'admin@p1' \
             AND rpc = '/twotier.test.v1.Notes/Write'"
        )
        .await,
        1,
        "the command's audit record, with its caller and RPC"
    );
}

/// Fault: the database refuses the command's events when they are
/// written (a trigger on the outbox).
async fn refuse_events(db: &DatabaseConnection) {
    let statements: &[&str] = match db.get_database_backend() {
        DbBackend::Sqlite => &[
            "CREATE TRIGGER refuse_events BEFORE INSERT ON outbox_event \
             BEGIN SELECT RAISE(ABORT, 'events refused'); END",
        ],
        _ => &[
            "CREATE FUNCTION refuse_events() RETURNS trigger AS $$ \
             BEGIN RAISE EXCEPTION 'events refused'; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER refuse_events BEFORE INSERT ON outbox_event \
             FOR EACH ROW EXECUTE FUNCTION refuse_events()",
        ],
    };
    for statement in statements {
        db.execute_unprepared(statement).await.expect("trigger");
    }
}

#[tokio::test]
async fn events_the_database_refuses_leave_nothing_of_the_command() {
    let (_guard, db) = database("uow_refused").await;
    notes_table(&db).await;
    refuse_events(&db).await;
    let outbox = Outbox::new(db.clone());

    let refused = write_note(&outbox, "lost", None).await;

    assert!(refused.is_err(), "the command fails: {refused:?}");
    assert_eq!(
        count(&db, "SELECT COUNT(*) AS n FROM note").await,
        0,
        "its own write rolled back"
    );
    assert_nothing_committed(&db).await;
}

#[tokio::test]
async fn a_command_that_fails_after_appending_leaves_no_events() {
    let (_guard, db) = database("uow_failed").await;
    let outbox = Outbox::new(db.clone());

    let failed: Result<Note, Error> = as_a_call(outbox.command(RESOURCE, None, async |tx| {
        tx.append(Event::new("note", "n1", "p1", &Note::default()))
            .await?;
        Err(Error::from(DbErr::Custom(
            "the command's own check failed".into(),
        )))
    }))
    .await;

    assert!(failed.is_err());
    assert_nothing_committed(&db).await;
}

#[tokio::test]
async fn a_retry_with_the_request_id_gets_the_stored_reply_and_changes_nothing() {
    let (_guard, db) = database("uow_retry").await;
    notes_table(&db).await;
    let outbox = Outbox::new(db.clone());
    let request = Note {
        value: "kept".into(),
    };
    let key = IdempotencyKey::new("test.WriteNote", "p1", "request-1", &request);

    let first = write_note(&outbox, "kept", key.as_ref())
        .await
        .expect("committed");
    let retried = write_note(&outbox, "retried", key.as_ref())
        .await
        .expect("replayed");

    assert_eq!(first.value, "kept");
    assert_eq!(retried.value, "kept", "the retry gets the stored reply");
    assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM note").await, 1);
    assert_eq!(
        count(&db, "SELECT COUNT(*) AS n FROM outbox_event").await,
        2
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) AS n FROM audit_record WHERE outcome = 'OK' AND request_id = 'request-1'"
        )
        .await,
        1,
        "the command on record once: its retry changed nothing"
    );
}

/// Fault: a caller's text holds a NUL character that no field check
/// caught. PostgreSQL cannot store it; the command is the caller's mistake
/// (`INVALID_ARGUMENT`), not an internal error, and leaves nothing.
#[tokio::test]
async fn a_nul_character_the_database_cannot_store_is_the_callers_mistake() {
    let (_guard, db) = database("uow_nul").await;
    notes_table(&db).await;
    let outbox = Outbox::new(db.clone());
    let value = "bad\u{0}note";
    let outcome = as_a_call(outbox.command(RESOURCE, None, async |tx| {
        tx.execute_raw(Statement::from_sql_and_values(
            tx.get_database_backend(),
            match tx.get_database_backend() {
                DbBackend::Postgres => "INSERT INTO note (value) VALUES ($1)",
                _ => "INSERT INTO note (value) VALUES (?)",
            },
            [value.into()],
        ))
        .await?;
        Ok::<_, Error>(Reply::new(Note {
            value: value.to_owned(),
        }))
    }))
    .await;
    if db.get_database_backend() != DbBackend::Postgres {
        assert!(outcome.is_ok(), "SQLite stores it: {outcome:?}");
        return;
    }
    let error = outcome.expect_err("PostgreSQL stores no NUL");
    assert!(
        matches!(&error, Error::InvalidArgument { reason, .. } if *reason == "UNSTORABLE_TEXT"),
        "{error:?}"
    );
    assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM note").await, 0);
    assert_nothing_committed(&db).await;
}
