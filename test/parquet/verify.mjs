// verify.mjs: export tables from PostgreSQL with COPY ... (FORMAT parquet)
// and check, with three independent readers (DuckDB, arrow-rs through
// parquet-wasm, hyparquet), that the values read back equal PostgreSQL's,
// that the schema carries the right logical types, that the statistics are
// right and let DuckDB skip row groups, and that random tables round-trip.
//
// Prints one "ok - ..." / "not ok - ..." line per check, "# ..." notes, and
// a final "N passed, N failed" line.  Environment:
//   OBS_PQ_DIR        directory the server can write (required)
//   OBS_PQ_WRITER     obs (default) | duckdb: self-test of this harness, with
//                     DuckDB writing the files from PostgreSQL's values
//   OBS_PQ_ONLY       regex: run only checks whose group matches
//   OBS_PQ_SEED       fuzz seed (default 20240611), OBS_PQ_FUZZ table count
//                     (default 30), OBS_PQ_BUDGET_S time budget (default 300)
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { psql, copyLines, lit } from './lib/pg.mjs';
import { resolveType, truthSql, canon, canonTruth, cellEq, show, normDec } from './lib/types.mjs';
import { READERS, dq, sqlStr, hyMetadata, arrowTableOf } from './lib/readers.mjs';
import { SETUP_SQL, FIXTURES, CODECS_SQL, CODECS, DICT_SQL, ENCODING_FIXTURES } from './lib/fixtures.mjs';
import { prng, randomTable } from './lib/fuzz.mjs';
import { deltaPages } from './lib/pages.mjs';

const DIR = process.env.OBS_PQ_DIR;
const WRITER = process.env.OBS_PQ_WRITER || 'obs';
const ONLY = process.env.OBS_PQ_ONLY ? new RegExp(process.env.OBS_PQ_ONLY) : null;
const SEED = Number(process.env.OBS_PQ_SEED || 20240611);
const FUZZ_N = Number(process.env.OBS_PQ_FUZZ ?? 30);
const T0 = Date.now();
const DEADLINE = T0 + Number(process.env.OBS_PQ_BUDGET_S || 300) * 1000;
if (!DIR) {
    console.error('OBS_PQ_DIR is not set');
    process.exit(2);
}
const LOCAL = fs.mkdtempSync(path.join(os.tmpdir(), 'obs-pq-local-'));
const ALL_READERS = ['duckdb', 'arrow', 'hyparquet'];
const EXTVERSION = (/default_version\s*=\s*'([^']+)'/.exec(
    fs.readFileSync(new URL('../../obs.control', import.meta.url), 'utf8')) || [])[1];

let passed = 0, failed = 0;
const note = (s) => console.log(String(s).split('\n').map((l) => `# ${l}`).join('\n'));
function result(good, name, diag) {
    if (good) {
        passed++;
        console.log(`ok - ${name}`);
    } else {
        failed++;
        console.log(`not ok - ${name}`);
        if (diag)
            note(diag);
    }
}
// fn returns true/undefined for a pass, or a string (diagnostics) for a failure.
async function check(name, fn) {
    let r;
    try {
        r = await fn();
    } catch (e) {
        r = `exception: ${e && e.message ? e.message : e}`;
    }
    result(r === true || r === undefined, name, typeof r === 'string' ? r : null);
    return r === true || r === undefined;
}
const want = (group) => !ONLY || ONLY.test(group);

// --- catalog -----------------------------------------------------------------

let TYPES = null;
function loadTypes() {
    const rows = JSON.parse(psql(`SELECT json_agg(json_build_object('oid', oid::text, 'typname', typname, 'typtype', typtype,
        'typbasetype', typbasetype::text, 'typtypmod', typtypmod, 'typelem', typelem::text, 'typlen', typlen,
        'typcategory', typcategory)) FROM pg_type`));
    TYPES = new Map(rows.map((r) => [r.oid, r]));
}

function columnsOf(table) {
    const rows = JSON.parse(psql(`SELECT json_agg(json_build_object('name', attname, 'oid', atttypid::text, 'typmod', atttypmod) ORDER BY attnum)
        FROM pg_attribute WHERE attrelid = ${lit(table)}::regclass AND attnum > 0 AND NOT attisdropped`));
    return rows.map((r) => ({ name: r.name, k: resolveType(TYPES, r.oid, r.typmod) }));
}

// PostgreSQL's ground truth: raw truth cells (strings/arrays/null) per row.
function truthOf(table, cols) {
    const exprs = cols.map((c) => truthSql(c.k, `"${c.name}"`)).join(', ');
    return copyLines(`SELECT json_build_array(${exprs})::text FROM ${table} ORDER BY ord`).map((l) => JSON.parse(l));
}

// --- writing -------------------------------------------------------------------

function copyOpts(options) {
    return options ? `FORMAT parquet, ${options}` : 'FORMAT parquet';
}

// DuckDB cast of a truth cell (VARCHAR / VARCHAR[]) back to the column's type.
function duckCast(k, x) {
    switch (k.kind) {
    case 'list':
        return `list_transform(${x}, lambda e: ${duckCast(k.elem, 'e')})`;
    case 'int':
        return `CAST(${x} AS ${{ int2: 'SMALLINT', int4: 'INTEGER', int8: 'BIGINT' }[k.typname]})`;
    case 'float':
        return `CAST(${x} AS ${k.typname === 'float4' ? 'FLOAT' : 'DOUBLE'})`;
    case 'decimal':
        if (k.precision && k.precision <= 38 && k.scale >= 0 && k.scale <= k.precision)
            return `CAST(${x} AS DECIMAL(${k.precision},${k.scale}))`;
        return x;
    case 'bool': return `CAST(${x} AS BOOLEAN)`;
    case 'json': return `CAST(${x} AS JSON)`;
    case 'bytea': return `unhex(${x})`;
    case 'obsid': return `unhex(${x})`;
    case 'uuid': return `CAST(${x} AS UUID)`;
    case 'date': return `CASE WHEN ${x} LIKE '%infinity' THEN CAST(${x} AS DATE) ELSE DATE '1970-01-01' + CAST(${x} AS INTEGER) END`;
    case 'time': return `CASE WHEN ${x} = '86400000000' THEN TIME '24:00:00' ELSE TIME '00:00:00' + to_microseconds(CAST(${x} AS BIGINT)) END`;
    case 'ts': return `CASE WHEN ${x} LIKE '%infinity' THEN CAST(${x} AS TIMESTAMP) ELSE make_timestamp(CAST(${x} AS BIGINT)) END`;
    case 'tstz': return `CASE WHEN ${x} LIKE '%infinity' THEN CAST(${x} AS TIMESTAMPTZ) ELSE CAST(make_timestamp(CAST(${x} AS BIGINT)) AS TIMESTAMPTZ) END`;
    case 'interval': return `json_extract_string(${x}, '$[3]')`;   // Parquet INTERVAL cannot hold negative parts
    default: return x;
    }
}

