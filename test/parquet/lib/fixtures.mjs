// fixtures.mjs: the hand-written tables the suite exports.
// A fixture is {name, cols: [[name, type, [SQL literals...]], ...]} (rows are
// the columns zipped; shorter columns are padded with NULL and one all-NULL
// row is appended unless noNullRow), or {name, sql} creating pqt.<name>
// with an "ord" column giving the export order.

export const SETUP_SQL = `
DROP SCHEMA IF EXISTS pqt CASCADE;
CREATE SCHEMA pqt;
CREATE TYPE pqt.mood AS ENUM ('sad', 'ok', 'happy', 'très content 😀');
DO $$ BEGIN
    EXECUTE (SELECT 'CREATE TYPE pqt.many AS ENUM (' || string_agg(quote_literal('label ' || g), ', ' ORDER BY g) || ')'
               FROM generate_series(1, 100) g);
END $$;
CREATE DOMAIN pqt.posint AS int4 CHECK (VALUE >= 0);
CREATE DOMAIN pqt.short_text AS varchar(10);
`;

const q = (s) => `'${s.replace(/'/g, "''")}'`;
const Q = (arr) => arr.map((s) => (s === null ? 'NULL' : q(s)));

export const FIXTURES = [
    {
        name: 'scalars',
        cols: [
            ['i2', 'int2', ['-32768', '32767', '0', '-1', '42']],
            ['i4', 'int4', ['-2147483648', '2147483647', '0', '-7', '123456']],
            ['i8', 'int8', ['-9223372036854775808', '9223372036854775807', '0', '-1', '1234567890123']],
            ['f4', 'float4', Q(['1.5', '-3.25e-10', '3.4028235e38', '1e-45', '0.1'])],
            ['f8', 'float8', Q(['0.1', '-1.7976931348623157e308', '5e-324', '2.718281828459045', '-0'])],
            ['n102', 'numeric(10,2)', ['12345678.91', '-0.01', '0', '99999999.99', '-99999999.99']],
            ['n94', 'numeric(9,4)', ['12345.6789', '-0.0001', '0', '99999.9999', '-99999.9999']],
            ['n185', 'numeric(18,5)', ['1234567890123.45678', '-0.00001', '0', '9999999999999.99999', '-42']],
            ['n380', 'numeric(38,0)', ['99999999999999999999999999999999999999', '-99999999999999999999999999999999999999', '0', '1', '12345678901234567890']],
            ['n3810', 'numeric(38,10)', ['9999999999999999999999999999.9999999999', '-0.0000000001', '0', '3.1415926535', '-123456789.5']],
            ['nany', 'numeric', ['3.14159265358979323846264338327950288419716939937510', '-0.000000000000000000000000000001', '123456789012345678901234567890123456789012', '0', '1e20']],
            ['b', 'bool', ['true', 'false', 'false', 'true']],
            ['t', 'text', Q(['hello', '', "with 'quote' and \\ backslash", 'tab\tnewline\n"dq"', 'unicode é 日本 😀'])],
            ['vc', 'varchar(20)', Q(['abc', '', 'twenty chars exactly', ' lead/trail ', 'x'])],
            ['ch', 'char(5)', Q(['ab', 'abcde', '', 'é', 'x y'])],
            ['nm', 'name', Q(['pg_class', 'Mixed Case', 'ünïcödé', '', 'a'.repeat(63)])],
            ['en', 'pqt.mood', Q(['sad', 'happy', 'très content 😀', 'ok', 'ok'])],
            ['by', 'bytea', Q(['\\x', '\\x00ff10', '\\xdeadbeef', '\\x00', '\\x' + 'ab'.repeat(300)])],
            ['u', 'uuid', Q(['00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '123e4567-e89b-12d3-a456-426614174000', '80000000-0000-0000-0000-000000000001'])],
            ['d', 'date', Q(['1970-01-01', '2024-02-29', '1900-01-01', '4713-01-01 BC', '5874897-12-31'])],
            ['tm', 'time', Q(['00:00:00', '23:59:59.999999', '12:34:56.789', '00:00:00.000001', '24:00:00'])],
            ['ts', 'timestamp', Q(['2024-01-01 12:00:00.123456', '1970-01-01 00:00:00', '1900-06-30 23:59:59.5', '2262-04-11 23:47:16.854776', '0044-03-15 10:00:00 BC'])],
            ['tz', 'timestamptz', Q(['2024-06-01 12:00:00+02', '1970-01-01 00:00:00+00', '1969-12-31 23:59:59.999999+00', '2100-01-01 00:00:00.000001-08', '1000-01-01 00:00:00+00'])],
            ['iv', 'interval', Q(['1 year 2 mons 3 days 04:05:06.789', '-1 day', '0', '-2 years 3 hours', '1 mon -1 day -00:00:00.000001'])],
            ['js', 'json', Q(['{"a": 1, "b": [1, 2]}', '[]', '"str"', 'null', '123.450'])],
            ['jb', 'jsonb', Q(['{"b": [1, 2], "a": 1}', '[]', '"str"', 'null', '{"ü": "日本", "n": 1.50}'])],
            ['dom', 'pqt.posint', ['0', '5', '2147483647']],
            ['dtxt', 'pqt.short_text', Q(['short', '', '0123456789'])],
            ['ip', 'inet', Q(['192.168.0.1/24', '::1', '10.0.0.1'])],
            ['pt', 'point', Q(['(1,2)', '(-1.5,2e10)'])],
            ['mo', 'money', Q(['12.34', '-0.01'])],
            ['vb', 'varbit', Q(['1011', ''])],
            ['bit3', 'bit(3)', Q(['101', '000'])],
            ['qc', '"char"', Q(['x', 'é'])],
            ['oi', 'oid', ['0', '4294967295', '1259']],
            ['rng', 'int4range', Q(['[1,5)', 'empty', '(,3]'])],
            ['tsr', 'tstzrange', Q(['[2024-01-01 00:00:00+00,infinity)'])],
            ['x', 'xml', Q(['<a b="1">t&amp;</a>', 'plain'])],
            ['tsv', 'tsvector', Q(["'fat':2 'rat':3"])],
        ],
    },
    {
        name: 'float_special',
        cols: [
            ['f4', 'float4', Q(['NaN', 'Infinity', '-Infinity', '-0', '0', '1'])],
            ['f8', 'float8', Q(['NaN', 'Infinity', '-Infinity', '-0', '0', '1'])],
        ],
    },
    {
        name: 'numeric_special',
        cols: [
            ['nany', 'numeric', Q(['NaN', 'Infinity', '-Infinity', '1.5', '0'])],
            ['n_scale_gt_prec', 'numeric(3,5)', Q(['0.00123', '-0.00999'])],
            ['n_neg_scale', 'numeric(5,-2)', Q(['12300', '-9999900'])],
            ['n_wide', 'numeric(60,10)', Q(['12345678901234567890123456789012345678901234567890.0123456789', '-1'])],
        ],
    },
    {
        name: 'ts_infinity',
        cols: [
            ['d', 'date', Q(['infinity', '-infinity', '2000-01-01'])],
            ['ts', 'timestamp', Q(['infinity', '-infinity', '2000-01-01 00:00:00'])],
            ['tz', 'timestamptz', Q(['infinity', '-infinity', '2000-01-01 00:00:00+00'])],
        ],
    },
    {
        name: 'arrays',
        cols: [
            ['a_i2', 'int2[]', Q(['{1,2,NULL}', '{}', '{-32768,32767}', '{NULL}'])],
            ['a_i4', 'int4[]', Q(['{1,NULL,3}', '[0:2]={7,8,9}', '{}', '{NULL,NULL}'])],
            ['a_i8', 'int8[]', Q(['{9223372036854775807,-9223372036854775808}', '{}', '{NULL,0}'])],
            ['a_f4', 'float4[]', Q(['{1.5,NaN,-Infinity}', '{}', '{NULL}'])],
            ['a_f8', 'float8[]', Q(['{0.1,NaN,Infinity,-0}', '{NULL,1e300}', '{}'])],
            ['a_n', 'numeric(10,2)[]', Q(['{1.50,-2.25,NULL}', '{}', '{99999999.99}'])],
            ['a_nany', 'numeric[]', Q(['{1.5,3.14159265358979323846264338327950288}', '{}', '{NULL}'])],
            ['a_b', 'bool[]', Q(['{t,f,NULL}', '{}', '{f}'])],
            ['a_t', 'text[]', Q(['{"a","",NULL,"😀"}', '{}', '{"with \\"quotes\\" and , comma"}', '{NULL}'])],
            ['a_vc', 'varchar(5)[]', Q(['{ab,cd}', '{}', '{NULL}'])],
            ['a_ch', 'char(3)[]', Q(['{a,bc}', '{}'])],
            ['a_en', 'pqt.mood[]', Q(['{sad,happy}', '{}', '{NULL,ok}'])],
            ['a_by', 'bytea[]', Q(['{"\\\\x00ff","\\\\x"}', '{}', '{NULL}'])],
            ['a_u', 'uuid[]', Q(['{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11,NULL}', '{}'])],
            ['a_d', 'date[]', Q(['{2024-01-01,NULL,1900-01-01}', '{}'])],
            ['a_tm', 'time[]', Q(['{12:00:00.5,NULL}', '{}'])],
            ['a_ts', 'timestamp[]', Q(['{"2024-01-01 00:00:00.000001",NULL}', '{}'])],
            ['a_tz', 'timestamptz[]', Q(['{"2024-01-01 00:00:00.000001+00",NULL}', '{}'])],
            ['a_iv', 'interval[]', Q(['{"1 day","-1 mon 00:00:01",NULL}', '{}'])],
            ['a_js', 'json[]', Q(['{"{\\"a\\": 1}","[1, 2]",NULL}', '{}'])],
            ['a_jb', 'jsonb[]', Q(['{"{\\"a\\": 1}","null"}', '{}'])],
            ['a_dom', 'pqt.posint[]', Q(['{1,2}', '{}', '{NULL}'])],
        ],
    },
    {
        name: 'nulls',
        options: 'ROW_GROUP_SIZE 128',
        sql: `SELECT g AS ord,
                NULL::int4 AS all_null_i4,
                NULL::text AS all_null_t,
                NULL::int4[] AS all_null_arr,
                g::int8 * 1000003 AS no_null_i8,
                md5(g::text) AS no_null_t,
                CASE WHEN g % 2 = 0 THEN NULL ELSE g END AS alt_i4,
                CASE WHEN g % 2 = 1 THEN NULL ELSE 'v' || g END AS alt_t,
                CASE WHEN g % 97 = 0 THEN g * 0.5::float8 END AS sparse_f8,
                CASE WHEN g % 97 = 0 THEN NULL ELSE g * 0.25::float8 END AS dense_f8,
                CASE WHEN g % 3 = 0 THEN NULL WHEN g % 3 = 1 THEN ARRAY[]::int4[] ELSE ARRAY[g, NULL] END AS arr_mix,
                CASE WHEN g < 300 THEN NULL ELSE date '2000-01-01' + g END AS null_prefix_d
              FROM generate_series(1, 1000) g`,
    },
    {
        name: 'empty',
        sql: `SELECT 1 AS ord, 1::int2 AS i2, 1::int8 AS i8, 1.5::float8 AS f8, 1.5::numeric(10,2) AS n,
                true AS b, 'x'::text AS t, '\\x00'::bytea AS by, gen_random_uuid() AS u, now()::date AS d,
                now()::timestamp AS ts, now() AS tz, '{}'::json AS js, ARRAY[1] AS arr, ARRAY['a'] AS tarr
              WHERE false`,
    },
    {
        name: 'one_row',
        sql: `SELECT 1 AS ord, 7::int4 AS i4, 'only'::text AS t, 2.5::numeric(4,1) AS n,
                timestamptz '2020-02-02 02:02:02.020202+00' AS tz, ARRAY['x', NULL] AS arr, NULL::int8 AS nothing`,
    },
    {
        // enums: the writer keeps the labels of the first 64 values of a
        // column it meets and asks the type for the others every time
        name: 'enums',
        sql: `SELECT g AS ord, (enum_range(NULL::pqt.many))[1 + (g * 37) % 100] AS many,
            (enum_range(NULL::pqt.mood))[1 + g % 4] AS mood,
            CASE WHEN g % 9 = 0 THEN NULL
                 ELSE ARRAY[(enum_range(NULL::pqt.many))[1 + (g * 7) % 100], NULL, 'label 1'] END AS many_a
          FROM generate_series(1, 3000) g`,
    },
    {
        name: 'rowgroups',
        options: 'ROW_GROUP_SIZE 1000',
        sql: `SELECT g AS ord, g::int8 AS id, 'grp' || lpad((g / 1000)::text, 3, '0') AS grp,
                timestamp '2024-01-01' + g * interval '1 second' AS ts,
                (g % 17) * 1.25::float8 AS v
              FROM generate_series(0, 9999) g`,
    },
    {
        name: 'long_strings',
        sql: `SELECT 1 AS ord, repeat('x', 1048576) AS t, decode(repeat('ab', 1048576), 'hex') AS b
              UNION ALL SELECT 2, repeat('日本語', 400000), decode(repeat('0123456789abcdef', 131072), 'hex')
              UNION ALL SELECT 3, (SELECT string_agg(md5(i::text), '') FROM generate_series(1, 32768) i), NULL
              UNION ALL SELECT 4, repeat('😀', 300000), ''::bytea`,
    },
    {
        // jsonb as text: the writer's own rendering must equal jsonb's text
        // output, and its per-column cache of rendered values must never
        // serve a wrong one: 6,000 distinct values first (the cache pauses),
        // then 70,000 rows of a few repeated ones (it resumes and hits),
        // among them escapes of every kind, nesting, scalars, numbers in
        // every form, values too large to keep (over 512 bytes stored),
        // values stored compressed and values stored out of line (j3).
        name: 'jsonb_text',
        sql: `SELECT g AS ord,
            CASE WHEN g <= 6000 THEN jsonb_build_object('id', md5(g::text), 'n', g)
                 ELSE (ARRAY[
                    '{"k": 1, "ok": true}', '{"k": 2, "ok": false}', '[]', '{}', '"str"', 'null', '1.50',
                    '[1, [2, {"b": [3, {}]}], {"c": {"d": []}}, "e"]',
                    '{"esc": "q\\" b\\\\ s\\/ \\b\\f\\n\\r\\t \\u0001 \\u001f é 😀"}',
                    '{"n": [0, -0, 1e-7, 1.0E+20, -3.140, 12345678901234567890.000001]}',
                    '{"": "", "a b": [null, true, false]}'])[1 + g % 11]::jsonb END AS j,
            CASE WHEN g % 97 = 0 THEN jsonb_build_object('big', repeat('x' || g % 3, 2000))
                 WHEN g % 13 = 0 THEN jsonb_build_object('mid', repeat(chr(65 + g % 3), 600), 'i', g % 2)
                 ELSE jsonb_build_object('k', g % 5) END AS j2,
            CASE WHEN g % 500 = 0
                 THEN jsonb_build_object('toasted', (SELECT string_agg(md5(i::text || g), '') FROM generate_series(1, 100) i))
                 WHEN g % 500 = 1 THEN jsonb_build_object('short', g % 2) END AS j3
          FROM generate_series(1, 76000) g`,
    },
    {
        // DECIMAL values are read from numeric's stored digits: every
        // precision class (INT32, INT64, FIXED_LEN_BYTE_ARRAY), scales 0 to
        // p, both header forms (weights beyond the short form's -64..63),
        // digits split across the decimal point, negatives, NULLs
        // The same numbers (and more weights and display scales) go into
        // jsonb too, whose text obs writes from the stored digits as
        // numeric_out does.
        name: 'numeric_digits',
        sql: `SELECT *, jsonb_build_array(a, b, c, d, e, h, i, j, m, n, o,
                g * 1e-30, -g * 1e25, 0.000, -g * 1e-3, round(g / 7.0, (g % 25)::int),
                (10::numeric ^ (g % 60 - 30))::numeric(1000, 40)) AS js
          FROM (SELECT g AS ord, g::numeric AS g,
            (((g * 7919) % 100000000 - 50000000)::numeric / 100)::numeric(10,2) AS a,
            (((g * 104729) % 1000000000)::numeric / 10000 * (1 - 2 * (g % 2)))::numeric(9,4) AS b,
            ((g % 40000)::numeric ^ 3 / 7)::numeric(18,5) AS c,
            (10::numeric ^ (g % 38) * (g % 9 + 1) - 1)::numeric(38,0) AS d,
            (10::numeric ^ (g % 28) / 3 * (1 - 2 * (g % 3 / 2)))::numeric(38,10) AS e,
            (g % 10)::numeric(1,0) AS f,
            ((g % 9999)::numeric / 10000)::numeric(4,4) AS h,
            (1::numeric / (g + 1))::numeric(38,38) AS i,
            (g::numeric * 1000003 / 17)::numeric(19,2) AS j,
            (10::numeric ^ (g % 10) - 1)::numeric(10,0) AS k,
            ((-(g % 1000))::numeric / 1000)::numeric(3,3) AS l,
            (CASE WHEN g % 3 = 0 THEN NULL ELSE g::numeric / 3 END)::numeric(12,6) AS m,
            (1 - 10::numeric ^ (g % 17))::numeric(17,0) AS n,
            (10::numeric ^ (g % 37 - 18) * (1 + g % 7))::numeric(38,19) AS o
          FROM generate_series(1::int8, 20000) g) s`,
    },
    {
        name: 'unicode',
        cols: [
            ['t', 'text', Q(['😀👍🏽', '日本語テキスト', 'e\u0301 (e + combining acute)', 'Ω≈ç√∫', 'עברית العربية',
                '👨‍👩‍👧‍👦 zwj', '\u0001\u001f control', '\ufffd replacement', '\u{10ffff} max', 'a\u0300\u0301\u0302 stacked',
                '한국어', 'ﬁ ligature', '\u200b zero width'])],
            ['nm', 'name', Q(['日本', 'emoji😀', 'plain'])],
            ['vc', 'varchar(4)', Q(['😀😀😀😀', '日本語x'])],
            ['ch', 'char(3)', Q(['é', '日'])],
            ['js', 'jsonb', Q(['{"k": "😀 日本 \\u0000x"}'.replace('\\u0000', '\\u0001')])],
        ],
    },
];

// The codec fixture: one table written with every codec.
export const CODECS_SQL = `SELECT g AS ord, g::int8 AS id, (g % 10)::int2 AS lvl, 'logger.' || (g % 7) AS logger,
        'message number ' || g || ' ' || md5(g::text) AS msg, g * 0.5::float8 AS f,
        timestamptz '2024-01-01 00:00:00+00' + g * interval '1 ms' AS tz,
        CASE WHEN g % 5 = 0 THEN NULL ELSE jsonb_build_object('k', g % 3, 'v', md5(g::text)) END AS ctx,
        ARRAY[g, g + 1] AS arr, md5(g::text)::uuid AS u
    FROM generate_series(1, 3000) g`;

export const CODECS = [
    ['zstd', 'COMPRESSION zstd', 'ZSTD'],
    ['zstd_level1', 'COMPRESSION zstd, COMPRESSION_LEVEL 1', 'ZSTD'],
    ['zstd_level19', 'COMPRESSION zstd, COMPRESSION_LEVEL 19', 'ZSTD'],
    ['snappy', 'COMPRESSION snappy', 'SNAPPY'],
    ['gzip', 'COMPRESSION gzip', 'GZIP'],
    ['gzip_level9', 'COMPRESSION gzip, COMPRESSION_LEVEL 9', 'GZIP'],
    ['uncompressed', 'COMPRESSION uncompressed', 'UNCOMPRESSED'],
];

// Dictionary fixture: one repetitive column, one whose dictionary must overflow.
export const DICT_SQL = `SELECT g AS ord, 'service-' || (g % 8) AS low_card,
        md5(g::text) || md5((g + 1)::text) || md5((g + 2)::text) AS high_card, (g % 5)::int8 AS low_i8,
        CASE WHEN g <= 50000 THEN 'svc-' || (g % 8) ELSE md5(g::text) || md5((-g)::text) END AS mixed
    FROM generate_series(1, 100000) g`;

// Tables whose columns the writer should encode DELTA_BINARY_PACKED or
// BYTE_STREAM_SPLIT: expect maps a column to the encoding every chunk of
// it holding values must use.  ROW_GROUP_SIZE 129 makes a first chunk of
// exactly one delta block (1 + 128 values) on which the writer chooses;
// the next 8 chunks keep that choice and hold, by their NULL pattern,
// 1 value (a header only), 32 values, 33 (1 + one full miniblock), none,
// every other one, 2, and 129 again.
const KEEP = `CASE (g - 1) / 129 WHEN 1 THEN p < 1 WHEN 2 THEN p < 32 WHEN 3 THEN p < 33 WHEN 4 THEN false
    WHEN 6 THEN p % 2 = 0 WHEN 7 THEN p < 2 ELSE true END`;
const NTH = (keep, v) => `CASE WHEN ${keep} THEN ${v} END`;
export const ENCODING_FIXTURES = [
    {
        name: 'enc_delta',
        options: 'ROW_GROUP_SIZE 129',
        expect: { id8: 'DELTA_BINARY_PACKED', neg8: 'DELTA_BINARY_PACKED', edge8: 'DELTA_BINARY_PACKED',
            edge4: 'DELTA_BINARY_PACKED', ts: 'DELTA_BINARY_PACKED', i4: 'DELTA_BINARY_PACKED' },
        sql: `SELECT g AS ord,
            ${NTH(KEEP, '1000000000000::int8 + g * 3')} AS id8,
            ${NTH(KEEP, '5000000000000000::int8 - g::int8 * g * 1000')} AS neg8,
            CASE p WHEN 40 THEN -9223372036854775808 WHEN 41 THEN 9223372036854775807
                   WHEN 42 THEN -9223372036854775808 WHEN 100 THEN 9223372036854775807 ELSE g END::int8 AS edge8,
            CASE p WHEN 40 THEN -2147483648 WHEN 41 THEN 2147483647
                   WHEN 42 THEN -2147483648 WHEN 100 THEN 2147483647 ELSE g * 1000 END::int4 AS edge4,
            ${NTH(KEEP, "timestamptz '2026-01-01 00:00:00+00' + g * interval '1 s' + (g * 7919 % 1000) * interval '1 ms'")} AS ts,
            ${NTH(KEEP, '-1000000 + g * 17')}::int4 AS i4,
            (g % 129 - 64)::int2 AS i2,
            date '2024-01-01' + g / 10 AS d
          FROM (SELECT g, (g - 1) % 129 AS p FROM generate_series(1, 1161) g) s`,
    },
    {
        name: 'enc_bss',
        options: 'ROW_GROUP_SIZE 129',
        expect: { f8: 'BYTE_STREAM_SPLIT', f4: 'BYTE_STREAM_SPLIT' },
        sql: `SELECT g AS ord,
            CASE WHEN NOT ${KEEP} THEN NULL
                 WHEN g = 5 * 129 + 3 THEN 'NaN' WHEN g = 5 * 129 + 4 THEN 'Infinity' WHEN g = 5 * 129 + 5 THEN '-Infinity'
                 WHEN g = 8 * 129 + 1 THEN '-0' WHEN g = 8 * 129 + 2 THEN '5e-324' WHEN g = 8 * 129 + 3 THEN '1.7976931348623157e308'
                 ELSE (1000 + sin(g) * 100)::text END::float8 AS f8,
            CASE WHEN NOT ${KEEP} THEN NULL
                 WHEN g = 5 * 129 + 3 THEN 'NaN' WHEN g = 5 * 129 + 4 THEN 'Infinity' WHEN g = 5 * 129 + 5 THEN '-Infinity'
                 WHEN g = 8 * 129 + 1 THEN '-0' WHEN g = 8 * 129 + 2 THEN '1e-45' WHEN g = 8 * 129 + 3 THEN '3.4028235e38'
                 ELSE (100 + cos(g) * 10)::float4::text END::float4 AS f4
          FROM (SELECT g, (g - 1) % 129 AS p FROM generate_series(1, 1161) g) s`,
    },
    {
        // dictionary indices that drift: each value is near the last
        // ones (a window of 16 entries that moves along a dictionary of
        // about 1000, 10 bits packed), like a gauge's readings.  In whole
        // bytes the high byte repeats and the low one takes few values,
        // which the codec entropy-codes; packed across byte boundaries it
        // cannot.  maxBits bounds a chunk's compressed bits per value.
        name: 'enc_dict_bytes',
        expect: { drift: 'RLE_DICTIONARY' },
        maxBits: { drift: 9 },
        sql: `SELECT g AS ord, 'v' || (g / 50 + ('x' || substr(md5(g::text), 1, 1))::bit(4)::int) AS drift
          FROM generate_series(1, 50000) g`,
    },
    {
        // a dictionary whole after its first values (2,000 random dates):
        // the dictionary page is written once per chunk of 122,880 values,
        // so the trial on the first 16,384 must not charge it all to them
        // (it would pick DELTA_BINARY_PACKED, 9% larger)
        name: 'enc_dict_whole',
        expect: { day: 'RLE_DICTIONARY' },
        sql: `SELECT g AS ord, date '2020-01-01' + (('x' || substr(md5(g::text), 1, 8))::bit(32)::int8 % 2000)::int AS day
          FROM generate_series(1, 130000) g`,
    },
    {
        // DELTA_BINARY_PACKED in whole-byte widths: timestamps in
        // milliseconds stored as microseconds (steps of 100 ms plus a
        // random 0-50 ms), whose deltas take few values spread over 17
        // bits, compress far better as 24-bit deltas than packed.  The
        // first row group's trial picks whole bytes, and the next 8 row
        // groups keep that choice on edge cases: 0, 0, the minimum, the
        // maximum, over and over (deltas of 64 and 32 bits), one value, 33 values
        // (one full miniblock), all NULLs, 130 values (a full block and
        // one delta), every other value, a constant (0 bits), and a last
        // row group of one row.  deltaBytes: every miniblock of these
        // columns is a whole number of bytes wide, and some are not 0.
        // deltaOneBase: the 16 blocks of the first row group's page all
        // take the page's smallest delta as their min delta (each
        // block's own minimum differs with its random milliseconds).
        name: 'enc_delta_bytes',
        options: 'ROW_GROUP_SIZE 2000',
        expect: { ms8: 'DELTA_BINARY_PACKED', ms4: 'DELTA_BINARY_PACKED', ts: 'DELTA_BINARY_PACKED' },
        deltaBytes: ['ms8', 'ms4', 'ts'],
        deltaOneBase: ['ms8', 'ms4', 'ts'],
        sql: `SELECT g AS ord,
            CASE WHEN NOT keep THEN NULL
                 WHEN c = 1 THEN CASE p % 4 WHEN 2 THEN -9223372036854775808 WHEN 3 THEN 9223372036854775807 ELSE 0 END
                 WHEN c = 7 THEN 1767225600000000
                 ELSE 1767225600000000 + g * 100000 + j * 1000 END::int8 AS ms8,
            CASE WHEN NOT keep THEN NULL
                 WHEN c = 1 THEN CASE p % 4 WHEN 2 THEN -2147483648 WHEN 3 THEN 2147483647 ELSE 0 END
                 WHEN c = 7 THEN -5
                 ELSE g * 100000 + j * 1000 END::int4 AS ms4,
            CASE WHEN NOT keep THEN NULL
                 WHEN c = 1 THEN CASE WHEN p % 2 = 0 THEN timestamptz '1900-01-01 00:00:00+00' ELSE timestamptz '2200-01-01 00:00:00+00' END
                 WHEN c = 7 THEN timestamptz '2026-01-01 00:00:00+00'
                 ELSE timestamptz '2026-01-01 00:00:00+00' + g * interval '100 ms' + j * interval '1 ms' END AS ts
          FROM (SELECT g, c, p, j,
                       CASE c WHEN 2 THEN p < 1 WHEN 3 THEN p < 33 WHEN 4 THEN false WHEN 5 THEN p < 130
                              WHEN 6 THEN p % 2 = 0 WHEN 7 THEN p % 3 <> 0 ELSE true END AS keep
                  FROM (SELECT g, (g - 1) / 2000 AS c, (g - 1) % 2000 AS p,
                               ('x' || substr(md5(g::text), 1, 4))::bit(16)::int % 51 AS j
                          FROM generate_series(1, 16001) g) s0) s`,
    },
    {
        // zstd at no given level: each column's trial picks level 1, the
        // default 3, or 3 taking only matches of 7 bytes or more.  Short
        // JSON objects of random numbers come out smaller at level 1
        // (which takes only matches of 6 bytes or more), log lines of a
        // few phrases and a random number with the longer matches at 3;
        // random UUIDs come out the same any way.  Encoding and level are
        // chosen together: random int8 cents (0-50000) are smallest PLAIN
        // at level 1, where DELTA_BINARY_PACKED wins at level 3.
        // levelCheck: a column's compressed bytes are fewer than with the
        // COMPRESSION_LEVEL given, which compresses every page at that
        // level (msg: fewer than both 1 and 3, so the third way was taken).
        // The JSON objects go DELTA_LENGTH_BYTE_ARRAY: without a length
        // between them, one object's end and the next one's start match.
        name: 'enc_zstd_level',
        expect: { ctx: 'DELTA_LENGTH_BYTE_ARRAY', msg: 'PLAIN', uid: 'PLAIN', cents: 'PLAIN' },
        levelCheck: [['ctx', 'COMPRESSION_LEVEL 3'], ['msg', 'COMPRESSION_LEVEL 3'], ['msg', 'COMPRESSION_LEVEL 1'],
            ['cents', 'COMPRESSION_LEVEL 3']],
        sql: `SELECT g AS ord,
            jsonb_build_object('rows', ('x' || substr(md5(g::text), 1, 4))::bit(16)::int % 10000,
                'duration_ms', (('x' || substr(md5(g::text), 5, 4))::bit(16)::int % 5000) / 10.0,
                'page', ('x' || substr(md5(g::text), 9, 2))::bit(8)::int % 100) AS ctx,
            (ARRAY['row batch written', 'fetched page', 'retrying request', 'cache miss for key', 'task finished',
                   'connection reset'])[1 + ('x' || substr(md5(g::text), 11, 2))::bit(8)::int % 6]
                || ' ' || ('x' || substr(md5(g::text), 13, 5))::bit(20)::int % 100000 AS msg,
            md5(g::text || 'u')::uuid AS uid,
            ('x' || substr(md5(g::text), 14, 8))::bit(32)::int8 % 50001 AS cents,
            CASE WHEN g % 7 = 0 THEN NULL ELSE md5(g::text || 'u')::uuid END AS uid_nulls
          FROM generate_series(1, 30000) g`,
    },
    {
        // Levels compressed apart from values, and lazy matching for
        // strings: maxBits bounds the compressed bits per value (levels
        // included; per list for nums) of random UUIDs with 20% NULLs (128
        // bits and the levels' 0.72 bits of entropy), of lists of varying
        // length whose elements lie within 1000 of their row number, of log
        // lines ending in a random number, and of text repeating the last
        // rows' numbers (DELTA_LENGTH_BYTE_ARRAY, greedy matching with a
        // tiny hash table).  Each bound fails without its change: before,
        // 129.51, 56.10, 31.76 and 33.59 bits (PLAIN, lazy matching at most
        // 4 kB back; 36.26 with matches up to 32 kB back only).
        name: 'enc_parts',
        maxBits: { uid20: 129.4, nums: 55.3, msg: 30.9, note: 29.0 },
        expect: { uid20: 'PLAIN', nums: 'DELTA_BINARY_PACKED', msg: 'PLAIN', note: 'DELTA_LENGTH_BYTE_ARRAY' },
        sql: `SELECT g AS ord,
            CASE WHEN ('x' || substr(md5(g::text || 'n'), 1, 2))::bit(8)::int < 51 THEN NULL
                 ELSE md5(g::text || 'u')::uuid END AS uid20,
            ARRAY(SELECT g - ('x' || substr(md5(g::text || i), 1, 4))::bit(16)::int % 1000
                    FROM generate_series(1, ('x' || substr(md5(g::text || 'l'), 1, 2))::bit(8)::int % 9) i) AS nums,
            (ARRAY['row batch written', 'fetched page', 'retrying request', 'cache miss for key', 'task finished',
                   'connection reset'])[1 + ('x' || substr(md5(g::text), 11, 2))::bit(8)::int % 6]
                || ' ' || ('x' || substr(md5(g::text), 13, 5))::bit(20)::int % 100000 AS msg,
            'item ' || ('x' || substr(md5(g::text || 'i'), 1, 5))::bit(20)::int % 50000 || ' of order ' || g / 3 AS note
          FROM generate_series(1, 60000) g`,
    },
    {
        // DELTA_LENGTH_BYTE_ARRAY: text repeating the last rows' numbers,
        // and the same as bytea, take it in the first row group's trial;
        // the next 8 row groups keep it on edge cases: all NULLs, one
        // value, two, 129 with empty strings, non-ASCII text, a value of
        // 100,000 bytes among short ones (lengths 17 bits apart), every
        // other value NULL, and the text again.  dlbaSingleRun: the
        // lengths of every DELTA_LENGTH_BYTE_ARRAY page are one block of
        // one miniblock (a single bit-packed run).  copyFrom: obs's own
        // reader loads the file back equal (COPY FROM).
        name: 'enc_dlba',
        options: 'ROW_GROUP_SIZE 5000',
        expect: { note: 'DELTA_LENGTH_BYTE_ARRAY', bin: 'DELTA_LENGTH_BYTE_ARRAY' },
        dlbaSingleRun: ['note', 'bin'],
        copyFrom: true,
        sql: `SELECT g AS ord, note, convert_to(note, 'UTF8') AS bin
          FROM (SELECT g,
                       CASE WHEN c = 1 OR (c = 2 AND p > 0) OR (c = 3 AND p > 1) OR (c = 4 AND p > 128)
                                 OR (c = 6 AND p % 3 = 0) OR (c = 7 AND p % 2 = 1) THEN NULL
                            WHEN c = 4 AND p % 10 = 0 THEN ''
                            WHEN c = 5 AND p % 7 = 0 THEN ''
                            WHEN c = 5 THEN 'ünï ' || t || ' ✓ 🎉'
                            WHEN c = 6 AND p = 17 THEN repeat('x', 100000)
                            ELSE t END AS note
                  FROM (SELECT g, (g - 1) / 5000 AS c, (g - 1) % 5000 AS p,
                               'item ' || ('x' || substr(md5(g::text || 'i'), 1, 5))::bit(20)::int % 50000
                                   || ' of order ' || g / 3 AS t
                          FROM generate_series(1, 45000) g) s0) s`,
    },
    {
        // one row holding more values than a page's usual most levels
        // (131072): its deltas and lengths keep blocks of 128 rather than
        // one run of more than 131072 values.
        name: 'enc_long_row',
        expect: { big4: 'DELTA_BINARY_PACKED', bigt: 'DELTA_LENGTH_BYTE_ARRAY' },
        longRow: ['big4', 'bigt'],
        copyFrom: true,
        sql: `SELECT g AS ord,
            CASE WHEN g = 2 THEN ARRAY(SELECT i * 3 FROM generate_series(1, 140000) i)
                 ELSE ARRAY[g, g + 1] END::int4[] AS big4,
            CASE WHEN g = 2 THEN ARRAY(SELECT 'item ' || i || ' of ' || i / 3 FROM generate_series(1, 140000) i)
                 ELSE ARRAY['item ' || g] END AS bigt
          FROM generate_series(1, 3) g`,
    },
    {
        // one chunk of 20000 rows: many blocks in one page, lists of ids
        name: 'enc_big',
        expect: { id8: 'DELTA_BINARY_PACKED', ts: 'DELTA_BINARY_PACKED', neg8: 'DELTA_BINARY_PACKED',
            ids: 'DELTA_BINARY_PACKED' },
        sql: `SELECT g AS ord, g::int8 * 1000 AS id8,
            timestamptz '2026-01-01 00:00:00+00' + g * interval '10 ms' + (g * 7919 % 97) * interval '1 us' AS ts,
            -g::int8 * 7 AS neg8,
            CASE WHEN g % 50 = 0 THEN NULL WHEN g % 50 = 1 THEN '{}'::int4[]
                 ELSE ARRAY[g * 4, g * 4 + 1, CASE WHEN g % 7 = 0 THEN NULL ELSE g * 4 + 2 END] END AS ids,
            ((g * 7919) % 100003) / 100.0::float8 AS price
          FROM generate_series(1, 20000) g`,
    },
];
