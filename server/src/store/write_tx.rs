//! `impl_write_tx!`: [`super::WriteTx`] and [`super::TxStore`] for one sqlx backend, running the statements
//! of `statements.rs` inside one transaction.
//!
//! SQLite begins with `BEGIN IMMEDIATE`: the write lock is taken up front (queued in-process on the single
//! writing connection, across processes by the busy timeout), so a transaction never has to upgrade a read
//! lock and fail with `SQLITE_BUSY` half-way. PostgreSQL uses a plain `BEGIN` (READ COMMITTED; each
//! statement's row locks decide, as in autocommit, and are held until the commit).

macro_rules! impl_write_tx {
    ($store:ty, $db:ty, begin = $begin:expr) => {
        /// A write transaction on this backend.
        struct StepTx(sqlx::Transaction<'static, $db>);

        #[async_trait]
        impl WriteTx for StepTx {
            async fn remember_envelope(
                &mut self,
                session_id: &str,
                envelope_id: &[u8],
                expires_at: UnixMillis,
            ) -> StoreResult<bool> {
                remember_envelope_on(&mut self.0, session_id, envelope_id, expires_at).await
            }

            async fn create_session(&mut self, new: &NewSession) -> StoreResult<Session> {
                create_session_on(&mut self.0, new).await
            }

            async fn update_session(&mut self, s: &Session) -> StoreResult<Session> {
                update_session_on(&mut self.0, s).await
            }

            async fn codes_sent(&mut self, session_id: &str) -> StoreResult<u32> {
                codes_sent_on(&mut self.0, session_id).await
            }

            async fn rate_hits(&mut self, hits: &[(&str, i64)], now: UnixMillis) -> StoreResult<Vec<u64>> {
                rate_hits_on(&mut self.0, hits, now).await
            }

            async fn issue_code(&mut self, new: &NewCode) -> StoreResult<Code> {
                issue_code_on(&mut self.0, new).await
            }

            async fn take_code_attempt(
                &mut self,
                session_id: &str,
                max_attempts: u32,
                now: UnixMillis,
            ) -> StoreResult<CodeAttempt> {
                take_code_attempt_on(&mut self.0, session_id, max_attempts, now).await
            }

            async fn consume_code(&mut self, code_id: i64, now: UnixMillis) -> StoreResult<bool> {
                consume_code_on(&mut self.0, code_id, now).await
            }

            async fn enqueue_delivery(&mut self, new: &NewDelivery) -> StoreResult<i64> {
                enqueue_delivery_on(&mut self.0, new).await
            }

            async fn audit_pending(&mut self, at: UnixMillis, events: &[crate::audit::Event]) -> StoreResult<()> {
                crate::store::audit::AuditConn::insert_pending(&mut *self.0, at, events).await?;
                Ok(())
            }

            async fn commit(self: Box<Self>) -> StoreResult<()> {
                self.0.commit().await?;
                Ok(())
            }
        }

        #[async_trait]
        impl TxStore for $store {
            async fn begin_write(&self) -> StoreResult<Box<dyn WriteTx>> {
                Ok(Box::new(StepTx(self.writer.begin_with($begin).await?)))
            }
        }
    };
}

pub(crate) use impl_write_tx;
