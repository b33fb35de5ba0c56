//! PostgreSQL: the plans a read's statements run with once the server
//! keeps a generic plan for them, as it does for a prepared statement
//! after its fifth run. A generic plan is made without the bound values,
//! from the table's statistics at the time, and then kept: a lookup that
//! picked the wrong index while its table was young keeps picking it.

use std::sync::{Arc, Mutex, PoisonError};

use sea_orm::sea_query::{PostgresQueryBuilder, QueryBuilder};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, Statement};

/// The generic plan of each statement `read` sends (as `EXPLAIN` prints
/// it, one string per statement), `read` running on a connection of its
/// own to the PostgreSQL database `url`.
pub async fn generic_plans(url: &str, read: impl AsyncFnOnce(&DatabaseConnection)) -> Vec<String> {
    let mut options = ConnectOptions::new(url);
    options.max_connections(1).min_connections(1);
    let mut db = Database::connect(options).await.expect("a connection");
    let sent: Arc<Mutex<Vec<Statement>>> = Arc::default();
    let log = Arc::clone(&sent);
    db.set_metric_callback(move |info| {
        log.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(info.statement.clone());
    });
    read(&db).await;
    let statements = std::mem::take(&mut *sent.lock().unwrap_or_else(PoisonError::into_inner));
    db.execute_unprepared("SET plan_cache_mode = force_generic_plan")
        .await
        .expect("plan_cache_mode set");
    let mut plans = Vec::new();
    for statement in statements {
        plans.push(generic_plan(&db, &statement).await);
    }
    plans
}

async fn generic_plan(db: &DatabaseConnection, statement: &Statement) -> String {
    let run = |sql: String| Statement::from_string(db.get_database_backend(), sql);
    db.execute_unprepared(&format!("PREPARE planned AS {}", statement.sql))
        .await
        .expect("the statement prepared");
    let values: Vec<String> = statement
        .values
        .iter()
        .flat_map(|values| values.0.iter())
        .map(|value| PostgresQueryBuilder.value_to_string(value))
        .collect();
    let explain = if values.is_empty() {
        "EXPLAIN EXECUTE planned".to_owned()
    } else {
        format!("EXPLAIN EXECUTE planned({})", values.join(", "))
    };
    let rows = db.query_all_raw(run(explain)).await.expect("explained");
    db.execute_unprepared("DEALLOCATE planned")
        .await
        .expect("deallocated");
    rows.iter()
        .map(|row| row.try_get_by_index::<String>(0).expect("a plan line"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Asserts that each of `plans` reads through the index `served_by` and
/// never through `not_through`, printing the plan that does not.
pub fn assert_each_uses(plans: &[String], served_by: &str, not_through: &str) {
    for plan in plans {
        assert!(plan.contains(served_by), "{plan}");
        assert!(!plan.contains(not_through), "{plan}");
    }
}
