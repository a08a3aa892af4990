// read_back.mjs: COPY ... FROM ... (FORMAT parquet) on files DuckDB writes,
// and on mutated files (the fuzz test).
//
// 1. obs writes a table of every type it maps and obs's own tables; DuckDB
//    reads each file and writes it again with each of its layouts (its v1
//    and v2 encodings, each codec); COPY FROM loads DuckDB's
//    file into an empty copy of the table, and the rows must equal the
//    original's (EXCEPT ALL both ways).
//    arrow-rs (parquet-wasm) writes the same files again with what DuckDB
//    does not use: DATA_PAGE_V2 pages, DELTA_BYTE_ARRAY on strings and
//    fixed-length arrays, BYTE_STREAM_SPLIT on integers and fixed-length
//    decimals.
// 2. DuckDB writes types obs does not write itself (TIMESTAMP_MS and _NS,
//    unsigned and small integers, DECIMAL as FIXED_LEN_BYTE_ARRAY, BLOB,
//    TIME, nested NULL lists); the loaded values must equal the values
//    PostgreSQL computes from the same formulas.
//    Trace and span ids as FIXED_LEN_BYTE_ARRAY(16) and (8) load into
//    obs.trace_id and obs.span_id from their bytes.
// 3. Fuzz: bit flips, truncations and overwritten bytes of valid files
//    (obs's and DuckDB's) are loaded in one session; each must load or fail
//    with a data or file-format SQLSTATE, never an internal error, and the
//    session (so the server) must survive every one of them.
//
// Prints "ok"/"not ok" lines and "N passed, N failed".  Environment:
// OBS_PQ_DIR (a directory the server can read and write), OBS_PQ_SEED,
// OBS_PQ_FUZZ_CASES.
import fs from 'node:fs';
import path from 'node:path';
import { psql, lit } from './lib/pg.mjs';
import { dq } from './lib/readers.mjs';
import * as pw from 'parquet-wasm';
import * as arrow from 'apache-arrow';

const DIR = process.env.OBS_PQ_DIR;
const SEED = Number(process.env.OBS_PQ_SEED || 20261130);
const FUZZ_CASES = Number(process.env.OBS_PQ_FUZZ_CASES || 1200);
if (!DIR) {
    console.error('OBS_PQ_DIR is not set');
    process.exit(2);
}

let passed = 0, failed = 0;
const note = (s) => console.log(String(s).split('\n').map((l) => `# ${l}`).join('\n'));
async function check(name, fn) {
    let r;
    try {
        r = await fn();
    } catch (e) {
        r = `exception: ${e && e.message ? e.message : e}`;
    }
    if (r === true || r === undefined) {
        passed++;
        console.log(`ok - ${name}`);
    } else {
        failed++;
        console.log(`not ok - ${name}`);
        if (typeof r === 'string')
            note(r);
    }
}

