//! How the AWS adapters reach AWS: the region, the credentials and an optional endpoint,
//! from the variables the Lambda runtime sets for every function (the ones the AWS SDKs
//! read first). `AWS_ENDPOINT_URL` points every AWS call at one address (a local emulator
//! in tests), as it does for the SDKs.

/// The AWS settings of the process.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct AwsConfig {
    /// `AWS_REGION`.
    pub region: Option<String>,
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN` (the function's
    /// role session on Lambda); `None` when the key id or the secret is missing.
    pub credentials: Option<AwsCredentials>,
    /// `AWS_ENDPOINT_URL`: every AWS call goes to this base URL instead of the service's.
    pub endpoint_url: Option<String>,
}

/// Signing credentials. `Debug` shows the key id only.
#[derive(Clone, PartialEq, Eq)]
pub struct AwsCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl AwsConfig {
    pub(crate) fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Self {
        let non_empty = |k: &str| {
            get(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let key = non_empty("AWS_ACCESS_KEY_ID");
        let secret = non_empty("AWS_SECRET_ACCESS_KEY");
        let token = non_empty("AWS_SESSION_TOKEN");
        Self {
            region: non_empty("AWS_REGION"),
            credentials: key.zip(secret).map(|(k, s)| AwsCredentials {
                access_key_id: k,
                secret_access_key: s,
                session_token: token,
            }),
            endpoint_url: non_empty("AWS_ENDPOINT_URL").map(|u| u.trim_end_matches('/').into()),
        }
    }
}

impl std::fmt::Debug for AwsCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

impl std::fmt::Debug for AwsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsConfig")
            .field("region", &self.region)
            .field("credentials", &self.credentials)
            .field("endpoint_url", &self.endpoint_url)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_runtime_variables_and_never_shows_the_secrets() {
        let env = [
            ("AWS_REGION", "eu-west-1"),
            ("AWS_ACCESS_KEY_ID", "ASIAEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "very-secret"),
            ("AWS_SESSION_TOKEN", "session-token"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000/"),
        ];
        let get = |k: &str| {
            env.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        };
        let c = AwsConfig::from_lookup(get);
        assert_eq!(c.region.as_deref(), Some("eu-west-1"));
        assert_eq!(c.endpoint_url.as_deref(), Some("http://127.0.0.1:5000"));
        let creds = c.credentials.clone().expect("credentials");
        assert_eq!(creds.session_token.as_deref(), Some("session-token"));
        let shown = format!("{c:?}");
        assert!(shown.contains("ASIAEXAMPLE"), "{shown}");
        assert!(
            !shown.contains("very-secret") && !shown.contains("session-token"),
            "{shown}"
        );

        // A key id without its secret is no credentials at all.
        let half = AwsConfig::from_lookup(|k: &str| (k == "AWS_ACCESS_KEY_ID").then(|| "A".into()));
        assert!(half.credentials.is_none());
    }
}
