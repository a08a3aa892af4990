// s3-proxy.mjs: an S3-compatible endpoint for the archive tests, on
// 127.0.0.1 (an ephemeral port, printed alone on the first line of stdout).
// It runs s3rver (the objects, multipart uploads) behind a proxy that
// checks every request first, since s3rver does not verify SigV4:
// - the SigV4 signature (service s3), recomputed with @smithy/signature-v4
//   from the known key over the headers the request says it signed, with
//   host, x-amz-date and x-amz-content-sha256 among them;
// - x-amz-content-sha256 must be the SHA-256 of the body received;
// - Content-MD5, when present, the MD5 of the body (else 400 BadDigest);
// - x-amz-security-token, when S3_SESSION_TOKEN is set.
// A request that fails a check gets 403 SignatureDoesNotMatch (or 400) and
// never reaches s3rver.
// s3rver implements neither ListMultipartUploads nor AbortMultipartUpload;
// the proxy answers both itself, from s3rver's directory of uploads in
// progress (<S3_DIR>/<bucket>/._S3rver_uploads/<uploadId>/key):
//   GET    /<bucket>?uploads[&prefix=&key-marker=&upload-id-marker=&max-uploads=]
//   DELETE /<bucket>/<key>?uploadId=<id>   (204, or 404 NoSuchUpload)
//
// Environment: S3_KEY_ID (default S3RVER, the key s3rver knows), S3_SECRET,
// S3_SESSION_TOKEN, S3_REGION (default us-east-1), S3_BUCKET (made at
// start, default lake), S3_DIR (s3rver's directory).
// Control endpoints (paths starting with /_):
//   GET  /_stats   {"verified": n, "rejected": n, "errors": [...],
//                   "requests": ["PUT /lake/...", ...], "stalled": n}
//   POST /_fail    {"status": 500, "count": 1, "match": "part-"}: answer the
//                  next count requests whose path and query hold match with
//                  status
//   POST /_stall   {"match": "part-"}: accept the body of such requests
//                  (HEAD aside) and never answer them (the sender is to be
//                  killed)
//   POST /_reset   forget counters, failures and stalls
//   GET  /_uploads [{"key": ..., "uploadId": ...}]: the multipart uploads in
//                  progress, straight from s3rver's directory
import http from 'node:http';
import crypto from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import S3rver from 's3rver';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-js';

const KEY_ID = process.env.S3_KEY_ID || 'S3RVER';
const SECRET = process.env.S3_SECRET || 'S3RVER';
const TOKEN = process.env.S3_SESSION_TOKEN || '';
const REGION = process.env.S3_REGION || 'us-east-1';
const BUCKET = process.env.S3_BUCKET || 'lake';
const DIR = process.env.S3_DIR || fs.mkdtempSync(path.join(os.tmpdir(), 's3rver-'));

let stats = { verified: 0, rejected: 0, errors: [], requests: [], stalled: 0 };
let fail = null;
let stall = null;
const stalledRes = [];

function amzDate(s) {
    const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s || '');
    return m ? new Date(Date.UTC(+m[1], m[2] - 1, +m[3], +m[4], +m[5], +m[6])) : null;
}

