// types.mjs: how each PostgreSQL type is checked.
//
// A column's PostgreSQL type resolves to a "kind".  For each kind there is
//  - truthSql(x): a SQL expression PostgreSQL evaluates to its own ground truth
//    for that value, as text (days since epoch for dates, microseconds for
//    times and timestamps, hex for bytea, the output function's text for
//    strings and for types obs writes as text);
//  - canon(kind, v): the same canonical form computed from what a reader
//    returned (readers.mjs first turns each reader's values into plain JS
//    values: bigint/number/string/boolean/Uint8Array, {days}, {timeUs},
//    {tsUs}, {dec}, {interval}, arrays).
// Values are equal when their canonical forms are equal (cellEq).

const INT64_MAX = 9223372036854775807n;

export const BASE_KINDS = {
    int2: 'int', int4: 'int', int8: 'int',
    float4: 'float', float8: 'float',
    numeric: 'decimal',
    bool: 'bool',
    text: 'text', varchar: 'text', bpchar: 'text', name: 'text',
    bytea: 'bytea',
    uuid: 'uuid',
    date: 'date',
    time: 'time',
    timestamp: 'ts',
    timestamptz: 'tstz',
    interval: 'interval',
    json: 'json', jsonb: 'json',
    // obs's own ids: FIXED_LEN_BYTE_ARRAY(16) / (8), compared as hex
    trace_id: 'obsid', span_id: 'obsid',
};

// Resolve a column type (oid, typmod) through domains and arrays.
// types: Map oid -> pg_type row.  Returns {kind, typname, typmod, elem?}.
export function resolveType(types, oid, typmod) {
    let t = types.get(String(oid));
    let domain = null;
    while (t.typtype === 'd') {
        domain = domain || t.typname;
        if (Number(t.typtypmod) !== -1)
            typmod = Number(t.typtypmod);
        t = types.get(String(t.typbasetype));
    }
    if (t.typcategory === 'A' && String(t.typelem) !== '0' && Number(t.typlen) === -1) {
        const elem = resolveType(types, t.typelem, typmod);
        return { kind: 'list', typname: t.typname, typmod, elem, domain };
    }
    let kind = BASE_KINDS[t.typname];
    if (!kind)
        kind = t.typtype === 'e' ? 'text' : 'fallback';
    const r = { kind, typname: t.typname, typmod: Number(typmod), domain, enum: t.typtype === 'e' };
    if (t.typname === 'numeric' && r.typmod >= 4) {
        const m = r.typmod - 4;
        r.precision = (m >> 16) & 0xffff;
        r.scale = ((m & 0x7ff) ^ 1024) - 1024;   // PG15: scale may be negative
    }
    return r;
}

// SQL expression giving PostgreSQL's canonical text for a value x of kind k.
export function truthSql(k, x) {
    switch (k.kind) {
    case 'int': case 'bool': case 'uuid': case 'json': case 'decimal': case 'obsid':
        return `(${x})::text`;
    case 'float':
        return `(${x})::float8::text`;
    case 'text': case 'fallback':
        // the type's output function (keeps char(n) padding), NULL stays NULL
        return `CASE WHEN (${x}) IS NULL THEN NULL ELSE pg_catalog.format('%s', ${x}) END`;
    case 'bytea':
        return `encode(${x}, 'hex')`;
    case 'date':
        return `CASE WHEN isfinite(${x}) THEN ((${x}) - DATE '1970-01-01')::text ELSE (${x})::text END`;
    case 'time':
        return `(extract(epoch FROM ${x}) * 1000000)::bigint::text`;
    case 'ts': case 'tstz':
        return `CASE WHEN isfinite(${x}) THEN (extract(epoch FROM ${x}) * 1000000)::bigint::text ELSE (${x})::text END`;
    case 'interval':
        return `CASE WHEN (${x}) IS NULL THEN NULL ELSE json_build_array(
            (extract(year FROM ${x}) * 12 + extract(month FROM ${x}))::int,
            extract(day FROM ${x})::int,
            ((extract(hour FROM ${x}) * 3600 + extract(minute FROM ${x}) * 60) * 1000000
              + extract(microseconds FROM ${x}))::bigint,
            (${x})::text)::text END`;
    case 'list':
        return `CASE WHEN (${x}) IS NULL THEN NULL ELSE coalesce((SELECT json_agg(${truthSql(k.elem, 'e')} ORDER BY i)
                  FROM unnest(${x}) WITH ORDINALITY AS u(e, i)), '[]'::json) END`;
    }
    throw new Error(`no truth for kind ${k.kind}`);
}

export function fmtFloat(x) {
    if (Number.isNaN(x))
        return 'NaN';
    if (Object.is(x, -0))
        return '-0';
    return String(x);
}

// Canonical decimal text: no leading zeros, no trailing fractional zeros.
export function normDec(s) {
    s = String(s).trim();
    if (/^(nan|[+-]?inf(inity)?)$/i.test(s))
        return s.toLowerCase().replace(/^\+/, '').replace(/^(-?)inf$/, '$1infinity');
    const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:e([+-]?\d+))?$/i.exec(s);
    if (!m)
        return 'BAD:' + s;
    let [, sign, ip, fp = '', exp] = m;
    let digits = ip + fp;
    let point = ip.length + (exp ? Number(exp) : 0);
    while (point < 0) { digits = '0' + digits; point++; }
    while (point > digits.length) digits += '0';
    ip = digits.slice(0, point).replace(/^0+/, '') || '0';
    fp = digits.slice(point).replace(/0+$/, '');
    const out = fp ? `${ip}.${fp}` : ip;
    return out === '0' ? '0' : (sign === '-' ? '-' : '') + out;
}

