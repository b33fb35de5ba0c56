//! Keyset paging with opaque page tokens.
//!
//! A token holds the sort key of the last row of a page and a fingerprint of
//! the query's filter, so a token is refused when reused with another filter.
//! Keyset paging keeps a deep page as fast as the first one.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Serialize, de::DeserializeOwned};
use sha2::Digest;

use crate::error::Error;

/// Page size used when a request asks for 0.
pub const DEFAULT_PAGE_SIZE: u64 = 50;
/// Largest page served; larger requests are served this many.
pub const MAX_PAGE_SIZE: u64 = 500;

/// The validated page size of a request (AIP-158: 0 means the default, more
/// than the maximum is capped, negative is an error).
pub fn page_size(requested: i32) -> Result<u64, Error> {
    match requested {
        0 => Ok(DEFAULT_PAGE_SIZE),
        n if n < 0 => Err(Error::invalid_field(
            "INVALID_PAGE_SIZE",
            "page_size",
            "must not be negative",
        )),
        n => Ok(u64::try_from(n).map_or(MAX_PAGE_SIZE, |n| n.min(MAX_PAGE_SIZE))),
    }
}

#[derive(Serialize, serde::Deserialize)]
struct Token<K> {
    /// Sort key of the last row served.
    k: K,
    /// Fingerprint of the filter the token belongs to.
    f: String,
}

/// Fingerprint of a query's filter parameters.
pub fn fingerprint(parts: &[&str]) -> String {
    let mut hasher = sha2::Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    URL_SAFE_NO_PAD.encode(&hasher.finalize()[..9])
}

/// The token that continues after `last_key`.
pub fn encode_token<K: Serialize>(last_key: &K, filter: &str) -> String {
    let token = Token {
        k: last_key,
        f: filter.to_owned(),
    };
    // Serialising plain keys to JSON cannot fail.
    let json = serde_json::to_vec(&token).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(json)
}

/// The sort key a request's `page_token` continues after; `None` for the
/// first page.
pub fn decode_token<K: DeserializeOwned>(token: &str, filter: &str) -> Result<Option<K>, Error> {
    if token.is_empty() {
        return Ok(None);
    }
    let invalid = || {
        Error::invalid_field(
            "INVALID_PAGE_TOKEN",
            "page_token",
            "is not a token from a previous response of this query",
        )
    };
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| invalid())?;
    let decoded: Token<K> = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    if decoded.f != filter {
        return Err(invalid());
    }
    Ok(Some(decoded.k))
}

/// The keyset condition "after `(first, second)`" on an index over the
/// two columns, as a row-value comparison: both SQLite and PostgreSQL turn
/// it into an index range, so a deep page costs what the first one does
/// (an `a > x OR (a = x AND b > y)` form makes them scan from the start).
pub fn after<C: sea_orm::ColumnTrait>(
    columns: (C, C),
    key: (String, String),
) -> sea_orm::sea_query::Expr {
    use sea_orm::sea_query::{Expr, ExprTrait};
    Expr::tuple([columns.0.into_expr(), columns.1.into_expr()])
        .gt(Expr::tuple([Expr::val(key.0), Expr::val(key.1)]))
}

/// One page of rows fetched with `limit = page_size + 1`: drops the probe
/// row and returns the token for the next page, if there is one.
pub fn finish_page<T, K: Serialize>(
    mut rows: Vec<T>,
    page_size: u64,
    filter: &str,
    key_of: impl Fn(&T) -> K,
) -> (Vec<T>, String) {
    let size = usize::try_from(page_size).unwrap_or(usize::MAX);
    if rows.len() <= size {
        return (rows, String::new());
    }
    rows.truncate(size);
    let token = rows
        .last()
        .map(|last| encode_token(&key_of(last), filter))
        .unwrap_or_default();
    (rows, token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_round_trips_and_is_bound_to_its_filter() {
        let filter = fingerprint(&["acme"]);
        let token = encode_token(&("acme ltd".to_string(), "1234567".to_string()), &filter);
        let key: Option<(String, String)> = decode_token(&token, &filter).unwrap();
        assert_eq!(key.unwrap().1, "1234567");
        let other = fingerprint(&["contoso"]);
        let err = decode_token::<(String, String)>(&token, &other).unwrap_err();
        assert_eq!(err.reason(), "INVALID_PAGE_TOKEN");
        assert!(decode_token::<(String, String)>("not-a-token", &filter).is_err());
    }

    #[test]
    fn page_size_defaults_and_caps() {
        assert_eq!(page_size(0).unwrap(), DEFAULT_PAGE_SIZE);
        assert_eq!(page_size(10_000).unwrap(), MAX_PAGE_SIZE);
        assert!(page_size(-1).is_err());
    }
}
