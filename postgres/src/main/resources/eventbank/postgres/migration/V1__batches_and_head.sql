-- The journal in PostgreSQL (docs/FORMAT.md, "The journal in PostgreSQL").

-- One row per commit batch: its bytes exactly as in a segment file (64-byte header, then the
-- records), keyed by its first seq. Seqs come from the sequencer, never from a sequence.
CREATE TABLE eventbank_batches (
    first_seq bigint PRIMARY KEY,
    last_seq  bigint NOT NULL,
    batch     bytea  NOT NULL,
    CONSTRAINT eventbank_batches_seqs CHECK (first_seq >= 1 AND last_seq >= first_seq),
    CONSTRAINT eventbank_batches_header CHECK (length(batch) >= 64)
);

-- A reader seeks by the batch that ends at or before a seq.
CREATE UNIQUE INDEX eventbank_batches_last_seq ON eventbank_batches (last_seq);

-- Stored uncompressed: compressing costs the commit path CPU, and the reader's seek reads a
-- header as a slice of the value, which an uncompressed value allows without reading it whole.
ALTER TABLE eventbank_batches ALTER COLUMN batch SET STORAGE EXTERNAL;

-- The head, one row: the writer's epoch (the fence), the last batch's last seq and chain hash,
-- the last seq whose commit is known clean, who leads, until when, and the format it writes.
CREATE TABLE eventbank_head (
    id               smallint    PRIMARY KEY CONSTRAINT eventbank_head_one_row CHECK (id = 1),
    epoch            bigint      NOT NULL,
    last_seq         bigint      NOT NULL,
    chain_hash       bytea       NOT NULL CONSTRAINT eventbank_head_hash CHECK (length(chain_hash) = 32),
    durable_seq      bigint      NOT NULL,
    leader_name      text,
    leader_url       text,
    lease_expires_at timestamptz,
    format_version   integer     NOT NULL
);

INSERT INTO eventbank_head (id, epoch, last_seq, chain_hash, durable_seq, format_version)
VALUES (1, 0, 0, decode(repeat('00', 32), 'hex'), 0, 1);
