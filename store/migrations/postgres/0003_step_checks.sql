-- Raises `message` with SQLSTATE `sqlstate`: the checks of writes that a step sends with its commit instead of one
-- round trip each (server/src/store/write_tx.rs). The first failing check skips the rest of the commit's
-- statements and the step's transaction rolls back:
--   RN429  a sending-limit counter went over its limit (the server counts again, first, to refuse);
--   RN409  the session changed meanwhile or is finished, or the code was used meanwhile;
--   RN404  the session does not exist.
-- Counting the sending limits last, with the commit, holds a shared counter's row lock (every send from one IP
-- counts on one row) for one round trip.
CREATE FUNCTION realname_fail(sqlstate TEXT, message TEXT) RETURNS INTEGER LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = sqlstate, MESSAGE = message;
END
$$;
