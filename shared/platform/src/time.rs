//! Conversions between stored instants and protobuf timestamps.

use chrono::{DateTime, Utc};

/// `at` as a `google.protobuf.Timestamp`.
pub fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

/// `at` as an optional `google.protobuf.Timestamp`.
pub fn optional_timestamp(at: Option<DateTime<Utc>>) -> Option<prost_types::Timestamp> {
    at.map(timestamp)
}