async function duckdbWrite(cols, truthRaw, file, options) {
    const nd = path.join(LOCAL, path.basename(file) + '.ndjson');
    fs.writeFileSync(nd, truthRaw.map((r) => JSON.stringify(Object.fromEntries(r.map((v, i) => [`c${i}`, v])))).join('\n'));
    const types = cols.map((c, i) => `c${i}: '${c.k.kind === 'list' ? 'VARCHAR[]' : 'VARCHAR'}'`).join(', ');
    const sel = cols.map((c, i) => `${duckCast(c.k, `c${i}`)} AS "${c.name}"`).join(', ');
    const o = [];
    const m = (re) => (re.exec(options || '') || [])[1];
    const codec = m(/COMPRESSION\s+(\w+)/i) || 'zstd';
    o.push(`COMPRESSION ${codec}`);
    if (m(/ROW_GROUP_SIZE\s+(\d+)/i))
        o.push(`ROW_GROUP_SIZE ${m(/ROW_GROUP_SIZE\s+(\d+)/i)}`);
    if (codec === 'zstd' && m(/COMPRESSION_LEVEL\s+(\d+)/i))
        o.push(`COMPRESSION_LEVEL ${m(/COMPRESSION_LEVEL\s+(\d+)/i)}`);
    const src = truthRaw.length
        ? `read_json(${sqlStr(nd)}, format='newline_delimited', columns={${types}})`
        : `(SELECT * FROM read_json(${sqlStr(nd)}, format='newline_delimited', columns={${types}}) LIMIT 0)`;
    if (!truthRaw.length)
        fs.writeFileSync(nd, JSON.stringify(Object.fromEntries(cols.map((c, i) => [`c${i}`, null]))));
    await dq(`COPY (SELECT ${sel} FROM ${src}) TO ${sqlStr(file)} (FORMAT parquet, ${o.join(', ')})`);
}

// Export pqt.<name> ordered by ord into <DIR>/<file>.parquet; returns the path.
async function exportTable(fx, file, options) {
    const out = path.join(DIR, file);
    fs.rmSync(out, { force: true });
    if (WRITER === 'duckdb')
        await duckdbWrite(fx.cols, fx.truthRaw, out, options);
    else
        psql(`COPY (SELECT * FROM ${fx.table} ORDER BY ord) TO ${lit(out)} WITH (${copyOpts(options)})`);
    return out;
}

// --- comparing -----------------------------------------------------------------

// Read `file` with each reader and compare with the fixture's truth.
async function checkValues(label, fx, file, readers = ALL_READERS, { sortByOrd = false } = {}) {
    for (const rd of readers) {
        await check(`${label}: ${rd} reads ${fx.truth.length} rows x ${fx.cols.length} columns equal to PostgreSQL`, async () => {
            let { names, rows } = await READERS[rd](file);
            const expNames = fx.cols.map((c) => c.name);
            if (show(names) !== show(expNames))
                return `column names: expected ${show(expNames)}, got ${show(names)}`;
            if (rows.length !== fx.truth.length)
                return `row count: expected ${fx.truth.length}, got ${rows.length}`;
            let got = rows.map((r) => r.map((v, i) => canon(fx.cols[i].k, v)));
            if (sortByOrd)
                got = got.slice().sort((a, b) => Number(a[0]) - Number(b[0]));
            const bad = [];
            let nbad = 0;
            got.forEach((r, ri) => r.forEach((v, ci) => {
                const t = fx.truth[ri][ci];
                if (!cellEq(fx.cols[ci].k, t, v)) {
                    nbad++;
                    if (bad.length < 6)
                        bad.push(`row ord=${fx.truth[ri][0]} column ${fx.cols[ci].name} (${fx.cols[ci].k.typname}): PostgreSQL ${show(t)}, ${rd} ${show(v)}`);
                }
            }));
            return nbad ? `${nbad} cells differ:\n${bad.join('\n')}` : true;
        });
    }
}

// DuckDB type a column should read as (null = not checked: documented fallback).
function expectedDuck(k) {
    switch (k.kind) {
    case 'int': return { int2: 'SMALLINT', int4: 'INTEGER', int8: 'BIGINT' }[k.typname];
    case 'float': return k.typname === 'float4' ? 'FLOAT' : 'DOUBLE';
    case 'decimal':   // documented fallback: the exact text
        return k.precision && k.precision <= 38 && k.scale >= 0 && k.scale <= k.precision ? `DECIMAL(${k.precision},${k.scale})`
            : WRITER === 'obs' ? 'VARCHAR' : null;
    case 'interval': return WRITER === 'obs' ? 'VARCHAR' : null;   // documented: the output text
    case 'bool': return 'BOOLEAN';
    case 'text': case 'fallback': return 'VARCHAR';
    case 'bytea': case 'obsid': return 'BLOB';
    case 'uuid': return 'UUID';
    case 'date': return 'DATE';
    case 'time': return 'TIME';
    case 'ts': return 'TIMESTAMP';
    case 'tstz': return 'TIMESTAMP WITH TIME ZONE';
    case 'json': return 'JSON';
    case 'list': { const e = expectedDuck(k.elem); return e ? `${e}[]` : null; }
    }
    return null;
}

// Parquet leaf expectations, checked on hyparquet's view of the footer.
function leafProblems(k, el) {
    const lt = el.logical_type || {};
    const p = [];
    const need = (cond, what) => { if (!cond) p.push(what); };
    switch (k.kind) {
    case 'int':
        need(el.type === (k.typname === 'int8' ? 'INT64' : 'INT32'), `physical ${el.type}`);
        if (k.typname === 'int2')
            need((lt.type === 'INTEGER' && lt.bitWidth === 16 && lt.isSigned) || el.converted_type === 'INT_16', `int2 logical ${show(lt)}`);
        break;
    case 'float': need(el.type === (k.typname === 'float4' ? 'FLOAT' : 'DOUBLE'), `physical ${el.type}`); break;
    case 'bool': need(el.type === 'BOOLEAN', `physical ${el.type}`); break;
    case 'text': case 'fallback':
        need(el.type === 'BYTE_ARRAY' && (lt.type === 'STRING' || lt.type === 'ENUM' || el.converted_type === 'UTF8'), `string: ${el.type} ${show(lt)}`); break;
    case 'json': need(el.type === 'BYTE_ARRAY' && lt.type === 'JSON', `json: ${el.type} ${show(lt)}`); break;
    case 'bytea': need(el.type === 'BYTE_ARRAY' && !lt.type && !el.converted_type, `bytea: ${el.type} ${show(lt)} ${el.converted_type}`); break;
    case 'obsid':   // raw bytes, no logical type: a trace id is no UUID
        need(el.type === 'FIXED_LEN_BYTE_ARRAY' && Number(el.type_length) === (k.typname === 'trace_id' ? 16 : 8) &&
            !lt.type && !el.converted_type, `${k.typname}: ${el.type}(${el.type_length}) ${show(lt)} ${el.converted_type}`);
        break;
    case 'uuid': need(el.type === 'FIXED_LEN_BYTE_ARRAY' && Number(el.type_length) === 16 && lt.type === 'UUID', `uuid: ${el.type}(${el.type_length}) ${show(lt)}`); break;
    case 'date': need(el.type === 'INT32' && (lt.type === 'DATE' || el.converted_type === 'DATE'), `date: ${el.type} ${show(lt)}`); break;
    case 'time': need(el.type === 'INT64' && lt.type === 'TIME' && lt.unit === 'MICROS', `time: ${el.type} ${show(lt)}`); break;
    case 'ts': case 'tstz':
        need(el.type === 'INT64' && lt.type === 'TIMESTAMP' && lt.unit === 'MICROS' && lt.isAdjustedToUTC === (k.kind === 'tstz'),
            `${k.typname}: ${el.type} ${show(lt)}`);
        break;
    case 'decimal':
        if (String(expectedDuck(k)).startsWith('DECIMAL'))
            need(lt.type === 'DECIMAL' && lt.precision === k.precision && lt.scale === k.scale, `decimal: ${el.type} ${show(lt)}`);
        else if (expectedDuck(k) === 'VARCHAR')
            need(el.type === 'BYTE_ARRAY' && lt.type === 'STRING', `numeric fallback: ${el.type} ${show(lt)}`);
        break;
    }
    return p;
}

