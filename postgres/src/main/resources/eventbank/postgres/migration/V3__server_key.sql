-- The server key every node of a cluster shares (docs/FORMAT.md, "eventbank_server_key"): the
-- secret behind login tokens, verification links and request fingerprints. One row, made by the
-- first writer that finds none (32 random bytes), or copied from a data directory's server.key by
-- eventbank migrate. Only the roles that writers (and migrate) log in as need to read it.
CREATE TABLE eventbank_server_key (
    id         smallint    PRIMARY KEY CONSTRAINT eventbank_server_key_one_row CHECK (id = 1),
    key        bytea       NOT NULL CONSTRAINT eventbank_server_key_length CHECK (length(key) >= 32),
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
