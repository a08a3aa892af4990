// node test/parquet/duckdb_json.mjs FILE.parquet
// Prints, as one JSON document, what DuckDB reads from FILE: the column
// names, DuckDB's type of each, and the rows.  Integers beyond JavaScript's
// safe range and DuckDB's 64-bit values are {"int": "<digits>"}; timestamps
// {"tsUs": <microseconds since 1970>}.  Used by the Python client's tests
// (clients/python/tests), which compare this with PostgreSQL's rows.
import { dq, readDuckdb, sqlStr } from './lib/readers.mjs';

const file = process.argv[2];
if (!file) {
    console.error('usage: node duckdb_json.mjs FILE.parquet');
    process.exit(2);
}
const desc = await dq(`DESCRIBE SELECT * FROM read_parquet(${sqlStr(file)})`);
const { names, rows } = await readDuckdb(file);
const types = desc.rows.map((r) => String(r[1]));
const out = JSON.stringify({ names, types, rows },
    (k, v) => (typeof v === 'bigint' ? { int: v.toString() } : v));
process.stdout.write(out + '\n');
