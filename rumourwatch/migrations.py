"""Named schema steps. The schema changes only here; each step runs once, in order, recorded in
the `_migrations` table. Never edit a released step: add a new one."""

from __future__ import annotations

MIGRATIONS: list[tuple[str, str]] = [
    ("0001_core", """
CREATE TABLE items (
    id INTEGER PRIMARY KEY,
    platform TEXT NOT NULL,
    external_id TEXT NOT NULL,
    url TEXT,
    account TEXT,
    author TEXT,
    published_at TEXT NOT NULL,          -- UTC ISO; fetch time when the source gave none
    published_day TEXT NOT NULL,         -- China-time date of published_at, for daily reports
    original_published_at TEXT,          -- replay: the time before shifting to the present
    claimed_published_at TEXT,           -- the source's own time when it was unusable (future)
    fetched_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    title TEXT,
    text TEXT NOT NULL,
    text_length INTEGER NOT NULL,
    repost_num INTEGER NOT NULL DEFAULT 0,
    comment_num INTEGER NOT NULL DEFAULT 0,
    like_num INTEGER NOT NULL DEFAULT 0,
    reaction_count INTEGER NOT NULL DEFAULT 0,
    last_reaction_at TEXT,
    content_hash TEXT NOT NULL,
    cluster_id INTEGER,
    source TEXT NOT NULL,
    user_json TEXT,
    extra_json TEXT,
    quality_flags TEXT,                  -- JSON list: missing_author, missing_time, future_time ...
    -- latest score, denormalised for the dashboard's hot queries (history is in scores)
    rumour_probability REAL,
    is_rumour INTEGER,
    polarity TEXT,
    health_related INTEGER,
    topic TEXT,
    already_debunked INTEGER,
    model_version TEXT,
    scored_at TEXT,
    scored_reactions INTEGER,
    UNIQUE (platform, external_id)
);
CREATE INDEX idx_items_published ON items (published_at);
CREATE INDEX idx_items_published_polarity ON items (published_at, polarity, health_related, platform);
CREATE INDEX idx_items_day_polarity ON items (published_day, polarity, health_related, platform);
CREATE INDEX idx_items_rumour ON items (rumour_probability);
CREATE INDEX idx_items_cluster ON items (cluster_id);
CREATE INDEX idx_items_content_hash ON items (content_hash);
CREATE INDEX idx_items_unscored ON items (scored_at) WHERE scored_at IS NULL;

CREATE TABLE reactions (
    id INTEGER PRIMARY KEY,
    item_id INTEGER NOT NULL REFERENCES items(id),
    kind TEXT NOT NULL CHECK (kind IN ('repost', 'comment')),
    at TEXT,
    original_at TEXT,
    text TEXT NOT NULL,
    user_id TEXT,
    dedupe_key TEXT NOT NULL,
    fetched_at TEXT NOT NULL,
    UNIQUE (item_id, dedupe_key)
);
CREATE INDEX idx_reactions_item_at ON reactions (item_id, at);

CREATE TABLE clusters (
    id INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL,
    representative_item_id INTEGER,
    item_count INTEGER NOT NULL DEFAULT 0,
    last_item_at TEXT,
    signature BLOB
);
CREATE TABLE cluster_bands (
    band TEXT NOT NULL,
    cluster_id INTEGER NOT NULL REFERENCES clusters(id),
    PRIMARY KEY (band, cluster_id)
) WITHOUT ROWID;

CREATE TABLE scores (
    id INTEGER PRIMARY KEY,
    item_id INTEGER NOT NULL REFERENCES items(id),
    model_version TEXT NOT NULL,
    computed_at TEXT NOT NULL,
    reactions_seen INTEGER NOT NULL,
    last_reaction_at TEXT,
    rumour_probability REAL,
    is_rumour INTEGER,
    polarity TEXT,
    polarity_scores TEXT,
    health_probability REAL,
    health_related INTEGER,
    topic TEXT,
    debunk_url TEXT,
    debunk_title TEXT,
    debunk_score REAL,
    already_debunked INTEGER
);
CREATE INDEX idx_scores_item ON scores (item_id, computed_at);

CREATE TABLE model_versions (
    version TEXT PRIMARY KEY,
    registered_at TEXT NOT NULL,
    manifest TEXT NOT NULL
);

CREATE TABLE rejects (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    origin TEXT,
    position TEXT,
    reason TEXT NOT NULL,
    raw TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX idx_rejects_created ON rejects (created_at);

CREATE TABLE checkpoints (
    source TEXT PRIMARY KEY,
    position TEXT,
    updated_at TEXT NOT NULL,
    last_error TEXT,
    last_error_at TEXT,
    items_seen INTEGER NOT NULL DEFAULT 0
);
"""),
    ("0002_audit", """
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target_type TEXT,
    target_id TEXT,
    details TEXT
);
CREATE INDEX idx_audit_at ON audit_log (at);
CREATE INDEX idx_audit_target ON audit_log (target_type, target_id);
"""),
    ("0004_auth", """
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE COLLATE NOCASE,
    display_name TEXT,
    role TEXT NOT NULL CHECK (role IN ('monitor', 'expert', 'analyst', 'leader', 'admin')),
    password_hash TEXT NOT NULL,         -- scrypt$n$r$p$salt$hash (base64); never the password
    expert_id INTEGER,                   -- for role expert: the roster entry whose assignments they see
    disabled INTEGER NOT NULL DEFAULT 0,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    last_login_at TEXT
);
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,         -- sha256 of the token; the token itself lives only in the browser session
    user_id INTEGER NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    ended_at TEXT,
    end_reason TEXT
);
CREATE INDEX idx_sessions_user ON sessions (user_id);
"""),
]
