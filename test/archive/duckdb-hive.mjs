// duckdb-hive.mjs: DuckDB reads one signal of an obs archive in its Hive
// layout, as a lake reader would.
//   node test/archive/duckdb-hive.mjs ROOT SIGNAL KEY_SQL
// reads ROOT/signal=SIGNAL/*/*.parquet with hive_partitioning = true and
// prints one JSON line: {"rows": n, "dates": [...], "signals": [...],
// "digest": md5 of the KEY_SQL values (one per row, a DuckDB expression)
// sorted and joined with "|"}.  The test computes the same digest in
// PostgreSQL over the rows it archived.
import { createRequire } from 'node:module';

const require = createRequire(new URL('../parquet/package.json', import.meta.url));
const { DuckDBInstance } = require('@duckdb/node-api');
const [root, signal, key] = process.argv.slice(2);
if (!key) {
    console.error('usage: node duckdb-hive.mjs ROOT SIGNAL KEY_SQL');
    process.exit(2);
}
const inst = await DuckDBInstance.create(':memory:', { threads: '1' });
const con = await inst.connect();
const q = async (s) => (await con.runAndReadAll(s)).getRows();
const lit = (s) => `'${s.replace(/'/g, "''")}'`;
await q("SET TimeZone = 'UTC'");
const src = `read_parquet(${lit(`${root}/signal=${signal}/*/*.parquet`)}, hive_partitioning = true)`;
const [[rows]] = await q(`SELECT count(*) FROM ${src}`);
const dates = (await q(`SELECT DISTINCT CAST("date" AS VARCHAR) AS d FROM ${src} ORDER BY d`)).map((r) => r[0]);
const signals = (await q(`SELECT DISTINCT CAST("signal" AS VARCHAR) AS s FROM ${src} ORDER BY s`)).map((r) => r[0]);
const [[digest]] = await q(`SELECT md5(coalesce(string_agg(k, '|' ORDER BY k), '')) FROM (SELECT ${key} AS k FROM ${src})`);
console.log(JSON.stringify({ rows: Number(rows), dates, signals, digest }));