// null when the request is signed by the known key over its body, else why not
async function verify(req, body) {
    const auth = req.headers.authorization;
    if (!auth) return 'no Authorization header';
    const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;\-]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
    if (!m) return `malformed Authorization header: ${auth}`;
    const [, keyId, day, region, service, signedList] = m;
    if (keyId !== KEY_ID) return `unknown access key ${keyId}`;
    if (region !== REGION || service !== 's3') return `credential scope ${region}/${service}, expected ${REGION}/s3`;
    const date = amzDate(req.headers['x-amz-date']);
    if (!date || req.headers['x-amz-date'].slice(0, 8) !== day) return 'no valid X-Amz-Date header';
    const signed = signedList.split(';');
    for (const h of ['host', 'x-amz-date', 'x-amz-content-sha256'])
        if (!signed.includes(h)) return `${h} is not signed`;
    const sha = crypto.createHash('sha256').update(body).digest('hex');
    if (req.headers['x-amz-content-sha256'] !== sha) return 'x-amz-content-sha256 is not the SHA-256 of the body';
    if (TOKEN && (req.headers['x-amz-security-token'] !== TOKEN || !signed.includes('x-amz-security-token')))
        return 'missing, wrong or unsigned x-amz-security-token';
    const headers = {};
    for (const h of signed) {
        if (req.headers[h] === undefined) return `signed header ${h} is missing`;
        headers[h] = Array.isArray(req.headers[h]) ? req.headers[h].join(',') : req.headers[h];
    }
    const url = new URL(req.url, 'http://x');
    const query = {};
    for (const [k, v] of url.searchParams) query[k] = v;
    // S3 signs the path as sent, encoded once (uriEscapePath: false)
    const signer = new SignatureV4({
        credentials: { accessKeyId: KEY_ID, secretAccessKey: SECRET, ...(TOKEN ? { sessionToken: TOKEN } : {}) },
        region: REGION, service: 's3', sha256: Sha256, uriEscapePath: false, applyChecksum: false,
    });
    const out = await signer.sign({
        method: req.method, protocol: 'http:', hostname: headers.host,
        path: url.pathname, query, headers, body,
    }, { signingDate: date, signableHeaders: new Set(signed) });
    if (out.headers.authorization !== auth) return 'The request signature we calculated does not match the signature you provided.';
    return null;
}

function xmlError(res, status, code, message) {
    const text = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
    res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
}

function xmlEscape(t) {
    return String(t).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
        .replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

// the multipart uploads in progress in a bucket, sorted by key then id
function uploadsOf(bucket) {
    const dir = path.join(DIR, bucket, '._S3rver_uploads');
    let ids = [];
    try { ids = fs.readdirSync(dir); } catch (e) { return []; }
    const out = [];
    for (const id of ids) {
        let key;
        try { key = fs.readFileSync(path.join(dir, id, 'key'), 'utf8'); } catch (e) { continue; }
        const st = fs.statSync(path.join(dir, id));
        out.push({ key, uploadId: id, initiated: st.mtime.toISOString() });
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.uploadId < b.uploadId ? -1 : a.uploadId > b.uploadId ? 1 : 0));
}

function listUploads(res, bucket, q) {
    const prefix = q.get('prefix') || '';
    const keyMarker = q.get('key-marker') || '';
    const idMarker = q.get('upload-id-marker') || '';
    const max = Math.min(parseInt(q.get('max-uploads') || '1000', 10) || 1000, 1000);
    const all = uploadsOf(bucket).filter((u) => u.key.startsWith(prefix)
        && (keyMarker === '' || u.key > keyMarker || (u.key === keyMarker && idMarker !== '' && u.uploadId > idMarker)));
    const page = all.slice(0, max);
    const truncated = all.length > max;
    const last = page[page.length - 1];
    const text = '<?xml version="1.0" encoding="UTF-8"?>\n'
        + '<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        + `<Bucket>${xmlEscape(bucket)}</Bucket><KeyMarker>${xmlEscape(keyMarker)}</KeyMarker>`
        + `<UploadIdMarker>${xmlEscape(idMarker)}</UploadIdMarker>`
        + (truncated ? `<NextKeyMarker>${xmlEscape(last.key)}</NextKeyMarker><NextUploadIdMarker>${xmlEscape(last.uploadId)}</NextUploadIdMarker>` : '')
        + `<Prefix>${xmlEscape(prefix)}</Prefix><MaxUploads>${max}</MaxUploads><IsTruncated>${truncated}</IsTruncated>`
        + page.map((u) => `<Upload><Key>${xmlEscape(u.key)}</Key><UploadId>${xmlEscape(u.uploadId)}</UploadId>`
            + `<Initiated>${u.initiated}</Initiated><StorageClass>STANDARD</StorageClass></Upload>`).join('')
        + '</ListMultipartUploadsResult>';
    res.writeHead(200, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
}

function abortUpload(res, bucket, key, id) {
    const dir = path.join(DIR, bucket, '._S3rver_uploads', path.basename(id));
    let stored;
    try { stored = fs.readFileSync(path.join(dir, 'key'), 'utf8'); } catch (e) { stored = null; }
    if (stored === null || stored !== key)
        return xmlError(res, 404, 'NoSuchUpload', 'The specified upload does not exist.');
    fs.rmSync(dir, { recursive: true, force: true });
    res.writeHead(204);
    res.end();
}

function json(res, obj) {
    const text = JSON.stringify(obj);
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
}

const s3 = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: DIR,
                        configureBuckets: [{ name: BUCKET }] });
