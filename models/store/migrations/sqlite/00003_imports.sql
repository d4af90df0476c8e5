-- +goose Up
-- CSV imports, second part: the report's contact count, where a resumed job
-- picks up (byte offset and the lines before it, for row numbers), which
-- runner holds the job, who uploaded it (batches run as that actor), and
-- the bad rows the preview lists.
ALTER TABLE import_jobs ADD COLUMN contacts_created BIGINT NOT NULL DEFAULT 0;
ALTER TABLE import_jobs ADD COLUMN resume_line BIGINT NOT NULL DEFAULT 0;
ALTER TABLE import_jobs ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE import_jobs ADD COLUMN created_by_type TEXT NOT NULL DEFAULT '';
ALTER TABLE import_jobs ADD COLUMN created_by_label TEXT NOT NULL DEFAULT '';
CREATE INDEX import_jobs_sha_idx ON import_jobs (customer_id, file_sha256);

-- One line per problem: a row may have several (two bad identifiers).
-- col is the 0-based column, -1 for a problem with the whole row.
CREATE TABLE import_bad_rows (
    job_id TEXT NOT NULL,
    line   BIGINT NOT NULL,
    col    INTEGER NOT NULL,
    field  TEXT NOT NULL,
    value  TEXT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (job_id, line, col)
);

-- +goose Down
DROP TABLE import_bad_rows;
DROP INDEX import_jobs_sha_idx;
ALTER TABLE import_jobs DROP COLUMN created_by_label;
ALTER TABLE import_jobs DROP COLUMN created_by_type;
ALTER TABLE import_jobs DROP COLUMN claimed_by;
ALTER TABLE import_jobs DROP COLUMN resume_line;
ALTER TABLE import_jobs DROP COLUMN contacts_created;
