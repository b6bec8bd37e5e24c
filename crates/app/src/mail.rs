//! Outgoing e-mail, in Dutch, as plain text plus simple HTML. Sent over SMTP with lettre when an
//! SMTP URL is configured (`--smtp-url` / `STARTBLOK_SMTP_URL`); otherwise written to the outbox
//! folder (`data-dir/outbox/`) and listed for the operator (Verzonden e-mail), so the demo and
//! development need no mail server. An app built without either keeps mails in memory.
//!
//! Mails are sent after the transaction that caused them committed. A mail never contains an
//! autorisatiesleutel: only a single-use link to see it after logging in.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use time::OffsetDateTime;

/// One e-mail to one person.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    /// The plain-text body; the HTML body is made from it.
    pub text: String,
}

/// A mail as kept in the outbox (or in memory), for the operator's list.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SentMail {
    pub id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub mail: Mail,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("het SMTP-adres is ongeldig: {0}")]
    Url(String),
    #[error("het afzenderadres is ongeldig: {0}")]
    From(String),
    #[error("ongeldig adres {0}")]
    To(String),
    #[error("e-mail kon niet worden gemaakt: {0}")]
    Build(String),
    #[error("e-mail kon niet worden verstuurd: {0}")]
    Send(String),
    #[error("e-mail kon niet in de outbox worden gezet: {0}")]
    Outbox(String),
}

#[derive(Clone)]
enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Outbox(PathBuf),
    Memory(Arc<Mutex<Vec<SentMail>>>),
}

/// Where mail goes. Cheap to clone.
#[derive(Clone)]
pub struct Mailer {
    from: Mailbox,
    transport: Transport,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &self.transport {
            Transport::Smtp(_) => "smtp".to_string(),
            Transport::Outbox(dir) => format!("outbox {}", dir.display()),
            Transport::Memory(_) => "memory".to_string(),
        };
        write!(f, "Mailer({kind}, from {})", self.from)
    }
}

/// The sender when none is configured.
pub const DEFAULT_FROM: &str = "Startblok <startblok@localhost>";

fn mailbox(from: &str) -> Result<Mailbox, MailError> {
    from.parse::<Mailbox>()
        .map_err(|e| MailError::From(format!("{from}: {e}")))
}