const SETUP = `
DROP SCHEMA IF EXISTS pqr CASCADE;
CREATE SCHEMA pqr;
CREATE TYPE pqr.mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE pqr.all_types (
    b bool, i2 int2, i4 int4, i8 int8, f4 float4, f8 float8,
    n1 numeric(5,2), n2 numeric(18,6), n3 numeric(38,10), nu numeric,
    t text, vc varchar(12), j json, jb jsonb, by bytea, u uuid,
    d date, tm time, ts timestamp, tz timestamptz, iv interval, mood pqr.mood,
    tid obs.trace_id, sid obs.span_id,
    a_i4 int4[], a_i8 int8[], a_f8 float8[], a_t text[], a_tz timestamptz[], a_n numeric(10,2)[]);
INSERT INTO pqr.all_types
SELECT g % 3 = 0, (g % 100 - 50)::int2, g * 7 - 3000, g::int8 * 1000003 - 5000000, g / 7.0, sqrt(g) * (g % 2 * 2 - 1),
       (g % 1000) / 100.0, g / 1000.0, g * 1.5 - 400, g / 3.0, md5(g::text), (g % 10)::text,
       json_build_object('g', g), jsonb_build_object('k', g % 5, 's', repeat('x', g % 7)), decode(md5(g::text), 'hex'),
       md5(g::text)::uuid, date '2024-01-01' + g % 400 - 200, time '00:00' + g * interval '17 s',
       timestamp '2024-01-01' + g * interval '1 second', timestamptz '2024-01-01 00:00:00+00' + g * interval '1 ms',
       g * interval '1 min 3 s', (ARRAY['sad','ok','happy'])[1 + g % 3]::pqr.mood,
       lpad(to_hex(g), 32, '0')::obs.trace_id, lpad(to_hex(g * 7), 16, '0')::obs.span_id,
       CASE WHEN g % 5 = 0 THEN NULL WHEN g % 5 = 1 THEN '{}' ELSE ARRAY[g, g + 1, NULL] END,
       ARRAY[g::int8 << 20], ARRAY[g / 3.0, NULL], ARRAY[md5(g::text), (g % 3)::text, NULL],
       ARRAY[timestamptz '2020-01-01 00:00:00+00' + g * interval '1 h'], ARRAY[(g % 100) / 10.0]
  FROM generate_series(1, 5000) g;
INSERT INTO pqr.all_types (b) VALUES (NULL);
INSERT INTO obs.logs (ts, level, logger, message, context, tags, trace_id, span_id, backend_pid)
SELECT timestamptz '2026-11-30 00:00:00+00' + g * interval '1 s', (ARRAY['INFO','WARNING','ERROR']::obs.log_level[])[1 + g % 3],
       'app.' || (g % 4), 'message ' || g, jsonb_build_object('g', g), CASE WHEN g % 2 = 0 THEN '{"env": "prod"}'::jsonb END,
       CASE WHEN g % 3 = 0 THEN lpad(to_hex(g), 32, '0')::obs.trace_id END,
       CASE WHEN g % 3 = 0 THEN lpad(to_hex(g), 16, '0')::obs.span_id END, 1000 + g % 7
  FROM generate_series(1, 3000) g;
INSERT INTO obs.spans (trace_id, span_id, parent_span_id, operation, service_type, service_name, start_time, end_time,
                       duration_us, status, tags)
SELECT lpad(to_hex(g / 10), 32, '0')::obs.trace_id, lpad(to_hex(g), 16, '0')::obs.span_id,
       CASE WHEN g % 10 <> 0 THEN lpad(to_hex(g - g % 10), 16, '0')::obs.span_id END,
       'op' || g % 5, 'CUSTOM', 'svc', timestamptz '2026-11-30 00:00:00+00' + g * interval '1 ms',
       timestamptz '2026-11-30 00:00:00+00' + g * interval '2 ms', g * 1000, 'ok', '{"k": 1}'
  FROM generate_series(10, 2999) g;
INSERT INTO obs.metric_points SELECT g % 10, timestamptz '2026-11-30 00:00:00+00' + g * interval '1 s', g / 3.0
  FROM generate_series(1, 3000) g;
INSERT INTO obs.flow_runs (flow_run_id, flow_name, status, start_time, end_time, num_tasks, tags, updated_at)
SELECT 'run-' || g, 'flow' || g % 3, 'Completed', timestamptz '2026-11-30 00:00:00+00' + g * interval '1 min',
       timestamptz '2026-11-30 00:00:00+00' + g * interval '1 min' + interval '5 s', g % 4, '{}',
       timestamptz '2026-11-30 00:00:00+00'
  FROM generate_series(1, 300) g;
CREATE FUNCTION pqr.same(a regclass, b regclass) RETURNS text LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
DECLARE n bigint; m bigint; ex text;
BEGIN
    EXECUTE format('SELECT count(*) FROM (SELECT x::text FROM %s x EXCEPT ALL SELECT y::text FROM %s y) d', a, b) INTO n;
    EXECUTE format('SELECT count(*) FROM (SELECT y::text FROM %s y EXCEPT ALL SELECT x::text FROM %s x) d', b, a) INTO m;
    IF n = 0 AND m = 0 THEN RETURN 'same'; END IF;
    EXECUTE format('SELECT r FROM (SELECT x::text AS r FROM %s x EXCEPT ALL SELECT y::text FROM %s y) d LIMIT 1', a, b) INTO ex;
    RETURN format('%s rows only in %s, %s only in %s, e.g. %s', n, a, m, b, ex);
END $$;
-- try(file, table, columns): SQLSTATE and message of COPY table FROM file, or ok
CREATE FUNCTION pqr.try(f text, t regclass, cols text DEFAULT '') RETURNS text LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    EXECUTE format('COPY %s %s FROM %L (FORMAT parquet)', t, cols, f);
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ' ' || SQLERRM;
END $$;
`;

