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
-- covers the dashboard's period aggregates so they read the index, not the table
CREATE INDEX idx_items_dash ON items (published_at, platform, health_related, polarity, rumour_probability,
                                      already_debunked, scored_at, published_day);
CREATE INDEX idx_items_rumour ON items (rumour_probability);
CREATE INDEX idx_items_cluster ON items (cluster_id);
CREATE INDEX idx_items_content_hash ON items (content_hash);
CREATE INDEX idx_items_unscored ON items (scored_at) WHERE scored_at IS NULL;

-- Per-day opinion counts kept exact by triggers, so period ratios never scan millions of items.
CREATE TABLE daily_counts (
    day TEXT NOT NULL,
    platform TEXT NOT NULL,
    health_related INTEGER NOT NULL,     -- -1: not yet scored
    polarity TEXT NOT NULL,              -- '': not yet scored
    n INTEGER NOT NULL,
    PRIMARY KEY (day, platform, health_related, polarity)
) WITHOUT ROWID;
CREATE TRIGGER items_count_insert AFTER INSERT ON items BEGIN
    INSERT INTO daily_counts VALUES (new.published_day, new.platform, coalesce(new.health_related, -1),
                                     coalesce(new.polarity, ''), 1)
    ON CONFLICT (day, platform, health_related, polarity) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER items_count_update AFTER UPDATE OF published_day, platform, health_related, polarity ON items BEGIN
    UPDATE daily_counts SET n = n - 1 WHERE day = old.published_day AND platform = old.platform
        AND health_related = coalesce(old.health_related, -1) AND polarity = coalesce(old.polarity, '');
    INSERT INTO daily_counts VALUES (new.published_day, new.platform, coalesce(new.health_related, -1),
                                     coalesce(new.polarity, ''), 1)
    ON CONFLICT (day, platform, health_related, polarity) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER items_count_delete AFTER DELETE ON items BEGIN
    UPDATE daily_counts SET n = n - 1 WHERE day = old.published_day AND platform = old.platform
        AND health_related = coalesce(old.health_related, -1) AND polarity = coalesce(old.polarity, '');
