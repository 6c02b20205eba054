-- The mail outbox's state in a cluster (docs/FORMAT.md, "The outbox in PostgreSQL"): whichever
-- node leads sends the mail, so its checkpoint and its dead letters live beside the journal.

-- One row: every mail up to checkpoint_seq went out; epoch is the writer epoch whose outbox last
-- claimed it. A checkpoint is written only at the epoch that claimed the row, and only while
-- that epoch is still the head's: a deposed leader's write changes nothing.
CREATE TABLE eventbank_outbox (
    id             smallint PRIMARY KEY CONSTRAINT eventbank_outbox_one_row CHECK (id = 1),
    checkpoint_seq bigint   NOT NULL CONSTRAINT eventbank_outbox_checkpoint CHECK (checkpoint_seq >= 0),
    epoch          bigint   NOT NULL
);

INSERT INTO eventbank_outbox (id, checkpoint_seq, epoch) VALUES (1, 0, 0);

-- One row per mail the mail server refused for good: which mail, to whom, the server's words,
-- and the facts to make it again (never the link, which holds the verification code).
CREATE TABLE eventbank_dead_letters (
    seq            bigint      PRIMARY KEY CONSTRAINT eventbank_dead_letters_seq CHECK (seq >= 1),
    kind           text        NOT NULL,
    message_id     text        NOT NULL,
    recipient      text        NOT NULL,
    subject        text        NOT NULL,
    event_time     timestamptz NOT NULL,
    account_number bigint      NOT NULL,
    amount         bigint      NOT NULL,
    balance_after  bigint      NOT NULL,
    reason         text        NOT NULL,
    set_aside_at   timestamptz NOT NULL
);
