//! Server-issued chat sessions and the widget's allowed origins.
//!
//! A public client never names a session of its own choosing: the server issues one
//! ([`issue`]) — 256 random bits, base64url, after the prefix [`TOKEN_PREFIX`] — and records
//! it for the tenant. A public route or socket accepts a session id only when it was issued
//! for that tenant ([`accept`]); anything else, including the internal sessions of calls
//! (`call:<CallSid>`) and imports, is [`SessionError::NotFound`].
//!
//! A browser opening the chat socket sends an `Origin`: it must be the deployment's own
//! origin (from `PUBLIC_BASE_URL`) or one of the tenant's `widget_origins` (`*` allows
//! any). A client that sends no `Origin` (not a browser) is not limited by it.

use sqlx::PgPool;

use crate::db::sessions as q;
use crate::domain::crypto::random_token;
use crate::domain::{ParseError, SessionId, TenantId};

/// How every issued session id starts.
pub const TOKEN_PREFIX: &str = "gs_";
/// Random bytes in a session id.
const TOKEN_BYTES: usize = 32;
/// What a client is told when its session id was not issued here.
pub const NOT_FOUND_MESSAGE: &str = "this session was not issued for this tenant (sessions are issued by the server); start a new one: POST /api/tenants/{tenant}/sessions, or send no session_id";
/// Most origins a tenant may list.
pub const MAX_WIDGET_ORIGINS: usize = 50;

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("session not found")]
    NotFound,
    #[error("tenant not found")]
    TenantNotFound,
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl SessionError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "session_not_found",
            Self::TenantNotFound => "tenant_not_found",
            Self::Database(_) => "internal_error",
        }
    }
}

/// A fresh session id (not yet recorded).
pub fn new_token() -> String {
    format!("{TOKEN_PREFIX}{}", random_token::<TOKEN_BYTES>())
}

/// A fresh session id, not yet recorded: for a caller that records it in its own
/// transaction (a hold issues its session that way).
pub fn fresh() -> Result<SessionId, SessionError> {
    SessionId::parse(&new_token()).map_err(|_| SessionError::NotFound)
}

/// Issues and records a session for `tenant`.
pub async fn issue(pool: &PgPool, tenant: TenantId) -> Result<SessionId, SessionError> {
    let id = fresh()?;
    match q::insert(pool, tenant.0, id.as_str()).await {
        Ok(()) => Ok(id),
        Err(sqlx::Error::Database(d)) if d.is_foreign_key_violation() => {
            Err(SessionError::TenantNotFound)
        }
        Err(e) => Err(e.into()),
    }
}

/// The session `raw` names, when it was issued for `tenant` (it is marked seen).
pub async fn accept(pool: &PgPool, tenant: TenantId, raw: &str) -> Result<SessionId, SessionError> {
    let raw = raw.trim();
    if !raw.starts_with(TOKEN_PREFIX) {
        return Err(SessionError::NotFound);
    }
    let id = SessionId::parse(raw).map_err(|_| SessionError::NotFound)?;
    if q::touch(pool, tenant.0, id.as_str()).await? {
        Ok(id)
    } else {
        Err(SessionError::NotFound)
    }
}

/// The session `raw` names when given (it must have been issued for `tenant`), else a new
/// one. The flag tells whether it was issued now.
pub async fn accept_or_issue(
    pool: &PgPool,
    tenant: TenantId,
    raw: Option<&str>,
) -> Result<(SessionId, bool), SessionError> {
    match raw {
        Some(r) => accept(pool, tenant, r).await.map(|s| (s, false)),
        None => issue(pool, tenant).await.map(|s| (s, true)),
    }
}

/// Whether `id` has the form of an issued session (only the server makes such ids; whether
/// it was issued for a tenant is for [`accept`] to say).
pub fn is_issued_form(id: &SessionId) -> bool {
    id.as_str().starts_with(TOKEN_PREFIX)
}

/// The origin (`scheme://host[:port]`, lowercase) of an absolute http(s) URL.
pub fn origin_of(url: &str) -> Option<String> {
    let url = url.trim();
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() || host.contains('@') {
        return None;
    }
    Some(format!("{scheme}://{}", host.to_ascii_lowercase()))
}

/// One entry of a tenant's widget origins: `*`, or `scheme://host[:port]` (http or https;
/// https only when `production`), nothing after the host.
pub fn parse_widget_origin(raw: &str, production: bool) -> Result<String, ParseError> {
    let bad = |why: &str| ParseError::new("widget_origins", why.to_string());
    let s = raw.trim();
    if s == "*" {
        return Ok(s.to_string());
    }
    if s.len() > 200 {
        return Err(bad("an origin is at most 200 characters"));
    }
    let origin = origin_of(s)
        .ok_or_else(|| bad("an origin looks like https://shop.example.com[:port], or * for any"))?;
    if origin.len() != s.len() {
        return Err(bad(
            "an origin is scheme://host[:port] with no path, query or trailing slash",
        ));
    }
    let host_port = &origin[origin.find("://").map_or(0, |i| i + 3)..];
    let (host, port) = match host_port.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || host_port.starts_with('[') => (h, Some(p)),
        _ => (host_port, None),
    };
    if let Some(p) = port {
        if p.parse::<u16>().map_or(true, |n| n == 0) {
            return Err(bad("the port must be a number from 1 to 65535"));
        }
    }
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '[' | ']' | ':'));
    if !host_ok {
        return Err(bad("the host may only contain letters, digits, '.', '-'"));
    }
    if production && !origin.starts_with("https://") {
        return Err(bad("production accepts https origins only (or *)"));
    }
    Ok(origin)
}