// ---------------------------------------------------------------------------

function counts(table) {
    return psql(`SELECT count(*) FROM ${table}`).trim();
}

// DuckDB's layouts: options of its COPY ... TO ... (FORMAT parquet)
const LAYOUTS = [
    ['v1-snappy', "COMPRESSION snappy"],
    ['v1-gzip', "COMPRESSION gzip, ROW_GROUP_SIZE 2048"],
    ['v1-zstd', "COMPRESSION zstd"],
    ['v2-zstd', "COMPRESSION zstd, PARQUET_VERSION v2, ROW_GROUP_SIZE 2048"],
    ['v2-uncompressed', "COMPRESSION uncompressed, PARQUET_VERSION v2"],
    ['v2-snappy', "COMPRESSION snappy, PARQUET_VERSION v2"],
];

const TABLES = [
    ['pqr.all_types', 'all_types'],
    ['obs.logs', 'logs'],
    ['obs.spans', 'spans'],
    ['obs.metric_points', 'metric_points'],
    ['obs.flow_runs', 'flow_runs'],
];

// the page types at the columns' data_page_offset: a page header starts
// with field 1 (i32 type): 0x15 then the zigzag type, 0 for DATA_PAGE v1,
// 6 for DATA_PAGE_V2
async function pageTypesOf(file) {
    const r = await dq(`SELECT data_page_offset FROM parquet_metadata('${file}')`);
    const b = fs.readFileSync(file);
    const types = new Set();
    for (const [off] of r.rows) {
        const o = Number(off);
        if (b[o] === 0x15)
            types.add(b[o + 1] === 6 ? 'DATA_PAGE_V2' : b[o + 1] === 0 ? 'DATA_PAGE' : `type ${b[o + 1] >> 1}`);
    }
    return types;
}

async function encodingsOf(file) {
    const r = await dq(`SELECT DISTINCT unnest(string_split(encodings, ',')) AS e FROM parquet_metadata('${file}')`);
    return new Set(r.rows.map((x) => String(x[0]).trim()));
}

