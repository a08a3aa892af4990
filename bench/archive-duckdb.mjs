// bench/archive-duckdb.mjs: the DuckDB side of bench/archive.sh.
//   node bench/archive-duckdb.mjs CSV SELECT_LIST OUT_PARQUET THREADS OBS_PARQUET
// Loads the CSV that PostgreSQL's COPY wrote of the partition into a
// DuckDB table (each column cast back to its type with SELECT_LIST), then
// times DuckDB writing it as zstd Parquet once (the load is not timed),
// and checks that obs's archive file holds as many rows.  Prints "key
// value" lines.
import { createRequire } from 'node:module';
import fs from 'node:fs';

const require = createRequire(new URL('../test/parquet/package.json', import.meta.url));
const { DuckDBInstance } = require('@duckdb/node-api');
const [csv, selectList, out, threads, obsFile] = process.argv.slice(2);

const inst = await DuckDBInstance.create(':memory:', { threads: String(threads || 1) });
const con = await inst.connect();
const q = async (s) => (await con.runAndReadAll(s)).getRows();
const lit = (s) => `'${s.replace(/'/g, "''")}'`;
await q("SET TimeZone = 'UTC'");
await q(`CREATE TABLE t AS SELECT ${selectList}
           FROM read_csv(${lit(csv)}, header = true, all_varchar = true)`);
fs.rmSync(out, { force: true });
const t0 = process.hrtime.bigint();
await q(`COPY t TO ${lit(out)} (FORMAT parquet, COMPRESSION zstd)`);
console.log(`duckdb_write_s ${(Number(process.hrtime.bigint() - t0) / 1e9).toFixed(3)}`);
console.log(`duckdb_bytes ${fs.statSync(out).size}`);
const [[n]] = await q(`SELECT count(*) FROM t`);
const [[m]] = await q(`SELECT count(*) FROM read_parquet(${lit(obsFile)})`);
console.log(`duckdb_rows ${n}`);
console.log(`obs_file_rows ${m}`);