END;

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
    ("0003_workflow", """
CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    dedupe_key TEXT NOT NULL UNIQUE,     -- cluster:<id> (one alert per cluster), spike:<dim>:<value>:<day>
    kind TEXT NOT NULL,                  -- rumour / keyword / opinion_spike (first rule that fired)
    rules TEXT NOT NULL,                 -- JSON list of every rule that fired, with its reason
    severity TEXT NOT NULL CHECK (severity IN ('一级', '二级', '三级')),
    cluster_id INTEGER,
    item_id INTEGER,                     -- representative item (highest rumour probability)
    topic TEXT,
    region TEXT,
    title TEXT,
    metrics TEXT,                        -- JSON: copies, reach, velocity, max_probability ...
    item_count INTEGER NOT NULL DEFAULT 1,
    status TEXT NOT NULL DEFAULT 'open'
        CHECK (status IN ('open', 'assigned', 'in_progress', 'in_review', 'published', 'dismissed')),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    respond_by TEXT NOT NULL,            -- information released within 5 h (seed 001)
    conference_by TEXT,                  -- press conference within 24 h, highest severity only
    responded_at TEXT,
    conference_at TEXT,
    respond_escalated_at TEXT,
    conference_escalated_at TEXT,
    closed_at TEXT,
    assigned_expert INTEGER
);
CREATE INDEX idx_alerts_status ON alerts (status, respond_by);
CREATE INDEX idx_alerts_cluster ON alerts (cluster_id);

CREATE TABLE alert_steps (
    id INTEGER PRIMARY KEY,
    alert_id INTEGER NOT NULL REFERENCES alerts(id),
    step TEXT NOT NULL,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    note TEXT
);
CREATE INDEX idx_alert_steps_alert ON alert_steps (alert_id, at);

CREATE TABLE workflow_state (
    key TEXT PRIMARY KEY,
    value TEXT
);

CREATE TABLE notifications (
    id INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('webhook', 'email')),
    target TEXT NOT NULL,                -- url or email address
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    urgent INTEGER NOT NULL DEFAULT 0,
    alert_id INTEGER,
    event TEXT NOT NULL,                 -- alert_new, alert_upgraded, escalation, assignment ...
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error TEXT,
    sent_at TEXT
);
CREATE INDEX idx_notifications_pending ON notifications (status, next_attempt_at);

CREATE TABLE notification_attempts (
    id INTEGER PRIMARY KEY,
    notification_id INTEGER NOT NULL REFERENCES notifications(id),
    at TEXT NOT NULL,
    ok INTEGER NOT NULL,
    detail TEXT
);
CREATE INDEX idx_notification_attempts ON notification_attempts (notification_id);

CREATE TABLE experts (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    title TEXT,
    institution TEXT NOT NULL,
    specialties TEXT NOT NULL,           -- JSON list: topic categories and clinical departments
    level TEXT NOT NULL CHECK (level IN ('国家级', '省级', '市级', '县级')),
    region TEXT,
    capacity INTEGER NOT NULL DEFAULT 3,
    phone TEXT,
    email TEXT,
    active INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (name, institution)
);

CREATE TABLE assignments (
    id INTEGER PRIMARY KEY,
    alert_id INTEGER NOT NULL REFERENCES alerts(id),
    expert_id INTEGER NOT NULL REFERENCES experts(id),
    status TEXT NOT NULL CHECK (status IN ('offered', 'accepted', 'declined', 'submitted', 'completed', 'cancelled')),
    score REAL,
    reasons TEXT,                        -- JSON list of the suggestion's reasons
    assigned_by TEXT NOT NULL,
    assigned_at TEXT NOT NULL,
    due_at TEXT NOT NULL,
    responded_at TEXT,                   -- accepted or declined
    decline_reason TEXT,
    submitted_at TEXT,
    completed_at TEXT,
    escalated_at TEXT
);
CREATE INDEX idx_assignments_alert ON assignments (alert_id);
CREATE INDEX idx_assignments_expert ON assignments (expert_id, status);

CREATE TABLE clarifications (
    id INTEGER PRIMARY KEY,
    alert_id INTEGER NOT NULL REFERENCES alerts(id),
    assignment_id INTEGER REFERENCES assignments(id),
    expert_id INTEGER REFERENCES experts(id),
    cluster_id INTEGER,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    references_text TEXT,
    status TEXT NOT NULL CHECK (status IN ('draft', 'in_review', 'approved', 'published')),
    author TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    submitted_at TEXT,
    reviewed_by TEXT,
    reviewed_at TEXT,
    review_note TEXT,
    published_url TEXT,
    published_at TEXT,
    published_by TEXT
);
CREATE INDEX idx_clarifications_cluster ON clarifications (cluster_id, status);
CREATE INDEX idx_clarifications_alert ON clarifications (alert_id);

CREATE TABLE verdicts (
    id INTEGER PRIMARY KEY,
    item_id INTEGER NOT NULL REFERENCES items(id),
    cluster_id INTEGER,
    alert_id INTEGER,
    verdict TEXT NOT NULL CHECK (verdict IN ('rumour', 'not_rumour', 'unverifiable')),
    reason TEXT NOT NULL,
    actor TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX idx_verdicts_cluster ON verdicts (cluster_id, at);
CREATE INDEX idx_verdicts_item ON verdicts (item_id);

CREATE TABLE takedowns (
    id INTEGER PRIMARY KEY,
    item_id INTEGER NOT NULL REFERENCES items(id),
    platform TEXT,
    account TEXT,
    url TEXT,
    status TEXT NOT NULL CHECK (status IN ('requested', 'removed', 'refused')),
    requested_by TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    note TEXT,
    outcome_by TEXT,
    outcome_at TEXT,
    outcome_note TEXT
);
CREATE INDEX idx_takedowns_status ON takedowns (status);
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
    ("0005_reports", """
CREATE TABLE units (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL UNIQUE,           -- matches experts.institution
    kind TEXT NOT NULL,                  -- 县区卫健局 / 医院 / 疾控中心 ...
    region TEXT,
    monthly_minimum INTEGER,             -- NULL: the report's default (seed 002: 4 a month)
    active INTEGER NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL
);
CREATE TABLE report_log (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,                  -- weekly / monthly
    period TEXT NOT NULL,                -- 2026-W47 / 2026-11
    filters TEXT NOT NULL,               -- JSON {region, platform}
    format TEXT,
    path TEXT,
    channel TEXT NOT NULL,               -- folder / webhook / email
    status TEXT NOT NULL,                -- sent / failed
    detail TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX idx_report_log_period ON report_log (kind, period);
"""),
    # The worker asks every poll what needs (re)scoring; without these it scanned every scored item.
    ("0006_scoring_queue", """
CREATE INDEX idx_items_stale_reactions ON items (id) WHERE reaction_count > coalesce(scored_reactions, 0);
CREATE INDEX idx_items_model_version ON items (model_version) WHERE model_version IS NOT NULL;
"""),
    # Analysts' hand labels of health relevance and Healthy China topic (the 数据标注 page); the
    # latest label on an item counts. What the model said when the label was given is kept beside
    # it, so its agreement can be measured without re-scoring; `sample` says how the item was picked
    # (only a random sample measures the model without bias).
    ("0007_labels", """
CREATE TABLE labels (
    id INTEGER PRIMARY KEY,
    item_id INTEGER NOT NULL REFERENCES items(id),
    health_related INTEGER NOT NULL CHECK (health_related IN (0, 1)),
    topic TEXT NOT NULL,
    note TEXT,
    sample TEXT NOT NULL CHECK (sample IN ('random', 'uncertain', 'recent', 'item')),
    labelled_by TEXT NOT NULL,
    at TEXT NOT NULL,
    predicted_health REAL,
    predicted_topic TEXT,
    model_version TEXT
);
CREATE INDEX idx_labels_item ON labels (item_id, at);
"""),
    # "Already debunked" also by the clarifications published here: the claim each clarifies, as its
    # expert states it, and the clarification whose claim an item repeats
    # (rumourwatch.score.own_clarification_matches), per score and on the item.
    ("0008_own_clarification_match", """
ALTER TABLE clarifications ADD COLUMN claim TEXT;
ALTER TABLE scores ADD COLUMN debunk_clarification_id INTEGER;
ALTER TABLE items ADD COLUMN debunk_clarification_id INTEGER;
"""),
    # A clarification makes its item's cluster (or the lone alert item) 已辟谣, whatever the text's
    # similarity to the stated claim (store.mark_clarified on publication, store.clarified_items on
    # each score); items clarified before that read 否 under their 已澄清 banner until re-scored.
    ("0009_clarified_clusters_debunked", """
UPDATE items SET already_debunked = 1, debunk_clarification_id = (
    SELECT c.id FROM clarifications c WHERE c.status = 'published' AND c.cluster_id = items.cluster_id
    ORDER BY c.published_at DESC, c.id DESC LIMIT 1)
WHERE cluster_id IN (SELECT cluster_id FROM clarifications WHERE status = 'published');
UPDATE items SET already_debunked = 1, debunk_clarification_id = (
    SELECT c.id FROM clarifications c JOIN alerts a ON a.id = c.alert_id
    WHERE c.status = 'published' AND a.item_id = items.id ORDER BY c.published_at DESC, c.id DESC LIMIT 1)
WHERE cluster_id IS NULL AND id IN (SELECT a.item_id FROM clarifications c JOIN alerts a ON a.id = c.alert_id
                                    WHERE c.status = 'published');
"""),
    # A task withdrawn with its dismissed alert (alerts.close_dismissed) keeps when, by whom and why,
    # so the expert's workbench can list it and the alert page can show when it ended; assignments
    # cancelled before this take theirs from the audit entry written at the time.
    ("0010_assignment_cancellation", """
ALTER TABLE assignments ADD COLUMN cancelled_at TEXT;
ALTER TABLE assignments ADD COLUMN cancelled_by TEXT;
ALTER TABLE assignments ADD COLUMN cancel_reason TEXT;
UPDATE assignments SET
    cancelled_at = (SELECT l.at FROM audit_log l WHERE l.action = 'assignment.cancel'
                    AND l.target_type = 'assignment' AND l.target_id = CAST(assignments.id AS TEXT)
                    ORDER BY l.id DESC LIMIT 1),
    cancelled_by = (SELECT l.actor FROM audit_log l WHERE l.action = 'assignment.cancel'
                    AND l.target_type = 'assignment' AND l.target_id = CAST(assignments.id AS TEXT)
                    ORDER BY l.id DESC LIMIT 1),
    cancel_reason = (SELECT json_extract(l.details, '$.reason') FROM audit_log l WHERE l.action = 'assignment.cancel'
                     AND l.target_type = 'assignment' AND l.target_id = CAST(assignments.id AS TEXT)
                     ORDER BY l.id DESC LIMIT 1)
WHERE status = 'cancelled';
"""),
    # A source's last failure keeps the SourceError's key and params beside its English text, so
    # the 数据源与质量 page says in Chinese what went wrong and what to do.
    ("0011_source_error_key", """
ALTER TABLE checkpoints ADD COLUMN last_error_key TEXT;
ALTER TABLE checkpoints ADD COLUMN last_error_params TEXT;
"""),
    # A reject keeps its RecordError's key and params beside its English reason, so the 数据源与质量
    # page says in Chinese why a record was set aside. Rejects stored before keep their English only.
    ("0012_reject_reason_key", """
ALTER TABLE rejects ADD COLUMN reason_key TEXT;
ALTER TABLE rejects ADD COLUMN reason_params TEXT;
"""),
    # Retold copies (a story in other words, with text of its own) join the cluster whose first
    # text holds most of them (cluster.containment). A body (a text compared without its #topic#
    # tags) is banded by pairs of signature values, keyed "c<band>:<hex>" as cluster.bands writes
    # them (the signature blob's bytes in lower-case hex), which find retold copies as well as
    # copies. Clusters made before get their pairs here, so that new posts find them; they keep their
    # four-value bands, through which short posts still find them, and their items keep their
    # clusters. A first text under 20 characters (cluster.MIN_BODY_CHARS) is no body.
    # A retelling's signature is kept with its cluster, so that copies of the retelling join it too.
    ("0013_retold_copies", """
CREATE TABLE cluster_retellings (
    cluster_id INTEGER NOT NULL REFERENCES clusters(id),
    signature BLOB NOT NULL
);
CREATE INDEX idx_cluster_retellings ON cluster_retellings (cluster_id);
INSERT OR IGNORE INTO cluster_bands (band, cluster_id)
WITH n(b) AS (VALUES (0), (1), (2), (3), (4), (5), (6), (7))
SELECT 'c' || n.b || ':' || lower(hex(substr(c.signature, 1 + 8 * n.b, 8))), c.id
FROM clusters c JOIN items i ON i.id = c.representative_item_id JOIN n
WHERE length(c.signature) = 128 AND length(i.text) >= 20;
"""),
    # Re-scoring an item as its reactions arrive rewrites its polarity and health relevance, mostly
    # with the values they had: the per-day count trigger then took one from a count and gave it
    # back. It now runs only when one of the four columns it counts by changes (IS NOT: NULL-safe),
    # which halves the cost of such an update (the counts are the same).
    ("0014_count_trigger_on_change", """
DROP TRIGGER items_count_update;
CREATE TRIGGER items_count_update AFTER UPDATE OF published_day, platform, health_related, polarity ON items
WHEN old.published_day IS NOT new.published_day OR old.platform IS NOT new.platform
  OR old.health_related IS NOT new.health_related OR old.polarity IS NOT new.polarity
BEGIN
    UPDATE daily_counts SET n = n - 1 WHERE day = old.published_day AND platform = old.platform
        AND health_related = coalesce(old.health_related, -1) AND polarity = coalesce(old.polarity, '');
    INSERT INTO daily_counts VALUES (new.published_day, new.platform, coalesce(new.health_related, -1),
                                     coalesce(new.polarity, ''), 1)
    ON CONFLICT (day, platform, health_related, polarity) DO UPDATE SET n = n + 1;
END;
"""),
    # Tips from the public (seed 000 §(四)1): the reporting channel and the 12320 / 12345 hotlines.
    # The reported content is an item (rumourwatch.tips); a tip records how and when it came in.
    # No reporter's name or phone number is kept: the hotline's work-order number points back.
    ("0015_tips", """
CREATE TABLE tips (
    id INTEGER PRIMARY KEY,
    item_id INTEGER NOT NULL REFERENCES items(id),
    channel TEXT NOT NULL,
    received_at TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    work_order TEXT,
    note TEXT
);
CREATE INDEX idx_tips_received ON tips (received_at);
CREATE INDEX idx_tips_item ON tips (item_id);
CREATE INDEX idx_tips_work_order ON tips (channel, work_order);
"""),
    # When the worker last read each source and when a source last gave a new item, so a source
    # that has gone quiet (a scraper blocked, a feed moved) or a worker that has stopped is seen
    # (worker.source_health) instead of passing for a quiet day. Sources that gave items before
    # count from their checkpoint's last move.
    ("0016_source_health", """
ALTER TABLE checkpoints ADD COLUMN polled_at TEXT;
ALTER TABLE checkpoints ADD COLUMN last_item_at TEXT;
UPDATE checkpoints SET last_item_at = updated_at WHERE items_seen > 0;
"""),
    # Items per source, platform and hour of publication (UTC), kept by a trigger like daily_counts,
    # so a report finds the hours in which a feed published nothing (reports.source_gaps) without
    # reading a month of items. Filled from the items already stored.
    ("0017_source_hours", """
CREATE TABLE source_hours (
    source TEXT NOT NULL,
    platform TEXT NOT NULL,
    hour TEXT NOT NULL,                  -- 'YYYY-MM-DDTHH' of published_at (UTC)
    n INTEGER NOT NULL,
    PRIMARY KEY (hour, source, platform)
) WITHOUT ROWID;
INSERT INTO source_hours (hour, source, platform, n)
    SELECT substr(published_at, 1, 13), source, platform, count(*) FROM items
    GROUP BY 1, 2, 3;
CREATE TRIGGER items_source_hour AFTER INSERT ON items BEGIN
    INSERT INTO source_hours VALUES (new.source, new.platform, substr(new.published_at, 1, 13), 1)
    ON CONFLICT (hour, source, platform) DO UPDATE SET n = n + 1;
END;
"""),
    # A file read once (`rumourwatch ingest`) is not a feed: it is not expected to give more, so it is
    # never reported as silent or unread (worker.source_health, reports.source_gaps). Sources read
    # before this column are taken as feeds.
    ("0018_one_off_sources", """
ALTER TABLE checkpoints ADD COLUMN one_off INTEGER NOT NULL DEFAULT 0;
"""),
    # When an accepted task's expert was reminded that its deadline is near (alerts.remind_due), so
    # the reminder goes once.
    ("0019_assignment_reminders", """
ALTER TABLE assignments ADD COLUMN reminded_at TEXT;
"""),
    # One account's items by time: its record on the item page and in the special report
    # (risk.account_record) read a quarter of one account, not a quarter of the whole feed
    # (0.6 s on a million items without it).
    ("0020_items_by_account", """
CREATE INDEX idx_items_account ON items (account, published_at);
"""),
    # 值班交接 (rumourwatch.handover): what a monitor's shift hands to the next one. `summary` is the
    # shift as it stood when handed over (JSON), so the record reads the same later; the incoming
    # monitor confirms receipt (received_by / received_at).
    ("0021_handovers", """
CREATE TABLE handovers (
    id INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL,
    author TEXT NOT NULL,
    shift_from TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    summary TEXT NOT NULL,
    received_by TEXT,
    received_at TEXT
);
CREATE INDEX idx_handovers_created ON handovers (created_at);
CREATE INDEX idx_alert_steps_at ON alert_steps (at);
CREATE INDEX idx_verdicts_at ON verdicts (at);
"""),
    # When an expert cannot take tasks (leave, travel, a conference): set by the expert on the
    # workbench or by an admin on 专家库; suggestions and assignment pass over the expert then
    # (experts.unavailable_experts). Removing one deletes its row; the audit log keeps it.
    ("0022_expert_absences", """
CREATE TABLE expert_absences (
    id INTEGER PRIMARY KEY,
    expert_id INTEGER NOT NULL REFERENCES experts(id),
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX idx_expert_absences ON expert_absences (ends_at, starts_at);
"""),
    # Each item's hashtags (#话题#), read from its text once at ingest (rumourwatch.trending.tags_of),
    # so 话题热度 and the reports' hot tags count a period's tags without reading its texts again
    # (a month of them took seconds). Filled for the items already stored by store.MIGRATION_HOOKS.
    ("0023_item_tags", """
CREATE TABLE item_tags (
    item_id INTEGER NOT NULL REFERENCES items(id),
    tag TEXT NOT NULL,
    published_at TEXT NOT NULL,
    PRIMARY KEY (item_id, tag)
) WITHOUT ROWID;
CREATE INDEX idx_item_tags_time ON item_tags (published_at);
"""),
    # The posts of clarification publishers (微博辟谣, 科学辟谣 …; rumourwatch.clarifiers) that arrive in
    # the feed are clarifications too: later posts repeating their claims are matched with them
    # (store.feed_clarifications, rumourwatch.score). A partial index finds them without a scan.
    ("0024_feed_clarifications", """
CREATE INDEX idx_items_clarifier ON items (published_at) WHERE quality_flags LIKE '%"clarification"%';
"""),
    # Media outlets invite pool experts for interviews, programmes, live shows, articles and the
    # review of health programmes and adverts (seed 000 §(三)2: invited from the pool, city media
    # preferring city-level experts and above); rumourwatch.media. A request is offered to one
    # expert at a time; each offer, declined or not, is kept.
    ("0025_media_requests", """
CREATE TABLE media_requests (
    id INTEGER PRIMARY KEY,
    outlet TEXT NOT NULL,
    outlet_level TEXT NOT NULL,
    kind TEXT NOT NULL,
    programme TEXT NOT NULL DEFAULT '',
    topic TEXT,
    region TEXT,
    starts_at TEXT NOT NULL,
    hours REAL NOT NULL,
    contact TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    expert_id INTEGER REFERENCES experts(id),
    requested_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    outcome_url TEXT,
    outcome_note TEXT,
    closed_at TEXT,
    cancel_reason TEXT
);
CREATE INDEX idx_media_requests_time ON media_requests (starts_at);
CREATE TABLE media_offers (
    id INTEGER PRIMARY KEY,
    request_id INTEGER NOT NULL REFERENCES media_requests(id),
    expert_id INTEGER NOT NULL REFERENCES experts(id),
    status TEXT NOT NULL,
    score REAL,
    reasons TEXT NOT NULL DEFAULT '[]',
    offered_by TEXT NOT NULL,
    offered_at TEXT NOT NULL,
    responded_at TEXT,
    reason TEXT
);
CREATE INDEX idx_media_offers_request ON media_offers (request_id);
CREATE INDEX idx_media_offers_expert ON media_offers (expert_id, status);
"""),
    # When an expert who has not answered a media invitation was reminded (media.chase_unanswered),
    # so each offer is chased once.
    ("0026_media_offer_reminders", """
ALTER TABLE media_offers ADD COLUMN reminded_at TEXT;
"""),
    # The period aggregates over health items by topic and account (舆情风险点, and the monthly,
    # quarterly and annual reports that list them; the reports' topic section) read every health
    # item's row for its topic, account and flags: on a million items 2.4 s for the topics and 3.2 s
    # for the accounts. This index holds what they read, for health items only, so they read it
    # instead; the places read only the items that carry account or item facts.
    ("0027_health_period_indexes", """
CREATE INDEX idx_items_health_period ON items (published_at, topic, platform, account, polarity,
                                               rumour_probability, published_day, quality_flags)
    WHERE health_related = 1;
CREATE INDEX idx_items_health_facts ON items (published_at)
    WHERE health_related = 1 AND (user_json IS NOT NULL OR extra_json IS NOT NULL);
"""),
    # Human readings (人工判读) of the items the models cannot read: posts written in Mongolian,
    # Tibetan or Uyghur script (DOMAIN 11; rumourwatch.language) are scored with no probability,
    # polarity or relevance, so without a reader they never reach the opinion figures. A monitor
    # who reads the script records whether the item is about health, its topic, its polarity and a
    # gist in Chinese; the latest reading of an item is its figures (rumourwatch.readings). The items
    # the models left unassessed (few in any feed) are found through idx_items_rumour (NULL).
    ("0028_human_readings", """
CREATE TABLE human_readings (
    id INTEGER PRIMARY KEY,
    item_id INTEGER NOT NULL REFERENCES items(id),
    language TEXT NOT NULL,
    health_related INTEGER NOT NULL,
    topic TEXT NOT NULL,
    polarity TEXT NOT NULL,
    gist TEXT NOT NULL DEFAULT '',
    read_by TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX idx_human_readings_item ON human_readings (item_id);
CREATE INDEX idx_human_readings_at ON human_readings (at);
"""),
    # The scripts an expert writes besides Chinese (DOMAIN 11; seed 004: Inner Mongolia explains
    # health knowledge in Mongolian and Chinese and publishes for Mongolian readers): a story told
    # in Mongolian, Tibetan or Uyghur script is best clarified in that script, so its suggestions
    # put the experts who write it first (rumourwatch.experts). A JSON list of codes
    # (rumourwatch.language.LANGUAGE_ZH); NULL: Chinese only.
    ("0029_expert_languages", """
ALTER TABLE experts ADD COLUMN languages TEXT;
"""),
    # A clarification's version in the script of the readers it answers (Mongolian, Tibetan or
    # Uyghur; rumourwatch.language), beside the Chinese one: the story's readers may read no Chinese.
    ("0030_clarification_translations", """
ALTER TABLE clarifications ADD COLUMN translation TEXT;
ALTER TABLE clarifications ADD COLUMN translation_language TEXT;
"""),
    # The audit log is append-only: no code changes or deletes an entry, and the database refuses
    # it too, so neither a bug nor a hand-typed statement can rewrite who did what (an audit record
    # "protected from unexpected deletion or change"). A later step that must change entries drops
    # and re-creates these triggers around its change.
    ("0031_audit_append_only", """
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: an entry cannot be changed'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: an entry cannot be deleted'); END;
"""),
    # Each entry's seal (rumourwatch.auditseal), NULL for entries written without an audit key.
    ("0032_audit_seal", """
ALTER TABLE audit_log ADD COLUMN chain TEXT;
"""),
    # Two-step login (rumourwatch.totp): the shared secret once confirmed, when, the last time step
    # used (a code logs in once), and a secret being set up until its first code confirms it.
    ("0033_two_step_login", """
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_enabled_at TEXT;
ALTER TABLE users ADD COLUMN totp_last_step INTEGER;
ALTER TABLE users ADD COLUMN totp_pending TEXT;
"""),
    # Two-step login's recovery codes (a lost phone without an administrator at hand): a JSON list of
    # {"hash": keyed sha256 of the code, "used_at": null or the time it logged in}; never the codes.
    ("0034_two_step_recovery_codes", """
ALTER TABLE users ADD COLUMN totp_recovery TEXT;
"""),
    # 信息报送 (seed 002 §四(四): each county bureau and unit reports at least 4 pieces of information
    # a month, and a monthly notice ranks them). A unit's correspondent (通讯员, a new role, tied to
    # the unit) submits them; the office adopts or declines each. SQLite cannot change a CHECK, so
    # users is rebuilt with the new role and the unit (store.REBUILDS: foreign keys off meanwhile).
    ("0035_unit_submissions", """
CREATE TABLE users_new (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE COLLATE NOCASE,
    display_name TEXT,
    role TEXT NOT NULL CHECK (role IN ('monitor', 'expert', 'analyst', 'leader', 'admin', 'correspondent')),
    password_hash TEXT NOT NULL,
    expert_id INTEGER,                   -- for role expert: the roster entry whose assignments they see
    unit_id INTEGER REFERENCES units(id), -- for role correspondent: the unit they report for
    disabled INTEGER NOT NULL DEFAULT 0,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    last_login_at TEXT,
    totp_secret TEXT,
    totp_enabled_at TEXT,
    totp_last_step INTEGER,
    totp_pending TEXT,
    totp_recovery TEXT
);
INSERT INTO users_new (id, username, display_name, role, password_hash, expert_id, disabled, failed_logins,
                       locked_until, created_at, updated_at, last_login_at, totp_secret, totp_enabled_at,
                       totp_last_step, totp_pending, totp_recovery)
    SELECT id, username, display_name, role, password_hash, expert_id, disabled, failed_logins,
           locked_until, created_at, updated_at, last_login_at, totp_secret, totp_enabled_at,
           totp_last_step, totp_pending, totp_recovery FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
CREATE TABLE submissions (
    id INTEGER PRIMARY KEY,
    unit_id INTEGER NOT NULL REFERENCES units(id),
    kind TEXT NOT NULL CHECK (kind IN ('opinion', 'work', 'science')),
    title TEXT NOT NULL,
    content TEXT NOT NULL,
    url TEXT,
    platform TEXT,                       -- 舆情信息: where the claim was seen
    occurred_at TEXT,                    -- when what it reports happened or was seen
    submitted_by TEXT NOT NULL,
    submitted_at TEXT NOT NULL,          -- the month it counts in
    status TEXT NOT NULL DEFAULT 'submitted'
        CHECK (status IN ('submitted', 'adopted', 'declined', 'withdrawn')),
    decided_by TEXT,
    decided_at TEXT,
    adopted_in TEXT,                     -- where the office used it (日报, 公众号 …)
    decision_note TEXT,                  -- why it was declined, or a word to the unit
    item_id INTEGER REFERENCES items(id) -- 舆情信息 filed in the feed, scored like any item
);
CREATE INDEX idx_submissions_unit_at ON submissions (unit_id, submitted_at);
CREATE INDEX idx_submissions_status_at ON submissions (status, submitted_at);
"""),
    # 交办属地单位 (seed 001 5: 属地管理、分级负责): an alert's event handed to the unit where it happened,
    # to check the facts and act, with a time to report back by; the unit's correspondent replies, and
    # the unit's mailbox (units.email) is told.
    ("0036_referrals", """
CREATE TABLE referrals (
    id INTEGER PRIMARY KEY,
    alert_id INTEGER NOT NULL REFERENCES alerts(id),
    unit_id INTEGER NOT NULL REFERENCES units(id),
    request TEXT NOT NULL,               -- what the unit is asked to do
    referred_by TEXT NOT NULL,
    referred_at TEXT NOT NULL,
    due_at TEXT NOT NULL,                -- the time to report back by
    status TEXT NOT NULL DEFAULT 'referred' CHECK (status IN ('referred', 'replied', 'withdrawn')),
    reply TEXT,                          -- what the unit found and did
    replied_by TEXT,
    replied_at TEXT,
    withdrawn_by TEXT,
    withdrawn_at TEXT,
    withdraw_reason TEXT,
    escalated_at TEXT                    -- when the unanswered referral was chased (alerts.escalate_overdue)
);
CREATE INDEX idx_referrals_unit ON referrals (unit_id, status, due_at);
CREATE INDEX idx_referrals_alert ON referrals (alert_id);
-- a unit's mailbox: a referral reaches a county bureau whose correspondent is not logged in
ALTER TABLE units ADD COLUMN email TEXT;
"""),
    # 通讯员培训 (seed 002 §四(四): 常态化举办卫健系统通讯员培训，原则上每半年开展一次): the trainings
    # the office held for the units' correspondents, and which units took part
    ("0037_correspondent_trainings", """
CREATE TABLE trainings (
    id INTEGER PRIMARY KEY,
    held_on TEXT NOT NULL,               -- the day it was held (Beijing), YYYY-MM-DD
    title TEXT NOT NULL,
    attendees INTEGER,                   -- the people trained (人次), when counted
    note TEXT,                           -- where, who taught, what was covered
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    removed_by TEXT,                     -- recorded by mistake: kept, no longer counted
    removed_at TEXT,
    remove_reason TEXT
);
CREATE INDEX idx_trainings_held ON trainings (held_on);
CREATE TABLE training_units (
    training_id INTEGER NOT NULL REFERENCES trainings(id),
    unit_id INTEGER NOT NULL REFERENCES units(id),
    PRIMARY KEY (training_id, unit_id)
);
CREATE INDEX idx_training_units_unit ON training_units (unit_id);
"""),
    # 新闻发布会 (seed 001 2, 6, 8: press conferences on major policies and within 24 hours of a sudden
    # event, 新闻发言人制度; seed 004: 每月至少召开一次新闻发布会): the office's register of the press
    # conferences held, those recorded on an alert (its 24-hour step) among them
    ("0038_press_conferences", """
CREATE TABLE press_conferences (
    id INTEGER PRIMARY KEY,
    held_at TEXT NOT NULL,
    topic TEXT NOT NULL,
    spokesperson TEXT,                   -- 新闻发言人
    media TEXT,                          -- the media invited
    url TEXT,                            -- the release or the recording
    note TEXT,
    alert_id INTEGER REFERENCES alerts(id),  -- held in answer to this alert (its conference_held step)
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    removed_by TEXT,                     -- recorded by mistake: kept, no longer counted
    removed_at TEXT,
    remove_reason TEXT
);
CREATE INDEX idx_press_conferences_held ON press_conferences (held_at);
-- the conferences already recorded on alerts enter the register, as the step now does
INSERT INTO press_conferences (held_at, topic, note, alert_id, recorded_by, recorded_at)
    SELECT a.conference_at, COALESCE(NULLIF(a.title, ''), '预警 #' || a.id), s.note, a.id,
           COALESCE(s.actor, 'system'), COALESCE(s.at, a.conference_at)
    FROM alerts a LEFT JOIN alert_steps s ON s.id = (SELECT max(id) FROM alert_steps
                                                    WHERE alert_id = a.id AND step = 'conference_held')
    WHERE a.conference_at IS NOT NULL ORDER BY a.conference_at, a.id;
"""),
    # 新闻发布与媒体活动 (seed 004: "每月至少组织一场媒体活动，至少召开一次新闻发布会，每年至少参加一次
    # 自治区卫生健康委组织的新闻发布活动"): the register holds the office's media activities and its
    # part in the higher commission's press events beside its own conferences (rumourwatch.press.KINDS)
    ("0039_press_kinds", """
ALTER TABLE press_conferences ADD COLUMN kind TEXT NOT NULL DEFAULT 'conference';
"""),
    # 卫生健康纪念日 (seed 001, 3): the office's own observance days beside the national ones
    # (rumourwatch.healthdays.BUILT_IN): every year on month-day, lasting `days` days
    ("0040_health_days", """
CREATE TABLE health_days (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    topic TEXT NOT NULL,                 -- one of the 15 Healthy China actions
    month INTEGER NOT NULL,
    day INTEGER NOT NULL,
    days INTEGER NOT NULL DEFAULT 1,
    note TEXT,
    added_by TEXT NOT NULL,
    added_at TEXT NOT NULL,
    removed_by TEXT,                     -- taken off the list: kept, no longer shown
    removed_at TEXT,
    remove_reason TEXT
);
"""),
    # 专家培训 (seed 001, 18: "采取有效方式开展业务培训，提升科普专家的创作能力和应用新媒体技术传播科普知识的
    # 能力"; 15: the pool managed dynamically): a training is for the units' correspondents or for the
    # pool's experts, who are named as the units are
    ("0041_expert_trainings", """
ALTER TABLE trainings ADD COLUMN audience TEXT NOT NULL DEFAULT 'correspondents';
CREATE TABLE training_experts (
    training_id INTEGER NOT NULL REFERENCES trainings(id),
    expert_id INTEGER NOT NULL REFERENCES experts(id),
    PRIMARY KEY (training_id, expert_id)
);
CREATE INDEX idx_training_experts_expert ON training_experts (expert_id);
"""),
    # 事前舆情风险评估 (seed 001, 二: "做好事前舆论研判和风险评估，防患于未然"): an assessment of what the
    # feed says of a policy's or an activity's subject before its day, kept as made
    # (rumourwatch.assessment), and read once its day has passed against what followed
    ("0042_assessments", """
CREATE TABLE assessments (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,                 -- what is planned: a policy, an activity, a piece of work
    query TEXT,                          -- its words, as 条目检索 takes them (NULL: the topic alone)
    topic TEXT,                          -- a Healthy China topic (NULL: any)
    event_day TEXT NOT NULL,             -- the Beijing day it is planned for (YYYY-MM-DD)
    level TEXT NOT NULL CHECK (level IN ('high', 'medium', 'low')),
    report TEXT NOT NULL,                -- the assessment as made (JSON), which its document prints
    made_by TEXT NOT NULL,
    made_at TEXT NOT NULL,
    removed_by TEXT,                     -- saved by mistake: kept, no longer listed
    removed_at TEXT,
    remove_reason TEXT
);
CREATE INDEX idx_assessments_day ON assessments (event_day);
"""),
    # 政务新媒体 (rumourwatch.ownmedia): the office's and its units' own channels, whose posts in the
    # feed are its own publishing, measured for reach and read against what the public talks about
    ("0043_own_accounts", """
CREATE TABLE own_accounts (
    id INTEGER PRIMARY KEY,
    platform TEXT NOT NULL,
    account TEXT NOT NULL,               -- as the feed's items carry it (items.account)
    name TEXT NOT NULL,                  -- the channel's name: 健康吉林
    unit_id INTEGER REFERENCES units(id),  -- the unit that runs it; NULL: the office itself
    note TEXT,
    added_by TEXT NOT NULL,
    added_at TEXT NOT NULL,
    removed_by TEXT,                     -- no longer the office's, or added by mistake: kept, not counted
    removed_at TEXT,
    remove_reason TEXT
);
CREATE UNIQUE INDEX idx_own_accounts_active ON own_accounts (platform, account) WHERE removed_at IS NULL;
"""),
]
