//! Text filters as SQL `LIKE` patterns that match what the caller typed,
//! literally, on SQLite and PostgreSQL alike: a filter of `100%` finds
//! "100% Cloud", not every name that starts with "100".

use sea_orm::sea_query::LikeExpr;

/// The escape character of every pattern built here. It is always named in
/// an `ESCAPE` clause: SQLite has no default escape character, PostgreSQL
/// defaults to `\`, and the two must behave the same.
const ESCAPE: char = '\\';

/// A pattern matching values that contain `text`, with `%`, `_` and the
/// escape character in `text` standing for themselves.
pub fn containing(text: &str) -> LikeExpr {
    LikeExpr::new(format!("%{}%", escape(text))).escape(ESCAPE)
}

fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        if matches!(c, '%' | '_' | ESCAPE) {
            escaped.push(ESCAPE);
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use sea_orm::sea_query::{
        Alias, Expr, ExprTrait, PostgresQueryBuilder, Query, SqliteQueryBuilder,
    };
    use sea_orm::{ConnectionTrait, Database, Statement};

    use super::*;

    #[test]
    fn wildcards_and_the_escape_character_are_escaped() {
        assert_eq!(escape("plain name"), "plain name");
        assert_eq!(escape("100%_\\"), "100\\%\\_\\\\");
    }

    #[test]
    fn both_databases_get_an_escape_clause() {
        let query = Query::select()
            .expr(Expr::val(1))
            .from(Alias::new("t"))
            .and_where(Expr::col(Alias::new("name")).like(containing("5%_off")))
            .to_owned();
        assert!(
            query
                .to_string(SqliteQueryBuilder)
                .ends_with(r"LIKE '%5\%\_off%' ESCAPE '\'"),
        );
        assert!(
            query
                .to_string(PostgresQueryBuilder)
                .ends_with(r"LIKE E'%5\\%\\_off%' ESCAPE E'\\'"),
        );
    }

    #[tokio::test]
    async fn matches_literally_on_sqlite() {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        let backend = db.get_database_backend();
        db.execute_unprepared("CREATE TABLE t (name TEXT)")
            .await
            .unwrap();
        db.execute_unprepared(
            "INSERT INTO t VALUES ('100% cloud'), ('1000 clouds'), ('cloud_one'), ('cloudxone'), ('back\\slash')",
        )
        .await
        .unwrap();
        for (filter, expected) in [
            ("0%", vec!["100% cloud"]),
            ("d_o", vec!["cloud_one"]),
            ("k\\s", vec!["back\\slash"]),
            (
                "cloud",
                vec!["100% cloud", "1000 clouds", "cloud_one", "cloudxone"],
            ),
        ] {
            let query = Query::select()
                .column(Alias::new("name"))
                .from(Alias::new("t"))
                .and_where(Expr::col(Alias::new("name")).like(containing(filter)))
                .order_by(Alias::new("name"), sea_orm::sea_query::Order::Asc)
                .to_owned();
            let (sql, values) = query.build(SqliteQueryBuilder);
            let rows = db
                .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
                .await
                .unwrap();
            let names: Vec<String> = rows
                .iter()
                .map(|row| row.try_get("", "name").unwrap())
                .collect();
            assert_eq!(names, expected, "filter {filter:?}");
        }
    }
}