async function duckdbFiles() {
    const seen = new Set();
    for (const [table, short] of TABLES) {
        const src = path.join(DIR, `obs_${short}.parquet`);
        psql(`COPY ${table} TO ${lit(src)} (FORMAT parquet)`);
        for (const [layout, opts] of LAYOUTS) {
            const file = path.join(DIR, `duck_${short}_${layout}.parquet`);
            await check(`DuckDB ${layout} file of ${table} loads back equal`, async () => {
                await dq(`COPY (SELECT * FROM read_parquet('${src}')) TO '${file}' (FORMAT parquet, ${opts})`);
                fs.chmodSync(file, 0o644);
                for (const e of await encodingsOf(file))
                    seen.add(`${layout.slice(0, 2)}:${e}`);
                for (const e of await pageTypesOf(file))
                    seen.add(`${layout.slice(0, 2)}:${e}`);
                const copy = `pqr.back_${short}_${layout.replace(/-/g, '_')}`;
                psql(`CREATE TABLE ${copy} (LIKE ${table} INCLUDING GENERATED)`);
                psql(`COPY ${copy} FROM ${lit(file)} (FORMAT parquet)`);
                const same = psql(`SELECT pqr.same('${table}', '${copy}')`).trim();
                if (same !== 'same')
                    return same;
                if (counts(copy) !== counts(table))
                    return `${counts(copy)} rows loaded, ${counts(table)} in ${table}`;
                return true;
            });
        }
    }
    note(`encodings in DuckDB's files: ${[...seen].sort().join(' ')}`);
    // the v2 files must exercise the decoders this suite is for
    for (const e of ['DELTA_BINARY_PACKED', 'DELTA_LENGTH_BYTE_ARRAY', 'BYTE_STREAM_SPLIT', 'RLE_DICTIONARY'])
        await check(`DuckDB's v2 files use ${e}`, () => seen.has(`v2:${e}`) || `not among: ${[...seen].join(' ')}`);
}

// arrow-rs: every leaf column in the encoding a layout asks for its type
const ARROW_LAYOUTS = [
    ['v2-delta', pw.WriterVersion.V2, pw.Compression.ZSTD,
        { BYTE_ARRAY: 'DELTA_BYTE_ARRAY', FIXED_LEN_BYTE_ARRAY: 'DELTA_BYTE_ARRAY', INT32: 'DELTA_BINARY_PACKED', INT64: 'DELTA_BINARY_PACKED' }],
    ['v2-split', pw.WriterVersion.V2, pw.Compression.SNAPPY,
        { BYTE_ARRAY: 'DELTA_LENGTH_BYTE_ARRAY', FIXED_LEN_BYTE_ARRAY: 'BYTE_STREAM_SPLIT', INT32: 'BYTE_STREAM_SPLIT',
          INT64: 'BYTE_STREAM_SPLIT', FLOAT: 'BYTE_STREAM_SPLIT', DOUBLE: 'BYTE_STREAM_SPLIT' }],
    ['v1-dictionary', pw.WriterVersion.V1, pw.Compression.GZIP, null],
];

function arrowWrite(src, file, columns, version, codec, encs, rowGroup) {
    let props = new pw.WriterPropertiesBuilder().setWriterVersion(version).setCompression(codec)
        .setMaxRowGroupSize(rowGroup).setDictionaryEnabled(encs === null);
    for (const [col, type] of columns)
        if (encs && encs[type])
            props = props.setColumnEncoding(col, pw.Encoding[encs[type]]);
    fs.writeFileSync(file, pw.writeParquet(pw.readParquet(fs.readFileSync(src)), props.build()), { mode: 0o644 });
}

async function arrowFiles() {
    const seen = new Set();
    for (const [table, short] of TABLES) {
        const src = path.join(DIR, `obs_${short}.parquet`);
        const meta = await dq(`SELECT array_to_string(string_split(path_in_schema, ', '), '.'), type
                                 FROM parquet_metadata('${src}') WHERE row_group_id = 0`);
        for (const [layout, version, codec, encs] of ARROW_LAYOUTS) {
            const file = path.join(DIR, `arrow_${short}_${layout}.parquet`);
            await check(`arrow-rs ${layout} file of ${table} loads back equal`, async () => {
                arrowWrite(src, file, meta.rows, version, codec, encs, 1000);
                for (const e of await encodingsOf(file))
                    seen.add(e);
                for (const e of await pageTypesOf(file))
                    seen.add(e);
                const copy = `pqr.arrow_${short}_${layout.replace(/-/g, '_')}`;
                psql(`CREATE TABLE ${copy} (LIKE ${table} INCLUDING GENERATED)`);
                psql(`COPY ${copy} FROM ${lit(file)} (FORMAT parquet)`);
                const same = psql(`SELECT pqr.same('${table}', '${copy}')`).trim();
                if (same !== 'same')
                    return same;
                if (counts(copy) !== counts(table))
                    return `${counts(copy)} rows loaded, ${counts(table)} in ${table}`;
                return true;
            });
        }
    }
    note(`encodings in arrow-rs's files: ${[...seen].sort().join(' ')}`);
    for (const e of ['DELTA_BYTE_ARRAY', 'BYTE_STREAM_SPLIT', 'DELTA_BINARY_PACKED', 'DELTA_LENGTH_BYTE_ARRAY', 'RLE_DICTIONARY', 'DATA_PAGE_V2', 'DATA_PAGE'])
        await check(`arrow-rs's files use ${e}`, () => seen.has(e) || `not among: ${[...seen].join(' ')}`);
}

