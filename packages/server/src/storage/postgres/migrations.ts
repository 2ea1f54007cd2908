/**
 * The PostgreSQL schema, as versioned migrations: the same tables and columns as the SQLite ones.
 * Keys use the "C" collation so ordering matches SQLite's byte order.
 */
import type pg from 'pg';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Advisory lock id that serialises migrations when several nodes start at once. */
const MIGRATION_LOCK_ID = 4_242_001;

export const POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
      CREATE TABLE environments (
        key TEXT COLLATE "C" PRIMARY KEY,
        name TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        config_version BIGINT NOT NULL,
        committed_at BIGINT NOT NULL
      );
      CREATE TABLE flags (
        key TEXT COLLATE "C" PRIMARY KEY,
        document TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        archived SMALLINT NOT NULL DEFAULT 0,
        revision INTEGER NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      );
      CREATE TABLE segments (
        key TEXT COLLATE "C" PRIMARY KEY,
        document TEXT NOT NULL,
        revision INTEGER NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      );
      CREATE TABLE client_keys (
        id TEXT COLLATE "C" PRIMARY KEY,
        name TEXT NOT NULL,
        environment TEXT NOT NULL REFERENCES environments(key),
        kind TEXT NOT NULL CHECK (kind IN ('server', 'browser')),
        allowed_origins TEXT NOT NULL,
        prefix TEXT NOT NULL,
        key_hash TEXT NOT NULL UNIQUE,
        created_at BIGINT NOT NULL,
        revoked_at BIGINT
      );
      CREATE INDEX client_keys_environment ON client_keys (environment);
      CREATE TABLE admin_tokens (
        id TEXT COLLATE "C" PRIMARY KEY,
        name TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        created_at BIGINT NOT NULL,
        revoked_at BIGINT
      );
      CREATE TABLE audit_log (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at BIGINT NOT NULL,
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
      CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'audit_log is append-only'; END;
      $$;
      CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
        FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
    `,
  },
  {
    version: 2,
    name: 'metrics, surfaces, rollouts and event analysis',
    sql: `
      CREATE TABLE metrics (
        key TEXT COLLATE "C" PRIMARY KEY,
        document TEXT NOT NULL,
        revision INTEGER NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      );
      CREATE TABLE surfaces (
        key TEXT COLLATE "C" PRIMARY KEY,
        document TEXT NOT NULL,
        revision INTEGER NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      );
      CREATE TABLE rollouts (
        id TEXT COLLATE "C" PRIMARY KEY,
        flag TEXT COLLATE "C" NOT NULL,
        environment TEXT NOT NULL REFERENCES environments(key),
        treatment TEXT NOT NULL,
        control TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('draft', 'running', 'paused', 'rolled_back', 'holding', 'completed')),
        stage INTEGER NOT NULL,
        reach DOUBLE PRECISION NOT NULL,
        attempt INTEGER NOT NULL,
        guardrails TEXT NOT NULL,
        metrics TEXT NOT NULL,
        plan TEXT,
        state_doc TEXT,
        revision INTEGER NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      );
      CREATE INDEX rollouts_environment_state ON rollouts (environment, state);
      CREATE UNIQUE INDEX rollouts_one_active ON rollouts (flag, environment)
        WHERE state IN ('running', 'paused', 'holding', 'rolled_back');
      CREATE TABLE event_batches (
        environment TEXT COLLATE "C" NOT NULL,
        batch_id TEXT COLLATE "C" NOT NULL,
        received_at BIGINT NOT NULL,
        answer TEXT NOT NULL,
        PRIMARY KEY (environment, batch_id)
      );
      CREATE INDEX event_batches_received ON event_batches (received_at);
      CREATE TABLE track_events (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        environment TEXT COLLATE "C" NOT NULL,
        unit TEXT COLLATE "C" NOT NULL,
        name TEXT NOT NULL,
        ts BIGINT NOT NULL,
        value DOUBLE PRECISION
      );
      CREATE INDEX track_events_unit ON track_events (environment, unit, ts);
      CREATE TABLE epochs (
        rollout_id TEXT COLLATE "C" NOT NULL,
        attempt INTEGER NOT NULL,
        unit TEXT COLLATE "C" NOT NULL,
        arm TEXT NOT NULL CHECK (arm IN ('treatment', 'control')),
        cohort INTEGER NOT NULL,
        start_at BIGINT NOT NULL,
        end_at BIGINT,
        vals TEXT NOT NULL,
        PRIMARY KEY (rollout_id, attempt, unit, arm)
      );
      CREATE TABLE cohort_stats (
        rollout_id TEXT COLLATE "C" NOT NULL,
        attempt INTEGER NOT NULL,
        cohort INTEGER NOT NULL,
        arm TEXT NOT NULL,
        metric TEXT COLLATE "C" NOT NULL,
        n BIGINT NOT NULL,
        sum_y DOUBLE PRECISION NOT NULL,
        sum_y2 DOUBLE PRECISION NOT NULL,
        sum_d DOUBLE PRECISION NOT NULL,
        sum_d2 DOUBLE PRECISION NOT NULL,
        sum_yd DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (rollout_id, attempt, cohort, arm, metric)
      );
      CREATE TABLE cohort_units (
        rollout_id TEXT COLLATE "C" NOT NULL,
        attempt INTEGER NOT NULL,
        cohort INTEGER NOT NULL,
        arm TEXT NOT NULL,
        epochs BIGINT NOT NULL,
        assigned BIGINT NOT NULL,
        PRIMARY KEY (rollout_id, attempt, cohort, arm)
      );
    `,
  },
  {
    version: 3,
    name: 'rollout decisions and stated traffic',
    sql: `
      ALTER TABLE rollouts ADD COLUMN traffic TEXT;
      CREATE TABLE rollout_decisions (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        rollout_id TEXT COLLATE "C" NOT NULL REFERENCES rollouts(id),
        attempt INTEGER NOT NULL,
        at BIGINT NOT NULL,
        action TEXT NOT NULL CHECK (action IN ('rollback', 'advance', 'hold', 'complete')),
        rule TEXT NOT NULL,
        reason TEXT NOT NULL,
        applied BOOLEAN NOT NULL,
        evidence TEXT NOT NULL
      );
      CREATE INDEX rollout_decisions_rollout ON rollout_decisions (rollout_id, id);
    `,
  },
  {
    version: 4,
    name: 'client-reported events and per-key event quotas',
    sql: `
      ALTER TABLE track_events ADD COLUMN client SMALLINT NOT NULL DEFAULT 0;
      ALTER TABLE client_keys ADD COLUMN events_per_minute INTEGER;
    `,
  },
  {
    version: 5,
    name: 'leases with fencing epochs',
    sql: `
      CREATE TABLE leases (
        name TEXT COLLATE "C" PRIMARY KEY,
        holder TEXT NOT NULL,
        epoch BIGINT NOT NULL,
        expires_at TIMESTAMPTZ NOT NULL
      );
    `,
  },
  {
    version: 6,
    name: 'per-key rate limits',
    sql: `
      ALTER TABLE client_keys ADD COLUMN rate_limit_per_minute BIGINT;
    `,
  },
  {
    version: 7,
    name: 'third-order sums of the cohort statistics',
    // NULL on rows written before this migration: NULL plus a change stays NULL, so such a row reports its
    // skewness as unknown instead of a sum that misses the units counted before.
    sql: `
      ALTER TABLE cohort_stats ADD COLUMN sum_y3 DOUBLE PRECISION,
        ADD COLUMN sum_y2d DOUBLE PRECISION,
        ADD COLUMN sum_yd2 DOUBLE PRECISION,
        ADD COLUMN sum_d3 DOUBLE PRECISION;
    `,
  },
  {
    version: 8,
    name: 'experiments and their recorded results',
    sql: `
      CREATE TABLE experiments (
        id TEXT COLLATE "C" PRIMARY KEY,
        flag TEXT COLLATE "C" NOT NULL,
        environment TEXT NOT NULL REFERENCES environments(key),
        status TEXT NOT NULL CHECK (status IN ('draft', 'running', 'stopped', 'shipped', 'aborted')),
        metrics TEXT NOT NULL,
        plan TEXT NOT NULL,
        state_doc TEXT NOT NULL,
        traffic TEXT,
        auto_abort BOOLEAN NOT NULL,
        rollout TEXT,
        revision INTEGER NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      );
      CREATE INDEX experiments_flag ON experiments (flag, environment);
      CREATE UNIQUE INDEX experiments_one_running ON experiments (flag, environment) WHERE status = 'running';
      CREATE TABLE experiment_results (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        experiment_id TEXT COLLATE "C" NOT NULL REFERENCES experiments(id),
        at BIGINT NOT NULL,
        recommendation TEXT NOT NULL,
        applied BOOLEAN NOT NULL,
        decision TEXT NOT NULL
      );
      CREATE INDEX experiment_results_experiment ON experiment_results (experiment_id, id);
    `,
  },
  {
    version: 9,
    name: 'webhook outbox',
    // One row per notice and URL, written in the transaction of the change it reports; every node's delivery
    // loop claims due rows (next_attempt_at doubles as the claim's expiry) until delivered or given up.
    sql: `
      CREATE TABLE webhook_outbox (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        delivery_id TEXT NOT NULL,
        url TEXT NOT NULL,
        type TEXT NOT NULL,
        body TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        next_attempt_at BIGINT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        delivered_at BIGINT,
        given_up_at BIGINT,
        UNIQUE (delivery_id, url)
      );
      CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at)
        WHERE delivered_at IS NULL AND given_up_at IS NULL;
    `,
  },
  {
    version: 10,
    name: 'epochs of any analysis: experiment variants and holdbacks as arms',
    // rollout_id holds the analysis id (a rollout's id, experiment:<id>, holdback:<surface>) and arm any arm name.
    sql: `
      ALTER TABLE epochs DROP CONSTRAINT IF EXISTS epochs_arm_check;
    `,
  },
  {
    version: 11,
    name: 'decision log folds identical holds; chart looks',
    // Existing consecutive identical looks that applied nothing (same attempt, action, rule, stage and status)
    // are folded into their newest row with its count and first time, as the store now writes them; every look
    // is first copied to rollout_looks with its stored evidence, from which the chart reads its points.
    sql: `
      ALTER TABLE rollout_decisions ADD COLUMN count INTEGER NOT NULL DEFAULT 1,
        ADD COLUMN first_at BIGINT,
        ADD COLUMN seq BIGINT;
      CREATE TABLE rollout_looks (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        rollout_id TEXT COLLATE "C" NOT NULL REFERENCES rollouts(id),
        attempt INTEGER NOT NULL,
        at BIGINT NOT NULL,
        stage INTEGER NOT NULL,
        reach DOUBLE PRECISION NOT NULL,
        action TEXT NOT NULL,
        applied BOOLEAN NOT NULL,
        points TEXT,
        evidence TEXT
      );
      CREATE INDEX rollout_looks_rollout ON rollout_looks (rollout_id, id);
      INSERT INTO rollout_looks (rollout_id, attempt, at, stage, reach, action, applied, points, evidence)
        SELECT rollout_id, attempt, at, COALESCE((evidence::jsonb->>'stageIndex')::integer, 0),
          COALESCE((evidence::jsonb->>'reach')::double precision, 0), action, applied, NULL, evidence
        FROM rollout_decisions ORDER BY id;
      CREATE TEMP TABLE decision_runs ON COMMIT DROP AS
        WITH keyed AS (
          SELECT id, rollout_id, at,
            attempt::text || '|' || action || '|' || rule || '|' || COALESCE(evidence::jsonb->>'stageIndex', '')
              || '|' || COALESCE(evidence::jsonb->>'status', '') || '|'
              || CASE WHEN applied THEN id ELSE 0 END AS k
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
      UPDATE rollout_decisions SET seq = id, first_at = COALESCE(first_at, at);
      CREATE INDEX rollout_decisions_seq ON rollout_decisions (rollout_id, seq);
    `,
  },
  {
    version: 12,
    name: 'quantile metrics: histograms per cohort and arm, per-epoch values by bucket',
    sql: `
      CREATE TABLE quantile_stats (
        rollout_id TEXT COLLATE "C" NOT NULL,
        attempt INTEGER NOT NULL,
        cohort INTEGER NOT NULL,
        arm TEXT NOT NULL,
        metric TEXT COLLATE "C" NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (rollout_id, attempt, cohort, arm, metric)
      );
      ALTER TABLE epochs ADD COLUMN qvals TEXT;
    `,
  },
  {
    version: 13,
    name: 'people: admin token roles and owners, sign-in sessions, role grants, approvals',
    sql: `
      ALTER TABLE admin_tokens ADD COLUMN role TEXT NOT NULL DEFAULT 'admin'
        CHECK (role IN ('viewer', 'editor', 'releaser', 'admin')),
        ADD COLUMN owner TEXT;
      CREATE TABLE sessions (
        id TEXT COLLATE "C" PRIMARY KEY,
        token_hash TEXT NOT NULL UNIQUE,
        csrf_hash TEXT NOT NULL,
        actor TEXT NOT NULL,
        subject TEXT NOT NULL,
        name TEXT,
        email TEXT,
        groups_json TEXT NOT NULL,
        via TEXT NOT NULL CHECK (via IN ('browser', 'device')),
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        revoked_at BIGINT
      );
      CREATE INDEX sessions_expiry ON sessions (expires_at);
      CREATE TABLE role_grants (
        id TEXT COLLATE "C" PRIMARY KEY,
        subject TEXT NOT NULL,
        environment TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'releaser', 'admin')),
        created_at BIGINT NOT NULL,
        created_by TEXT NOT NULL,
        UNIQUE (subject, environment)
      );
      CREATE TABLE approvals (
        id TEXT COLLATE "C" PRIMARY KEY,
        resource_type TEXT NOT NULL CHECK (resource_type IN ('rollout', 'experiment')),
        resource_id TEXT NOT NULL,
        action TEXT NOT NULL CHECK (action IN ('start', 'advance')),
        approver TEXT NOT NULL,
        version INTEGER NOT NULL,
        digest TEXT NOT NULL,
        comment TEXT,
        at BIGINT NOT NULL
      );
      CREATE INDEX approvals_resource ON approvals (resource_type, resource_id, at);
    `,
  },
];

/** Applies the migrations not yet recorded in `schema_migrations` (in the current search_path); returns the versions applied. */
export async function migratePostgres(
  client: pg.ClientBase,
  migrations: readonly Migration[] = POSTGRES_MIGRATIONS,
): Promise<number[]> {
  const done: number[] = [];
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_ID]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)',
    );
    const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
    const applied = new Set(rows.map((r) => Number(r.version)));
    for (const migration of migrations) {
      if (applied.has(migration.version)) continue;
      await client.query(migration.sql);
      await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
        migration.version,
        migration.name,
        Date.now(),
      ]);
      done.push(migration.version);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  }
  return done;
}
