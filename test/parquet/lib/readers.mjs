// readers.mjs: three independent Parquet readers, each returning
// {names, rows} with plain JS values (see types.mjs for the forms).
//   duckdb  - @duckdb/node-api (DuckDB's C++ reader)
//   arrow   - parquet-wasm (arrow-rs compiled to wasm), Arrow IPC decoded
//             with apache-arrow; raw buffers are used where apache-arrow's
//             get() would round (timestamps, decimals)
//   hyparquet - hyparquet + hyparquet-compressors (pure JS)
import fs from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import * as arrow from 'apache-arrow';
import { readParquet } from 'parquet-wasm';
import { parquetReadObjects, parquetMetadata } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';

let duck = null;
export async function duckdb() {
    if (!duck) {
        const inst = await DuckDBInstance.create(':memory:', { threads: '2' });
        duck = await inst.connect();
        await duck.run("SET TimeZone = 'UTC'");
    }
    return duck;
}

export async function dq(sql) {
    const c = await duckdb();
    const r = await c.runAndReadAll(sql);
    return { names: r.columnNames(), rows: r.getRows() };
}

export const sqlStr = (s) => `'${String(s).replace(/'/g, "''")}'`;

// DuckDB value -> plain JS value.
function fromDuck(v) {
    if (v === null || v === undefined)
        return null;
    if (typeof v !== 'object')
        return v;
    const cls = v.constructor.name;
    switch (cls) {
    case 'DuckDBListValue': case 'DuckDBArrayValue':
        return v.items.map(fromDuck);
    case 'DuckDBDecimalValue':
        return { dec: v.toString() };
    case 'DuckDBDateValue':
        return { days: v.days };
    case 'DuckDBTimeValue':
        return { timeUs: v.micros };
    case 'DuckDBTimestampValue': case 'DuckDBTimestampTZValue':
        return { tsUs: v.micros };
    case 'DuckDBTimestampMillisecondsValue':
        return { tsUs: v.millis * 1000n };
    case 'DuckDBTimestampNanosecondsValue':
        return { tsUs: v.nanos / 1000n };
    case 'DuckDBBlobValue':
        return v.bytes;
    case 'DuckDBUUIDValue':
        return v.toString();
    case 'DuckDBIntervalValue':
        return { interval: [v.months, v.days, v.micros] };
    }
    return v;   // anything else is reported as a mismatch by canon()
}

export async function readDuckdb(path) {
    const { names, rows } = await dq(`SELECT * FROM read_parquet(${sqlStr(path)})`);
    return { names, rows: rows.map((r) => r.map(fromDuck)) };
}

// --- arrow-rs via parquet-wasm ---------------------------------------------

function decimalOf(words, stride, i, scale) {
    let v = 0n;
    for (let w = stride - 1; w >= 0; w--)
        v = (v << 32n) | BigInt(words[stride * i + w]);
    const bits = BigInt(stride * 32);
    if (v >= 1n << (bits - 1n))
        v -= 1n << bits;
    const neg = v < 0n;
    let s = (neg ? -v : v).toString();
    if (scale > 0) {
        s = s.padStart(scale + 1, '0');
        s = s.slice(0, s.length - scale) + '.' + s.slice(s.length - scale);
    }
    return (neg ? '-' : '') + s;
}

function unitToUs(v, unit) {
    switch (unit) {
    case arrow.TimeUnit.SECOND: return BigInt(v) * 1000000n;
    case arrow.TimeUnit.MILLISECOND: return BigInt(v) * 1000n;
    case arrow.TimeUnit.MICROSECOND: return BigInt(v);
    case arrow.TimeUnit.NANOSECOND: return BigInt(v) / 1000n;
    }
    throw new Error('unit ' + unit);
}

function arrowCell(data, i) {
    if (!data.getValid(i))
        return null;
    const t = data.type;
    switch (t.typeId) {
    case arrow.Type.Timestamp:
        return { tsUs: unitToUs(data.values[i], t.unit) };
    case arrow.Type.Time:
        return { timeUs: unitToUs(data.values[i], t.unit) };
    case arrow.Type.Date:
        if (t.unit === arrow.DateUnit.DAY)
            return { days: data.values[i] };
        return { days: Number(BigInt(data.values[i]) / 86400000n) };
    case arrow.Type.Decimal:
        return { dec: decimalOf(data.values, data.stride, i, t.scale) };
    case arrow.Type.List: case arrow.Type.LargeList: {
        const child = data.children[0];
        const out = [];
        for (let j = Number(data.valueOffsets[i]); j < Number(data.valueOffsets[i + 1]); j++)
            out.push(arrowCell(child, j));
        return out;
    }
    case arrow.Type.Interval:
        return { interval: Array.from(data.values.subarray(i * data.stride, (i + 1) * data.stride)) };
    }
    const v = arrow.makeVector(data).get(i);
    if (v instanceof Uint8Array)
        return v.slice();
    return v;
}

export function arrowTableOf(path) {
    const bytes = new Uint8Array(fs.readFileSync(path));
    const wasmTable = readParquet(bytes);
    const ipc = wasmTable.intoIPCStream();
    return arrow.tableFromIPC(ipc);
}

export async function readArrow(path) {
    const table = arrowTableOf(path);
    const names = table.schema.fields.map((f) => f.name);
    const rows = [];
    for (let r = 0; r < table.numRows; r++)
        rows.push(new Array(names.length));
    names.forEach((n, c) => {
        const vec = table.getChildAt(c);
        let r = 0;
        for (const data of vec.data)
            for (let i = 0; i < data.length; i++)
                rows[r++][c] = arrowCell(data, i);
    });
    return { names, rows, schema: table.schema };
}

// --- hyparquet -------------------------------------------------------------

const hyParsers = {
    timestampFromMilliseconds: (v) => ({ tsUs: BigInt(v) * 1000n }),
    timestampFromMicroseconds: (v) => ({ tsUs: BigInt(v) }),
    timestampFromNanoseconds: (v) => ({ tsUs: BigInt(v) / 1000n }),
    dateFromDays: (v) => ({ days: v }),
    stringFromBytes: (b) => b && new TextDecoder().decode(b),
    jsonFromBytes: (b) => b && new TextDecoder().decode(b),   // keep the text
    uuidFromBytes: (b) => b && b.slice(),
    geometryFromBytes: (b) => b,
    geographyFromBytes: (b) => b,
};

export function fileArrayBuffer(path) {
    const b = fs.readFileSync(path);
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
}

export function hyMetadata(path) {
    return parquetMetadata(fileArrayBuffer(path));
}

export async function readHyparquet(path, columns) {
    const file = fileArrayBuffer(path);
    const meta = parquetMetadata(file);
    // top-level names: children of the root
    const top = [];
    let idx = 1;
    const skip = (n) => { const e = meta.schema[idx++]; for (let k = 0; k < (e.num_children || 0); k++) skip(); return e; };
    for (let k = 0; k < meta.schema[0].num_children; k++)
        top.push(skip().name);
    const cols = columns || top;
    const objs = Number(meta.num_rows) === 0 ? [] : await parquetReadObjects({
        file, metadata: meta, columns: cols, compressors, parsers: hyParsers, utf8: false,
    });
    return { names: cols, rows: objs.map((o) => cols.map((n) => (o[n] === undefined ? null : o[n]))), meta };
}

export const READERS = { duckdb: readDuckdb, arrow: readArrow, hyparquet: readHyparquet };