// ids as raw bytes: FIXED_LEN_BYTE_ARRAY(16) and (8), written by arrow-rs
async function fixedIds() {
    const N = 3000;
    const hex = (n, len) => n.toString(16).padStart(len * 2, '0');
    const bytes = (h) => Uint8Array.from(h.match(/../g).map((x) => parseInt(x, 16)));
    const tid = [], sid = [], n = [];
    for (let i = 1; i <= N; i++) {
        tid.push(i % 4 === 0 ? null : bytes(hex(i * 7919, 16)));
        sid.push(bytes(hex(i * 104729, 8)));
        n.push(i);
    }
    const t = new arrow.Table({
        trace_id: arrow.vectorFromArray(tid, new arrow.FixedSizeBinary(16)),
        span_id: arrow.vectorFromArray(sid, new arrow.FixedSizeBinary(8)),
        n: arrow.vectorFromArray(n, new arrow.Int32()),
    });
    psql('CREATE TABLE pqr.ids (trace_id obs.trace_id, span_id obs.span_id, n int)');
    const layouts = [
        ['v1-dictionary', new pw.WriterPropertiesBuilder()],
        ['v2-byte-stream-split', new pw.WriterPropertiesBuilder().setWriterVersion(pw.WriterVersion.V2)
            .setDictionaryEnabled(false).setColumnEncoding('trace_id', pw.Encoding.BYTE_STREAM_SPLIT)
            .setColumnEncoding('span_id', pw.Encoding.BYTE_STREAM_SPLIT)],
    ];
    for (const [layout, props] of layouts) {
        await check(`FIXED_LEN_BYTE_ARRAY(16)/(8) ids (${layout}) load into obs.trace_id and obs.span_id`, () => {
            const file = path.join(DIR, `ids_${layout}.parquet`);
            const wt = pw.Table.fromIPCStream(arrow.tableToIPC(t, 'stream'));
            fs.writeFileSync(file, pw.writeParquet(wt, props.build()), { mode: 0o644 });
            psql('TRUNCATE pqr.ids');
            psql(`COPY pqr.ids FROM ${lit(file)} (FORMAT parquet)`);
            const bad = psql(`SELECT count(*) FROM pqr.ids
                WHERE trace_id IS DISTINCT FROM CASE WHEN n % 4 <> 0 THEN lpad(to_hex(n * 7919), 32, '0')::obs.trace_id END
                   OR span_id IS DISTINCT FROM lpad(to_hex(n * 104729), 16, '0')::obs.span_id`).trim();
            const total = counts('pqr.ids');
            return (bad === '0' && total === String(N)) || `${bad} of ${total} rows differ`;
        });
    }
}

