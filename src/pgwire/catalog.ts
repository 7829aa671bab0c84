/**
 * Catalog questions clients ask, answered by DuckDB queries over its own catalog functions with the
 * columns each client expects. DuckDB's pg_catalog is partial and its `~` is a full match, so these
 * queries are recognised by their shape (each client sends a fixed text) and rewritten:
 *
 *   psql 15    \dt [PATTERN], \d (list), \d NAME (pg_class lookup, relkind row, pg_attribute columns, empty
 *              footers: indexes, policies, statistics, publications, inheritance), \l, \dn
 *   pgjdbc     DatabaseMetaData.getTables (… AS TABLE_SCHEM … AS TABLE_TYPE …), getSchemas, getColumns
 *   R          RPostgreSQL dbListTables (pg_tables), dbListFields / dbExistsTable (pg_class ⋈ pg_attribute)
 *   any        SELECT … FROM pg_tables / information_schema.tables|columns with table_schema = 'public'
 *
 * Lake tables are views in DuckDB; to clients they are tables (relkind 'r') in schema `public`.
 * Anything not recognised goes to DuckDB unchanged (its pg_catalog answers many simple questions).
 */

/** Every relation a session sees: DuckDB views and tables of schema main, with DuckDB's OIDs. */
const REL = `(SELECT view_oid AS oid, view_name AS relname FROM duckdb_views() WHERE schema_name = 'main' AND NOT internal AND NOT temporary
  UNION ALL SELECT table_oid, table_name FROM duckdb_tables() WHERE schema_name = 'main' AND NOT internal AND NOT temporary)`;

/** DuckDB's type name as PostgreSQL's format_type() writes it. */
const FORMAT_TYPE = `CASE
  WHEN data_type = 'VARCHAR' THEN 'character varying' WHEN data_type = 'INTEGER' THEN 'integer' WHEN data_type = 'BIGINT' THEN 'bigint'
  WHEN data_type IN ('SMALLINT', 'TINYINT', 'UTINYINT') THEN 'smallint' WHEN data_type = 'DOUBLE' THEN 'double precision' WHEN data_type = 'FLOAT' THEN 'real'
  WHEN data_type = 'BOOLEAN' THEN 'boolean' WHEN data_type = 'DATE' THEN 'date' WHEN data_type = 'TIME' THEN 'time without time zone'
  WHEN data_type LIKE 'TIMESTAMP WITH TIME ZONE' THEN 'timestamp with time zone' WHEN data_type LIKE 'TIMESTAMP%' THEN 'timestamp without time zone'
  WHEN data_type LIKE 'DECIMAL%' THEN replace(lower(data_type), 'decimal', 'numeric') WHEN data_type IN ('HUGEINT', 'UBIGINT', 'UHUGEINT') THEN 'numeric'
  WHEN data_type = 'BLOB' THEN 'bytea' WHEN data_type = 'INTERVAL' THEN 'interval' WHEN data_type = 'UUID' THEN 'uuid' WHEN data_type = 'USMALLINT' THEN 'integer'
  WHEN data_type = 'UINTEGER' THEN 'bigint' ELSE 'text' END`;

/** Columns of each relation (views included), with the relation's OID. */
const COLS = `(SELECT r.oid AS attrelid, r.relname, c.column_name AS attname, c.ordinal_position AS attnum, c.data_type,
  ${FORMAT_TYPE} AS format_type, CASE WHEN c.is_nullable = 'NO' THEN true ELSE false END AS attnotnull
  FROM ${REL} r JOIN information_schema.columns c ON c.table_schema = 'main' AND c.table_name = r.relname)`;

const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** The regular expression psql built from a pattern (`c.relname OPERATOR(pg_catalog.~) '^(x)$'`), if any. */
function relnamePattern(sql: string): string | undefined {
  const m = /c\.relname\s+OPERATOR\(pg_catalog\.~\)\s+'((?:[^']|'')*)'/.exec(sql);
  return m ? m[1]!.replace(/''/g, "'") : undefined;
}

const quotedOid = (sql: string, column: string) => new RegExp(`${column.replace('.', '\\.')}\\s*=\\s*'?(\\d+)'?`).exec(sql)?.[1];

interface Rule {
  /** Every one must match. */
  when: RegExp[];
  answer(sql: string, user: string): string;
}

const EMPTY_FOOTERS = /pg_catalog\.(pg_index|pg_policy|pg_statistic_ext|pg_publication|pg_inherits|pg_trigger|pg_rewrite|pg_foreign_table|pg_event_trigger)\b/;

