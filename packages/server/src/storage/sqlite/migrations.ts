/**
 * The SQLite schema, as versioned migrations. Never edit an applied migration: add a new one.
 * The PostgreSQL migrations (storage/postgres/migrations.ts) define the same tables and columns.
 */
import type Database from 'better-sqlite3';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const SQLITE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
      CREATE TABLE environments (
        key TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        config_version INTEGER NOT NULL,
        committed_at INTEGER NOT NULL
      );
      CREATE TABLE flags (
        key TEXT PRIMARY KEY,
        document TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        archived INTEGER NOT NULL DEFAULT 0,
        revision INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE TABLE segments (
        key TEXT PRIMARY KEY,
        document TEXT NOT NULL,
        revision INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE TABLE client_keys (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        environment TEXT NOT NULL REFERENCES environments(key),
        kind TEXT NOT NULL CHECK (kind IN ('server', 'browser')),
        allowed_origins TEXT NOT NULL,
        prefix TEXT NOT NULL,
        key_hash TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER
      );
      CREATE INDEX client_keys_environment ON client_keys (environment);
      CREATE TABLE admin_tokens (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER
      );
      CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        resource_type TEXT NOT NULL,
        resource_key TEXT NOT NULL,
        environment TEXT,
        before_doc TEXT,
        after_doc TEXT
      );
      CREATE INDEX audit_log_resource ON audit_log (resource_type, resource_key, id);
      CREATE INDEX audit_log_at ON audit_log (at);
      CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
      CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
    `,
  },
  {
    version: 2,
    name: 'metrics, surfaces, rollouts and event analysis',
    sql: `
      CREATE TABLE metrics (
        key TEXT PRIMARY KEY,
        document TEXT NOT NULL,
        revision INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE TABLE surfaces (
        key TEXT PRIMARY KEY,
        document TEXT NOT NULL,
        revision INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE TABLE rollouts (
        id TEXT PRIMARY KEY,
        flag TEXT NOT NULL,
        environment TEXT NOT NULL REFERENCES environments(key),
        treatment TEXT NOT NULL,
        control TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('draft', 'running', 'paused', 'rolled_back', 'holding', 'completed')),
        stage INTEGER NOT NULL,
        reach REAL NOT NULL,
        attempt INTEGER NOT NULL,
        guardrails TEXT NOT NULL,
        metrics TEXT NOT NULL,
        plan TEXT,
        state_doc TEXT,
        revision INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX rollouts_environment_state ON rollouts (environment, state);
      CREATE UNIQUE INDEX rollouts_one_active ON rollouts (flag, environment)
        WHERE state IN ('running', 'paused', 'holding', 'rolled_back');
      CREATE TABLE event_batches (
        environment TEXT NOT NULL,
        batch_id TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        answer TEXT NOT NULL,
        PRIMARY KEY (environment, batch_id)
      ) WITHOUT ROWID;
      CREATE INDEX event_batches_received ON event_batches (received_at);
      CREATE TABLE track_events (
        id INTEGER PRIMARY KEY,
        environment TEXT NOT NULL,
        unit TEXT NOT NULL,
        name TEXT NOT NULL,
        ts INTEGER NOT NULL,
        value REAL
      );
      CREATE INDEX track_events_unit ON track_events (environment, unit, ts);
      CREATE TABLE epochs (
        rollout_id TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        unit TEXT NOT NULL,
        arm TEXT NOT NULL CHECK (arm IN ('treatment', 'control')),
        cohort INTEGER NOT NULL,
        start_at INTEGER NOT NULL,
        end_at INTEGER,
        vals TEXT NOT NULL,
        PRIMARY KEY (rollout_id, attempt, unit, arm)
      ) WITHOUT ROWID;
      CREATE TABLE cohort_stats (
        rollout_id TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        cohort INTEGER NOT NULL,
        arm TEXT NOT NULL,
        metric TEXT NOT NULL,
        n INTEGER NOT NULL,
        sum_y REAL NOT NULL,
        sum_y2 REAL NOT NULL,
        sum_d REAL NOT NULL,
        sum_d2 REAL NOT NULL,
        sum_yd REAL NOT NULL,
        PRIMARY KEY (rollout_id, attempt, cohort, arm, metric)
      ) WITHOUT ROWID;
      CREATE TABLE cohort_units (
        rollout_id TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        cohort INTEGER NOT NULL,
        arm TEXT NOT NULL,
        epochs INTEGER NOT NULL,
        assigned INTEGER NOT NULL,
        PRIMARY KEY (rollout_id, attempt, cohort, arm)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 3,
    name: 'rollout decisions and stated traffic',
    sql: `
      ALTER TABLE rollouts ADD COLUMN traffic TEXT;
      CREATE TABLE rollout_decisions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        rollout_id TEXT NOT NULL REFERENCES rollouts(id),
        attempt INTEGER NOT NULL,
        at INTEGER NOT NULL,
        action TEXT NOT NULL CHECK (action IN ('rollback', 'advance', 'hold', 'complete')),
        rule TEXT NOT NULL,
        reason TEXT NOT NULL,
        applied INTEGER NOT NULL,
        evidence TEXT NOT NULL
      );
      CREATE INDEX rollout_decisions_rollout ON rollout_decisions (rollout_id, id);
    `,
  },
  {
    version: 4,
    name: 'client-reported events and per-key event quotas',
    sql: `
      ALTER TABLE track_events ADD COLUMN client INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE client_keys ADD COLUMN events_per_minute INTEGER;
    `,
  },
  {
    version: 5,
    name: 'per-key rate limits',
    sql: `
      ALTER TABLE client_keys ADD COLUMN rate_limit_per_minute INTEGER;
    `,
  },
  {
    version: 6,
    name: 'third-order sums of the cohort statistics',
    // NULL on rows written before this migration: NULL plus a change stays NULL, so such a row reports its
    // skewness as unknown instead of a sum that misses the units counted before.
    sql: `
      ALTER TABLE cohort_stats ADD COLUMN sum_y3 REAL;
      ALTER TABLE cohort_stats ADD COLUMN sum_y2d REAL;
      ALTER TABLE cohort_stats ADD COLUMN sum_yd2 REAL;
      ALTER TABLE cohort_stats ADD COLUMN sum_d3 REAL;
    `,
  },
  {
    version: 7,
    name: 'experiments and their recorded results',
    sql: `
      CREATE TABLE experiments (
        id TEXT PRIMARY KEY,
        flag TEXT NOT NULL,
        environment TEXT NOT NULL REFERENCES environments(key),
        status TEXT NOT NULL CHECK (status IN ('draft', 'running', 'stopped', 'shipped', 'aborted')),
        metrics TEXT NOT NULL,
        plan TEXT NOT NULL,
        state_doc TEXT NOT NULL,
        traffic TEXT,
        auto_abort INTEGER NOT NULL,
        rollout TEXT,
        revision INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX experiments_flag ON experiments (flag, environment);
      CREATE UNIQUE INDEX experiments_one_running ON experiments (flag, environment) WHERE status = 'running';
      CREATE TABLE experiment_results (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        experiment_id TEXT NOT NULL REFERENCES experiments(id),
        at INTEGER NOT NULL,
        recommendation TEXT NOT NULL,
        applied INTEGER NOT NULL,
        decision TEXT NOT NULL
      );
      CREATE INDEX experiment_results_experiment ON experiment_results (experiment_id, id);
    `,
  },
  {
    version: 8,
    name: 'webhook outbox',
    // One row per notice and URL, written in the transaction of the change it reports; every node's delivery
    // loop claims due rows (next_attempt_at doubles as the claim's expiry) until delivered or given up.
    sql: `
      CREATE TABLE webhook_outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        delivery_id TEXT NOT NULL,
        url TEXT NOT NULL,
        type TEXT NOT NULL,
        body TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        next_attempt_at INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        delivered_at INTEGER,
        given_up_at INTEGER,
        UNIQUE (delivery_id, url)
      );
      CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at)
        WHERE delivered_at IS NULL AND given_up_at IS NULL;
    `,
  },
  {
    version: 9,
    name: 'epochs of any analysis: experiment variants and holdbacks as arms',
    // rollout_id holds the analysis id (a rollout's id, experiment:<id>, holdback:<surface>) and arm any arm
    // name, so the arm check goes: SQLite drops a check only by rebuilding the table.
    sql: `
      CREATE TABLE epochs_any_arm (
        rollout_id TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        unit TEXT NOT NULL,
        arm TEXT NOT NULL,
        cohort INTEGER NOT NULL,
        start_at INTEGER NOT NULL,
        end_at INTEGER,
        vals TEXT NOT NULL,
        PRIMARY KEY (rollout_id, attempt, unit, arm)
      ) WITHOUT ROWID;
      INSERT INTO epochs_any_arm SELECT rollout_id, attempt, unit, arm, cohort, start_at, end_at, vals FROM epochs;
      DROP TABLE epochs;
      ALTER TABLE epochs_any_arm RENAME TO epochs;
    `,
  },
  {
    version: 10,
    name: 'decision log folds identical holds; chart looks',
    // Existing consecutive identical looks that applied nothing (same attempt, action, rule, stage and status)
    // are folded into their newest row with its count and first time, as the store now writes them; every look
    // is first copied to rollout_looks with its stored evidence, from which the chart reads its points.
    sql: `
      ALTER TABLE rollout_decisions ADD COLUMN count INTEGER NOT NULL DEFAULT 1;
      ALTER TABLE rollout_decisions ADD COLUMN first_at INTEGER;
      ALTER TABLE rollout_decisions ADD COLUMN seq INTEGER;
      CREATE TABLE rollout_looks (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        rollout_id TEXT NOT NULL REFERENCES rollouts(id),
        attempt INTEGER NOT NULL,
        at INTEGER NOT NULL,
        stage INTEGER NOT NULL,
        reach REAL NOT NULL,
        action TEXT NOT NULL,
        applied INTEGER NOT NULL,
        points TEXT,
        evidence TEXT
      );
      CREATE INDEX rollout_looks_rollout ON rollout_looks (rollout_id, id);
      INSERT INTO rollout_looks (rollout_id, attempt, at, stage, reach, action, applied, points, evidence)
        SELECT rollout_id, attempt, at, COALESCE(json_extract(evidence, '$.stageIndex'), 0),
          COALESCE(json_extract(evidence, '$.reach'), 0), action, applied, NULL, evidence
        FROM rollout_decisions ORDER BY id;
      CREATE TEMP TABLE decision_runs AS
        WITH keyed AS (
          SELECT id, rollout_id, at,
            attempt || '|' || action || '|' || rule || '|' || COALESCE(json_extract(evidence, '$.stageIndex'), '')
              || '|' || COALESCE(json_extract(evidence, '$.status'), '') || '|'
              || CASE WHEN applied = 1 THEN id ELSE 0 END AS k
          FROM rollout_decisions
        ), runs AS (
          SELECT id, rollout_id, at, k,
            ROW_NUMBER() OVER (PARTITION BY rollout_id ORDER BY id)
              - ROW_NUMBER() OVER (PARTITION BY rollout_id, k ORDER BY id) AS grp
          FROM keyed
        )
        SELECT MAX(id) AS keep, COUNT(*) AS n, MIN(at) AS first FROM runs GROUP BY rollout_id, k, grp;
      UPDATE rollout_decisions SET
        count = (SELECT n FROM decision_runs WHERE keep = rollout_decisions.id),
        first_at = (SELECT first FROM decision_runs WHERE keep = rollout_decisions.id)
        WHERE id IN (SELECT keep FROM decision_runs);
      DELETE FROM rollout_decisions WHERE id NOT IN (SELECT keep FROM decision_runs);
      DROP TABLE decision_runs;
      UPDATE rollout_decisions SET seq = id, first_at = COALESCE(first_at, at);
      CREATE INDEX rollout_decisions_seq ON rollout_decisions (rollout_id, seq);
    `,
  },
  {
    version: 11,
    name: 'quantile metrics: histograms per cohort and arm, per-epoch values by bucket',
    sql: `
      CREATE TABLE quantile_stats (
        rollout_id TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        cohort INTEGER NOT NULL,
        arm TEXT NOT NULL,
        metric TEXT NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (rollout_id, attempt, cohort, arm, metric)
      );
      ALTER TABLE epochs ADD COLUMN qvals TEXT;
    `,
  },
  {
    version: 12,
    name: 'people: admin token roles and owners, sign-in sessions, role grants, approvals',
    sql: `
      ALTER TABLE admin_tokens ADD COLUMN role TEXT NOT NULL DEFAULT 'admin'
        CHECK (role IN ('viewer', 'editor', 'releaser', 'admin'));
      ALTER TABLE admin_tokens ADD COLUMN owner TEXT;
      CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        token_hash TEXT NOT NULL UNIQUE,
        csrf_hash TEXT NOT NULL,
        actor TEXT NOT NULL,
        subject TEXT NOT NULL,
        name TEXT,
        email TEXT,
        groups_json TEXT NOT NULL,
        via TEXT NOT NULL CHECK (via IN ('browser', 'device')),
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        revoked_at INTEGER
      );
      CREATE INDEX sessions_expiry ON sessions (expires_at);
      CREATE TABLE role_grants (
        id TEXT PRIMARY KEY,
        subject TEXT NOT NULL,
        environment TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'releaser', 'admin')),
        created_at INTEGER NOT NULL,
        created_by TEXT NOT NULL,
        UNIQUE (subject, environment)
      );
      CREATE TABLE approvals (
        id TEXT PRIMARY KEY,
        resource_type TEXT NOT NULL CHECK (resource_type IN ('rollout', 'experiment')),
        resource_id TEXT NOT NULL,
        action TEXT NOT NULL CHECK (action IN ('start', 'advance')),
        approver TEXT NOT NULL,
        version INTEGER NOT NULL,
        digest TEXT NOT NULL,
        comment TEXT,
        at INTEGER NOT NULL
      );
      CREATE INDEX approvals_resource ON approvals (resource_type, resource_id, at);
    `,
  },
];

/** Applies the migrations not yet recorded in `schema_migrations`, each in its own transaction; returns the versions applied. */
export function migrateSqlite(
  db: Database.Database,
  migrations: readonly Migration[] = SQLITE_MIGRATIONS,
): number[] {
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
  );
  const applied = new Set(
    (db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map(
      (r) => r.version,
    ),
  );
  const done: number[] = [];
  for (const migration of migrations) {
    if (applied.has(migration.version)) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        migration.version,
        migration.name,
        Date.now(),
      );
    }).immediate();
    done.push(migration.version);
  }
  return done;
}
