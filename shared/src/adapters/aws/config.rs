//! Settings of the AWS backend, read once from the environment.

use anyhow::bail;

/// A queue given by URL, or by name (looked up, or created).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QueueRef {
    Url(String),
    Name(String),
}

impl QueueRef {
    /// The queue's name (a URL's last segment).
    pub fn name(&self) -> &str {
        match self {
            QueueRef::Url(url) => url.trim_end_matches('/').rsplit('/').next().unwrap_or(url),
            QueueRef::Name(name) => name,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwsConfig {
    pub region: String,
    /// An emulator's address (`AWS_ENDPOINT_URL`); None for AWS itself.
    pub endpoint_url: Option<String>,
    /// Path-style S3 addresses, which emulators need.
    pub s3_path_style: bool,
    pub table: String,
    pub bucket: String,
    pub fulfil_queue: QueueRef,
    /// Defaults to `{fulfil queue name}-events` when the fulfil queue is given
    /// by name.
    pub events_queue: QueueRef,
    /// Create the table, bucket and queues when missing (emulators, first runs).
    pub create_resources: bool,
}

impl AwsConfig {
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `get` (the environment, or a map in tests).
    /// Names every missing variable at once.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let var = |name: &str| get(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let queue = |url: &str, name: &str| match (var(url), var(name)) {
            (Some(u), _) => Some(QueueRef::Url(u)),
            (None, Some(n)) => Some(QueueRef::Name(n)),
            (None, None) => None,
        };
        let mut missing = Vec::new();
        let mut need = |value: Option<String>, what: &str| {
            if value.is_none() {
                missing.push(what.to_string());
            }
            value.unwrap_or_default()
        };
        let region = need(var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION")), "AWS_REGION");
        let table = need(var("STOCKROOM_TABLE"), "STOCKROOM_TABLE");
        let bucket = need(var("STOCKROOM_BUCKET"), "STOCKROOM_BUCKET");
        let fulfil_queue = queue("STOCKROOM_QUEUE_URL", "STOCKROOM_QUEUE_NAME");
        let events_queue =
            queue("STOCKROOM_EVENTS_QUEUE_URL", "STOCKROOM_EVENTS_QUEUE_NAME").or_else(|| match &fulfil_queue {
                Some(QueueRef::Name(n)) => Some(QueueRef::Name(format!("{n}-events"))),
                _ => None,
            });
        if fulfil_queue.is_none() {
            missing.push("STOCKROOM_QUEUE_URL (or STOCKROOM_QUEUE_NAME)".into());
        }
        if events_queue.is_none() {
            missing.push("STOCKROOM_EVENTS_QUEUE_URL (or STOCKROOM_EVENTS_QUEUE_NAME)".into());
        }
        let (Some(fulfil_queue), Some(events_queue), true) = (fulfil_queue, events_queue, missing.is_empty()) else {
            bail!("AWS backend not configured: set {}", missing.join(", "));
        };
        let endpoint_url = var("AWS_ENDPOINT_URL");
        let s3_path_style = endpoint_url.is_some() || var("AWS_ENDPOINT_URL_S3").is_some();
        let create_resources = var("STOCKROOM_CREATE_RESOURCES")
            .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes"));
        Ok(AwsConfig {
            region,
            endpoint_url,
            s3_path_style,
            table,
            bucket,
            fulfil_queue,
            events_queue,
            create_resources,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(vars: &[(&str, &str)]) -> anyhow::Result<AwsConfig> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        AwsConfig::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn names_every_missing_variable() {
        let err = load(&[("STOCKROOM_TABLE", "t"), ("STOCKROOM_BUCKET", " ")]).unwrap_err().to_string();
        assert!(err.contains("AWS_REGION"), "{err}");
        assert!(err.contains("STOCKROOM_BUCKET"), "{err}");
        assert!(err.contains("STOCKROOM_QUEUE_URL"), "{err}");
        assert!(!err.contains("STOCKROOM_TABLE"), "{err}");
    }

    #[test]
    fn reads_names_urls_and_defaults() {
        let cfg = load(&[
            ("AWS_REGION", "eu-west-1"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"),
            ("STOCKROOM_TABLE", "t"),
            ("STOCKROOM_BUCKET", "b"),
            ("STOCKROOM_QUEUE_NAME", "fulfil"),
            ("STOCKROOM_CREATE_RESOURCES", "1"),
        ])
        .unwrap();
        assert_eq!(cfg.fulfil_queue, QueueRef::Name("fulfil".into()));
        assert_eq!(cfg.events_queue, QueueRef::Name("fulfil-events".into()));
        assert!(cfg.s3_path_style && cfg.create_resources);

        let url = "https://sqs.eu-west-1.amazonaws.com/123/orders";
        let cfg = load(&[
            ("AWS_REGION", "eu-west-1"),
            ("STOCKROOM_TABLE", "t"),
            ("STOCKROOM_BUCKET", "b"),
            ("STOCKROOM_QUEUE_URL", url),
            ("STOCKROOM_EVENTS_QUEUE_URL", "https://sqs.eu-west-1.amazonaws.com/123/events"),
        ])
        .unwrap();
        assert_eq!(cfg.fulfil_queue.name(), "orders");
        assert!(!cfg.s3_path_style && !cfg.create_resources && cfg.endpoint_url.is_none());
    }

    #[test]
    fn a_queue_url_needs_an_events_queue() {
        let err = load(&[
            ("AWS_REGION", "us-east-1"),
            ("STOCKROOM_TABLE", "t"),
            ("STOCKROOM_BUCKET", "b"),
            ("STOCKROOM_QUEUE_URL", "http://x/1/q"),
        ])
        .unwrap_err();
        assert!(err.to_string().contains("STOCKROOM_EVENTS_QUEUE_URL"), "{err}");
    }
}
