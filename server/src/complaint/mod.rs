//! Complaints (seed 第十三条): a person files one about a verification and gets a ticket number and a secret to
//! check its status; reviewers see, answer and close complaints; each is due N working days after filing.

use serde::Serialize;

use crate::review::{ReviewError, Reviews, auth};
use realname_domain::audit::Event;
use realname_domain::calendar::Date;
use realname_domain::vault::Field;
use realname_store::complaint::{Complaint, ComplaintStatus};
use realname_store::review::Reviewer;

/// Complaint categories.
pub const CATEGORIES: &[&str] = &["wrong_result", "data_error", "privacy", "other"];
/// Longest message or answer, in characters.
pub const MAX_TEXT_CHARS: usize = 2000;

const TICKET_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// What the person gets back after filing.
#[derive(Debug, Clone, Serialize)]
pub struct Filed {
    /// Ticket number.
    pub ticket: String,
    /// The secret that lets the person check the status (shown once, stored only hashed).
    pub secret: String,
    /// Due time, Unix ms.
    pub due_at: i64,
}

/// What the person sees with ticket + secret.
#[derive(Debug, Clone, Serialize)]
pub struct PublicStatus {
    /// Ticket number.
    pub ticket: String,
    /// `open`, `answered`, `closed`.
    pub status: &'static str,
    /// Filing time, Unix ms.
    pub filed_at: i64,
    /// Due time, Unix ms.
    pub due_at: i64,
    /// The reviewers' answer, once given.
    pub answer: Option<String>,
    /// Answer time.
    pub answered_at: Option<i64>,
    /// Closing time.
    pub closed_at: Option<i64>,
}

/// A line of the console's complaint list (no message).
#[derive(Debug, Clone, Serialize)]
pub struct ComplaintSummary {
    /// Ticket number.
    pub ticket: String,
    /// Site.
    pub site: String,
    /// Session, if any.
    pub session_id: Option<String>,
    /// Category.
    pub category: String,
    /// Status.
    pub status: &'static str,
    /// Filing time.
    pub filed_at: i64,
    /// Due time.
    pub due_at: i64,
    /// Due date provisional.
    pub due_provisional: bool,
    /// Overdue (unanswered past due, or answered late).
    pub overdue: bool,
}

/// The console's complaint view, with the decrypted message and answer.
#[derive(Clone, Serialize)]
pub struct ComplaintView {
    /// The list line.
    pub complaint: ComplaintSummary,
    /// The person's message (`None` once erased).
    pub message: Option<String>,
    /// The answer.
    pub answer: Option<String>,
}

impl std::fmt::Debug for ComplaintView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ComplaintView({}, <text redacted>)", self.complaint.ticket)
    }
}

fn summary(c: &Complaint, now: i64) -> ComplaintSummary {
    ComplaintSummary {
        ticket: c.ticket.clone(),
        site: c.site_id.clone(),
        session_id: c.session_id.clone(),
        category: c.category.clone(),
        status: c.status.as_str(),
        filed_at: c.filed_at,
        due_at: c.due_at,
        due_provisional: c.due_provisional,
        overdue: c.overdue(now),
    }
}

/// Checks what a person files before anything is counted or stored (a refused complaint must not use up the
/// day's allowance): a known category and a message of 1 to 2000 characters, answered trimmed.
pub fn check_complaint<'m>(category: &str, message: &'m str) -> Result<&'m str, ReviewError> {
    if !CATEGORIES.contains(&category) {
        return Err(ReviewError::Invalid("category must be wrong_result, data_error, privacy or other"));
    }
    check_text(message)
}

fn check_text(text: &str) -> Result<&str, ReviewError> {
    let t = text.trim();
    if t.is_empty() || t.chars().count() > MAX_TEXT_CHARS {
        return Err(ReviewError::Invalid("text must be 1 to 2000 characters"));
    }
    Ok(t)
}

impl Reviews {
    fn ticket(&self, now: i64) -> String {
        let d = Date::beijing_from_unix(now.div_euclid(1000));
        let mut s = format!("C{:02}{:02}-", d.year().rem_euclid(100), d.month());
        for i in 0..8 {
            if i == 4 {
                s.push('-');
            }
            s.push(char::from(TICKET_ALPHABET[self.random.below(32) as usize]));
        }
        s
    }

