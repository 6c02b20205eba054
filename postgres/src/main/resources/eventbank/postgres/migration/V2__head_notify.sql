-- Wakes the nodes that follow the journal (LISTEN eventbank_head) whenever the head moves: a
-- batch, a takeover or a leader's heartbeat. Notifications are sent at commit, so a listener
-- never hears of a batch it cannot read yet. Polling (journal.poll_interval) stays the
-- fallback: a hot standby delivers no notifications.
CREATE FUNCTION eventbank_head_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('eventbank_head', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER eventbank_head_moved AFTER UPDATE ON eventbank_head
    FOR EACH STATEMENT EXECUTE FUNCTION eventbank_head_notify();
