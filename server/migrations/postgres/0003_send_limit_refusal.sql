-- Raised inside a step's commit when one of the sending-limit counters it counts last went over its limit
-- (SQLSTATE RN429): the rest of the commit's statements are skipped, the step's transaction rolls back, and the
-- server counts again in a new transaction to refuse (server/src/store/write_tx.rs). Counting last, with the
-- commit, holds a shared counter's row lock (every send from one IP counts on one row) for one round trip.
CREATE FUNCTION realname_send_refused() RETURNS integer LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a sending limit was reached' USING ERRCODE = 'RN429';
END
$$;