    /// Files a complaint about a verification of `site_id` (the session, if given, must belong to the site).
    pub async fn file_complaint(
        &self,
        site_id: &str,
        session_id: Option<&str>,
        category: &str,
        message: &str,
    ) -> Result<Filed, ReviewError> {
        let message = check_complaint(category, message)?;
        if let Some(id) = session_id {
            match self.store.session(id).await? {
                Some(s) if s.site_id == site_id => {}
                _ => return Err(ReviewError::NotFound),
            }
        }
        let now = self.clock.now_ms();
        let due = self.calendar.due(now.div_euclid(1000), self.config.complaint_working_days);
        let secret = self.random.token(18);
        for _ in 0..5 {
            let ticket = self.ticket(now);
            let field = Field { table: "complaints", column: "message", row: &ticket };
            let sealed = self.vault.seal(field, message).map_err(|_| ReviewError::Vault)?;
            let c = Complaint {
                ticket: ticket.clone(),
                secret_hash: auth::token_hash(&secret),
                site_id: site_id.to_owned(),
                session_id: session_id.map(str::to_owned),
                category: category.to_owned(),
                message: Some(sealed),
                status: ComplaintStatus::Open,
                filed_at: now,
                due_at: due.at * 1000,
                due_provisional: due.provisional,
                answer: None,
                answered_at: None,
                answered_by: None,
                closed_at: None,
                closed_by: None,
            };
            match self.store.create_complaint(&c).await {
                Ok(()) => {
                    let mut ev = Event::new("person", "complaint.filed", format!("complaint:{ticket}"))
                        .site(site_id)
                        .detail("category", category)
                        .detail("due_date", due.date.to_string());
                    if let Some(s) = session_id {
                        ev = ev.detail("session", s);
                    }
                    self.audit(ev).await?;
                    return Ok(Filed { ticket, secret, due_at: c.due_at });
                }
                Err(realname_store::StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(realname_store::StoreError::Conflict.into())
    }

    /// The status for the person holding ticket + secret; `NotFound` for an unknown ticket or wrong secret alike.
    pub async fn complaint_status(&self, ticket: &str, secret: &str) -> Result<PublicStatus, ReviewError> {
        let c = self.store.complaint(ticket).await?.ok_or(ReviewError::NotFound)?;
        let given = auth::token_hash(secret);
        // Comparing hashes: equal-length, and an attacker learns nothing about the secret from their prefix.
        if given.len() != c.secret_hash.len()
            || given.bytes().zip(c.secret_hash.bytes()).fold(0u8, |a, (x, y)| a | (x ^ y)) != 0
        {
            return Err(ReviewError::NotFound);
        }
        let answer = self.open_text(&c, "answer", c.answer.as_ref())?;
        Ok(PublicStatus {
            ticket: c.ticket,
            status: c.status.as_str(),
            filed_at: c.filed_at,
            due_at: c.due_at,
            answer,
            answered_at: c.answered_at,
            closed_at: c.closed_at,
        })
    }

    fn open_text(
        &self,
        c: &Complaint,
        column: &str,
        sealed: Option<&realname_domain::vault::Sealed>,
    ) -> Result<Option<String>, ReviewError> {
        sealed
            .map(|s| {
                let field = Field { table: "complaints", column, row: &c.ticket };
                self.vault.open(field, s).map(|t| t.to_string()).map_err(|_| ReviewError::Vault)
            })
            .transpose()
    }

    async fn visible_complaint(&self, r: &Reviewer, ticket: &str) -> Result<Complaint, ReviewError> {
        match self.store.complaint(ticket).await? {
            Some(c) if auth::can_see_site(r, &c.site_id) => Ok(c),
            _ => Err(ReviewError::NotFound),
        }
    }

    /// Complaints not yet closed that `r` may see, earliest due first.
    pub async fn complaints(&self, r: &Reviewer) -> Result<Vec<ComplaintSummary>, ReviewError> {
        let now = self.clock.now_ms();
        let list = self.store.open_complaints(r.site_id.as_deref(), 500).await?;
        Ok(list.iter().map(|c| summary(c, now)).collect())
    }

    /// One complaint with its decrypted text; writes the audit entry first.
    pub async fn view_complaint(&self, r: &Reviewer, ticket: &str) -> Result<ComplaintView, ReviewError> {
        let c = self.visible_complaint(r, ticket).await?;
        let mut fields = Vec::new();
        if c.message.is_some() {
            fields.push("message");
        }
        if c.answer.is_some() {
            fields.push("answer");
        }
        self.audit(
            Event::new(format!("reviewer:{}", r.id), "complaint.viewed", format!("complaint:{}", c.ticket))
                .site(&c.site_id)
                .detail("fields", fields.join(",")),
        )
        .await?;
        Ok(ComplaintView {
            complaint: summary(&c, self.clock.now_ms()),
            message: self.open_text(&c, "message", c.message.as_ref())?,
            answer: self.open_text(&c, "answer", c.answer.as_ref())?,
        })
    }

    /// Answers (or re-answers) a complaint that is not closed.
    pub async fn answer_complaint(
        &self,
        r: &Reviewer,
        ticket: &str,
        answer: &str,
    ) -> Result<ComplaintSummary, ReviewError> {
        let c = self.visible_complaint(r, ticket).await?;
        let answer = check_text(answer)?;
        let field = Field { table: "complaints", column: "answer", row: &c.ticket };
        let sealed = self.vault.seal(field, answer).map_err(|_| ReviewError::Vault)?;
        let now = self.clock.now_ms();
        if !self.store.answer_complaint(ticket, &sealed, &r.id, now).await? {
            return Err(ReviewError::AlreadyDecided);
        }
        if c.answered_at.is_none() {
            self.metrics.complaint_answered(now < c.due_at);
        }
        self.audit(
            Event::new(format!("reviewer:{}", r.id), "complaint.answered", format!("complaint:{ticket}"))
                .site(&c.site_id),
        )
        .await?;
        let c = self.store.complaint(ticket).await?.ok_or(ReviewError::NotFound)?;
        Ok(summary(&c, now))
    }

    /// Closes a complaint.
    pub async fn close_complaint(&self, r: &Reviewer, ticket: &str) -> Result<ComplaintSummary, ReviewError> {
        let c = self.visible_complaint(r, ticket).await?;
        let now = self.clock.now_ms();
        if !self.store.close_complaint(ticket, &r.id, now).await? {
            return Err(ReviewError::AlreadyDecided);
        }
        self.audit(
            Event::new(format!("reviewer:{}", r.id), "complaint.closed", format!("complaint:{ticket}"))
                .site(&c.site_id),
        )
        .await?;
        let c = self.store.complaint(ticket).await?.ok_or(ReviewError::NotFound)?;
        Ok(summary(&c, now))
    }
}
