//! Resource names (AIP-122) and etags (AIP-154).

use crate::error::Error;

/// Longest id a name may carry. Real ids (tenant ids, PartnerIDs, UUIDs)
/// are far shorter; the bound keeps a hostile name out of queries and logs.
pub const MAX_ID_CHARS: usize = 128;

/// A provider's listing, `providerListings/{provider_id}`: named by the
/// partnership service, read back by the services that follow its
/// listing events.
pub const PROVIDER_LISTING: [&str; 2] = ["providerListings", "*"];

/// Splits `name` against a pattern like `["providers", "*", "invitations",
/// "*"]` and returns the values of the `*` segments, or `None` when the name
/// has another shape. Values must be single lines (no control characters)
/// of 1 to [`MAX_ID_CHARS`] characters, free of `/`.
pub fn parse<'a, const N: usize>(name: &'a str, pattern: &[&str]) -> Option<[&'a str; N]> {
    let segments: Vec<&str> = name.split('/').collect();
    if segments.len() != pattern.len() {
        return None;
    }
    let mut values = [""; N];
    let mut next = 0;
    for (segment, expected) in segments.iter().zip(pattern) {
        if *expected == "*" {
            if next == N || crate::validate::line(segment, 1, MAX_ID_CHARS).is_err() {
                return None;
            }
            values[next] = segment;
            next += 1;
        } else if segment != expected {
            return None;
        }
    }
    (next == N).then_some(values)
}

/// Like [`parse`], but a name of the wrong shape is an `INVALID_ARGUMENT`
/// on `field`.
pub fn require<'a, const N: usize>(
    name: &'a str,
    pattern: &[&str],
    field: &str,
) -> Result<[&'a str; N], Error> {
    parse(name, pattern).ok_or_else(|| {
        Error::invalid_field(
            "INVALID_RESOURCE_NAME",
            field,
            format!(
                "must look like {}, each id a single line of at most {MAX_ID_CHARS} characters",
                pattern.join("/").replace('*', "{id}")
            ),
        )
    })
}

/// The etag of a resource at `version`.
pub fn etag(version: i64) -> String {
    format!("W/\"{version}\"")
}

/// Checks a caller-supplied etag against the current version; an empty etag
/// skips the check.
pub fn check_etag(supplied: &str, version: i64, resource: &str) -> Result<(), Error> {
    if supplied.is_empty() || supplied == etag(version) {
        return Ok(());
    }
    Err(Error::etag_mismatch(resource))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_of_the_right_shape_only() {
        let pattern = ["providers", "*", "invitations", "*"];
        assert_eq!(
            parse::<2>("providers/contoso/invitations/abc", &pattern),
            Some(["contoso", "abc"])
        );
        assert_eq!(parse::<2>("providers/contoso/invitations/", &pattern), None);
        assert_eq!(
            parse::<2>("providers/contoso/partnerships/abc", &pattern),
            None
        );
        assert_eq!(parse::<2>("providers/contoso", &pattern), None);
    }

    #[test]
    fn ids_are_single_bounded_lines() {
        let pattern = ["providers", "*"];
        assert!(parse::<1>("providers/contoso\r\nx", &pattern).is_none());
        assert!(parse::<1>("providers/con\ttoso", &pattern).is_none());
        assert!(parse::<1>(&format!("providers/{}", "x".repeat(MAX_ID_CHARS)), &pattern).is_some());
        let long = format!("providers/{}", "x".repeat(MAX_ID_CHARS + 1));
        let refused = require::<1>(&long, &pattern, "parent").unwrap_err();
        assert_eq!(refused.reason(), "INVALID_RESOURCE_NAME");
    }

    #[test]
    fn etags_compare_by_version() {
        assert!(check_etag("", 3, "x").is_ok());
        assert!(check_etag(&etag(3), 3, "x").is_ok());
        assert_eq!(
            check_etag(&etag(2), 3, "x").unwrap_err().reason(),
            "ETAG_MISMATCH"
        );
    }
}
