// fuzz.mjs: random table definitions.  The node side draws the shape
// (types, NULL density, row count, row group size, codec) from a seeded
// PRNG; PostgreSQL draws the data itself after setseed(), so a seed
// reproduces the same tables and files.

export function prng(seed) {
    let a = seed >>> 0;
    const next = () => {
        a = (a + 0x6D2B79F5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    next.int = (lo, hi) => lo + Math.floor(next() * (hi - lo + 1));
    next.pick = (arr) => arr[Math.floor(next() * arr.length)];
    return next;
}

const R = 'random()';
const oneOf = (arr, type) => `(ARRAY[${arr.join(', ')}]::${type}[])[1 + floor(${R} * ${arr.length})::int]`;
const len = (max) => `(floor(${R} * ${max + 1}) + 0 * g)::int`;    // correlated: re-drawn per row

function randText(maxLen) {
    const cp = `(CASE floor(${R} * 7)::int WHEN 0 THEN 32 + floor(${R} * 95) WHEN 1 THEN 160 + floor(${R} * 96)
        WHEN 2 THEN 19968 + floor(${R} * 2000) WHEN 3 THEN 128512 + floor(${R} * 80) WHEN 4 THEN 769
        WHEN 5 THEN 1488 + floor(${R} * 27) ELSE 97 + floor(${R} * 26) END)::int`;
    return `coalesce((SELECT string_agg(chr(${cp}), '') FROM generate_series(1, ${len(maxLen)})), '')`;
}

function numericGen(p, s) {
    const ip = p - s;
    return `(SELECT (CASE WHEN ${R} < 0.5 THEN '-' ELSE '' END) || substr(d, 1, ${ip}) || '.' || substr(d, ${ip + 1})
        FROM (SELECT string_agg(floor(${R} * 10)::int::text, '') AS d FROM generate_series(1, ${p} + 0 * g)) z)::numeric(${p},${s})`;
}

// type name -> (rnd) => {type, gen}
export const SCALARS = {
    int2: () => `(CASE WHEN ${R} < 0.05 THEN ${oneOf(['-32768', '32767', '0'], 'int2')} ELSE floor(${R} * 65536 - 32768)::int2 END)`,
    int4: () => `(CASE WHEN ${R} < 0.05 THEN ${oneOf(['-2147483648', '2147483647', '0'], 'int4')} ELSE floor(${R} * 4294967296 - 2147483648)::int4 END)`,
    int8: () => `(CASE WHEN ${R} < 0.05 THEN ${oneOf(['-9223372036854775808', '9223372036854775807', '0'], 'int8')} ELSE floor((${R} - 0.5) * 9.2e18)::int8 END)`,
    float4: () => `(CASE WHEN ${R} < 0.05 THEN ${oneOf(["'NaN'", "'Infinity'", "'-Infinity'", "'-0'", "'0'"], 'float4')} ELSE ((${R} - 0.5) * 10 ^ floor(${R} * 60 - 30))::float4 END)`,
    float8: () => `(CASE WHEN ${R} < 0.05 THEN ${oneOf(["'NaN'", "'Infinity'", "'-Infinity'", "'-0'", "'0'"], 'float8')} ELSE ((${R} - 0.5) * 10 ^ floor(${R} * 600 - 300))::float8 END)`,
    numeric: (rnd) => {
        const p = rnd.int(1, 38), s = rnd.int(0, p);
        return { type: `numeric(${p},${s})`, gen: numericGen(p, s) };
    },
    numeric_any: () => ({
        type: 'numeric',
        gen: `(SELECT (CASE WHEN ${R} < 0.5 THEN '-' ELSE '' END) || substr(d, 1, k) || '.' || substr(d, k + 1)
            FROM (SELECT d, floor(${R} * (length(d) + 1))::int AS k
                  FROM (SELECT string_agg(floor(${R} * 10)::int::text, '') AS d
                        FROM generate_series(1, (1 + floor(${R} * 40) + 0 * g)::int)) y) z)::numeric`,
    }),
    bool: () => `(${R} < 0.5)`,
    text: () => randText(40),
    text_lowcard: () => ({ type: 'text', gen: `('val-' || floor(${R} * 5)::int)` }),
    varchar: () => ({ type: 'varchar(12)', gen: `left(${randText(20)}, 12)::varchar(12)` }),
    bpchar: () => ({ type: 'char(4)', gen: `left(${randText(6)}, 4)::char(4)` }),
    name: () => `left(md5(${R}::text) || md5(${R}::text), ${len(63)})::name`,
    mood: () => ({ type: 'pqt.mood', gen: `(enum_range(NULL::pqt.mood))[1 + floor(${R} * 4)::int]` }),
    bytea: () => `coalesce((SELECT string_agg(set_byte('\\x00'::bytea, 0, floor(${R} * 256)::int), ''::bytea) FROM generate_series(1, ${len(40)})), ''::bytea)`,
    uuid: () => `md5(${R}::text)::uuid`,
    date: () => `(date '1970-01-01' + floor((${R} - 0.5) * 400000)::int)`,
    time: () => `(time '00:00' + floor(${R} * 86400000000)::int8 * interval '1 microsecond')`,
    timestamp: () => `(timestamp '1970-01-01' + floor((${R} - 0.5) * 300000)::int * interval '1 day' + floor(${R} * 86400000000)::int8 * interval '1 microsecond')`,
    timestamptz: () => `(timestamptz '1970-01-01 00:00:00+00' + floor((${R} - 0.5) * 300000)::int * interval '1 day' + floor(${R} * 86400000000)::int8 * interval '1 microsecond')`,
    interval: () => `(make_interval(months => floor((${R} - 0.5) * 200)::int, days => floor((${R} - 0.5) * 200)::int) + floor((${R} - 0.5) * 1e12)::int8 * interval '1 microsecond')`,
    json: () => `json_build_object('i', floor(${R} * 100)::int, 's', ${randText(8)}, 'a', json_build_array(${R} < 0.5, NULL))`,
    jsonb: () => `jsonb_build_object('i', floor(${R} * 100)::int, 's', ${randText(8)}, 'f', ${R})`,
    posint: () => ({ type: 'pqt.posint', gen: `floor(${R} * 1000)::int::pqt.posint` }),
    inet: () => `('10.' || floor(${R} * 256)::int || '.' || floor(${R} * 256)::int || '.' || floor(${R} * 256)::int)::inet`,
    point: () => `point(${R}, ${R} * 1e6)`,
    // ascending, descending and jittered series with rare limits: the
    // writer's DELTA_BINARY_PACKED (deltas that wrap) and BYTE_STREAM_SPLIT
    int8_seq: () => ({ type: 'int8', gen: `(CASE WHEN ${R} < 0.01 THEN ${oneOf(['-9223372036854775808', '9223372036854775807'], 'int8')}
        ELSE g::int8 * 1000 + floor(${R} * 100)::int8 END)` }),
    int4_desc: () => ({ type: 'int4', gen: `(CASE WHEN ${R} < 0.01 THEN ${oneOf(['-2147483648', '2147483647'], 'int4')}
        ELSE (1000000 - g * 37 + floor(${R} * 10))::int4 END)` }),
    ts_seq: () => ({ type: 'timestamptz', gen: `(timestamptz '2026-01-01 00:00:00+00' + g * interval '1 s' + floor(${R} * 1000) * interval '1 ms')` }),
    float8_series: () => ({ type: 'float8', gen: `(CASE WHEN ${R} < 0.02 THEN ${oneOf(["'NaN'", "'Infinity'", "'-Infinity'", "'-0'", "'5e-324'"], 'float8')}
        ELSE 20 + 5 * sin(g / 50.0) + ${R} END)` }),
    float4_series: () => ({ type: 'float4', gen: `(CASE WHEN ${R} < 0.02 THEN ${oneOf(["'NaN'", "'Infinity'", "'-Infinity'", "'-0'", "'1e-45'"], 'float4')}
        ELSE (100 + cos(g / 20.0) * 10 + ${R})::float4 END)` }),
};
const NO_ARRAY = new Set(['inet', 'point', 'text_lowcard']);

function scalar(rnd, name) {
    const g = SCALARS[name](rnd);
    return typeof g === 'string' ? { type: null, gen: g } : g;
}

const nullable = (gen, p) => (p <= 0 ? gen : p >= 1 ? 'NULL' : `(CASE WHEN ${R} < ${p} THEN NULL ELSE ${gen} END)`);

// One random table: returns {name, sql (CREATE TABLE ...), options, rows, desc}.
export function randomTable(rnd, idx, seed) {
    const ncols = rnd.int(1, 8);
    const cols = [];
    const desc = [];
    for (let c = 0; c < ncols; c++) {
        const base = rnd.pick(Object.keys(SCALARS));
        const pnull = rnd.pick([0, 0, 0.1, 0.5, 0.9, 1]);
        const isArray = !NO_ARRAY.has(base) && rnd() < 0.3;
        const s = scalar(rnd, base);
        let gen, type;
        if (isArray) {
            const pel = rnd.pick([0, 0.2, 0.5]);
            gen = `ARRAY(SELECT ${nullable(s.gen, pel)} FROM generate_series(1, ${len(5)}))`;
            type = s.type ? `${s.type}[]` : null;
        } else {
            gen = s.gen;
            type = s.type;
        }
        gen = nullable(gen, pnull);
        if (pnull >= 1 && !type)
            type = isArray ? `${base}[]` : base;
        cols.push(type ? `(${gen})::${type} AS c${c}` : `${gen} AS c${c}`);
        desc.push(`${base}${isArray ? '[]' : ''}@${pnull}`);
    }
    const rows = rnd.pick([0, 1, rnd.int(2, 50), rnd.int(50, 3000), rnd.int(1000, 3000)]);
    let rgs = rnd.pick([null, 7, 100, 1000, 5000, rnd.int(1, 3000)]);
    if (rgs !== null && rgs < 10 && rows > 300)
        rgs = 100;
    const codec = rnd.pick(['zstd', 'snappy', 'gzip', 'uncompressed']);
    const opts = [`COMPRESSION ${codec}`];
    if (codec === 'zstd' && rnd() < 0.5)
        opts.push(`COMPRESSION_LEVEL ${rnd.int(1, 19)}`);
    if (codec === 'gzip' && rnd() < 0.5)
        opts.push(`COMPRESSION_LEVEL ${rnd.int(1, 9)}`);
    if (rgs !== null)
        opts.push(`ROW_GROUP_SIZE ${rgs}`);
    const name = `fz_${idx}`;
    const pgseed = ((seed * 31 + idx) % 1000003) / 1000003;
    const sql = `SELECT setseed(${pgseed}); CREATE TABLE pqt.${name} AS SELECT g AS ord, ${cols.join(',\n  ')}
        FROM generate_series(1, ${rows}) g`;
    return { name, sql, options: opts.join(', '), rows, desc: `${rows} rows, ${opts.join(' ')}: ${desc.join(' ')}` };
}
