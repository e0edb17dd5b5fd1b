//! The signature gate every Twilio route goes through: the [`TwilioWebhook`] extractor reads
//! the body (at most 64 KiB), validates `X-Twilio-Signature` against the configured public
//! URL + the request's path and query, and only then hands the decoded form to the handler.
//! A missing or wrong signature is 403 `invalid_signature`; so is every request when no
//! auth token is configured (fail closed), unless validation was explicitly turned off in
//! development.

use std::sync::Arc;

use axum::extract::{FromRef, FromRequest, Request};
use axum::http::{header, StatusCode};

pub mod signature;

use self::signature::SignedPayload;
use crate::config::telephony::{SignatureMode, TelephonyConfig};
use crate::http::ApiError;

/// Twilio posts small forms; anything larger is not a webhook.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// What the gate needs: cheap to clone.
#[derive(Clone)]
pub struct WebhookVerifier {
    auth_token: Option<Arc<str>>,
    public_base_url: Arc<str>,
    mode: SignatureMode,
}

impl WebhookVerifier {
    pub fn new(cfg: &TelephonyConfig) -> Self {
        Self {
            auth_token: cfg.auth_token.as_deref().map(Arc::from),
            public_base_url: Arc::from(cfg.public_base_url.trim_end_matches('/')),
            mode: cfg.signature_mode,
        }
    }

    /// The URL Twilio signed for a request whose path and query are `path_and_query`.
    pub fn public_url(&self, path_and_query: &str) -> String {
        format!("{}{}", self.public_base_url, path_and_query)
    }

    pub fn base_url(&self) -> &str {
        &self.public_base_url
    }

    /// Checks one request; returns the decoded form parameters when it is genuine.
    pub fn verify(
        &self,
        path_and_query: &str,
        content_type: Option<&str>,
        body: &[u8],
        signature: Option<&str>,
    ) -> Result<Vec<(String, String)>, ApiError> {
        let is_form = content_type
            .map(|c| {
                c.trim_start()
                    .to_ascii_lowercase()
                    .starts_with("application/x-www-form-urlencoded")
            })
            .unwrap_or(body.is_empty());
        let params: Vec<(String, String)> = if is_form {
            form_urlencoded::parse(body).into_owned().collect()
        } else {
            Vec::new()
        };
        if self.mode == SignatureMode::Off {
            return Ok(params);
        }
        let forbidden =
            || ApiError::forbidden("invalid_signature", "missing or invalid X-Twilio-Signature");
        let token = self.auth_token.as_deref().ok_or_else(forbidden)?;
        let sig = signature.ok_or_else(forbidden)?;
        let url = self.public_url(path_and_query);
        let payload = if is_form {
            SignedPayload::Form(&params)
        } else {
            SignedPayload::Body(body)
        };
        if signature::validate(token, &url, payload, sig) {
            Ok(params)
        } else {
            tracing::warn!(path = %path_and_query, "twilio webhook with an invalid signature");
            Err(forbidden())
        }
    }
}

/// A verified Twilio webhook: the decoded form (all parameters, repeats kept) and the
/// delivery's idempotency token when Twilio sent one.
#[derive(Debug, Clone)]
pub struct TwilioWebhook {
    pub params: Vec<(String, String)>,
    pub idempotency_token: Option<String>,
}

impl TwilioWebhook {
    /// The first value of a parameter.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A required parameter, or 400 `missing_<key>`.
    pub fn require(&self, key: &'static str) -> Result<&str, ApiError> {
        self.get(key)
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    format!("missing_{}", key.to_ascii_lowercase()),
                    format!("the webhook has no {key}"),
                )
            })
    }
}

impl<S> FromRequest<S> for TwilioWebhook
where
    S: Send + Sync,
    WebhookVerifier: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let verifier = WebhookVerifier::from_ref(state);
        let (parts, body) = req.into_parts();
        let path_and_query = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| parts.uri.path().to_string());
        let header = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES)
            .await
            .map_err(|_| ApiError::payload_too_large("webhook bodies are at most 64 KiB"))?;
        let params = verifier.verify(
            &path_and_query,
            header(header::CONTENT_TYPE.as_str()).as_deref(),
            &bytes,
            header("x-twilio-signature").as_deref(),
        )?;
        Ok(Self {
            params,
            idempotency_token: header("i-twilio-idempotency-token"),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::config::Environment;

    fn verifier(pairs: &[(&str, &str)]) -> WebhookVerifier {
        let map: std::collections::HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let cfg = TelephonyConfig::from_lookup(&|k| map.get(k).cloned(), Environment::Development)
            .unwrap();
        WebhookVerifier::new(&cfg)
    }

    #[test]
    fn fails_closed_without_a_token_and_checks_the_public_url() {
        let body = b"CallSid=CA1&From=%2B15555550100";
        let v = verifier(&[]);
        let e = v
            .verify(
                "/twilio/voice",
                Some("application/x-www-form-urlencoded"),
                body,
                Some("x"),
            )
            .unwrap_err();
        assert_eq!(e.status, StatusCode::FORBIDDEN);

        let v = verifier(&[
            ("TWILIO_AUTH_TOKEN", "tok"),
            ("PUBLIC_BASE_URL", "https://gomomo.example.com/"),
        ]);
        let params: Vec<(String, String)> = vec![
            ("CallSid".into(), "CA1".into()),
            ("From".into(), "+15555550100".into()),
        ];
        let sig = signature::sign(
            "tok",
            "https://gomomo.example.com/twilio/voice?x=1",
            &params,
        );
        let ct = Some("application/x-www-form-urlencoded; charset=utf-8");
        assert_eq!(
            v.verify("/twilio/voice?x=1", ct, body, Some(&sig)).unwrap(),
            params
        );
        assert!(v.verify("/twilio/voice?x=2", ct, body, Some(&sig)).is_err());
        assert!(v.verify("/twilio/voice?x=1", ct, body, None).is_err());
        assert!(v
            .verify(
                "/twilio/voice?x=1",
                ct,
                b"CallSid=CA2&From=%2B15555550100",
                Some(&sig)
            )
            .is_err());

        let off = verifier(&[("TWILIO_SIGNATURE_VALIDATION", "off")]);
        assert_eq!(
            off.verify("/twilio/voice", ct, body, None).unwrap().len(),
            2
        );
    }
}
