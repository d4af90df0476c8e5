-- +goose Up
-- Working the request queue and notifications (issue 9, points 10 and 11).

-- A staff user's named set of request-list filters.
CREATE TABLE saved_request_views (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id),
    name       TEXT NOT NULL,
    filters    TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    UNIQUE (user_id, name)
);

-- One notification for one staff user. dedupe_key makes a periodic
-- notification (due soon, overdue) unique per user, request, kind and day;
-- an event's notification uses its own id.
CREATE TABLE notifications (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id),
    request_id TEXT REFERENCES privacy_requests(id),
    kind       TEXT NOT NULL,
    text       TEXT NOT NULL,
    dedupe_key TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    read_at    DATETIME,
    mail_id    TEXT,
    UNIQUE (user_id, dedupe_key)
);
CREATE INDEX notifications_user_idx ON notifications (user_id, created_at);

-- How a staff user wants notifications mailed: each at once, or one
-- digest a day.
CREATE TABLE notification_preferences (
    user_id    TEXT PRIMARY KEY REFERENCES users(id),
    mode       TEXT NOT NULL CHECK (mode IN ('mail', 'digest')),
    updated_at DATETIME NOT NULL
);

-- One digest mail per user and business day: the row is the claim.
CREATE TABLE notification_digests (
    user_id    TEXT NOT NULL REFERENCES users(id),
    day        TEXT NOT NULL,
    mail_id    TEXT,
    created_at DATETIME NOT NULL,
    PRIMARY KEY (user_id, day)
);

-- The notifier's lease: one instance runs a round at a time.
CREATE TABLE notifier_lock (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    holder      TEXT NOT NULL DEFAULT '',
    lease_until DATETIME NOT NULL
);
INSERT INTO notifier_lock (id, holder, lease_until) VALUES (1, '', '1970-01-01 00:00:00');

-- +goose Down
DROP TABLE notifier_lock;
DROP TABLE notification_digests;
DROP TABLE notification_preferences;
DROP TABLE notifications;
DROP TABLE saved_request_views;