const td = new TextDecoder('utf-8', { fatal: false });
export const hex = (b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
export const utf8 = (b) => td.decode(b);

function uuidFmt(b) {
    const h = hex(b);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function infMap(v, maxInf) {
    // Sentinels DuckDB and others use for +-infinity.
    if (v >= maxInf)
        return 'infinity';
    if (v <= -maxInf)
        return '-infinity';
    return String(v);
}

const tag = (what, v) => `<${what}:${typeof v === 'object' ? (v && v.constructor && v.constructor.name) : typeof v}:${String(v).slice(0, 60)}>`;

// Canonical form of a reader's value.
export function canon(k, v) {
    if (v === null || v === undefined)
        return null;
    switch (k.kind) {
    case 'list':
        if (!Array.isArray(v))
            return tag('notlist', v);
        return v.map((e) => canon(k.elem, e));
    case 'int':
        if (typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v)))
            return BigInt(v).toString();
        return tag('int', v);
    case 'float':
        if (typeof v === 'number')
            return fmtFloat(v);
        return tag('float', v);
    case 'decimal':
        if (v && v.dec !== undefined)
            return normDec(v.dec);
        if (typeof v === 'string')
            return normDec(v);
        if (typeof v === 'number')
            return '~' + v;        // lossy reader (hyparquet decodes DECIMAL to a double)
        return tag('decimal', v);
    case 'bool':
        if (typeof v === 'boolean')
            return String(v);
        return tag('bool', v);
    case 'text': case 'fallback': case 'json':
        if (typeof v === 'string')
            return v;
        if (v instanceof Uint8Array)
            return utf8(v);
        return tag('string', v);
    case 'bytea':
        if (v instanceof Uint8Array)
            return hex(v);
        return tag('bytea', v);
    case 'obsid':
        if (v instanceof Uint8Array && (v.length === 16 || v.length === 8))
            return hex(v);
        return tag('obsid', v);
    case 'uuid':
        if (typeof v === 'string')
            return v.toLowerCase();
        if (v instanceof Uint8Array && v.length === 16)
            return uuidFmt(v);
        return tag('uuid', v);
    case 'date':
        if (v && v.days !== undefined)
            return infMap(BigInt(v.days), 2147483647n);
        return tag('date', v);
    case 'time':
        if (v && v.timeUs !== undefined)
            return String(v.timeUs);
        if (typeof v === 'bigint')
            return String(v);
        return tag('time', v);
    case 'ts': case 'tstz':
        if (v && v.tsUs !== undefined)
            return infMap(BigInt(v.tsUs), INT64_MAX);
        return tag('timestamp', v);
    case 'interval':
        if (v && v.interval)
            return v.interval.join('/');
        if (typeof v === 'string')
            return v;
        if (v instanceof Uint8Array && v.length === 12) {
            // Parquet INTERVAL: months, days, milliseconds as little-endian uint32
            const dv = new DataView(v.buffer, v.byteOffset, 12);
            return `${dv.getUint32(0, true)}/${dv.getUint32(4, true)}/${BigInt(dv.getUint32(8, true)) * 1000n}`;
        }
        return tag('interval', v);
    }
    return tag('kind?' + k.kind, v);
}

// Canonical form of PostgreSQL's truth cell (string, null or array).
export function canonTruth(k, t) {
    if (t === null || t === undefined)
        return null;
    switch (k.kind) {
    case 'list':
        return t.map((e) => canonTruth(k.elem, e));
    case 'float':
        return fmtFloat(Number(t));
    case 'decimal':
        return normDec(t);
    case 'interval': {
        const [m, d, us, text] = JSON.parse(t);
        return { mdu: `${m}/${d}/${us}`, text };
    }
    default:
        return t;
    }
}

// Compare a truth canonical value with a reader canonical value.
export function cellEq(k, t, r) {
    if (t === null || r === null)
        return t === r;
    if (k.kind === 'list') {
        if (!Array.isArray(r) || r.length !== t.length)
            return false;
        return t.every((e, i) => cellEq(k.elem, e, r[i]));
    }
    if (k.kind === 'interval')
        return r === t.mdu || r === t.text;
    if (k.kind === 'decimal' && typeof r === 'string' && r.startsWith('~')) {
        const a = Number(t), b = Number(r.slice(1));
        if (Number.isNaN(a) || Number.isNaN(b))
            return Number.isNaN(a) && Number.isNaN(b);
        return a === b || Math.abs(a - b) <= 4 * Number.EPSILON * Math.max(Math.abs(a), Math.abs(b));
    }
    return t === r;
}

export function show(v) {
    const s = JSON.stringify(v, (_, x) => typeof x === 'bigint' ? String(x) : x);
    return s && s.length > 160 ? s.slice(0, 150) + `...(${s.length} chars)` : s;
}