const s3addr = await s3.run();

const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
        const body = Buffer.concat(chunks);
        const url = new URL(req.url, 'http://x');
        if (url.pathname.startsWith('/_')) {
            if (req.method === 'GET' && url.pathname === '/_stats') return json(res, stats);
            if (req.method === 'GET' && url.pathname === '/_uploads')
                return json(res, uploadsOf(BUCKET).map(({ key, uploadId }) => ({ key, uploadId })));
            const arg = body.length ? JSON.parse(body.toString('utf8')) : {};
            if (url.pathname === '/_fail') fail = arg;
            else if (url.pathname === '/_stall') stall = arg;
            else if (url.pathname === '/_reset') {
                stats = { verified: 0, rejected: 0, errors: [], requests: [], stalled: 0 };
                fail = null; stall = null;
                for (const r of stalledRes.splice(0)) r.destroy();
            }
            return json(res, { ok: true });
        }
        const bad = await verify(req, body);
        if (bad) {
            stats.rejected++;
            stats.errors.push(`${req.method} ${url.pathname}: ${bad}`);
            return xmlError(res, 403, 'SignatureDoesNotMatch', bad);
        }
        const md5 = req.headers['content-md5'];
        if (md5 !== undefined && md5 !== crypto.createHash('md5').update(body).digest('base64')) {
            stats.rejected++;
            stats.errors.push(`${req.method} ${url.pathname}: Content-MD5 is not the MD5 of the body`);
            return xmlError(res, 400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.');
        }
        stats.verified++;
        stats.requests.push(`${req.method} ${url.pathname}${url.search}`);
        if (stall && req.method !== 'HEAD' && (url.pathname + url.search).includes(stall.match || '')) {
            stats.stalled++;
            stalledRes.push(res);
            return;
        }
        if (fail && fail.count > 0 && (url.pathname + url.search).includes(fail.match || '')) {
            fail.count--;
            return xmlError(res, fail.status || 500, 'InternalError', 'failing on request');
        }
        const parts = url.pathname.split('/');
        if (req.method === 'GET' && url.searchParams.has('uploads') && parts.length <= 3 && (parts[2] || '') === '')
            return listUploads(res, decodeURIComponent(parts[1]), url.searchParams);
        if (req.method === 'DELETE' && url.searchParams.has('uploadId') && parts.length > 2)
            return abortUpload(res, decodeURIComponent(parts[1]),
                               decodeURIComponent(parts.slice(2).join('/')), url.searchParams.get('uploadId'));
        const headers = { ...req.headers };
        delete headers.expect;
        headers['content-length'] = String(body.length);
        const fwd = http.request({ host: '127.0.0.1', port: s3addr.port, method: req.method,
                                   path: req.url, headers }, async (up) => {
            // s3rver answers a PUT of a small body before its file is
            // written (it ends the write stream without waiting), so a HEAD
            // right after could see 0 bytes; S3 reads its writes at once.
            // Answer such a PUT only once the object has its size (at most
            // 100 tries, 10 ms apart).
            if (req.method === 'PUT' && up.statusCode === 200 && !url.searchParams.has('uploadId'))
                for (let i = 0; i < 100 && await upstreamSize(req.url) !== body.length; i++)
                    await new Promise((r) => setTimeout(r, 10));
            res.writeHead(up.statusCode, up.headers);
            up.pipe(res);
        });
        fwd.on('error', (e) => xmlError(res, 502, 'BadGateway', e.message));
        fwd.end(body);
    });
});
// the size s3rver reports for the object at path (a HEAD it answers unsigned
// for the test server's own credentials-free check), or -1
function upstreamSize(path) {
    return new Promise((resolve) => {
        const h = http.request({ host: '127.0.0.1', port: s3addr.port, method: 'HEAD', path }, (r) => {
            r.resume();
            resolve(r.statusCode === 200 ? Number(r.headers['content-length']) : -1);
        });
        h.on('error', () => resolve(-1));
        h.end();
    });
}

server.listen(0, '127.0.0.1', () => {
    console.log(server.address().port);
    console.log(DIR);
});
process.on('SIGTERM', async () => { server.close(); await s3.close(); process.exit(0); });
