//! CloudWatch embedded metric format: a JSON log line that CloudWatch Logs turns into a
//! metric data point (no API call, no permission beyond writing logs). The line must reach
//! the log stream on its own, so it is written to stdout directly, not through `tracing`,
//! whose JSON formatter would wrap it in an event object.

use std::io::{self, Write};

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

/// The namespace of every gomomo metric.
pub const NAMESPACE: &str = "Gomomo";

/// One data point of a `Count` metric in `NAMESPACE`, as a single JSON line (no newline).
/// `dimension` is the one dimension of the point (name, value); `None` gives the point no
/// dimension at all (an empty dimension set), the aggregate an alarm can watch.
pub fn count_line(
    metric: &str,
    value: u64,
    dimension: Option<(&str, &str)>,
    at: DateTime<Utc>,
) -> String {
    let dimensions: Vec<&str> = dimension.iter().map(|(name, _)| *name).collect();
    let mut record = Map::new();
    record.insert(
        "_aws".into(),
        json!({
            "Timestamp": at.timestamp_millis(),
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [dimensions],
                "Metrics": [{"Name": metric, "Unit": "Count"}],
            }],
        }),
    );
    record.insert(metric.into(), Value::from(value));
    if let Some((name, v)) = dimension {
        record.insert(name.into(), Value::from(v));
    }
    Value::Object(record).to_string()
}

/// Writes each line followed by a newline, in one write (so lines from other writers never
/// interleave with them), and flushes.
pub fn write_lines(out: &mut impl Write, lines: &[String]) -> io::Result<()> {
    let mut buf = String::new();
    for line in lines {
        buf.push_str(line);
        buf.push('\n');
    }
    out.write_all(buf.as_bytes())?;
    out.flush()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 13, 1, 0).unwrap()
    }

    #[test]
    fn a_point_without_dimensions_has_one_empty_dimension_set() {
        let line = count_line("UndeliveredNotifications", 0, None, at());
        assert!(!line.contains('\n'));
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(
            v,
            json!({
                "_aws": {
                    "Timestamp": 1_772_456_460_000_i64,
                    "CloudWatchMetrics": [{
                        "Namespace": "Gomomo",
                        "Dimensions": [[]],
                        "Metrics": [{"Name": "UndeliveredNotifications", "Unit": "Count"}],
                    }],
                },
                "UndeliveredNotifications": 0,
            })
        );
    }

    #[test]
    fn a_point_with_a_dimension_names_it_and_carries_its_value() {
        let line = count_line(
            "UndeliveredNotifications",
            3,
            Some(("TenantId", "t-1")),
            at(),
        );
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(
            v,
            json!({
                "_aws": {
                    "Timestamp": 1_772_456_460_000_i64,
                    "CloudWatchMetrics": [{
                        "Namespace": "Gomomo",
                        "Dimensions": [["TenantId"]],
                        "Metrics": [{"Name": "UndeliveredNotifications", "Unit": "Count"}],
                    }],
                },
                "UndeliveredNotifications": 3,
                "TenantId": "t-1",
            })
        );
    }

    #[test]
    fn lines_are_written_one_per_line() {
        let mut out = Vec::new();
        write_lines(&mut out, &["{\"a\":1}".into(), "{\"b\":2}".into()]).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "{\"a\":1}\n{\"b\":2}\n");
    }
}
