//! The two adapters of the [`Mailer`] port: SMTP through lettre's connection API (plain, STARTTLS or
//! implicit TLS, with credentials) and, as the local default, a folder with one `.eml` file
//! per message. Both send the same MIME message: `multipart/mixed` of a
//! `multipart/alternative` (plain text + HTML) and, for booking emails, the `.ics` invite
//! as `text/calendar; method=…` (base64, so its CRLF line ends survive any relay).

use std::path::PathBuf;

use async_trait::async_trait;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Attachment, Body, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::Message;

use crate::config::delivery::{SmtpSettings, SmtpTls};
use crate::ports::{DeliveryError, Mailer, OutgoingEmail};

/// Builds the MIME message (shared by both adapters).
pub fn build_message(from: &str, email: &OutgoingEmail) -> Result<Message, DeliveryError> {
    let from_addr = from
        .parse()
        .map_err(|e| DeliveryError::Permanent(format!("MAIL_FROM: {e}")))?;
    // Header injection is impossible through lettre's typed headers; the display name is
    // still stripped of control characters.
    let name: String = email
        .from_name
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    let to: Mailbox = email
        .to
        .parse()
        .map_err(|e| DeliveryError::Permanent(format!("recipient address: {e}")))?;
    let subject: String = email.subject.chars().filter(|c| !c.is_control()).collect();
    let msg_id = format!("<{}@gomomo>", uuid::Uuid::new_v4().simple());
    let builder = Message::builder()
        .from(Mailbox::new(Some(name), from_addr))
        .to(to)
        .subject(subject)
        .message_id(Some(msg_id));
    let text = SinglePart::builder()
        .header(ContentType::TEXT_PLAIN)
        .body(email.text.clone());
    let alternative = match &email.html {
        Some(html) => MultiPart::alternative().singlepart(text).singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_HTML)
                .body(html.clone()),
        ),
        None => MultiPart::alternative().singlepart(text),
    };
    let body = match &email.ics {
        Some(ics) => {
            let method = if ics.contains("\r\nMETHOD:CANCEL\r\n") {
                "CANCEL"
            } else {
                "REQUEST"
            };
            let ct = ContentType::parse(&format!("text/calendar; charset=utf-8; method={method}"))
                .map_err(|e| DeliveryError::Permanent(format!("content type: {e}")))?;
            let file = if method == "CANCEL" {
                "cancel.ics"
            } else {
                "invite.ics"
            };
            let part = Attachment::new(file.to_string()).body(
                Body::new_with_encoding(ics.clone().into_bytes(), ContentTransferEncoding::Base64)
                    .map_err(|_| DeliveryError::Permanent("ics encoding".into()))?,
                ct,
            );
            MultiPart::mixed().multipart(alternative).singlepart(part)
        }
        None => MultiPart::mixed().multipart(alternative),
    };
    builder
        .multipart(body)
        .map_err(|e| DeliveryError::Permanent(format!("message: {e}")))
}

/// Local default: one `.eml` file per message (RFC 5322 bytes, ready for any mail client).
#[derive(Debug, Clone)]
pub struct FileMailer {
    dir: PathBuf,
    from: String,
}

impl FileMailer {
    pub fn new(dir: PathBuf, from: &str) -> Self {
        Self {
            dir,
            from: from.to_string(),
        }
    }

    pub fn dir(&self) -> &PathBuf {
        &self.dir
    }
}

#[async_trait]
impl Mailer for FileMailer {
    async fn send_email(&self, email: &OutgoingEmail) -> Result<String, DeliveryError> {
        let msg = build_message(&self.from, email)?;
        let bytes = msg.formatted();
        let id = format!(
            "{}-{}",
            chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ"),
            uuid::Uuid::new_v4().simple()
        );
        let dir = self.dir.clone();
        let name = format!("{id}.eml");
        // Written under a temporary name and renamed, so a reader never sees half a file.
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            std::fs::create_dir_all(&dir)?;
            let tmp = dir.join(format!(".{name}.tmp"));
            std::fs::write(&tmp, &bytes)?;
            std::fs::rename(&tmp, dir.join(&name))
        })
        .await
        .map_err(|e| DeliveryError::Transient(format!("mail folder task: {e}")))?
        .map_err(|e| DeliveryError::Transient(format!("mail folder: {e}")))?;
        tracing::info!(message_id = %id, "email written to the mail folder");
        Ok(format!("file:{id}"))
    }
}