async function checkSchema(label, fx, file) {
    await check(`${label}: DuckDB DESCRIBE shows the expected types`, async () => {
        const { rows } = await dq(`DESCRIBE SELECT * FROM read_parquet(${sqlStr(file)})`);
        const bad = [];
        fx.cols.forEach((c, i) => {
            const exp = expectedDuck(c.k);
            const got = rows[i] ? rows[i][1] : undefined;
            if (exp && exp !== got)
                bad.push(`${c.name} (${c.k.typname}${c.k.kind === 'list' ? '' : ''}): expected ${exp}, got ${got}`);
        });
        return bad.length ? bad.join('\n') : true;
    });
    await check(`${label}: Parquet physical/logical types and LIST structure (hyparquet's footer view)`, async () => {
        const meta = hyMetadata(file);
        const s = meta.schema;
        const bad = [];
        let idx = 1;
        const nextEl = () => s[idx++];
        for (const c of fx.cols) {
            const el = nextEl();
            if (!el || el.name !== c.name) {
                bad.push(`expected element ${c.name}, got ${el && el.name}`);
                break;
            }
            if (c.k.kind === 'list') {
                const rep = nextEl(), leaf = rep && rep.num_children === 1 ? nextEl() : null;
                const okList = (el.logical_type?.type === 'LIST' || el.converted_type === 'LIST') && el.num_children === 1 &&
                    rep && rep.repetition_type === 'REPEATED' && leaf && !leaf.num_children;
                if (!okList) {
                    bad.push(`${c.name}: not a 3-level LIST: ${show([el, rep, leaf])}`);
                    break;
                }
                leafProblems(c.k.elem, leaf).forEach((p) => bad.push(`${c.name}[]: ${p}`));
            } else {
                if (el.num_children)
                    idx += el.num_children;   // unexpected group; keep walking
                leafProblems(c.k, el).forEach((p) => bad.push(`${c.name}: ${p}`));
            }
        }
        return bad.length ? bad.join('\n') : true;
    });
    if (fx.cols.some((c) => c.k.kind === 'ts' || c.k.kind === 'tstz'))
        await check(`${label}: arrow-rs maps timestamp to zone-less and timestamptz to UTC Timestamp(MICROSECOND)`, async () => {
            const t = arrowTableOf(file);
            const bad = [];
            fx.cols.forEach((c, i) => {
                if (c.k.kind !== 'ts' && c.k.kind !== 'tstz')
                    return;
                const ty = t.schema.fields[i].type;
                const tzOk = c.k.kind === 'ts' ? !ty.timezone : /^(\+00:00|UTC|Z|Etc\/UTC)$/.test(ty.timezone || '');
                if (String(ty.typeId) !== '10' || !tzOk)
                    bad.push(`${c.name}: ${ty} tz=${ty.timezone}`);
            });
            return bad.length ? bad.join('\n') : true;
        });
}

