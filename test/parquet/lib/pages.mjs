// pages.mjs: a look inside the pages of a Parquet file, for checks that
// the readers' values cannot make: the bit widths of DELTA_BINARY_PACKED
// miniblocks, and the blocks of DELTA_LENGTH_BYTE_ARRAY's lengths.  A small Thrift compact-protocol reader for page headers,
// hyparquet-compressors for the codecs.
import fs from 'node:fs';
import { compressors } from 'hyparquet-compressors';
import { dq, sqlStr } from './readers.mjs';

class Bytes {
    constructor(buf, pos = 0) { this.b = buf; this.p = pos; }
    byte() { return this.b[this.p++]; }
    varint() {
        let v = 0n;
        let shift = 0n;
        for (;;) {
            const x = this.byte();
            v |= BigInt(x & 0x7f) << shift;
            if (!(x & 0x80))
                return v;
            shift += 7n;
        }
    }
    zigzag() {
        const v = this.varint();
        return (v >> 1n) ^ -(v & 1n);
    }
}

// one Thrift compact struct: {field id: value}, nested structs as objects
function readStruct(r) {
    const out = {};
    let last = 0;
    for (;;) {
        const h = r.byte();
        if (h === 0)
            return out;
        const type = h & 0x0f;
        const id = (h >> 4) ? last + (h >> 4) : Number(r.zigzag());
        last = id;
        out[id] = readValue(r, type);
    }
}

function readValue(r, type) {
    switch (type) {
    case 1: return true;
    case 2: return false;
    case 3: return r.byte();
    case 4: case 5: case 6: return r.zigzag();
    case 7: r.p += 8; return null;
    case 8: { const n = Number(r.varint()); const v = r.b.subarray(r.p, r.p + n); r.p += n; return v; }
    case 9: case 10: {
        const h = r.byte();
        const n = (h >> 4) === 15 ? Number(r.varint()) : h >> 4;
        const list = [];
        for (let i = 0; i < n; i++)
            list.push(readValue(r, h & 0x0f));
        return list;
    }
    case 12: return readStruct(r);
    default: throw new Error(`thrift type ${type} not handled`);
    }
}

const CODECS = { UNCOMPRESSED: null, SNAPPY: 'SNAPPY', GZIP: 'GZIP', ZSTD: 'ZSTD' };

// The DELTA_BINARY_PACKED and DELTA_LENGTH_BYTE_ARRAY data pages of each
// column (for the latter, its lengths): Map(path_in_schema -> [{rowGroup,
// enc (5 or 6), block, minis, total (values), widths: [bit width of each
// miniblock holding values], mins: [each block's min delta (BigInt)]},
// ...]).
// hasRep(path): the column's pages have repetition levels; all of obs's
// columns have definition levels.
export async function deltaPages(file, hasRep = () => false) {
    const buf = fs.readFileSync(file);
    const { rows } = await dq(`SELECT row_group_id, path_in_schema, data_page_offset, total_compressed_size,
            dictionary_page_offset, compression FROM parquet_metadata(${sqlStr(file)}) ORDER BY row_group_id, column_id`);
    const out = new Map();
    for (const [rg, col, dataOff, size, dictOff, codec] of rows) {
        const name = String(col);
        const start = Number(dictOff ?? dataOff);
        const end = start + Number(size);
        const r = new Bytes(buf, start);
        while (r.p < end) {
            const h = readStruct(r);
            const zlen = Number(h[3]);
            const raw = buf.subarray(r.p, r.p + zlen);
            r.p += zlen;
            const enc = Number(h[1]) === 0 ? Number(h[5][2]) : -1;
            if (enc !== 5 && enc !== 6)
                continue;   // not a DELTA_BINARY_PACKED or DELTA_LENGTH_BYTE_ARRAY data page
            const c = CODECS[String(codec)];
            const body = c ? compressors[c](raw, Number(h[2])) : raw;
            const p = new Bytes(body);
            const skipLevels = () => { const n = p.b[p.p] | (p.b[p.p + 1] << 8) | (p.b[p.p + 2] << 16) | (p.b[p.p + 3] << 24); p.p += 4 + n; };
            if (hasRep(name))
                skipLevels();
            skipLevels();
            const block = Number(p.varint());
            const minis = Number(p.varint());
            const total = Number(p.varint());
            p.zigzag();
            const per = block / minis;
            const widths = [];
            const mins = [];
            for (let left = total - 1; left > 0; left -= block) {
                mins.push(p.zigzag());
                const w = [...p.b.subarray(p.p, p.p + minis)];
                p.p += minis;
                const used = Math.ceil(Math.min(left, block) / per);
                for (let k = 0; k < used; k++) {
                    widths.push(w[k]);
                    p.p += (per * w[k]) / 8;
                }
            }
            out.set(name, [...(out.get(name) || []), { rowGroup: Number(rg), enc, block, minis, total, widths, mins }]);
        }
    }
    return out;
}