/// SMTP through lettre's connection API, one connection per message. lettre's own
/// transport bounds only the TCP connect; here every network step (connect with the
/// greeting and EHLO, STARTTLS, AUTH, the message, QUIT) is bounded by the configured
/// timeout, and a step past it drops the connection and fails transiently.
#[derive(Clone)]
pub struct SmtpMailer {
    settings: SmtpSettings,
    tls: Option<TlsParameters>,
    hello: ClientId,
    from: String,
}

impl std::fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("host", &self.settings.host)
            .field("port", &self.settings.port)
            .field("timeout", &self.settings.timeout)
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

fn smtp_error(e: lettre::transport::smtp::Error) -> DeliveryError {
    if e.is_permanent() {
        DeliveryError::Permanent(format!("smtp: {e}"))
    } else {
        DeliveryError::Transient(format!("smtp: {e}"))
    }
}

impl SmtpMailer {
    pub fn new(s: &SmtpSettings, from: &str) -> Result<Self, DeliveryError> {
        let tls = match s.tls {
            SmtpTls::None => None,
            SmtpTls::Tls | SmtpTls::StartTls => Some(
                TlsParameters::new(s.host.clone())
                    .map_err(|e| DeliveryError::Permanent(format!("smtp tls: {e}")))?,
            ),
        };
        Ok(Self {
            settings: s.clone(),
            tls,
            hello: ClientId::default(),
            from: from.to_string(),
        })
    }

    /// Runs one network step under the configured timeout.
    async fn step<T>(
        &self,
        name: &str,
        fut: impl std::future::Future<Output = Result<T, lettre::transport::smtp::Error>>,
    ) -> Result<T, DeliveryError> {
        let limit = self.settings.timeout;
        match tokio::time::timeout(limit, fut).await {
            Ok(r) => r.map_err(smtp_error),
            Err(_) => Err(DeliveryError::Transient(format!(
                "smtp: {name} timed out after {} s",
                limit.as_secs_f32()
            ))),
        }
    }

    async fn deliver(&self, msg: &Message) -> Result<(), DeliveryError> {
        let s = &self.settings;
        let implicit = match s.tls {
            SmtpTls::Tls => self.tls.clone(),
            _ => None,
        };
        let mut conn = self
            .step(
                "connect",
                AsyncSmtpConnection::connect_tokio1(
                    (s.host.as_str(), s.port),
                    Some(s.timeout),
                    &self.hello,
                    implicit,
                    None,
                ),
            )
            .await?;
        if let (SmtpTls::StartTls, Some(params)) = (s.tls, &self.tls) {
            self.step("STARTTLS", conn.starttls(params.clone(), &self.hello))
                .await?;
        }
        if let Some(user) = &s.username {
            let creds = Credentials::new(user.clone(), s.password.clone().unwrap_or_default());
            self.step("AUTH", conn.auth(DEFAULT_MECHANISMS, &creds))
                .await?;
        }
        let bytes = msg.formatted();
        let resp = self.step("send", conn.send(msg.envelope(), &bytes)).await?;
        tracing::info!(code = %resp.code(), "email accepted by the SMTP server");
        // The message is accepted: a QUIT that fails or stalls changes nothing.
        if self.step("QUIT", conn.quit()).await.is_err() {
            tracing::debug!("smtp QUIT failed after the message was accepted");
        }
        Ok(())
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send_email(&self, email: &OutgoingEmail) -> Result<String, DeliveryError> {
        let msg = build_message(&self.from, email)?;
        let id = msg
            .headers()
            .get_raw("Message-ID")
            .unwrap_or_default()
            .to_string();
        self.deliver(&msg).await?;
        Ok(id)
    }
}