// Row group statistics: presence, null counts (against PostgreSQL) and
// min/max (against DuckDB's own aggregate of the values it read).
const STAT_KINDS = new Set(['int', 'float', 'decimal', 'bool', 'text', 'fallback', 'uuid', 'date', 'time', 'ts', 'tstz', 'bytea', 'obsid']);
async function checkStats(label, fx, file) {
    await check(`${label}: row group statistics (null_count, min, max) present and right`, async () => {
        const md = (await dq(`SELECT row_group_id, row_group_num_rows, column_id, path_in_schema, stats_min_value, stats_max_value,
                stats_null_count, min_is_exact, max_is_exact FROM parquet_metadata(${sqlStr(file)}) ORDER BY row_group_id, column_id`)).rows;
        const rgRows = new Map();
        for (const r of md)
            rgRows.set(Number(r[0]), Number(r[1]));
        const bounds = [];
        let lo = 0;
        for (const [rg, n] of [...rgRows.entries()].sort((a, b) => a[0] - b[0])) {
            bounds.push([rg, lo, lo + n]);
            lo += n;
        }
        if (lo !== fx.truth.length)
            return `row groups hold ${lo} rows, PostgreSQL has ${fx.truth.length}`;
        if (!bounds.length)
            return true;
        const scal = fx.cols.map((c, i) => ({ ...c, i })).filter((c) => c.k.kind !== 'list');
        // leaf column index of each top-level scalar column
        let leaf = 0;
        const leafOf = new Map();
        fx.cols.forEach((c, i) => { leafOf.set(i, leaf); leaf += 1; });
        const statCols = scal.filter((c) => STAT_KINDS.has(c.k.kind));
        const aggs = statCols.map((c) => {
            const x = `"${c.name}"`;
            const f = c.k.kind === 'float' ? ` FILTER (WHERE NOT isnan(${x}))` : '';
            const len = ['bytea', 'obsid'].includes(c.k.kind) ? `octet_length(${x})` : `strlen(${x}::VARCHAR)`;
            return `min(${x})${f}::VARCHAR, max(${x})${f}::VARCHAR, max(${len})`;
        });
        const vals = bounds.map(([rg, a, b]) => `(${rg}, ${a}, ${b})`).join(', ');
        const actual = statCols.length ? (await dq(`SELECT b.rg, ${aggs.join(', ')} FROM read_parquet(${sqlStr(file)}, file_row_number = true) p
            JOIN (VALUES ${vals}) b(rg, lo, hi) ON p.file_row_number >= b.lo AND p.file_row_number < b.hi GROUP BY b.rg ORDER BY b.rg`)).rows : [];
        const actualBy = new Map(actual.map((r) => [Number(r[0]), r]));
        const hyMeta = hyMetadata(file);
        const bad = [];
        for (const [rg, a, b] of bounds) {
            for (const c of scal) {
                const m = md.find((r) => Number(r[0]) === rg && Number(r[2]) === leafOf.get(c.i));
                if (!m) {
                    bad.push(`rg ${rg} ${c.name}: no column chunk`);
                    continue;
                }
                let [, , , , smin, smax, snull, minExact, maxExact] = m;
                if (c.k.kind === 'float') {
                    // DuckDB's parquet_metadata hides infinite float bounds; read them raw
                    const st = hyMeta.row_groups[rg].columns[leafOf.get(c.i)].meta_data.statistics || {};
                    smin = st.min_value ?? st.min ?? null;
                    smax = st.max_value ?? st.max ?? null;
                }
                let nulls = 0;
                for (let r = a; r < b; r++)
                    if (fx.truth[r][c.i] === null)
                        nulls++;
                if (snull === null || Number(snull) !== nulls)
                    bad.push(`rg ${rg} ${c.name}: null_count ${snull}, PostgreSQL has ${nulls} NULLs`);
                if (!STAT_KINDS.has(c.k.kind))
                    continue;
                const ar = actualBy.get(rg);
                const j = statCols.indexOf(c);
                const [amin, amax, maxLen] = ar ? [ar[1 + 3 * j], ar[2 + 3 * j], Number(ar[3 + 3 * j])] : [null, null, 0];
                if (amin === null) {
                    continue;   // only NULLs (or NaNs): nothing to bound
                }
                if (smin === null || smax === null) {
                    const hasNaN = c.k.kind === 'float' && fx.truth.slice(a, b).some((r) => r[c.i] === 'NaN');
                    if (maxLen <= 64 && !hasNaN)
                        bad.push(`rg ${rg} ${c.name}: min/max missing (values ${amin} .. ${amax})`);
                    continue;
                }
                const eq = (s, v) => {
                    if (c.k.kind === 'float') {
                        const num = (x) => (typeof x === 'number' ? x : /^-inf/i.test(x) ? -Infinity : /^\+?inf/i.test(x) ? Infinity : Number(x));
                        const r = c.k.typname === 'float4' ? Math.fround : (x) => x;   // DuckDB prints float4 shortest
                        return r(num(s)) === r(num(v));
                    }
                    if (c.k.kind === 'decimal')
                        return normDec(s) === normDec(v);
                    return s === v;
                };
                const le = (x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)) <= 0;
                const strish = ['text', 'fallback', 'bytea', 'obsid'].includes(c.k.kind);
                if (!(eq(smin, amin) || (strish && minExact === false && le(smin, amin))))
                    bad.push(`rg ${rg} ${c.name}: stats min ${show(smin)}, values' min ${show(amin)}`);
                if (!(eq(smax, amax) || (strish && maxExact === false && le(amax, smax))))
                    bad.push(`rg ${rg} ${c.name}: stats max ${show(smax)}, values' max ${show(amax)}`);
            }
        }
        return bad.length ? `${bad.length} problems:\n${bad.slice(0, 8).join('\n')}` : true;
    });
}

// --- fixtures ------------------------------------------------------------------

function createFixture(f) {
    const table = `pqt.${f.name}`;
    if (f.sql) {
        psql(`CREATE TABLE ${table} AS ${f.sql}`);
    } else {
        const n = Math.max(...f.cols.map((c) => c[2].length));
        const defs = ['ord int', ...f.cols.map(([name, type]) => `"${name}" ${type}`)].join(', ');
        const rows = [];
        for (let r = 0; r < n; r++)
            rows.push(`(${[r + 1, ...f.cols.map((c) => (r < c[2].length ? `${c[2][r]}` : 'NULL'))].join(', ')})`);
        if (!f.noNullRow)
            rows.push(`(${[n + 1, ...f.cols.map(() => 'NULL')].join(', ')})`);
        psql(`CREATE TABLE ${table} (${defs}); INSERT INTO ${table} VALUES ${rows.join(',\n')}`);
    }
    return loadFixture(table);
}

function loadFixture(table) {
    const cols = columnsOf(table);
    const truthRaw = truthOf(table, cols);
    const truth = truthRaw.map((r) => r.map((v, i) => canonTruth(cols[i].k, v)));
    return { table, cols, truthRaw, truth };
}

function sizeOf(f) {
    return fs.statSync(f).size;
}

async function runFixture(f) {
    const fx = createFixture(f);
    let file;
    const ok = await check(`${f.name}: COPY ... TO '${f.name}.parquet' WITH (${copyOpts(f.options)}) succeeds`, async () => {
        file = await exportTable(fx, `${f.name}.parquet`, f.options);
        return fs.existsSync(file) ? true : 'no file written';
    });
    if (!ok)
        return;
    await checkValues(f.name, fx, file);
    await checkSchema(f.name, fx, file);
    await checkStats(f.name, fx, file);
    return { fx, file };
}

// Corrupt every column chunk of every row group but `keep`; a filter whose
// answer lies in `keep` can then only succeed if DuckDB skipped the others
// from their statistics, which an unfiltered scan (the control) shows.
async function checkPruning(fx, file) {
    const md = (await dq(`SELECT row_group_id, coalesce(least(dictionary_page_offset, data_page_offset), data_page_offset),
            total_compressed_size, row_group_num_rows FROM parquet_metadata(${sqlStr(file)})`)).rows;
    const nrg = new Set(md.map((r) => Number(r[0]))).size;
    await check(`rowgroups: ROW_GROUP_SIZE 1000 over 10000 rows gives 10 row groups of 1000 rows`, () =>
        nrg === 10 && md.every((r) => Number(r[3]) === 1000) ? true : `${nrg} row groups: ${show(md.map((r) => Number(r[3])))}`);
    const bounds = [];
    {
        let lo = 0;
        const byRg = new Map(md.map((r) => [Number(r[0]), Number(r[3])]));
        for (const [rg, n] of [...byRg.entries()].sort((x, y) => x[0] - y[0])) {
            bounds.push([rg, lo, lo + n]);
            lo += n;
        }
    }
    try { await dq('SET enable_external_file_cache = false'); } catch { /* older DuckDB */ }
    // Corrupt every row group not overlapping rows [a, b] (row index = id).
    const corrupt = (name, a, b) => {
        const keep = new Set(bounds.filter(([, lo, hi]) => lo <= b && a < hi).map(([rg]) => rg));
        const buf = fs.readFileSync(file);
        for (const [rg, off, size] of md)
            if (!keep.has(Number(rg)))
                buf.fill(0xAB, Number(off), Number(off) + Number(size));
        const out = path.join(LOCAL, `rowgroups.${name}.parquet`);
        fs.writeFileSync(out, buf);
        return [sqlStr(out), bounds.length - keep.size];
    };
    const cases = [
        ['id BETWEEN 2500 AND 2599', 2500, 2599, 'id BETWEEN 2500 AND 2599', '100,254950'],
        ["ts BETWEEN '2024-01-01 00:35:00' AND '2024-01-01 00:36:00'", 2100, 2160,
            "ts BETWEEN '2024-01-01 00:35:00' AND '2024-01-01 00:36:00'", '61,129930'],
        ["grp = 'grp002'", 2000, 2999, "grp = 'grp002'", '1000,2499500'],
    ];
    let f;
    for (const [what, a, b, where, exp] of cases) {
        let skipped;
        [f, skipped] = corrupt(what.split(' ')[0], a, b);
        await check(`rowgroups: DuckDB prunes on ${what} (the ${skipped} other row groups are corrupted, answer still right)`, async () => {
            const r = (await dq(`SELECT count(*), sum(id) FROM read_parquet(${f}) WHERE ${where}`)).rows[0].map(String).join(',');
            return r === exp ? true : `got ${r}, expected ${exp}`;
        });
    }
    await check('rowgroups: control: an unfiltered scan of the corrupted file fails', async () => {
        try {
            await dq(`SELECT sum(id), min(grp), max(ts) FROM read_parquet(${f})`);
            return 'unfiltered scan succeeded: the corruption did not hit the data, so the pruning checks prove nothing';
        } catch {
            return true;
        }
    });
}