// DuckDB types obs does not write, against PostgreSQL's own computation
async function duckdbTypes() {
    const N = 3000;
    const file = path.join(DIR, 'duck_types.parquet');
    const cols = `
        (i % 250 - 125)::TINYINT AS ti, (i % 200)::UTINYINT AS uti, (i * 7)::USMALLINT AS usi, (i::UBIGINT * 6148914691236517) AS ubi,
        (i * 1000003)::UINTEGER AS ui,
        TIMESTAMP '2024-01-01' + to_seconds(i) + to_milliseconds(i) AS ts_us,
        (TIMESTAMP '2024-01-01' + to_seconds(i) + to_milliseconds(i))::TIMESTAMP_MS AS ts_ms,
        (TIMESTAMP '2024-01-01' + to_seconds(i) + to_microseconds(i))::TIMESTAMP_NS AS ts_ns,
        (TIMESTAMP '2024-01-01' + to_seconds(i))::TIMESTAMP_S AS ts_s,
        (TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_microseconds(i * 12345)) AS tstz,
        ((i % 100) * 1.25 - 60)::DECIMAL(4,2) AS dec4, (i * 123456.789)::DECIMAL(18,3) AS dec18,
        (i::HUGEINT * 1000000000000000000 + i)::DECIMAL(38,0) AS dec38, (i * 1234567.0123456789)::DECIMAL(30,10) AS dec30,
        TIME '00:00:00' + to_microseconds(i * 1234567) AS tm,
        (DATE '1900-01-01' + to_days(i * 13))::DATE AS d,
        md5(i::VARCHAR)::BLOB AS bl, (i % 11 = 0) AS bo, i::FLOAT / 3 AS fl, i::DOUBLE / 3 AS db,
        CASE WHEN i % 4 = 0 THEN NULL ELSE [i, NULL, i * 2] END AS li,
        CASE WHEN i % 3 = 0 THEN [] ELSE [md5(i::VARCHAR)] END AS ls,
        CASE WHEN i % 7 = 0 THEN NULL ELSE 'row ' || i END AS s`;
    const pgCols = `
        (g % 250 - 125)::int2 AS ti, (g % 200)::int2 AS uti, (g * 7)::int4 AS usi, g::numeric * 6148914691236517 AS ubi,
        g::int8 * 1000003 AS ui,
        timestamp '2024-01-01' + g * interval '1 s' + g * interval '1 ms' AS ts_us,
        timestamp '2024-01-01' + g * interval '1 s' + g * interval '1 ms' AS ts_ms,
        timestamp '2024-01-01' + g * interval '1 s' + g * interval '1 us' AS ts_ns,
        timestamp '2024-01-01' + g * interval '1 s' AS ts_s,
        timestamptz '2024-01-01 00:00:00+00' + g * 12345 * interval '1 us' AS tstz,
        ((g % 100) * 1.25 - 60)::numeric(4,2) AS dec4, (g * 123456.789)::numeric(18,3) AS dec18,
        (g::numeric * 1000000000000000000 + g)::numeric(38,0) AS dec38, (g * 1234567.0123456789)::numeric(30,10) AS dec30,
        time '00:00:00' + g::int8 * 1234567 * interval '1 us' AS tm,
        date '1900-01-01' + g * 13 AS d,
        convert_to(md5(g::text), 'UTF8') AS bl, (g % 11 = 0) AS bo, (g::float4 / 3)::float4 AS fl, g::float8 / 3 AS db,
        CASE WHEN g % 4 = 0 THEN NULL ELSE ARRAY[g, NULL, g * 2] END AS li,
        CASE WHEN g % 3 = 0 THEN '{}'::text[] ELSE ARRAY[md5(g::text)] END AS ls,
        CASE WHEN g % 7 = 0 THEN NULL ELSE 'row ' || g END AS s`;
    psql(`CREATE TABLE pqr.duck_expected AS SELECT ${pgCols} FROM generate_series(1, ${N}) g`);
    psql('CREATE TABLE pqr.duck_loaded (LIKE pqr.duck_expected)');
    for (const [layout, opts] of LAYOUTS) {
        await check(`DuckDB-only types (${layout}) load as PostgreSQL computes them`, async () => {
            await dq(`COPY (SELECT ${cols} FROM range(1, ${N + 1}) t(i)) TO '${file}' (FORMAT parquet, ${opts})`);
            fs.chmodSync(file, 0o644);
            psql('TRUNCATE pqr.duck_loaded');
            psql(`COPY pqr.duck_loaded FROM ${lit(file)} (FORMAT parquet)`);
            const same = psql("SELECT pqr.same('pqr.duck_expected', 'pqr.duck_loaded')").trim();
            return same === 'same' || same;
        });
    }
    // a type mismatch is named clearly
    await check('a DuckDB TIMESTAMP_NS column into an integer column fails with 42804', () => {
        psql('CREATE TABLE pqr.mismatch (ts_ns int8)');
        const r = psql(`SELECT pqr.try(${lit(file)}, 'pqr.mismatch', '(ts_ns)')`).trim();
        return /^42804 Parquet column "ts_ns" of type INT64 \(TIMESTAMP\(NANOS\)\) cannot be loaded/.test(r) || r;
    });
}

