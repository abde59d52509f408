//! Storage of key fingerprints (migration `0004_key_prints.sql`): what the keys of the instances sharing this
//! database must match (`realname_domain::keyprint`).

use async_trait::async_trait;
use sqlx::Row;

use crate::error::{StoreError, StoreResult};
use crate::types::UnixMillis;
use realname_domain::keyprint::{KeyPrint, KeySet, RecordedPrint};

/// The recorded key fingerprints.
#[async_trait]
pub trait KeyPrintStore: Send + Sync {
    /// Every recorded fingerprint, by set and id.
    async fn key_prints(&self) -> StoreResult<Vec<KeyPrint>>;
    /// Records the fingerprints whose set and id are not recorded yet (a recorded one is never changed), then
    /// returns every recorded fingerprint; instances starting at once all see the same records afterwards.
    async fn record_key_prints(&self, prints: &[KeyPrint], now: UnixMillis) -> StoreResult<Vec<KeyPrint>>;
    /// Every recorded fingerprint with when it was recorded (which decides when the key may be used).
    async fn recorded_key_prints(&self) -> StoreResult<Vec<RecordedPrint>>;
}

fn from_row<R: Row>(r: &R) -> StoreResult<KeyPrint>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let set: String = r.try_get("key_set")?;
    Ok(KeyPrint {
        set: KeySet::parse(&set).ok_or_else(|| StoreError::Corrupt(format!("unknown key set {set}")))?,
        kid: r.try_get("kid")?,
        print: r.try_get("print")?,
    })
}

macro_rules! impl_key_print_store {
    ($store:ty) => {
        #[async_trait]
        impl KeyPrintStore for $store {
            async fn key_prints(&self) -> StoreResult<Vec<KeyPrint>> {
                let rows = sqlx::query("SELECT key_set, kid, print FROM key_prints ORDER BY key_set, kid")
                    .fetch_all(self.pool())
                    .await?;
                rows.iter().map(from_row).collect()
            }

            async fn record_key_prints(&self, prints: &[KeyPrint], now: UnixMillis) -> StoreResult<Vec<KeyPrint>> {
                for p in prints {
                    sqlx::query(
                        "INSERT INTO key_prints (key_set, kid, print, recorded_at) VALUES ($1, $2, $3, $4) \
                         ON CONFLICT (key_set, kid) DO NOTHING",
                    )
                    .bind(p.set.as_str())
                    .bind(&p.kid)
                    .bind(&p.print)
                    .bind(now)
                    .execute(&self.writer)
                    .await?;
                }
                self.key_prints().await
            }

            async fn recorded_key_prints(&self) -> StoreResult<Vec<RecordedPrint>> {
                let rows = sqlx::query("SELECT key_set, kid, print, recorded_at FROM key_prints ORDER BY key_set, kid")
                    .fetch_all(self.pool())
                    .await?;
                rows.iter()
                    .map(|r| Ok(RecordedPrint { print: from_row(r)?, recorded_at: r.try_get("recorded_at")? }))
                    .collect()
            }
        }
    };
}

impl_key_print_store!(super::sqlite::SqliteStore);
impl_key_print_store!(super::postgres::PgStore);