const RULES: Rule[] = [
  {
    // psql \dt, \dv, \d (no argument): Schema, Name, Type, Owner
    when: [/FROM pg_catalog\.pg_class c/, /as "Schema"/i, /as "Owner"/i, /c\.relkind IN \(/],
    answer(sql, user) {
      const wantsTables = /c\.relkind IN \([^)]*'r'/.test(sql);
      const pat = relnamePattern(sql);
      const extra = /as "Size"/i.test(sql) ? `, 'permanent' AS "Persistence", 'heap' AS "Access method", '0 bytes' AS "Size", NULL::VARCHAR AS "Description"` : '';
      return `SELECT 'public' AS "Schema", relname AS "Name", 'table' AS "Type", ${lit(user)} AS "Owner"${extra} FROM ${REL}
        WHERE ${wantsTables ? 'true' : 'false'}${pat ? ` AND regexp_matches(relname, ${lit(pat)})` : ''} ORDER BY 1, 2`;
    },
  },
  {
    // psql \d NAME, step 1: which relations match
    when: [/^\s*SELECT c\.oid,\s*n\.nspname,\s*c\.relname\s+FROM pg_catalog\.pg_class c/],
    answer(sql) {
      const pat = relnamePattern(sql);
      return `SELECT oid, 'public' AS nspname, relname FROM ${REL}${pat ? ` WHERE regexp_matches(relname, ${lit(pat)})` : ''} ORDER BY 2, 3`;
    },
  },
  {
    // psql \d NAME, step 2: the relation's kind and flags
    when: [/^\s*SELECT c\.relchecks, c\.relkind, c\.relhasindex/],
    answer(sql) {
      const oid = quotedOid(sql, 'c.oid') ?? '-1';
      return `SELECT 0 AS relchecks, 'r' AS relkind, false AS relhasindex, false AS relhasrules, false AS relhastriggers,
        false AS relrowsecurity, false AS relforcerowsecurity, false AS relhasoids, false AS relispartition, '' AS "?column?",
        0 AS reltablespace, '' AS reloftype, 'p' AS relpersistence, 'd' AS relreplident, 'heap' AS amname FROM ${REL} WHERE oid = ${Number(oid)}`;
    },
  },
  {
    // psql \d NAME, step 3: the columns
    when: [/^\s*SELECT a\.attname,\s*pg_catalog\.format_type\(a\.atttypid, a\.atttypmod\)/, /FROM pg_catalog\.pg_attribute a/],
    answer(sql) {
      const oid = quotedOid(sql, 'a.attrelid') ?? '-1';
      const n = (/\ba\.attgenerated\b/.test(sql) ? 7 : 6);
      const cols = [`attname`, `format_type`, `NULL::VARCHAR AS "default"`, `attnotnull`, `NULL::VARCHAR AS attcollation`, `'' AS attidentity`, `'' AS attgenerated`].slice(0, n);
      return `SELECT ${cols.join(', ')} FROM ${COLS} WHERE attrelid = ${Number(oid)} ORDER BY attnum`;
    },
  },
  {
    // psql \d NAME footers, pg_description lookups …: nothing of that kind here
    when: [EMPTY_FOOTERS],
    answer: () => `SELECT NULL::VARCHAR AS "?column?" WHERE false`,
  },
  {
    // psql \l
    when: [/FROM pg_catalog\.pg_database d/, /as "Name"/i],
    answer: (sql, user) => `SELECT 'smartcar' AS "Name", ${lit(user)} AS "Owner", 'UTF8' AS "Encoding", 'C' AS "Collate", 'C' AS "Ctype"${/ICU Locale/.test(sql) ? `, NULL::VARCHAR AS "ICU Locale", 'libc' AS "Locale Provider"` : ''}, NULL::VARCHAR AS "Access privileges"`,
  },
  {
    // psql \dn
    when: [/FROM pg_catalog\.pg_namespace n/, /AS "Name"/i, /AS "Owner"/i],
    answer: (_sql, user) => `SELECT 'public' AS "Name", ${lit(user)} AS "Owner"`,
  },
  {
    // pgjdbc DatabaseMetaData.getTables
    when: [/AS TABLE_SCHEM/i, /AS TABLE_TYPE/i, /pg_catalog\.pg_class/],
    answer(sql) {
      const like = /c\.relname LIKE '((?:[^']|'')*)'/i.exec(sql)?.[1]?.replace(/''/g, "'");
      const schema = /n\.nspname LIKE '((?:[^']|'')*)'/i.exec(sql)?.[1]?.replace(/''/g, "'");
      // Types asked for appear as `c.relkind = 'r'` clauses; none means every type.
      const tables = !/c\.relkind =/.test(sql) || /c\.relkind = 'r'/.test(sql);
      const where = [tables ? 'true' : 'false', like ? `relname LIKE ${lit(like)} ESCAPE '\\'` : 'true', schema ? `'public' LIKE ${lit(schema)} ESCAPE '\\'` : 'true'];
      return `SELECT NULL::VARCHAR AS "TABLE_CAT", 'public' AS "TABLE_SCHEM", relname AS "TABLE_NAME", 'TABLE' AS "TABLE_TYPE", NULL::VARCHAR AS "REMARKS",
        '' AS "TYPE_CAT", '' AS "TYPE_SCHEM", '' AS "TYPE_NAME", '' AS "SELF_REFERENCING_COL_NAME", '' AS "REF_GENERATION"
        FROM ${REL} WHERE ${where.join(' AND ')} ORDER BY "TABLE_TYPE", "TABLE_SCHEM", "TABLE_NAME"`;
    },
  },
  {
    // pgjdbc DatabaseMetaData.getSchemas
    when: [/AS TABLE_SCHEM/i, /FROM pg_catalog\.pg_namespace/, /TABLE_CATALOG/i],
    answer: () => `SELECT 'public' AS "TABLE_SCHEM", NULL::VARCHAR AS "TABLE_CATALOG"`,
  },
];

