//! Where emails go: SMTP (plain, STARTTLS or TLS, from `email.smtp_url`),
//! `.eml` files in `email.file_dir`, or the log. One transport per process,
//! reused for every message.

use std::time::Duration;

use lettre::{
    message::{header::ContentType, Mailbox, MultiPart, SinglePart},
    AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};
use secrecy::ExposeSecret;
use uuid::Uuid;

use super::templates::Rendered;
use crate::config::{EmailSettings, EmailTransport};

/// How a delivery failed, which decides whether it is tried again.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// 4xx, timeouts, refused connections: try again later.
    #[error("transient: {0}")]
    Transient(String),
    /// 5xx and messages that can never be built: give up.
    #[error("permanent: {0}")]
    Permanent(String),
}

/// The configured transport.
#[derive(Clone)]
pub enum Mailer {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    File(AsyncFileTransport<Tokio1Executor>),
    Log,
}

/// Masks an address for logs: `a***@example.org`.
pub fn mask(address: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".into(),
    }
}

impl Mailer {
    /// Builds the transport of the settings.
    pub fn new(settings: &EmailSettings) -> anyhow::Result<Self> {
        Ok(match settings.transport {
            EmailTransport::Smtp => {
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(
                    settings.smtp_url.expose_secret(),
                )
                .map_err(|e| anyhow::anyhow!("email.smtp_url is not a valid SMTP URL: {e}"))?
                .timeout(Some(Duration::from_secs(settings.smtp_timeout_secs)))
                .build();
                Mailer::Smtp(transport)
            }
            EmailTransport::File => {
                std::fs::create_dir_all(&settings.file_dir)?;
                Mailer::File(AsyncFileTransport::new(&settings.file_dir))
            }
            EmailTransport::Log => Mailer::Log,
        })
    }

    /// Sends one message; `id` makes its stable `Message-ID`.
    pub async fn send(
        &self,
        id: Uuid,
        from: &str,
        to: &str,
        email: &Rendered,
    ) -> Result<(), SendError> {
        let message = build(id, from, to, email).map_err(SendError::Permanent)?;
        match self {
            Mailer::Smtp(smtp) => smtp.send(message).await.map(|_| ()).map_err(|e| {
                if e.is_permanent() {
                    SendError::Permanent(e.to_string())
                } else {
                    SendError::Transient(e.to_string())
                }
            }),
            Mailer::File(file) => file
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| SendError::Transient(e.to_string())),
            Mailer::Log => {
                tracing::info!(to = %mask(to), subject = %email.subject, %id, "email (log transport)");
                Ok(())
            }
        }
    }
}

fn build(id: Uuid, from: &str, to: &str, email: &Rendered) -> Result<Message, String> {
    let from: Mailbox = from.parse().map_err(|e| format!("bad sender: {e}"))?;
    let to: Mailbox = to.parse().map_err(|e| format!("bad recipient: {e}"))?;
    let domain = from.email.domain().to_string();
    Message::builder()
        .message_id(Some(format!("<{id}@{domain}>")))
        .from(from)
        .to(to)
        .subject(email.subject.clone())
        .multipart(
            MultiPart::alternative()
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body(email.text.clone()),
                )
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_HTML)
                        .body(email.html.clone()),
                ),
        )
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_masked_in_logs() {
        assert_eq!(mask("amina.diallo@ucad.sn"), "a***@ucad.sn");
        assert_eq!(mask("broken"), "***");
    }

    #[test]
    fn recipients_with_line_breaks_are_refused() {
        let r = Rendered {
            subject: "s".into(),
            text: "t".into(),
            html: "h".into(),
        };
        let err = build(
            Uuid::now_v7(),
            "Meridian <m@example.org>",
            "a@example.org\r\nBcc: b@example.org",
            &r,
        );
        assert!(err.is_err());
    }
}
