// bench/parquet-duckdb.mjs: the DuckDB side of bench/parquet.sh.
//   node bench/parquet-duckdb.mjs CSV OUT_PARQUET THREADS
// Loads the CSV PostgreSQL's COPY wrote (types cast back to the table's),
// then times DuckDB writing it as zstd Parquet, twice: straight from the
// CSV (parse + write) and from an in-memory table (write only).  Also
// reads the obs file back to check both files hold the same rows.
// Prints "key value" lines for the shell script.
import { createRequire } from 'node:module';
import fs from 'node:fs';

const require = createRequire(new URL('../test/parquet/package.json', import.meta.url));
const { DuckDBInstance } = require('@duckdb/node-api');
const [csv, out, threads, obsFile] = process.argv.slice(2);

const inst = await DuckDBInstance.create(':memory:', { threads: String(threads || 2) });
const con = await inst.connect();
const q = async (s) => (await con.runAndReadAll(s)).getRows();
const lit = (s) => `'${s.replace(/'/g, "''")}'`;
await q("SET TimeZone = 'UTC'");

const src = `SELECT CAST(id AS BIGINT) AS id, CAST(ts AS TIMESTAMPTZ) AS ts, CAST(level AS SMALLINT) AS level,
    logger, message, CAST(context AS JSON) AS context, CAST(tags AS JSON) AS tags,
    CAST(trace_id AS UUID) AS trace_id, unhex(substr(span_id, 3)) AS span_id
  FROM read_csv(${lit(csv)}, header = true, all_varchar = true)`;

const time = async (sql) => {
    const t0 = process.hrtime.bigint();
    await q(sql);
    return Number(process.hrtime.bigint() - t0) / 1e9;
};

// CSV -> Parquet (what a user of DuckDB would run)
fs.rmSync(out, { force: true });
const tCsv = await time(`COPY (${src}) TO ${lit(out)} (FORMAT parquet, COMPRESSION zstd)`);
// table -> Parquet (the writing alone)
await q(`CREATE TABLE logs AS ${src}`);
let best = Infinity;
for (let i = 0; i < 2; i++) {
    fs.rmSync(out, { force: true });
    best = Math.min(best, await time(`COPY logs TO ${lit(out)} (FORMAT parquet, COMPRESSION zstd)`));
}
console.log(`duckdb_csv_to_parquet_s ${tCsv.toFixed(3)}`);
console.log(`duckdb_table_to_parquet_s ${best.toFixed(3)}`);
console.log(`duckdb_parquet_bytes ${fs.statSync(out).size}`);
const rg = await q(`SELECT count(DISTINCT row_group_id) FROM parquet_metadata(${lit(out)})`);
console.log(`duckdb_row_groups ${rg[0][0]}`);
if (obsFile) {
    // same rows in both files?
    const diff = await q(`SELECT count(*) FROM (SELECT * FROM read_parquet(${lit(obsFile)}) EXCEPT ALL SELECT * FROM logs)`);
    const n = await q(`SELECT count(*) FROM read_parquet(${lit(obsFile)})`);
    console.log(`obs_rows ${n[0][0]}`);
    console.log(`obs_rows_not_in_duckdb ${diff[0][0]}`);
    const org = await q(`SELECT count(DISTINCT row_group_id) FROM parquet_metadata(${lit(obsFile)})`);
    console.log(`obs_row_groups ${org[0][0]}`);
}