const TYPE_OID = `CASE WHEN data_type = 'VARCHAR' THEN 1043 WHEN data_type = 'INTEGER' OR data_type = 'USMALLINT' THEN 23 WHEN data_type = 'BIGINT' OR data_type = 'UINTEGER' THEN 20
  WHEN data_type IN ('SMALLINT', 'TINYINT', 'UTINYINT') THEN 21 WHEN data_type = 'DOUBLE' THEN 701 WHEN data_type = 'FLOAT' THEN 700 WHEN data_type = 'BOOLEAN' THEN 16
  WHEN data_type = 'DATE' THEN 1082 WHEN data_type = 'TIMESTAMP WITH TIME ZONE' THEN 1184 WHEN data_type LIKE 'TIMESTAMP%' THEN 1114
  WHEN data_type LIKE 'DECIMAL%' OR data_type IN ('HUGEINT', 'UBIGINT', 'UHUGEINT') THEN 1700 WHEN data_type = 'BLOB' THEN 17 ELSE 25 END`;

/** Stand-ins for the four catalogs generic clients join (R's dbListFields, ad-hoc queries). */
const EMULATED: Record<string, string> = {
  pg_namespace: `SELECT 2200::BIGINT AS oid, 'public' AS nspname, 10::BIGINT AS nspowner UNION ALL SELECT 11, 'pg_catalog', 10 UNION ALL SELECT 13000, 'information_schema', 10`,
  pg_class: `SELECT oid, relname, 2200::BIGINT AS relnamespace, 'r' AS relkind, 10::BIGINT AS relowner, 0::BIGINT AS relam, 0::BIGINT AS reltablespace,
    false AS relhasindex, 'p' AS relpersistence, -1::DOUBLE AS reltuples, false AS relispartition, 0 AS relchecks, 0::BIGINT AS reltoastrelid FROM ${REL}`,
  pg_attribute: `SELECT attrelid, attname, attnum, ${TYPE_OID}::BIGINT AS atttypid, -1 AS atttypmod, attnotnull, false AS attisdropped, false AS atthasdef,
    0::BIGINT AS attcollation, '' AS attidentity, '' AS attgenerated, -1 AS attlen FROM ${COLS}`,
  pg_tables: `SELECT 'public' AS schemaname, relname AS tablename, 'smartcar' AS tableowner, NULL::VARCHAR AS tablespace, false AS hasindexes,
    false AS hasrules, false AS hastriggers, false AS rowsecurity FROM ${REL}`,
};

const NOT_ALIAS = new Set(['where', 'join', 'left', 'right', 'inner', 'on', 'order', 'group', 'limit', 'union', 'cross', 'natural', 'full', 'having', 'offset', 'using', 'window']);

function emulate(sql: string): string | undefined {
  const re = /\b(?:pg_catalog\.)?(pg_tables|pg_class|pg_attribute|pg_namespace)\b(?!\s*\.)(\s+(?:as\s+)?([A-Za-z_]\w*))?/gi;
  if (!re.test(sql)) return undefined;
  re.lastIndex = 0;
  const out = sql.replace(re, (_all, name: string, aliasPart: string | undefined, alias: string | undefined) => {
    const sub = `(${EMULATED[name.toLowerCase()]})`;
    if (alias && !NOT_ALIAS.has(alias.toLowerCase())) return `${sub} AS ${alias}`;
    return `${sub} AS ${name.toLowerCase()}${aliasPart ?? ''}`;
  });
  // Clients compare catalog schema names with current_schema(): here that is 'public'.
  return out.replace(/\b(?:pg_catalog\.)?current_schema\(\)/gi, "'public'");
}

/** The DuckDB query that answers a catalog question, or undefined when `sql` is not one. */
export function catalogQuery(sql: string, user = 'smartcar'): string | undefined {
  if (/^\s*select\s+(pg_catalog\.)?current_schema\(\)\s*;?\s*$/i.test(sql)) return `SELECT 'public' AS current_schema`;
  if (!/pg_catalog|pg_tables|pg_class|pg_attribute|pg_namespace|information_schema/i.test(sql)) return undefined;
  for (const r of RULES) if (r.when.every((re) => re.test(sql))) return r.answer(sql, user);
  return informationSchema(sql) ?? emulate(sql);
}

/** information_schema questions about schema 'public' are about DuckDB's 'main'. */
function informationSchema(sql: string): string | undefined {
  if (!/information_schema\.(tables|columns)/i.test(sql) || !/'public'/.test(sql)) return undefined;
  return sql.replace(/(table_schema\s*(=|<>|!=|in\s*\()\s*)'public'/gi, "$1'main'");
}

