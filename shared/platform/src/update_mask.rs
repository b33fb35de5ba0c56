//! Update masks (AIP-134).

use crate::error::Error;

/// Resolves an update mask against the fields an update may change: an
/// empty mask means all of them; an unknown path, or more paths than there
/// are fields to change, is an error. Paths may carry the resource's field
/// name as `prefix` (`provider_listing.`).
pub fn mask_paths<'a>(
    mask: Option<&'a prost_types::FieldMask>,
    allowed: &[&'a str],
    prefix: &str,
) -> Result<Vec<&'a str>, Error> {
    let paths: Vec<&str> = match mask {
        Some(mask) if mask.paths.len() > allowed.len() => {
            return Err(Error::invalid_field(
                "INVALID_UPDATE_MASK",
                "update_mask",
                format!("must have at most {} paths", allowed.len()),
            ));
        }
        Some(mask) if !mask.paths.is_empty() => mask
            .paths
            .iter()
            .map(|p| p.strip_prefix(prefix).unwrap_or(p))
            .collect(),
        _ => return Ok(allowed.to_vec()),
    };
    if let Some(unknown) = paths.iter().find(|path| !allowed.contains(path)) {
        return Err(Error::invalid_field(
            "INVALID_UPDATE_MASK",
            "update_mask",
            format!(
                "{unknown} cannot be updated; allowed: {}",
                allowed.join(", ")
            ),
        ));
    }
    Ok(paths)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_mask_means_every_allowed_field() {
        assert_eq!(mask_paths(None, &["a", "b"], "x.").unwrap(), vec!["a", "b"]);
        let mask = prost_types::FieldMask {
            paths: vec!["x.b".into()],
        };
        assert_eq!(
            mask_paths(Some(&mask), &["a", "b"], "x.").unwrap(),
            vec!["b"]
        );
        let bad = prost_types::FieldMask {
            paths: vec!["c".into()],
        };
        assert!(mask_paths(Some(&bad), &["a", "b"], "x.").is_err());
        let long = prost_types::FieldMask {
            paths: vec!["a".into(); 3],
        };
        assert_eq!(
            mask_paths(Some(&long), &["a", "b"], "x.")
                .unwrap_err()
                .reason(),
            "INVALID_UPDATE_MASK"
        );
    }
}
