//! `impl_statements!`: row mappers and the core statements for one sqlx backend, as functions on one
//! connection. The single-call trait methods (`shared.rs`) run them on a connection from the pool; a
//! [`crate::WriteTx`] (`postgres/tx.rs`) runs several of them in one transaction, so a request step pays one
//! connection checkout and one commit instead of one per statement.

macro_rules! impl_statements {
    ($row:ty, $conn:ty) => {
        fn session_from_row(r: &$row) -> StoreResult<Session> {
            $crate::sql::session_from_row!(r, try_get)
        }

        fn code_from_row(r: &$row) -> StoreResult<Code> {
            $crate::sql::code_from_row!(r, try_get)
        }

        fn delivery_from_row(r: &$row) -> StoreResult<Delivery> {
            let state: String = r.try_get("state")?;
            Ok(Delivery {
                id: r.try_get("id")?,
                site_id: r.try_get("site_id")?,
                event_id: r.try_get("event_id")?,
                event_type: r.try_get("event_type")?,
                url: r.try_get("url")?,
                body: r.try_get("body")?,
                state: DeliveryState::parse(&state)
                    .ok_or_else(|| StoreError::Corrupt(format!("delivery state {state:?}")))?,
                attempts: count_u32(r.try_get("attempts")?),
                next_attempt_at: r.try_get("next_attempt_at")?,
                lease_owner: r.try_get("lease_owner")?,
                lease_until: r.try_get("lease_until")?,
                last_error: r.try_get("last_error")?,
                created_at: r.try_get("created_at")?,
                delivered_at: r.try_get("delivered_at")?,
            })
        }

        /// Maps a foreign-key violation (the session does not exist) to `NotFound`.
        fn missing_parent(e: sqlx::Error) -> StoreError {
            match &e {
                sqlx::Error::Database(db) if db.is_foreign_key_violation() => StoreError::NotFound,
                _ => StoreError::from(e),
            }
        }

        async fn session_on(c: &mut $conn, id: &str) -> StoreResult<Option<Session>> {
            let row = sqlx::query(step::SELECT_SESSION).bind(id).fetch_optional(&mut *c).await?;
            row.as_ref().map(session_from_row).transpose()
        }

        async fn create_session_on(c: &mut $conn, new: &NewSession) -> StoreResult<Session> {
            let row = sqlx::query(step::INSERT_SESSION)
                .bind(&new.id)
                .bind(&new.site_id)
                .bind(&new.reference)
                .bind(&new.client_secret_hash)
                .bind(new.client_secret_expires_at)
                .bind(new.methods.to_stored())
                .bind(new.created_at)
                .bind(new.expires_at)
                .fetch_one(&mut *c)
                .await?;
            session_from_row(&row)
        }

        async fn update_session_on(c: &mut $conn, s: &Session) -> StoreResult<Session> {
            let identity = s.identity.as_ref();
            let row = sqlx::query(step::UPDATE_SESSION)
                .bind(&s.id)
                .bind(s.version)
                .bind(s.status.as_str())
                .bind(s.methods.to_stored())
                .bind(&s.document_kind)
                .bind(s.consent.as_ref().map(|c| c.version.as_str()))
                .bind(s.consent.as_ref().map(|c| c.at))
                .bind(identity.map(|i| i.name.as_bytes()))
                .bind(identity.map(|i| i.id_number.as_bytes()))
                .bind(identity.and_then(|i| i.phone.as_ref()).map(|p| p.as_bytes()))
                .bind(identity.and_then(|i| i.email.as_ref()).map(|e| e.as_bytes()))
                .bind(&s.blind_index)
                .bind(&s.failure)
                .bind(s.updated_at)
                .bind(s.verified_at)
                .bind(s.client_secret_used)
                .bind(s.expires_at)
                .bind(realname_domain::checks::CheckRecord::to_stored(&s.checks))
                .fetch_optional(&mut *c)
                .await?;
            match row {
                Some(row) => session_from_row(&row),
                None => {
                    let exists = sqlx::query(step::SESSION_EXISTS).bind(&s.id).fetch_optional(&mut *c).await?;
                    Err(if exists.is_some() { StoreError::Conflict } else { StoreError::NotFound })
                }
            }
        }

        async fn issue_code_on(c: &mut $conn, new: &NewCode) -> StoreResult<Code> {
            let row = sqlx::query(step::INSERT_CODE)
                .bind(&new.session_id)
                .bind(&new.code_hmac)
                .bind(&new.channel)
                .bind(new.sent_at)
                .bind(new.expires_at)
                .fetch_one(&mut *c)
                .await
                .map_err(missing_parent)?;
            let code = code_from_row(&row)?;
            // Only the newest code is ever checked (see take_code_attempt); this makes the rest visible.
            sqlx::query(step::INVALIDATE_OLDER_CODES).bind(&new.session_id).bind(code.id).execute(&mut *c).await?;
            Ok(code)
        }

        async fn latest_code_on(c: &mut $conn, session_id: &str) -> StoreResult<Option<Code>> {
            let row = sqlx::query(step::LATEST_CODE).bind(session_id).fetch_optional(&mut *c).await?;
            row.as_ref().map(code_from_row).transpose()
        }

        async fn codes_sent_on(c: &mut $conn, session_id: &str) -> StoreResult<u32> {
            let n: i64 = sqlx::query_scalar(step::COUNT_CODES).bind(session_id).fetch_one(&mut *c).await?;
            Ok(count_u32(n))
        }

        async fn take_code_attempt_on(
            c: &mut $conn,
            session_id: &str,
            max_attempts: u32,
            now: UnixMillis,
        ) -> StoreResult<CodeAttempt> {
            // A few rounds only matter when a resend races the attempt.
            for _ in 0..3 {
                let row = sqlx::query(step::TAKE_ATTEMPT)
                    .bind(session_id)
                    .bind(i64::from(max_attempts))
                    .bind(now)
                    .fetch_optional(&mut *c)
                    .await?;
                if let Some(row) = row {
                    return Ok(CodeAttempt::Check(code_from_row(&row)?));
                }
                let Some(code) = latest_code_on(&mut *c, session_id).await? else {
                    return Ok(CodeAttempt::NoCode);
                };
                if code.state != CodeState::Active {
                    return Ok(CodeAttempt::Used);
                }
                if code.attempts >= max_attempts {
                    return Ok(CodeAttempt::TooManyAttempts);
                }
                if code.expires_at <= now {
                    return Ok(CodeAttempt::Expired);
                }
            }
            Err(StoreError::Conflict)
        }

        async fn consume_code_on(c: &mut $conn, code_id: i64, now: UnixMillis) -> StoreResult<bool> {
            let done = sqlx::query(step::CONSUME_CODE).bind(code_id).bind(now).execute(&mut *c).await?;
            Ok(done.rows_affected() == 1)
        }

        async fn rate_hits_on(c: &mut $conn, hits: &[(&str, i64)], now: UnixMillis) -> StoreResult<Vec<u64>> {
            let windows = rate_windows(hits, now)?;
            if windows.is_empty() {
                return Ok(Vec::new());
            }
            let sql = step::rate_hits(windows.len());
            let mut query = sqlx::query(&sql);
            for (key, start, end) in &windows {
                query = query.bind(*key).bind(*start).bind(*end);
            }
            let rows = query.fetch_all(&mut *c).await?;
            let mut counts = Vec::with_capacity(rows.len());
            for r in &rows {
                let key: String = r.try_get("bucket_key")?;
                let start: i64 = r.try_get("window_start")?;
                let hits: i64 = r.try_get("hits")?;
                counts.push((key, start, u64::try_from(hits).unwrap_or(0)));
            }
            counts_in_order(&windows, &counts)
        }

        async fn remember_envelope_on(
            c: &mut $conn,
            session_id: &str,
            envelope_id: &[u8],
            expires_at: UnixMillis,
        ) -> StoreResult<bool> {
            let done = sqlx::query(step::REMEMBER_ENVELOPE)
                .bind(session_id)
                .bind(envelope_id)
                .bind(expires_at)
                .execute(&mut *c)
                .await?;
            Ok(done.rows_affected() == 1)
        }

        /// See [`crate::BindingStore::bind_identity`]; in the caller's transaction.
        async fn bind_identity_on(
            c: &mut $conn,
            site_id: &str,
            blind_index: &[u8],
            account: &str,
            limit: u32,
            now: UnixMillis,
        ) -> StoreResult<bool> {
            use $crate::shared::Binding;
            let mut rule = Binding::start(limit);
            loop {
                let answer = match rule {
                    Binding::Insert => {
                        let q = sqlx::query(step::INSERT_BINDING).bind(site_id).bind(blind_index).bind(account);
                        q.bind(now).execute(&mut *c).await?.rows_affected() == 1
                    }
                    Binding::Count => {
                        let q = sqlx::query_scalar(step::COUNT_BINDING).bind(site_id).bind(blind_index);
                        Binding::within(q.bind(i64::from(limit)).fetch_optional(&mut *c).await?, limit)
                    }
                    Binding::Delete => {
                        let q = sqlx::query(step::DELETE_BINDING).bind(site_id).bind(blind_index).bind(account);
                        q.execute(&mut *c).await?.rows_affected() == 1
                    }
                    Binding::Done(bound) => return Ok(bound),
                };
                rule = rule.next(answer);
            }
        }

        async fn enqueue_delivery_on(c: &mut $conn, new: &NewDelivery) -> StoreResult<i64> {
            let id: Option<i64> = sqlx::query_scalar(step::ENQUEUE_DELIVERY)
                .bind(&new.site_id)
                .bind(&new.event_id)
                .bind(&new.event_type)
                .bind(&new.url)
                .bind(&new.body)
                .bind(new.created_at)
                .fetch_optional(&mut *c)
                .await?;
            match id {
                Some(id) => Ok(id),
                None => Ok(sqlx::query_scalar(step::DELIVERY_BY_EVENT).bind(&new.event_id).fetch_one(&mut *c).await?),
            }
        }
    };
}

pub(crate) use impl_statements;