/// A validated, deduplicated list of widget origins.
pub fn parse_widget_origins(raw: &[String], production: bool) -> Result<Vec<String>, ParseError> {
    if raw.len() > MAX_WIDGET_ORIGINS {
        return Err(ParseError::new(
            "widget_origins",
            format!("at most {MAX_WIDGET_ORIGINS} origins"),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(raw.len());
    for r in raw {
        let o = parse_widget_origin(r, production)?;
        if !out.contains(&o) {
            out.push(o);
        }
    }
    Ok(out)
}

/// Whether a socket opened with `origin` (the browser's `Origin` header, if any) may talk to
/// `tenant`: no origin (not a browser), one of the deployment's own origins (`own`: origins
/// or URLs), `*` in the tenant's list, or the origin in it. `None` when the tenant does not
/// exist.
pub async fn origin_allowed(
    pool: &PgPool,
    tenant: TenantId,
    origin: Option<&str>,
    own: &[String],
) -> Result<Option<bool>, sqlx::Error> {
    let Some(list) = q::widget_origins(pool, tenant.0).await? else {
        return Ok(None);
    };
    Ok(Some(origin_in(origin, own, &list)))
}

/// The pure part of [`origin_allowed`].
pub fn origin_in(origin: Option<&str>, own: &[String], list: &[String]) -> bool {
    let Some(origin) = origin else {
        return true;
    };
    let Some(o) = origin_of(origin) else {
        return false;
    };
    if own
        .iter()
        .any(|u| origin_of(u).as_deref() == Some(o.as_str()))
    {
        return true;
    }
    list.iter().any(|l| l == "*" || *l == o)
}

/// The tenant's widget origins; `None` when the tenant does not exist.
pub async fn widget_origins(
    pool: &PgPool,
    tenant: TenantId,
) -> Result<Option<Vec<String>>, sqlx::Error> {
    q::widget_origins(pool, tenant.0).await
}

/// Replaces the tenant's widget origins (already validated); false when the tenant does not
/// exist.
pub async fn set_widget_origins(
    pool: &PgPool,
    tenant: TenantId,
    origins: &[String],
) -> Result<bool, sqlx::Error> {
    q::set_widget_origins(pool, tenant.0, origins).await
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_prefixed() {
        let a = new_token();
        let b = new_token();
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX));
        assert_eq!(a.len(), TOKEN_PREFIX.len() + 43);
        assert!(SessionId::parse(&a).is_ok());
        assert!(is_issued_form(&SessionId::parse(&a).unwrap()));
        assert!(!is_issued_form(&SessionId::parse("call:CA1").unwrap()));
    }

    #[test]
    fn widget_origins_are_validated() {
        assert_eq!(parse_widget_origin("*", true).unwrap(), "*");
        assert_eq!(
            parse_widget_origin("https://Shop.Example.com", true).unwrap(),
            "https://shop.example.com"
        );
        assert_eq!(
            parse_widget_origin("http://localhost:5173", false).unwrap(),
            "http://localhost:5173"
        );
        for bad in [
            "http://localhost:5173",
            "https://shop.example.com/",
            "https://shop.example.com/path",
            "ftp://x.example.com",
            "shop.example.com",
            "https://user@shop.example.com",
            "https://shop.example.com:99999",
            "https://shop example.com",
            "",
        ] {
            assert!(parse_widget_origin(bad, true).is_err(), "{bad}");
        }
        assert!(parse_widget_origins(&vec!["*".to_string(); 51], false).is_err());
    }

    #[test]
    fn origins_are_matched() {
        let own = &["https://gomomo.example.com/base".to_string()];
        let list = vec!["https://shop.example.com".to_string()];
        assert!(origin_in(None, own, &[]));
        assert!(origin_in(
            Some("http://127.0.0.1:3000"),
            &["http://127.0.0.1:3000".into()],
            &[]
        ));
        assert!(origin_in(Some("https://gomomo.example.com"), own, &[]));
        assert!(origin_in(Some("https://shop.example.com"), own, &list));
        assert!(!origin_in(Some("https://evil.example.com"), own, &list));
        assert!(!origin_in(Some("null"), own, &list));
        assert!(origin_in(
            Some("https://evil.example.com"),
            own,
            &["*".into()]
        ));
        assert!(!origin_in(Some("http://shop.example.com"), own, &list));
    }
}