async function runCodecs() {
    psql(`CREATE TABLE pqt.codecs AS ${CODECS_SQL}`);
    const fx = loadFixture('pqt.codecs');
    const sizes = [];
    for (const [name, opts, expect] of CODECS) {
        let file;
        const ok = await check(`codecs: COPY ... WITH (FORMAT parquet, ${opts}) succeeds`, async () => {
            file = await exportTable(fx, `codec_${name}.parquet`, opts);
        });
        if (!ok)
            continue;
        sizes.push(`${name}=${sizeOf(file)}`);
        await checkValues(`codecs/${name}`, fx, file);
        await check(`codecs/${name}: every column chunk says ${expect}`, async () => {
            const { rows } = await dq(`SELECT DISTINCT compression FROM parquet_metadata(${sqlStr(file)})`);
            const got = rows.map((r) => r[0]);
            return got.length === 1 && got[0] === expect ? true : `compression: ${show(got)}`;
        });
    }
    note(`codec file sizes (bytes, 3000 rows): ${sizes.join(' ')}`);
    return fx;
}

async function runDictionary() {
    psql(`CREATE TABLE pqt.dict AS ${DICT_SQL}`);
    const fx = loadFixture('pqt.dict');
    let file;
    if (!await check('dictionary: COPY of 100000 rows (ROW_GROUP_SIZE 100000) succeeds', async () => {
        file = await exportTable(fx, 'dict.parquet', 'ROW_GROUP_SIZE 100000');
    }))
        return;
    await checkValues('dictionary', fx, file, ['duckdb', 'arrow']);
    const { rows } = await dq(`SELECT path_in_schema, encodings, total_compressed_size FROM parquet_metadata(${sqlStr(file)}) ORDER BY row_group_id, column_id`);
    note(`encodings: ${rows.map((r) => `${r[0]}=[${r[1]}] ${r[2]}B`).join('; ')}`);
    const enc = (col) => rows.filter((r) => r[0] === col).map((r) => String(r[1])).join(',');
    await check('dictionary: repetitive text and int8 columns are dictionary encoded', () =>
        /DICTIONARY/.test(enc('low_card')) && /DICTIONARY/.test(enc('low_i8')) ? true : `low_card [${enc('low_card')}] low_i8 [${enc('low_i8')}]`);
    // PLAIN, or DELTA_LENGTH_BYTE_ARRAY when that comes out smaller
    await check('dictionary: a 9.6 MB unique column falls back to pages without the dictionary', () =>
        /(^|[ ,])(PLAIN|DELTA_LENGTH_BYTE_ARRAY)($|[ ,])/.test(enc('high_card')) ? true : `high_card encodings [${enc('high_card')}]`);
}

