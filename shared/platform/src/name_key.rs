//! The lower-cased copy of a display name that lists order and filter by.

/// Characters a name key column holds: as many as the names it is made of.
pub const NAME_KEY_CHARS: usize = 200;

/// `name` lower-cased for ordering and case-insensitive filtering, at most
/// [`NAME_KEY_CHARS`] characters: lower-casing may lengthen a name (`İ`
/// becomes two characters), and a key longer than its column fails the
/// write on PostgreSQL. Ordering and filtering by the first 200 characters
/// is as good as by all of them.
pub fn name_key(name: &str) -> String {
    name.to_lowercase().chars().take(NAME_KEY_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_lower_case_and_never_longer_than_its_column() {
        assert_eq!(name_key("Fabrikam GmbH"), "fabrikam gmbh");
        let longest = "İ".repeat(NAME_KEY_CHARS);
        assert_eq!(longest.chars().count(), NAME_KEY_CHARS);
        assert!(longest.to_lowercase().chars().count() > NAME_KEY_CHARS);
        assert_eq!(name_key(&longest).chars().count(), NAME_KEY_CHARS);
    }
}
