-- The key store of a cluster (docs/FORMAT.md, "The key store in PostgreSQL"): the same 128-byte
-- header and 128-byte slots as the file data/keys/data-keys of a single server, one row each,
-- overwritten in place. Every data key and the digest key in them are wrapped by the
-- key-encryption key, which is never here: it is a file on each node (keys.kek_file).

-- One row: the store's header (the KEK's id, the wrapped digest key), made by the first writer.
CREATE TABLE eventbank_key_store (
    id     smallint PRIMARY KEY CONSTRAINT eventbank_key_store_one_row CHECK (id = 1),
    header bytea    NOT NULL CONSTRAINT eventbank_key_store_header CHECK (length(header) = 128)
);

-- One row per slot ever written: the slot of an account's data key is its opening ordinal. A
-- forgotten account's row is overwritten with its key and digest as zeros, never deleted.
CREATE TABLE eventbank_data_keys (
    slot  integer PRIMARY KEY CONSTRAINT eventbank_data_keys_slot CHECK (slot >= 0),
    bytes bytea   NOT NULL CONSTRAINT eventbank_data_keys_bytes CHECK (length(bytes) = 128)
);

-- Never compressed or moved out of line: a slot is overwritten as one small row.
ALTER TABLE eventbank_data_keys ALTER COLUMN bytes SET STORAGE PLAIN;
ALTER TABLE eventbank_key_store ALTER COLUMN header SET STORAGE PLAIN;
