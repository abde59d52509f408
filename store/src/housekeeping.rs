//! `impl_housekeeping!`: identity bindings and maintenance (purge, erasure, health) for one sqlx backend.
//!
//! The second half of `shared.rs`, split to keep files readable; same conventions (reads on `self.pool`,
//! writes on `self.writer`).

macro_rules! impl_housekeeping {
    ($store:ty, backend = $backend:expr) => {
        #[async_trait]
        impl BindingStore for $store {
            async fn bind_identity(
                &self,
                site_id: &str,
                blind_index: &[u8],
                account: &str,
                limit: u32,
                now: UnixMillis,
            ) -> StoreResult<bool> {
                let mut tx = self.writer.begin().await?;
                let bound = bind_identity_on(&mut *tx, site_id, blind_index, account, limit, now).await?;
                tx.commit().await?;
                Ok(bound)
            }

            async fn unbind_identity(&self, site_id: &str, blind_index: &[u8], account: &str) -> StoreResult<bool> {
                let mut tx = self.writer.begin().await?;
                let removed = sqlx::query(
                    "DELETE FROM identity_bindings WHERE site_id = $1 AND blind_index = $2 AND account = $3",
                )
                .bind(site_id)
                .bind(blind_index)
                .bind(account)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                    == 1;
                if removed {
                    sqlx::query(
                        "UPDATE identity_counts SET accounts = accounts - 1 \
                         WHERE site_id = $1 AND blind_index = $2 AND accounts > 0",
                    )
                    .bind(site_id)
                    .bind(blind_index)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(removed)
            }

            async fn identity_bindings(&self, site_id: &str, blind_index: &[u8]) -> StoreResult<u32> {
                let n: Option<i64> =
                    sqlx::query_scalar("SELECT accounts FROM identity_counts WHERE site_id = $1 AND blind_index = $2")
                        .bind(site_id)
                        .bind(blind_index)
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(count_u32(n.unwrap_or(0)))
            }
        }

        #[async_trait]
        impl Maintenance for $store {
            async fn purge(&self, p: &PurgePolicy) -> StoreResult<PurgeReport> {
                let exec = |sql: &'static str, at: i64| sqlx::query(sql).bind(at).execute(&self.writer);
                // Expiry and its audit events in one transaction (pending rows, chained later like a step's).
                let mut tx = self.writer.begin().await?;
                let expired = sqlx::query(concat!(
                    "UPDATE sessions SET status = 'expired', name_ct = NULL, id_number_ct = NULL, \
                     phone_ct = NULL, email_ct = NULL, blind_index = NULL, updated_at = $1, \
                     version = version + 1 WHERE expires_at <= $1 AND status IN ",
                    expirable_statuses!(),
                    " RETURNING id, site_id"
                ))
                .bind(p.now)
                .fetch_all(&mut *tx)
                .await?;
                let mut events = Vec::with_capacity(expired.len());
                for r in &expired {
                    let (id, site): (String, String) = (r.try_get("id")?, r.try_get("site_id")?);
                    events.push(realname_domain::audit::flow::expired(&id, &site, "ttl"));
                }
                crate::audit::AuditConn::insert_pending(&mut *tx, p.now, &events).await?;
                tx.commit().await?;
                let sessions_expired = expired.len() as u64;
                let codes_deleted =
                    exec("DELETE FROM codes WHERE expires_at <= $1", p.now - CODE_GRACE_MS).await?.rows_affected();
                let sessions_deleted = exec(
                    "DELETE FROM sessions WHERE created_at < $1 AND status <> 'pending_review'",
                    p.now.saturating_sub(p.session_retention_ms),
                )
                .await?
                .rows_affected();
                // Handoff codes: an unused one once it expired; a used one (its watching secret follows the status)
                // with its session.
                exec(
                    "DELETE FROM handoffs WHERE (used_at IS NULL AND expires_at <= $1) \
                     OR session_id NOT IN (SELECT id FROM sessions)",
                    p.now,
                )
                .await?;
                let rate_windows_deleted =
                    exec("DELETE FROM rate_windows WHERE expires_at <= $1", p.now).await?.rows_affected();
                let envelopes_deleted =
                    exec("DELETE FROM seen_envelopes WHERE expires_at <= $1", p.now).await?.rows_affected();
                let deliveries_deleted = exec(
                    "DELETE FROM webhook_deliveries WHERE state <> 'pending' AND created_at < $1",
                    p.now.saturating_sub(p.delivery_retention_ms),
                )
                .await?
                .rows_affected();
                Ok(PurgeReport {
                    sessions_expired,
                    sessions_deleted,
                    codes_deleted,
                    rate_windows_deleted,
                    envelopes_deleted,
                    deliveries_deleted,
                })
            }

            async fn erase_finished_identities(&self, before: UnixMillis, now: UnixMillis) -> StoreResult<u64> {
                let done = sqlx::query(concat!(
                    "UPDATE sessions SET name_ct = NULL, id_number_ct = NULL, phone_ct = NULL, email_ct = NULL, \
                     blind_index = NULL, updated_at = $2, version = version + 1 \
                     WHERE updated_at < $1 AND name_ct IS NOT NULL AND status IN ",
                    terminal_statuses!()
                ))
                .bind(before)
                .bind(now)
                .execute(&self.writer)
                .await?;
                Ok(done.rows_affected())
            }

            async fn flush_erased(&self) -> StoreResult<bool> {
                self.flush_files().await
            }

            async fn ping(&self) -> StoreResult<()> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            fn backend(&self) -> &'static str {
                $backend
            }
        }
    };
}

pub(crate) use impl_housekeeping;
