//! [`Store`]: every storage trait at once, the object the server holds as `Arc<dyn Store>`.

use crate::audit::AuditStore;
use crate::complaint::ComplaintStore;
use crate::handoff::HandoffStore;
use crate::keyprint::KeyPrintStore;
use crate::review::ReviewStore;
use crate::traits::{
    BindingStore, CodeStore, Maintenance, RateLimitStore, ReplayStore, SessionStore, TxStore, WebhookStore,
};

/// Everything the server stores, as one object-safe trait: `Arc<dyn Store>`.
///
/// To add a storage area (the review queue, complaints, audit log): define a narrow trait in its own file
/// under `store/`, implement it for `SqliteStore` and `PgStore`, and add it to the bounds here and on the
/// blanket impl below.
pub trait Store:
    SessionStore
    + CodeStore
    + RateLimitStore
    + ReplayStore
    + WebhookStore
    + BindingStore
    + Maintenance
    + TxStore
    + AuditStore
    + ReviewStore
    + ComplaintStore
    + KeyPrintStore
    + HandoffStore
{
}

impl<T> Store for T where
    T: SessionStore
        + CodeStore
        + RateLimitStore
        + ReplayStore
        + WebhookStore
        + BindingStore
        + Maintenance
        + TxStore
        + AuditStore
        + ReviewStore
        + ComplaintStore
        + KeyPrintStore
        + HandoffStore
{
}
