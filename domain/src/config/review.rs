//! The `[review]` section: deadlines, retention, console sessions, the operator's calendar folder.

/// Review and complaint deadlines, retention, console sessions.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReviewConfig {
    /// Working days a review may take (seed 第十条: five).
    pub review_working_days: u32,
    /// Working days a complaint may take before it is overdue.
    pub complaint_working_days: u32,
    /// Days after a decision until face and document images are deleted.
    pub image_retention_days: u32,
    /// Lifetime of a console login, seconds.
    pub console_session_secs: i64,
    /// Extra calendar years (`<year>.toml`), added to or replacing the built-in ones.
    pub calendar_dir: Option<std::path::PathBuf>,
    /// If set, `/metrics` needs `Authorization: Bearer <token>`.
    pub metrics_token: super::Secret,
    /// Without a token, whether `/metrics` is open to anyone (else it answers 401 to everyone).
    pub metrics_public: bool,
}

impl Default for ReviewConfig {
    fn default() -> Self {
        Self {
            review_working_days: 5,
            complaint_working_days: 5,
            image_retention_days: 30,
            console_session_secs: 8 * 3600,
            calendar_dir: None,
            metrics_token: super::Secret::default(),
            metrics_public: false,
        }
    }
}
