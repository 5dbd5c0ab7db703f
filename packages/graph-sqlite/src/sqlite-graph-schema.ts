/** Version of the table layout, kept in `<prefix>_meta` for future migrations. */
export const GRAPH_SCHEMA_VERSION = '1';

/**
 * The SQL of a {@link SqliteGraphStore}, built once per table prefix. Only the validated prefix is
 * spliced in (as a quoted identifier); every value is a bound parameter.
 *
 * Layout: entities and relations carry the scope as three columns (NULL when unset) for
 * containment matching, plus `scope_key` (core's `scopeKey`) for exact identity. A partial unique
 * index keeps at most one OPEN relation per (scope, source, relation, target), which makes
 * relation upserts idempotent even across connections.
 */
export function buildGraphStatements(prefix: string) {
  const entities = `"${prefix}_entities"`;
  const relations = `"${prefix}_relations"`;
  const meta = `"${prefix}_meta"`;
  const index = (name: string) => `"${prefix}_${name}"`;
  return {
    schema: `
      CREATE TABLE IF NOT EXISTS ${entities} (
        seq INTEGER PRIMARY KEY,
        scope_key TEXT NOT NULL,
        user_id TEXT,
        agent_id TEXT,
        run_id TEXT,
        name TEXT NOT NULL,
        type TEXT NOT NULL,
        embedding BLOB,
        UNIQUE (scope_key, name)
      );
      CREATE INDEX IF NOT EXISTS ${index('entities_user_id')} ON ${entities} (user_id);
      CREATE INDEX IF NOT EXISTS ${index('entities_agent_id')} ON ${entities} (agent_id);
      CREATE INDEX IF NOT EXISTS ${index('entities_run_id')} ON ${entities} (run_id);
      CREATE TABLE IF NOT EXISTS ${relations} (
        seq INTEGER PRIMARY KEY,
        scope_key TEXT NOT NULL,
        user_id TEXT,
        agent_id TEXT,
        run_id TEXT,
        source TEXT NOT NULL,
        relation TEXT NOT NULL,
        target TEXT NOT NULL,
        valid_from INTEGER NOT NULL,
        valid_to INTEGER
      );
      CREATE UNIQUE INDEX IF NOT EXISTS ${index('relations_open')} ON ${relations} (scope_key, source, relation, target) WHERE valid_to IS NULL;
      CREATE INDEX IF NOT EXISTS ${index('relations_source')} ON ${relations} (source, user_id);
      CREATE INDEX IF NOT EXISTS ${index('relations_target')} ON ${relations} (target, user_id);
      CREATE INDEX IF NOT EXISTS ${index('relations_user_id')} ON ${relations} (user_id);
      CREATE INDEX IF NOT EXISTS ${index('relations_agent_id')} ON ${relations} (agent_id);
      CREATE INDEX IF NOT EXISTS ${index('relations_run_id')} ON ${relations} (run_id);
      CREATE TABLE IF NOT EXISTS ${meta} (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
    `,
    drop: `
      DROP TABLE IF EXISTS ${relations};
      DROP TABLE IF EXISTS ${entities};
      DROP TABLE IF EXISTS ${meta};
    `,
    readMeta: `SELECT value FROM ${meta} WHERE key = ?`,
    writeMeta: `INSERT INTO ${meta} (key, value) VALUES (?, ?)`,
    upsertEntity: `
      INSERT INTO ${entities} (scope_key, user_id, agent_id, run_id, name, type, embedding)
      VALUES (@scope_key, @user_id, @agent_id, @run_id, @name, @type, @embedding)
      ON CONFLICT (scope_key, name) DO UPDATE SET type = excluded.type, embedding = excluded.embedding`,
    ensureEndpoint: `
      INSERT INTO ${entities} (scope_key, user_id, agent_id, run_id, name, type, embedding)
      VALUES (@scope_key, @user_id, @agent_id, @run_id, @name, 'entity', NULL)
      ON CONFLICT (scope_key, name) DO NOTHING`,
    insertRelation: `
      INSERT INTO ${relations} (scope_key, user_id, agent_id, run_id, source, relation, target, valid_from, valid_to)
      VALUES (@scope_key, @user_id, @agent_id, @run_id, @source, @relation, @target, @valid_from, NULL)
      ON CONFLICT (scope_key, source, relation, target) WHERE valid_to IS NULL DO NOTHING`,
    invalidate: (scope: string) => `
      UPDATE ${relations} AS m SET valid_to = MAX(@valid_to, m.valid_from)
      WHERE m.valid_to IS NULL AND m.source = @source AND m.relation = @relation AND m.target = @target AND ${scope}`,
    // One hop around the named entities; the names arrive as one JSON array parameter. Two indexed
    // lookups (by source, by target) joined with UNION: an OR across both columns would scan the table.
    neighbors: (scope: string, includeInvalid: boolean) => {
      const open = includeInvalid ? '' : ' AND m.valid_to IS NULL';
      return `
      WITH hits AS (
        SELECT m.seq FROM ${relations} AS m WHERE m.source IN (SELECT value FROM json_each(@names)) AND ${scope}${open}
        UNION
        SELECT m.seq FROM ${relations} AS m WHERE m.target IN (SELECT value FROM json_each(@names)) AND ${scope}${open}
      )
      SELECT m.source, m.relation, m.target, m.user_id, m.agent_id, m.run_id, m.valid_from, m.valid_to
      FROM hits JOIN ${relations} AS m ON m.seq = hits.seq
      ORDER BY m.valid_from DESC, m.seq DESC
      LIMIT @limit`;
    },
    // Exact cosine over the entities of the scope only (scope columns are indexed).
    searchEntities: (scope: string, withThreshold: boolean) => `
      SELECT name, type, user_id, agent_id, run_id, score FROM (
        SELECT m.seq, m.name, m.type, m.user_id, m.agent_id, m.run_id, 1.0 - COALESCE(vec_distance_cosine(m.embedding, @vector), 1.0) AS score
        FROM ${entities} AS m
        WHERE m.embedding IS NOT NULL AND ${scope}
      )${withThreshold ? ' WHERE score >= @threshold' : ''}
      ORDER BY score DESC, seq
      LIMIT @limit`,
    deleteRelations: (scope: string) => `DELETE FROM ${relations} AS m WHERE ${scope}`,
    deleteEntities: (scope: string) => `DELETE FROM ${entities} AS m WHERE ${scope}`,
    resetRelations: `DELETE FROM ${relations}`,
    resetEntities: `DELETE FROM ${entities}`,
  };
}
