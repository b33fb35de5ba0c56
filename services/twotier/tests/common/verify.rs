//! Checks of what a workload left in a settled system: counts in every
//! service's database, the partner projections, the emails at the SMTP
//! server.

use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

use super::{System, workload};

/// `SELECT count(*)` of `sql` (a FROM/WHERE clause) in `db`.
pub async fn count(db: &DatabaseConnection, from_where: &str) -> i64 {
    scalar(db, &format!("SELECT COUNT(*) AS n FROM {from_where}")).await
}

/// A single i64 `n` selected by `sql`.
pub async fn scalar(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            sql.to_owned(),
        ))
        .await
        .expect("query")
        .expect("a row");
    row.try_get::<i64>("", "n").expect("n")
}

/// `(provider_id, partner_id)` pairs selected by `sql`, sorted.
pub async fn pairs(db: &DatabaseConnection, sql: &str) -> Vec<(String, String)> {
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            sql.to_owned(),
        ))
        .await
        .expect("pairs");
    let mut pairs: Vec<(String, String)> = rows
        .iter()
        .map(|r| {
            (
                r.try_get("", "provider_id").unwrap(),
                r.try_get("", "partner_id").unwrap(),
            )
        })
        .collect();
    pairs.sort();
    pairs
}

/// Checks, once the system has settled, that `items` workload items left
/// exactly their effects everywhere, and prints what it counted.
pub async fn verify(system: &System, items: usize) {
    let items = i64::try_from(items).unwrap();
    let expected_emails = 4 * items;
    let notification_db = system.db("notification").await;
    let settled = tokio::time::timeout(Duration::from_secs(120), async {
        loop {
            let recorded = count(&notification_db, "notification").await;
            let unsent = count(&notification_db, "notification WHERE status <> 'sent'").await;
            if recorded >= expected_emails && unsent == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await;
    if settled.is_err() {
        let recorded = count(&notification_db, "notification").await;
        let pending = count(&notification_db, "notification WHERE status = 'pending'").await;
        let failed = count(&notification_db, "notification WHERE status = 'failed'").await;
        let logs: Vec<String> = system
            .processes
            .iter()
            .map(|p| format!("--- {}\n{}", p.service, tail(&p.log(), 40)))
            .collect();
        panic!(
            "notifications did not settle: {recorded} recorded, {pending} pending, {failed} failed, of {expected_emails} expected\n{}",
            logs.join("\n")
        );
    }

    let partnership_db = system.db("partnership").await;
    let customer_db = system.db("customer").await;
    let subscription_db = system.db("subscription").await;
    let source = pairs(
        &partnership_db,
        "SELECT provider_id, partner_id FROM partnership WHERE state = 'active'",
    )
    .await;
    let report = std::cell::RefCell::new(Vec::new());
    let check = |what: &str, actual: i64, expected: i64| {
        report.borrow_mut().push(format!("{what}: {actual}"));
        assert_eq!(actual, expected, "{what}");
    };
    check(
        "resellers onboarded",
        count(&partnership_db, "reseller").await,
        items,
    );
    check(
        "partnerships active",
        i64::try_from(source.len()).unwrap(),
        items,
    );
    check(
        "invitations accepted",
        count(&partnership_db, "invitation WHERE state = 'accepted'").await,
        items,
    );
    check("customers", count(&customer_db, "customer").await, items);
    check(
        "delegated admin relationships",
        count(&customer_db, "delegated_admin").await,
        items,
    );
    check(
        "customer agreements",
        count(&customer_db, "customer_agreement").await,
        items,
    );
    check(
        "orders",
        count(&subscription_db, "purchase_order").await,
        items,
    );
    check(
        "subscriptions",
        count(&subscription_db, "subscription").await,
        items,
    );
    check(
        "subscriptions at the final quantity",
        count(
            &subscription_db,
            &format!("subscription WHERE quantity = {}", workload::FINAL_QUANTITY),
        )
        .await,
        items,
    );
    for (db, name) in [
        (&customer_db, "customer"),
        (&subscription_db, "subscription"),
    ] {
        let projected = pairs(
            db,
            "SELECT provider_id, partner_id FROM partner_partnership WHERE active",
        )
        .await;
        assert_eq!(
            projected, source,
            "the {name} service's partner projection matches the partnership service"
        );
        report.borrow_mut().push(format!(
            "{name} projection: {} active partners, equal to the source",
            projected.len()
        ));
    }
    for template in [
        "partnership_accepted",
        "customer_created_for_reseller",
        "order_placed",
        "order_placed_reseller",
    ] {
        check(
            &format!("emails {template}"),
            count(
                &notification_db,
                &format!("notification WHERE template = '{template}'"),
            )
            .await,
            items,
        );
    }
    for (db, name) in [
        (&customer_db, "customer"),
        (&subscription_db, "subscription"),
        (&notification_db, "notification"),
    ] {
        check(
            &format!("dead letters in {name}"),
            count(db, "dead_letter").await,
            0,
        );
    }
    let received = system.smtp.messages();
    let mut message_ids: Vec<String> = received
        .iter()
        .filter_map(|raw| mail_parser::MessageParser::default().parse(raw))
        .filter_map(|m| m.message_id().map(str::to_owned))
        .collect();
    let raw_count = message_ids.len();
    message_ids.sort();
    // Every copy the SMTP server received was an attempt the delivery
    // record counts, including attempts cut off by a kill mid-send.
    for copies in message_ids.chunk_by(|a, b| a == b) {
        let id = copies[0]
            .trim_matches(['<', '>'])
            .trim_end_matches("@twotier");
        let attempts = scalar(
            &notification_db,
            &format!("SELECT CAST(attempts AS BIGINT) AS n FROM notification WHERE id = '{id}'"),
        )
        .await;
        assert!(
            attempts >= copies.len() as i64,
            "notification {id} reached SMTP {} times but records {attempts} attempts",
            copies.len()
        );
    }
    message_ids.dedup();
    check(
        "distinct emails received by SMTP",
        i64::try_from(message_ids.len()).unwrap(),
        expected_emails,
    );
    report.borrow_mut().push(format!(
        "SMTP deliveries including resends after a crash mid-send: {raw_count}"
    ));
    println!("checked:\n  {}", report.borrow().join("\n  "));
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
