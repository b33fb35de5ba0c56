//! R25: whether a write changes anything. A domain type answers
//! [`Change::Unchanged`] for a request that would leave it as it is; the
//! api room then writes nothing, appends no event (so no email goes out)
//! and answers the resource with its etag as it was.

/// What a write did.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change<T> {
    /// Something changed; `T` is what the deciding method documents (the
    /// value before, or the value after).
    Changed(T),
    /// The request named the values that are already there.
    Unchanged,
}

impl<T> Change<T> {
    /// Whether anything changed.
    pub fn is_changed(&self) -> bool {
        matches!(self, Self::Changed(_))
    }

    /// What changed, if anything.
    pub fn changed(self) -> Option<T> {
        match self {
            Self::Changed(value) => Some(value),
            Self::Unchanged => None,
        }
    }
}

/// Puts `value` into `slot` unless it is there already; the value it
/// replaced.
pub fn replace<V: PartialEq>(slot: &mut V, value: V) -> Change<V> {
    if *slot == value {
        return Change::Unchanged;
    }
    Change::Changed(std::mem::replace(slot, value))
}

/// `updated` if it differs from `current`, else [`Change::Unchanged`]:
/// for patches that build a new value from the current one.
pub fn compare<V: PartialEq>(current: &V, updated: V) -> Change<V> {
    if *current == updated {
        return Change::Unchanged;
    }
    Change::Changed(updated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_value_is_no_change_and_leaves_the_slot_alone() {
        let mut slot = Some("1234567".to_owned());
        assert_eq!(
            replace(&mut slot, Some("1234567".into())),
            Change::Unchanged
        );
        assert_eq!(slot.as_deref(), Some("1234567"));
        assert_eq!(
            replace(&mut slot, None),
            Change::Changed(Some("1234567".into()))
        );
        assert_eq!(slot, None);
        assert!(!replace(&mut slot, None).is_changed());
    }

    #[test]
    fn a_patch_equal_to_the_current_value_is_no_change() {
        assert_eq!(compare(&3, 3), Change::Unchanged);
        assert_eq!(compare(&3, 4), Change::Changed(4));
        assert_eq!(compare(&3, 4).changed(), Some(4));
        assert_eq!(compare(&3, 3).changed(), None);
    }
}