// DELTA_BINARY_PACKED and BYTE_STREAM_SPLIT chunks: values, statistics and
// schema as every fixture, and each expected column's chunks that hold
// values use the expected encoding (an all-NULL chunk holds no values).
async function runEncodings() {
    for (const f of ENCODING_FIXTURES) {
        const r = await runFixture(f);
        if (!r || WRITER !== 'obs')
            continue;
        const { rows } = await dq(`SELECT row_group_id, path_in_schema, encodings, total_compressed_size, stats_null_count, row_group_num_rows
            FROM parquet_metadata(${sqlStr(r.file)}) ORDER BY row_group_id, column_id`);
        const sum = new Map();
        for (const x of rows)
            sum.set(String(x[1]), [...(sum.get(String(x[1])) || []), `${x[2]}`.replace(/\s+/g, '')]);
        note(`${f.name} encodings by column: ${[...sum].map(([k, v]) => `${k}=[${[...new Set(v)].join(' ')}]`).join('; ')}`);
        for (const [col, bits] of Object.entries(f.maxBits || {})) {
            await check(`${f.name}: ${col} takes at most ${bits} compressed bits per value`, () => {
                const mine = rows.filter((x) => String(x[1]).split(/[ ,.]+/)[0] === col);
                const bytes = mine.reduce((a, x) => a + Number(x[3]), 0);
                const n = mine.reduce((a, x) => a + Number(x[5]) - Number(x[4]), 0);
                const got = (bytes * 8) / n;
                note(`${f.name}: ${col}: ${bytes} bytes for ${n} values, ${got.toFixed(2)} bits each`);
                return got <= bits ? true : `${got.toFixed(2)} bits per value`;
            });
        }
        for (const [col, options] of f.levelCheck || []) {
            await check(`${f.name}: ${col} compresses smaller than with ${options}`, async () => {
                const other = await exportTable(r.fx, `${f.name}_given.parquet`, `${f.options ? `${f.options}, ` : ''}${options}`);
                const bytes = async (file) => Number((await dq(`SELECT sum(total_compressed_size) FROM parquet_metadata(${sqlStr(file)})
                    WHERE path_in_schema = ${sqlStr(col)}`)).rows[0][0]);
                const [auto, given] = [await bytes(r.file), await bytes(other)];
                note(`${f.name}: ${col}: ${auto} bytes, ${given} with ${options}`);
                return auto < given ? true : `${auto} bytes, not fewer than ${given}`;
            });
        }
        const pages = (f.deltaBytes || f.deltaOneBase || f.dlbaSingleRun || f.longRow)
            ? await deltaPages(r.file, (name) => name.includes(', list, ')) : null;
        // A page of deltas of about one width is written as a single run
        // (one block of one miniblock), which has one min delta by itself.
        for (const col of f.deltaOneBase || []) {
            await check(`${f.name}: the blocks of ${col}'s first DELTA_BINARY_PACKED page share one min delta (or it is a single run)`, () => {
                const pg = (pages.get(col) || [])[0];
                if (!pg || pg.mins.length < 1)
                    return `no page of ${col} with a block`;
                const distinct = [...new Set(pg.mins.map(String))];
                note(`${f.name}: ${col}: ${pg.mins.length} blocks of ${pg.block} values in ${pg.minis} miniblocks, min deltas ${distinct.slice(0, 5).join(', ')}${distinct.length > 5 ? ', ...' : ''}`);
                if (pg.mins.length === 1 && pg.minis !== 1)
                    return `one block of ${pg.block} values in ${pg.minis} miniblocks: neither blocks sharing a min delta nor a single run`;
                return distinct.length === 1 ? true : `${distinct.length} different min deltas`;
            });
        }
        for (const col of f.dlbaSingleRun || []) {
            await check(`${f.name}: the lengths of every DELTA_LENGTH_BYTE_ARRAY page of ${col} are a single bit-packed run`, () => {
                // a page of one value has no deltas, and keeps the usual header
                const mine = (pages.get(col) || []).filter((pg) => pg.enc === 6 && pg.total >= 2);
                const counts = {};
                for (const pg of mine)
                    counts[`${pg.block}/${pg.minis}/${pg.total}`] = (counts[`${pg.block}/${pg.minis}/${pg.total}`] || 0) + 1;
                note(`${f.name}: ${col}: DELTA_LENGTH_BYTE_ARRAY pages by block/miniblocks/values ${show(counts)}`);
                if (mine.length < 2)
                    return `${mine.length} DELTA_LENGTH_BYTE_ARRAY pages of ${col}`;
                const bad = mine.filter((pg) => pg.minis !== 1 || pg.mins.length > 1 ||
                    pg.block !== Math.max(128, Math.ceil((pg.total - 1) / 128) * 128));
                return bad.length ? `${bad.length} pages are not one block of one miniblock over their values` : true;
            });
        }
        for (const col of f.longRow || []) {
            await check(`${f.name}: ${col}'s page of more than 131072 values keeps blocks of 128`, () => {
                const mine = [...pages].filter(([k]) => k.split(/[ ,.]+/)[0] === col).flatMap(([, v]) => v);
                const big = mine.filter((pg) => pg.total > 131073);
                note(`${f.name}: ${col}: pages of ${mine.map((pg) => `${pg.total} values in blocks of ${pg.block}/${pg.minis}`).join(', ')}`);
                if (!big.length)
                    return `no page of ${col} with more than 131073 values`;
                return big.every((pg) => pg.block === 128 && pg.minis === 4) ? true : 'a long page went as one run';
            });
        }
        if (f.copyFrom) {
            await check(`${f.name}: COPY FROM (obs's reader) loads the file back equal to the table`, () => {
                const back = `${r.fx.table}_back`;
                psql(`DROP TABLE IF EXISTS ${back}; CREATE TABLE ${back} (LIKE ${r.fx.table});
                      COPY ${back} FROM ${lit(r.file)} WITH (FORMAT parquet)`);
                const diff = psql(`SELECT (SELECT count(*) FROM (SELECT * FROM ${r.fx.table} EXCEPT ALL SELECT * FROM ${back}) a),
                                          (SELECT count(*) FROM (SELECT * FROM ${back} EXCEPT ALL SELECT * FROM ${r.fx.table}) b),
                                          (SELECT count(*) FROM ${back})`).trim();
                note(`${f.name}: COPY FROM: rows only in the table, only loaded, loaded: ${diff}`);
                return diff === `0|0|${r.fx.truth.length}` ? true : `rows only in the table|only loaded|loaded: ${diff}`;
            });
        }
        if (f.deltaBytes) {
            for (const col of f.deltaBytes) {
                await check(`${f.name}: every DELTA_BINARY_PACKED miniblock of ${col} is whole bytes wide`, () => {
                    const w = (pages.get(col) || []).flatMap((pg) => pg.widths);
                    const counts = {};
                    for (const x of w)
                        counts[x] = (counts[x] || 0) + 1;
                    note(`${f.name}: ${col}: miniblock widths ${show(counts)}`);
                    if (!w.some((x) => x > 0))
                        return `no miniblock of ${col} with a width above 0`;
                    return w.every((x) => x % 8 === 0) ? true : `widths ${show(counts)}`;
                });
            }
        }
        for (const [col, enc] of Object.entries(f.expect)) {
            await check(`${f.name}: every chunk of ${col} holding values is ${enc}`, () => {
                const mine = rows.filter((x) => String(x[1]).split(/[ ,.]+/)[0] === col);
                if (!mine.length)
                    return `no chunks of ${col}`;
                const allNull = (x) => Number(x[4]) === Number(x[5]);   // a scalar chunk of NULLs only
                const bad = mine.filter((x) => !String(x[2]).split(/[ ,]+/).includes(enc) && !allNull(x));
                return bad.length ? bad.map((x) => `row group ${x[0]}: [${x[2]}]`).join('\n') : true;
            });
        }
    }
}

