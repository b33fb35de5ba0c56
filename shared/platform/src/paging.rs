//! Keyset paging with opaque, authenticated page tokens.
//!
//! The domain's token holds the sort key of the last row of a page and a
//! fingerprint of the query's filter, so it is refused when reused with
//! another filter. The API layer seals it ([`PageTokens`]): an HMAC, keyed
//! by the service secret, binds it to its list (the request message type)
//! and the caller's tenant, so a token cannot be forged, altered or carried
//! to another list or tenant, and every replica accepts every replica's
//! tokens. Keyset paging keeps a deep page as fast as the first one.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Serialize, de::DeserializeOwned};
use sha2::Digest;

use crate::error::Error;
use crate::startup::Identity;

/// The `Identity::derive_key` purpose of the page-token key.
pub const KEY_PURPOSE: &str = "page-token";

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
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| invalid_token())?;
    let decoded: Token<K> = serde_json::from_slice(&bytes).map_err(|_| invalid_token())?;
    if decoded.f != filter {
        return Err(invalid_token());
    }
    Ok(Some(decoded.k))
}

/// One answer for every bad token, so a caller learns nothing about why.
fn invalid_token() -> Error {
    Error::invalid_field(
        "INVALID_PAGE_TOKEN",
        "page_token",
        "is not a token from a previous response of this list with the same filter",
    )
}

/// Seals and opens page tokens with the key every replica of every service
/// derives from the service secret.
#[derive(Clone)]
pub struct PageTokens {
    key: [u8; 32],
}

impl std::fmt::Debug for PageTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PageTokens(<key redacted>)")
    }
}

impl PageTokens {
    /// Page tokens under `key`.
    pub fn new(key: [u8; 32]) -> Self {
        Self { key }
    }

    /// Page tokens under the key `identity` derives for them.
    pub fn of(identity: &Identity) -> Self {
        Self::new(identity.derive_key(KEY_PURPOSE))
    }

    /// The tokens of list `R` (its request message) for a caller of
    /// `tenant`.
    pub fn list<R: prost::Name>(&self, tenant: &str) -> ListPages<'_> {
        ListPages {
            tokens: self,
            list: R::full_name(),
            tenant: tenant.to_owned(),
        }
    }
}

/// The page tokens of one list for one tenant.
#[derive(Debug)]
pub struct ListPages<'a> {
    tokens: &'a PageTokens,
    list: String,
    tenant: String,
}

/// Bytes of the MAC carried by a token (HMAC-SHA256 truncated to 128 bits,
/// as RFC 2104 allows: forging one still takes 2^128 guesses).
const MAC_BYTES: usize = 16;

impl ListPages<'_> {
    /// Serves one page: opens the request's `page_token`, lets `list` read
    /// the page after the domain token it holds, and seals the domain's
    /// next-page token. The one way lists use tokens, so none can forget
    /// half of it.
    pub async fn serve<T, E: From<Error>>(
        &self,
        page_token: &str,
        list: impl AsyncFnOnce(&str) -> Result<(Vec<T>, String), E>,
    ) -> Result<(Vec<T>, String), E> {
        let after = self.open(page_token)?;
        let (items, next) = list(&after).await?;
        Ok((items, self.seal(&next)))
    }

    /// The token a response carries for the domain's token `inner`; empty
    /// stays empty (the last page).
    pub fn seal(&self, inner: &str) -> String {
        if inner.is_empty() {
            return String::new();
        }
        let tag = self.mac(inner).finalize().into_bytes();
        format!("{inner}.{}", URL_SAFE_NO_PAD.encode(&tag[..MAC_BYTES]))
    }

    /// The domain's token inside a request's `page_token`, if it was sealed
    /// for this list and tenant under this key; empty stays empty (the first
    /// page).
    pub fn open(&self, token: &str) -> Result<String, Error> {
        if token.is_empty() {
            return Ok(String::new());
        }
        let (inner, tag) = token.rsplit_once('.').ok_or_else(invalid_token)?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| invalid_token())?;
        if tag.len() != MAC_BYTES {
            return Err(invalid_token());
        }
        self.mac(inner)
            .verify_truncated_left(&tag)
            .map_err(|_| invalid_token())?;
        Ok(inner.to_owned())
    }

    fn mac(&self, inner: &str) -> Hmac<sha2::Sha256> {
        let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(&self.tokens.key) else {
            unreachable!("HMAC accepts keys of any length");
        };
        // Length prefixes keep ("ab", "c") and ("a", "bc") apart.
        for part in [self.list.as_str(), self.tenant.as_str(), inner] {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
        mac
    }
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

    use twotier_proto::customer::ListCustomersRequest;
    use twotier_proto::partnership::ListIndirectResellersRequest;

    fn inner() -> String {
        encode_token(&("acme".to_string(), "1".to_string()), &fingerprint(&["x"]))
    }

    #[test]
    fn sealed_tokens_open_for_their_list_and_tenant_under_any_copy_of_the_key() {
        let replica_a = PageTokens::new([1; 32]);
        let replica_b = PageTokens::new([1; 32]);
        let sealed = replica_a
            .list::<ListCustomersRequest>("contoso")
            .seal(&inner());
        assert_ne!(sealed, inner());
        let opened = replica_b
            .list::<ListCustomersRequest>("contoso")
            .open(&sealed)
            .unwrap();
        assert_eq!(opened, inner());
        let first = replica_b.list::<ListCustomersRequest>("contoso");
        assert_eq!(first.seal(""), "");
        assert_eq!(first.open("").unwrap(), "");
    }

    #[test]
    fn tokens_of_another_list_tenant_or_key_and_altered_tokens_are_refused() {
        let tokens = PageTokens::new([1; 32]);
        let sealed = tokens
            .list::<ListCustomersRequest>("contoso")
            .seal(&inner());
        let refused = [
            tokens
                .list::<ListIndirectResellersRequest>("contoso")
                .open(&sealed),
            tokens
                .list::<ListCustomersRequest>("northwind")
                .open(&sealed),
            PageTokens::new([2; 32])
                .list::<ListCustomersRequest>("contoso")
                .open(&sealed),
        ];
        for outcome in refused {
            assert_eq!(outcome.unwrap_err().reason(), "INVALID_PAGE_TOKEN");
        }
        let pages = tokens.list::<ListCustomersRequest>("contoso");
        let (body, tag) = sealed.rsplit_once('.').unwrap();
        let forged = encode_token(&("zzz".to_string(), "1".to_string()), &fingerprint(&["x"]));
        for altered in [
            inner(),
            format!("{forged}.{tag}"),
            format!("{body}x.{tag}"),
            format!("{body}.{}", &tag[1..]),
            format!("{body}.{tag}A"),
            format!("{sealed}.{tag}"),
            "not a token".to_owned(),
        ] {
            let outcome = pages.open(&altered);
            assert_eq!(
                outcome.unwrap_err().reason(),
                "INVALID_PAGE_TOKEN",
                "{altered}"
            );
        }
    }

    #[test]
    fn page_size_defaults_and_caps() {
        assert_eq!(page_size(0).unwrap(), DEFAULT_PAGE_SIZE);
        assert_eq!(page_size(10_000).unwrap(), MAX_PAGE_SIZE);
        assert!(page_size(-1).is_err());
    }
}
