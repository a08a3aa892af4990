// bench/parquet-size-duckdb.mjs: the DuckDB side of bench/parquet_size.sh.
//   node bench/parquet-size-duckdb.mjs CSV SELECT_LIST OUT_PARQUET OBS_PARQUET
// Loads the CSV that PostgreSQL's COPY wrote into a DuckDB table, casting
// each column back to its type with SELECT_LIST (an expression per column
// over the all-VARCHAR CSV), times DuckDB writing that table as zstd
// Parquet (best of 3, 2 threads), checks that obs's file holds the same
// rows, and prints per-column compressed sizes and encodings of both
// files.  Prints "key value" lines and "col ..." lines for the shell script.
import { createRequire } from 'node:module';
import fs from 'node:fs';

const require = createRequire(new URL('../test/parquet/package.json', import.meta.url));
const { DuckDBInstance } = require('@duckdb/node-api');
const [csv, selectList, out, obsFile] = process.argv.slice(2);

const inst = await DuckDBInstance.create(':memory:', { threads: '2' });
const con = await inst.connect();
const q = async (s) => (await con.runAndReadAll(s)).getRows();
const lit = (s) => `'${s.replace(/'/g, "''")}'`;
await q("SET TimeZone = 'UTC'");

await q(`CREATE TABLE t AS SELECT ${selectList}
           FROM read_csv(${lit(csv)}, header = true, all_varchar = true)`);
let best = Infinity;
for (let i = 0; i < 3; i++) {
    fs.rmSync(out, { force: true });
    const t0 = process.hrtime.bigint();
    await q(`COPY t TO ${lit(out)} (FORMAT parquet, COMPRESSION zstd)`);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
}
console.log(`duckdb_write_s ${best.toFixed(3)}`);
console.log(`duckdb_bytes ${fs.statSync(out).size}`);

// same rows: compare as text, so that obs's FIXED_LEN_BYTE_ARRAY ids and
// DuckDB's BLOBs, or a UUID and its text, compare by value
const cols = (await q(`SELECT column_name FROM (DESCRIBE t)`)).map((r) => r[0]);
const asText = (rel) => `SELECT ${cols.map((c) => `CAST("${c}" AS VARCHAR)`).join(', ')} FROM ${rel}`;
const n = await q(`SELECT count(*) FROM read_parquet(${lit(obsFile)})`);
const diff = await q(`SELECT count(*) FROM (${asText(`read_parquet(${lit(obsFile)})`)} EXCEPT ALL ${asText('t')})`);
console.log(`obs_rows ${n[0][0]}`);
console.log(`obs_rows_not_in_duckdb ${diff[0][0]}`);

const per = async (file) => {
    const rows = await q(`SELECT path_in_schema, sum(total_compressed_size)::BIGINT,
                                 string_agg(DISTINCT encodings, '|')
                            FROM parquet_metadata(${lit(file)}) GROUP BY path_in_schema`);
    return new Map(rows.map((r) => [String(r[0]), [Number(r[1]), String(r[2])]]));
};
const o = await per(obsFile);
const d = await per(out);
for (const [k, [ob, oe]] of o) {
    const [db, de] = d.get(k) || [0, '-'];
    console.log(`col ${k.replace(/\s+/g, '_')} ${ob} ${db} ${oe.replace(/\s+/g, '')} ${de.replace(/\s+/g, '')}`);
}