async function runMisc(scalars) {
    // key-value metadata
    await check(`kv metadata: names the writer (obs) and its version ${EXTVERSION}`, async () => {
        const { rows } = await dq(`SELECT decode(key), decode(value) FROM parquet_kv_metadata(${sqlStr(scalars.file)})`);
        const { rows: cb } = await dq(`SELECT created_by FROM parquet_file_metadata(${sqlStr(scalars.file)})`);
        note(`created_by=${show(cb[0][0])} key_value_metadata=${show(rows)}`);
        const kv = rows.map((r) => `${r[0]}=${r[1]}`).join('\n');
        return /obs/i.test(kv) && kv.includes(EXTVERSION) ? true : `no key/value pair names obs ${EXTVERSION}: ${show(rows)}`;
    });
    // a value the column's Parquet type cannot hold: a clear error, no file
    for (const [what, sql, state] of [['numeric(10,2) NaN', "SELECT 'NaN'::numeric(10,2) AS n", '22003'],
        ['a 2-dimensional array', "SELECT '{{1,2},{3,4}}'::int[] AS a", '0A000'],
        ['a query failing mid-export (after 5 row groups were written)',
            'SELECT g, repeat(md5(g::text), 10) AS t, 1 / (g - 5000) AS boom FROM generate_series(1, 10000) g', '22012']]) {
        const target = path.join(DIR, 'must_not_exist.parquet');
        await check(`${what}: COPY fails with SQLSTATE ${state} and leaves nothing under the target name`, async () => {
            let err = null;
            try {
                psql(`COPY (${sql}) TO ${lit(target)} WITH (FORMAT parquet, ROW_GROUP_SIZE 1000)`, ['-v', 'VERBOSITY=verbose']);
            } catch (e) {
                err = e.stderr;
            }
            const left = fs.readdirSync(DIR).filter((n) => n.includes('must_not_exist'));
            note(`${what}: ${String(err).split('\n')[0]}`);
            if (!err)
                return 'COPY succeeded';
            if (!err.includes(`ERROR:  ${state}:`))
                return `expected SQLSTATE ${state}: ${String(err).split('\n')[0]}`;
            return left.length ? `left behind: ${left.join(', ')}` : true;
        });
    }
    // a directory the server cannot write
    const ro = fs.mkdtempSync(path.join(os.tmpdir(), 'obs-pq-ro-'));
    fs.chmodSync(ro, 0o755);
    await check('an unwritable directory: COPY fails with a file-access error and leaves nothing', async () => {
        let err = null;
        try {
            psql(`COPY (SELECT 1 AS x) TO ${lit(path.join(ro, 'x.parquet'))} WITH (FORMAT parquet)`);
        } catch (e) {
            err = e.stderr;
        }
        note(`unwritable: ${String(err).split('\n')[0]}`);
        const left = fs.readdirSync(ro);
        fs.rmSync(ro, { recursive: true, force: true });
        if (!err)
            return 'COPY succeeded';
        if (!/permission denied/i.test(err))
            return `error does not say permission denied: ${err}`;
        return left.length ? `left behind: ${left.join(', ')}` : true;
    });
    // the byte cap on row groups
    const bcFx = scalars.codecs;
    let bcFile;
    if (bcFx && await check('COPY ... WITH (FORMAT parquet, ROW_GROUP_SIZE_BYTES 65536) succeeds', async () => {
        bcFile = await exportTable(bcFx, 'bytecap.parquet', 'ROW_GROUP_SIZE_BYTES 65536');
    })) {
        await check(`ROW_GROUP_SIZE_BYTES 65536 splits ${bcFx.table} (${bcFx.truth.length} rows) into several row groups`, async () => {
            const { rows } = await dq(`SELECT count(DISTINCT row_group_id), max(row_group_num_rows) FROM parquet_metadata(${sqlStr(bcFile)})`);
            note(`ROW_GROUP_SIZE_BYTES 65536: ${rows[0][0]} row groups, at most ${rows[0][1]} rows each`);
            return Number(rows[0][0]) > 1 ? true : `${rows[0][0]} row group(s)`;
        });
        await checkValues('ROW_GROUP_SIZE_BYTES 65536', bcFx, bcFile, ['duckdb', 'hyparquet']);
    }
    // the byte cap and the buffers a row group keeps for the next one: a
    // column wide in one row group and narrow in the next must not make the
    // next one close after a row (it did: 39 row groups, 500 and 1 rows in
    // turn, with 2 MB of the first row group's empty buffers counted)
    await check('ROW_GROUP_SIZE 500, ROW_GROUP_SIZE_BYTES 2500000: wide columns taking turns every 500 rows give 20 row groups of 500 rows', async () => {
        const f = path.join(DIR, 'rg_turns.parquet');
        psql(`DROP TABLE IF EXISTS pqt.rg_turns;
              CREATE TABLE pqt.rg_turns AS SELECT i,
                CASE WHEN (i / 500) % 2 = 0 THEN repeat(md5(i::text), 64) ELSE 'x' END AS a,
                CASE WHEN (i / 500) % 2 = 1 THEN repeat(md5(i::text), 64) ELSE 'x' END AS b,
                CASE WHEN i % 3 = 0 THEN NULL ELSE i END AS n
              FROM generate_series(0, 9999) AS i;
              COPY (SELECT * FROM pqt.rg_turns ORDER BY i) TO ${lit(f)}
                WITH (FORMAT parquet, ROW_GROUP_SIZE 500, ROW_GROUP_SIZE_BYTES 2500000)`);
        const sizes = (await dq(`SELECT row_group_id, any_value(row_group_num_rows) FROM parquet_metadata(${sqlStr(f)})
                GROUP BY 1 ORDER BY 1`)).rows.map((r) => Number(r[1]));
        note(`rg_turns: ${sizes.length} row groups: ${sizes.join(',')}`);
        if (sizes.length !== 20 || sizes.some((n) => n !== 500))
            return `${sizes.length} row groups of ${sizes.join(',')} rows`;
        const sums = (await dq(`SELECT count(*), sum(length(a) + length(b)), sum(n) FROM read_parquet(${sqlStr(f)})`)).rows[0].map(String);
        const exp = psql('SELECT count(*), sum(length(a) + length(b)), sum(n) FROM pqt.rg_turns', ['-At', '-F', ',']).trim().split(',');
        psql('DROP TABLE pqt.rg_turns');
        return show(sums) === show(exp) ? true : `DuckDB reads ${show(sums)}, PostgreSQL holds ${show(exp)}`;
    });
    // a LATIN1 database: strings are converted to UTF-8
    await check('a LATIN1 database exports its text as UTF-8', async () => {
        psql('DROP DATABASE IF EXISTS obs_pq_latin1');
        psql("CREATE DATABASE obs_pq_latin1 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0");
        try { psql('CREATE EXTENSION IF NOT EXISTS obs', [], 'obs_pq_latin1'); } catch { /* preloaded instead */ }
        const f = path.join(DIR, 'latin1.parquet');
        const words = ['café', 'Ñandú', 'über', 'ÿ', 'plain'];
        psql(`CREATE TABLE t (ord int, t text, a text[]);
              INSERT INTO t VALUES ${words.map((w, i) => `(${i}, ${lit(w)}, ARRAY[${lit(w)}])`).join(', ')};
              COPY (SELECT * FROM t ORDER BY ord) TO ${lit(f)} WITH (FORMAT parquet)`, [], 'obs_pq_latin1');
        const bad = [];
        const stored = psql("SELECT string_agg(encode(convert_to(t, 'LATIN1'), 'hex'), ' ' ORDER BY ord) FROM t", [], 'obs_pq_latin1').trim();
        if (stored !== words.map((w) => Buffer.from(w, 'latin1').toString('hex')).join(' '))
            bad.push(`harness: the LATIN1 database holds ${stored}`);
        for (const rd of ALL_READERS) {
            const { rows } = await READERS[rd](f);
            const got = rows.map((r) => `${r[1]}|${r[2] && r[2][0]}`);
            const exp = words.map((w) => `${w}|${w}`);
            if (show(got) !== show(exp))
                bad.push(`${rd}: ${show(got)}`);
        }
        psql('DROP DATABASE obs_pq_latin1');
        return bad.length ? bad.join('\n') : true;
    });
    // privileges: STDOUT for a role that can read the rows, server files not
    await check('a role with SELECT only: \\copy ... TO a client file works, COPY ... TO a server file is refused (42501)', async () => {
        psql(`DROP ROLE IF EXISTS obs_pq_reader; CREATE ROLE obs_pq_reader LOGIN;
              GRANT USAGE ON SCHEMA pqt TO obs_pq_reader; GRANT SELECT ON pqt.scalars TO obs_pq_reader;
              ALTER ROLE obs_pq_reader SET session_preload_libraries = 'obs'`);   // as an administrator would
        const cf = path.join(LOCAL, 'reader.parquet');
        const problems = [];
        try {
            psql(`\\copy (SELECT * FROM pqt.scalars ORDER BY ord) TO ${lit(cf)} WITH (FORMAT parquet)`, ['-U', 'obs_pq_reader'],
                undefined, { PGOPTIONS: '' });
            const { rows } = await READERS.duckdb(cf);
            if (rows.length !== scalars.fx.truth.length)
                problems.push(`\\copy file has ${rows.length} rows`);
        } catch (e) {
            problems.push(`\\copy failed: ${e.message}`);
        }
        try {
            psql(`SET ROLE obs_pq_reader; COPY (SELECT 1 AS x) TO ${lit(path.join(DIR, 'reader_server.parquet'))} WITH (FORMAT parquet)`, ['-v', 'VERBOSITY=verbose']);
            problems.push('server-side COPY succeeded for a role without pg_write_server_files');
        } catch (e) {
            note(`server file as obs_pq_reader: ${e.stderr.split('\n')[0]}`);
            if (!/42501/.test(e.stderr))
                problems.push(`expected SQLSTATE 42501: ${e.stderr.split('\n')[0]}`);
        }
        psql('DROP OWNED BY obs_pq_reader; DROP ROLE obs_pq_reader');
        return problems.length ? problems.join('\n') : true;
    });
    // client-side \copy through COPY TO STDOUT
    const client = path.join(LOCAL, 'client.parquet');
    if (await check("\\copy (SELECT * FROM pqt.scalars ORDER BY ord) TO 'client.parquet' WITH (FORMAT parquet) writes a Parquet file", async () => {
        psql(`\\copy (SELECT * FROM pqt.scalars ORDER BY ord) TO ${lit(client)} WITH (FORMAT parquet)`);
        const b = fs.readFileSync(client);
        return b.subarray(0, 4).toString() === 'PAR1' && b.subarray(b.length - 4).toString() === 'PAR1' ? true : `not a Parquet file (${b.length} bytes)`;
    })) {
        await checkValues('\\copy client file', scalars.fx, client);
        const server = await exportTable(scalars.fx, 'scalars_default.parquet', null);
        note(`\\copy file ${fs.readFileSync(client).equals(fs.readFileSync(server)) ? 'is byte-identical to' : 'differs in bytes from'} the server-side file of the same query`);
    }
    // file name ending in .parquet implies the format
    const implicit = path.join(DIR, 'implicit.parquet');
    if (await check("COPY (query) TO '/dir/implicit.parquet' without FORMAT writes Parquet", async () => {
        psql(`COPY (SELECT * FROM pqt.scalars ORDER BY ord) TO ${lit(implicit)}`);
        const b = fs.readFileSync(implicit);
        return b.subarray(0, 4).toString() === 'PAR1' ? true : `starts with ${show(b.subarray(0, 16).toString())}`;
    }))
        await checkValues('implicit format', scalars.fx, implicit, ['duckdb']);
    // COPY table (not a query)
    const tfile = path.join(DIR, 'table_form.parquet');
    if (await check('COPY pqt.scalars TO ... WITH (FORMAT parquet) (table form) succeeds', async () => {
        psql(`COPY pqt.scalars TO ${lit(tfile)} WITH (FORMAT parquet)`);
    }))
        await checkValues('table form', scalars.fx, tfile, ['duckdb', 'arrow'], { sortByOrd: true });
}