impl Mailer {
    /// SMTP at `url` (`smtp://host:port` for plain SMTP, `smtp://…?tls=required` for STARTTLS,
    /// `smtps://` for TLS; user and password in the URL as usual).
    pub fn smtp(url: &str, from: &str) -> Result<Mailer, MailError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| MailError::Url(e.to_string()))?
            .build();
        Ok(Mailer {
            from: mailbox(from)?,
            transport: Transport::Smtp(transport),
        })
    }

    /// Mails written to `dir` (one `.json` per mail), listed for the operator.
    pub fn outbox(dir: PathBuf, from: &str) -> Result<Mailer, MailError> {
        Ok(Mailer {
            from: mailbox(from)?,
            transport: Transport::Outbox(dir),
        })
    }

    /// Mails kept in memory (for an app without configuration, and tests that only need to see
    /// what would have been sent).
    pub fn memory() -> Mailer {
        Mailer {
            from: mailbox(DEFAULT_FROM).expect("valid default sender"),
            transport: Transport::Memory(Arc::new(Mutex::new(Vec::new()))),
        }
    }

    /// Whether mail really leaves this server (SMTP), or stays in the outbox.
    pub fn delivers(&self) -> bool {
        matches!(self.transport, Transport::Smtp(_))
    }

    pub async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        match &self.transport {
            Transport::Smtp(smtp) => {
                let message = self.message(mail)?;
                smtp.send(message)
                    .await
                    .map_err(|e| MailError::Send(e.to_string()))?;
            }
            Transport::Outbox(dir) => {
                let sent = SentMail {
                    id: uuid::Uuid::now_v7().to_string(),
                    at: crate::now(),
                    mail: mail.clone(),
                };
                let dir = dir.clone();
                tokio::task::spawn_blocking(move || -> Result<(), MailError> {
                    std::fs::create_dir_all(&dir).map_err(|e| MailError::Outbox(e.to_string()))?;
                    let json = serde_json::to_vec_pretty(&sent)
                        .map_err(|e| MailError::Outbox(e.to_string()))?;
                    let tmp = dir.join(format!("{}.json.tmp", sent.id));
                    std::fs::write(&tmp, json).map_err(|e| MailError::Outbox(e.to_string()))?;
                    std::fs::rename(&tmp, dir.join(format!("{}.json", sent.id)))
                        .map_err(|e| MailError::Outbox(e.to_string()))
                })
                .await
                .map_err(|e| MailError::Outbox(e.to_string()))??;
            }
            Transport::Memory(kept) => {
                // Build the message anyway, so a mail that could not be sent fails here too.
                self.message(mail)?;
                kept.lock().expect("memory outbox").push(SentMail {
                    id: uuid::Uuid::now_v7().to_string(),
                    at: crate::now(),
                    mail: mail.clone(),
                });
            }
        }
        tracing::info!(
            to_domain = mail.to.rsplit('@').next().unwrap_or(""),
            subject = %mail.subject,
            "e-mail verstuurd"
        );
        Ok(())
    }

    /// What went to the outbox or memory, newest first (`None` when mail goes out over SMTP).
    pub fn sent(&self) -> Option<Vec<SentMail>> {
        let mut out = match &self.transport {
            Transport::Smtp(_) => return None,
            Transport::Memory(kept) => kept.lock().expect("memory outbox").clone(),
            Transport::Outbox(dir) => std::fs::read_dir(dir)
                .map(|entries| {
                    entries
                        .flatten()
                        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
                        .filter_map(|e| std::fs::read(e.path()).ok())
                        .filter_map(|b| serde_json::from_slice::<SentMail>(&b).ok())
                        .collect()
                })
                .unwrap_or_default(),
        };
        out.sort_by(|a, b| b.at.cmp(&a.at).then(b.id.cmp(&a.id)));
        Some(out)
    }

    fn message(&self, mail: &Mail) -> Result<Message, MailError> {
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|_| MailError::To(mail.to.clone()))?;
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .multipart(MultiPart::alternative_plain_html(
                mail.text.clone(),
                html_of(&mail.subject, &mail.text),
            ))
            .map_err(|e| MailError::Build(e.to_string()))
    }
}

/// Simple HTML from the plain text: paragraphs, and lines that are a link made clickable.
fn html_of(subject: &str, text: &str) -> String {
    let mut body = String::new();
    for para in text.split("\n\n") {
        let lines: Vec<String> = para
            .lines()
            .map(|l| {
                let t = l.trim();
                if t.starts_with("https://") || t.starts_with("http://") {
                    let e = escape(t);
                    format!("<a href=\"{e}\">{e}</a>")
                } else {
                    escape(l)
                }
            })
            .collect();
        body.push_str(&format!(
            "<p style=\"margin:0 0 1em\">{}</p>\n",
            lines.join("<br>\n")
        ));
    }
    format!(
        "<!doctype html>\n<html lang=\"nl\"><head><meta charset=\"utf-8\"><title>{}</title></head>\n<body style=\"font-family:sans-serif;line-height:1.5;color:#1b1b1b;max-width:40em\">\n{body}</body></html>\n",
        escape(subject)
    )
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_and_links() {
        let h = html_of(
            "Onderwerp <x>",
            "Hallo <b>&\n\nOpen:\nhttps://a.nl/x?a=1&b=2",
        );
        assert!(h.contains("Hallo &lt;b&gt;&amp;"));
        assert!(h.contains("<a href=\"https://a.nl/x?a=1&amp;b=2\">"));
        assert!(h.contains("<title>Onderwerp &lt;x&gt;</title>"));
    }
}
