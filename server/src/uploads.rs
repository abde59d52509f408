//! The memory budget of the documents uploads in flight: a semaphore over bytes (in KiB), shared by every
//! upload, so that a burst of large bodies holds at most `http.upload_memory_bytes` at once (`http/upload.rs`
//! takes a share before it reads a body and refuses the upload when there is none).

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The most bytes one documents body may have.
pub const DOCUMENTS_LIMIT: usize = 12 << 20;

/// The budget's unit: a permit is a KiB of body.
const UNIT: usize = 1024;

/// The bytes all uploads in flight may hold at once.
#[derive(Debug)]
pub struct UploadBudget(Arc<Semaphore>);

/// A share of the budget, given back when dropped.
#[derive(Debug)]
pub struct UploadShare {
    _permit: OwnedSemaphorePermit,
}

impl UploadBudget {
    /// A budget of `bytes` (at least one full-size upload).
    pub fn new(bytes: usize) -> Self {
        let units = bytes.max(DOCUMENTS_LIMIT).div_ceil(UNIT).min(Semaphore::MAX_PERMITS);
        Self(Arc::new(Semaphore::new(units)))
    }

    /// The bytes the budget has left now.
    pub fn available(&self) -> usize {
        self.0.available_permits() * UNIT
    }

    /// A share of `bytes`, or `None` when the budget does not have it now (the caller refuses the upload).
    pub fn take(&self, bytes: usize) -> Option<UploadShare> {
        let units = u32::try_from(bytes.div_ceil(UNIT).max(1)).ok()?;
        self.0.clone().try_acquire_many_owned(units).ok().map(|p| UploadShare { _permit: p })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_come_out_of_the_budget_and_go_back() {
        let budget = UploadBudget::new(0);
        assert_eq!(budget.available(), DOCUMENTS_LIMIT, "at least one full-size upload");
        let a = budget.take(8 << 20).unwrap();
        assert!(budget.take(8 << 20).is_none(), "over the budget");
        let b = budget.take(4 << 20).unwrap();
        drop((a, b));
        assert_eq!(budget.available(), DOCUMENTS_LIMIT);
    }
}