async function runFuzz() {
    const rnd = prng(SEED);
    const encSeen = new Map();   // data page encoding -> column chunks using it
    note(`fuzz: seed ${SEED}, ${FUZZ_N} tables (reproduce: OBS_PQ_SEED=${SEED} OBS_PQ_FUZZ=${FUZZ_N} OBS_PQ_ONLY=fuzz)`);
    for (let i = 0; i < FUZZ_N; i++) {
        const t = randomTable(rnd, i, SEED);
        if (Date.now() > DEADLINE) {
            result(false, `fuzz: time budget exhausted before table ${i} of ${FUZZ_N}`);
            break;
        }
        let fx;
        const created = await check(`fuzz ${t.name}: PostgreSQL generates ${t.rows} random rows`, async () => {
            psql(t.sql);
            fx = loadFixture(`pqt.${t.name}`);
        });
        if (!created) {
            note(t.sql);
            continue;
        }
        let file;
        const ok = await check(`fuzz ${t.name}: COPY (${t.desc}) succeeds`, async () => {
            file = await exportTable(fx, `${t.name}.parquet`, t.options);
        });
        const before = failed;
        if (ok) {
            await checkValues(`fuzz ${t.name}`, fx, file);
            await checkStats(`fuzz ${t.name}`, fx, file);
            for (const [e] of (await dq(`SELECT encodings FROM parquet_metadata(${sqlStr(file)})`)).rows)
                for (const x of String(e).split(/[ ,]+/).filter((x) => x && x !== 'RLE'))
                    encSeen.set(x, (encSeen.get(x) || 0) + 1);
        }
        if (failed > before || !ok)
            note(`reproduce: ${t.sql}\n  COPY (SELECT * FROM pqt.${t.name} ORDER BY ord) TO '/tmp/x.parquet' WITH (${copyOpts(t.options)});`);
        else
            fs.rmSync(file, { force: true });
        psql(`DROP TABLE pqt.${t.name}`);
    }
    note(`fuzz: column chunks by encoding: ${[...encSeen].map(([k, v]) => `${k} ${v}`).join(', ')}`);
}

async function main() {
    note(`writer: ${WRITER}; server-side files in ${DIR}; client-side files in ${LOCAL}`);
    psql(SETUP_SQL);
    loadTypes();
    let scalars = null, codecsFx = null;
    for (const f of FIXTURES) {
        if (!want(f.name))
            continue;
        const r = await runFixture(f);
        if (f.name === 'scalars')
            scalars = r;
        if (f.name === 'rowgroups' && r)
            await checkPruning(r.fx, r.file);
    }
    if (want('obs_ids') && WRITER === 'obs' && psql("SELECT to_regtype('obs.trace_id') IS NOT NULL").trim() === 't') {
        loadTypes();
        await runFixture({ name: 'obs_ids', sql: `SELECT g AS ord, obs.new_trace_id() AS trace_id, obs.new_span_id() AS span_id,
            CASE WHEN g % 3 = 0 THEN NULL ELSE obs.new_trace_id() END AS maybe_trace FROM generate_series(1, 200) g` });
    }
    if (want('encodings'))
        await runEncodings();
    if (want('codecs'))
        codecsFx = await runCodecs();
    if (want('dictionary'))
        await runDictionary();
    if (want('misc') && scalars && WRITER === 'obs')
        await runMisc({ ...scalars, codecs: codecsFx });
    if (want('fuzz'))
        await runFuzz();
    note(`took ${((Date.now() - T0) / 1000).toFixed(1)} s`);
    fs.rmSync(LOCAL, { recursive: true, force: true });
    console.log(`${passed} passed, ${failed} failed`);
    process.exit(failed ? 1 : 0);
}

main().catch((e) => {
    console.log(`not ok - harness crashed: ${e && e.stack ? e.stack.split('\n').slice(0, 4).join(' | ') : e}`);
    console.log(`${passed} passed, ${failed + 1} failed`);
    process.exit(1);
});