// ---------------------------------------------------------------------------
// fuzz

function prng(seed) {
    let s = seed >>> 0;
    return () => {
        s = (s + 0x6d2b79f5) >>> 0;
        let t = s;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

// the SQLSTATEs a hostile file may give: data and file-format errors,
// unsupported features, limits, mismatches a mangled schema causes
const ALLOWED = /^(ok|22[0-9A-Z]{3}|23[0-9A-Z]{3}|0A000|54000|42804|42703|42701) /;

async function fuzz() {
    const rnd = prng(SEED);
    const small = path.join(DIR, 'fuzz_obs.parquet');
    const smallPlain = path.join(DIR, 'fuzz_obs_plain.parquet');
    psql(`CREATE TABLE pqr.fuzz_src AS SELECT * FROM pqr.all_types WHERE i4 % 40 = 3 OR i4 IS NULL`);
    psql(`COPY pqr.fuzz_src TO ${lit(small)} (FORMAT parquet, ROW_GROUP_SIZE 50)`);
    psql(`COPY pqr.fuzz_src TO ${lit(smallPlain)} (FORMAT parquet, COMPRESSION uncompressed, ROW_GROUP_SIZE 60)`);
    const duckV2 = path.join(DIR, 'fuzz_duck_v2.parquet');
    const duckV1 = path.join(DIR, 'fuzz_duck_v1.parquet');
    await dq(`COPY (SELECT * FROM read_parquet('${small}')) TO '${duckV2}' (FORMAT parquet, COMPRESSION uncompressed, PARQUET_VERSION v2, ROW_GROUP_SIZE 64)`);
    await dq(`COPY (SELECT * FROM read_parquet('${small}')) TO '${duckV1}' (FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 64)`);
    const meta = await dq(`SELECT array_to_string(string_split(path_in_schema, ', '), '.'), type
                             FROM parquet_metadata('${small}') WHERE row_group_id = 0`);
    const arrowDelta = path.join(DIR, 'fuzz_arrow_delta.parquet');
    const arrowSplit = path.join(DIR, 'fuzz_arrow_split.parquet');
    arrowWrite(small, arrowDelta, meta.rows, ARROW_LAYOUTS[0][1], pw.Compression.UNCOMPRESSED, ARROW_LAYOUTS[0][3], 64);
    arrowWrite(small, arrowSplit, meta.rows, ARROW_LAYOUTS[1][1], pw.Compression.UNCOMPRESSED, ARROW_LAYOUTS[1][3], 64);
    psql('CREATE TABLE pqr.fuzz_dst (LIKE pqr.all_types)');
    const bases = [small, smallPlain, duckV2, duckV1, arrowDelta, arrowSplit].map((f) => ({ f, b: fs.readFileSync(f) }));
    await check('the fuzz base files load whole', () => {
        for (const { f } of bases) {
            const r = psql(`SELECT pqr.try(${lit(f)}, 'pqr.fuzz_dst')`).trim();
            if (r !== 'ok')
                return `${f}: ${r}`;
        }
        return true;
    });

    const cases = [];
    for (let i = 0; i < FUZZ_CASES; i++) {
        const { b } = bases[i % bases.length];
        const m = Buffer.from(b);
        const kind = Math.floor(rnd() * 5);
        let desc;
        const flen = m.readUInt32LE(m.length - 8);
        const footStart = m.length - 8 - flen;
        const at = (lo, hi) => lo + Math.floor(rnd() * Math.max(1, hi - lo));
        if (kind === 0) {
            const n = 1 + Math.floor(rnd() * 4);
            for (let k = 0; k < n; k++) {
                const p = at(0, m.length);
                m[p] ^= 1 << Math.floor(rnd() * 8);
            }
            desc = `${n} bit flips`;
        } else if (kind === 1) {
            const n = 1 + Math.floor(rnd() * 3);
            for (let k = 0; k < n; k++) {
                const p = at(footStart, m.length - 8);
                m[p] ^= 1 << Math.floor(rnd() * 8);
            }
            desc = `${n} bit flips in the footer`;
        } else if (kind === 2) {
            const p = at(4, footStart);
            const n = 1 + Math.floor(rnd() * 16);
            for (let k = 0; k < n && p + k < m.length; k++)
                m[p + k] = Math.floor(rnd() * 256);
            desc = `${n} bytes overwritten in the data at ${p}`;
        } else if (kind === 3) {
            const p = at(footStart, m.length - 8);
            m[p] = [0xff, 0x00, 0x7f, 0x80, 0x19, 0x1c][Math.floor(rnd() * 6)];
            desc = `footer byte ${p} set to ${m[p]}`;
        } else {
            const len = at(0, m.length);
            const t = Buffer.concat([m.subarray(0, len), m.subarray(m.length - 8)]);
            cases.push({ buf: t, desc: `truncated to ${len} bytes, tail kept` });
            continue;
        }
        cases.push({ buf: m, desc });
    }
    const files = cases.map((c, i) => {
        const f = path.join(DIR, `fuzz_${i}.parquet`);
        fs.writeFileSync(f, c.buf, { mode: 0o644 });
        return f;
    });
    // one session for all of them: a crashed backend ends it
    const sql = files.map((f) => `SELECT pqr.try(${lit(f)}, 'pqr.fuzz_dst');`).join('\n');
    let out;
    await check(`${files.length} mutated files: the session survives every one`, () => {
        const script = path.join(DIR, 'fuzz.sql');
        fs.writeFileSync(script, `SET statement_timeout = '60s';\n${sql}\nSELECT 'alive';\n`);
        out = psql(`\\i ${script}`).trim().split('\n');
        return out[out.length - 1] === 'alive' || `last line: ${out[out.length - 1]}`;
    });
    if (!out)
        return;
    const results = out.slice(0, files.length);
    const bad = [];
    const tally = {};
    results.forEach((r, i) => {
        const code = r.split(' ')[0];
        tally[code] = (tally[code] || 0) + 1;
        if (!ALLOWED.test(r + ' '))
            bad.push(`${cases[i].desc}: ${r}`);
    });
    note(`fuzz outcomes: ${Object.entries(tally).sort().map(([k, v]) => `${k}=${v}`).join(' ')}`);
    await check('every mutated file loads or fails with a data, format or limit SQLSTATE', () =>
        bad.length === 0 || bad.slice(0, 10).join('\n'));
    await check('most mutated files are refused as bad Parquet (22P04)', () =>
        (tally['22P04'] || 0) > files.length / 4 || JSON.stringify(tally));
    await check('the server answers after the fuzz', () => psql('SELECT 1').trim() === '1');
}

// ---------------------------------------------------------------------------

psql(SETUP);
await duckdbFiles();
await arrowFiles();
await fixedIds();
await duckdbTypes();
await fuzz();
psql('DROP SCHEMA pqr CASCADE; TRUNCATE obs.logs, obs.spans, obs.metric_points, obs.flow_runs CASCADE');
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
