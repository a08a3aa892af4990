// cloudwatch-receiver.mjs: a CloudWatch Logs PutLogEvents endpoint for
// tests, on 127.0.0.1 and the port given as the first argument (0 or none:
// an ephemeral one; printed alone on the first
// line of stdout).  Every request is checked:
// - POST, X-Amz-Target: Logs_20140328.PutLogEvents, Content-Type
//   application/x-amz-json-1.1;
// - its SigV4 signature, recomputed with @smithy/signature-v4 and
//   @aws-crypto/sha256-js from the known key (service "logs"), over the
//   headers the request says it signed; X-Amz-Security-Token must be
//   present, signed and equal when a session token is configured;
// - the body against every PutLogEvents limit (cloudwatch-limits.mjs).
// Accepted events are recorded (in memory, and appended as NDJSON to
// CW_RECORD when set).  Answers: 200 {"nextSequenceToken"}; 403
// InvalidSignatureException / MissingAuthenticationTokenException /
// UnrecognizedClientException; 400 InvalidParameterException or
// UnknownOperationException, as CloudWatch answers them.
//
// Environment: CW_KEY_ID, CW_SECRET, CW_SESSION_TOKEN (optional), CW_REGION
// (default us-east-1), CW_RECORD (optional file).
// Control endpoints (plain GET/POST on paths starting with /_):
//   GET /_events    every accepted event, in arrival order, as JSON
//   GET /_requests  {"accepted": n, "rejected": n, "errors": [...]}
//   POST /_fail     {"status": 500, "count": 2, "retryAfter": "1"}: answer
//                   the next count PutLogEvents requests with that status
//   POST /_reset    forget events and counters
import http from 'node:http';
import fs from 'node:fs';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-js';
import { checkPutLogEvents } from './cloudwatch-limits.mjs';

const KEY_ID = process.env.CW_KEY_ID || 'AKIDEXAMPLE';
const SECRET = process.env.CW_SECRET || 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const TOKEN = process.env.CW_SESSION_TOKEN || '';
const REGION = process.env.CW_REGION || 'us-east-1';
const RECORD = process.env.CW_RECORD || '';

let events = [];
let accepted = 0;
let rejected = 0;
let errors = [];
let fail = null;

function answer(res, status, body, headers = {}) {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/x-amz-json-1.1', 'Content-Length': Buffer.byteLength(text), ...headers });
    res.end(text);
}

function reject(res, status, type, message) {
    rejected++;
    errors.push(`${type}: ${message}`);
    answer(res, status, { __type: type, message });
}

// "20261130T224050Z" -> Date
function amzDate(s) {
    const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s || '');
    return m ? new Date(Date.UTC(+m[1], m[2] - 1, +m[3], +m[4], +m[5], +m[6])) : null;
}

// null when the request's signature is the one the known key gives, else why not
export async function verifySigV4(req, body) {
    const auth = req.headers.authorization;
    if (!auth) return ['MissingAuthenticationTokenException', 'no Authorization header'];
    const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;\-]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
    if (!m) return ['IncompleteSignatureException', `malformed Authorization header: ${auth}`];
    const [, keyId, day, region, service, signedList] = m;
    if (keyId !== KEY_ID) return ['UnrecognizedClientException', `unknown access key ${keyId}`];
    if (region !== REGION || service !== 'logs') return ['InvalidSignatureException', `credential scope ${region}/${service}, expected ${REGION}/logs`];
    const date = amzDate(req.headers['x-amz-date']);
    if (!date) return ['IncompleteSignatureException', 'no valid X-Amz-Date header'];
    if (req.headers['x-amz-date'].slice(0, 8) !== day) return ['InvalidSignatureException', 'X-Amz-Date and credential scope disagree'];
    const signed = signedList.split(';');
    for (const h of ['host', 'x-amz-date']) if (!signed.includes(h)) return ['InvalidSignatureException', `${h} is not signed`];
    if (TOKEN) {
        if (req.headers['x-amz-security-token'] !== TOKEN) return ['UnrecognizedClientException', 'missing or wrong X-Amz-Security-Token'];
        if (!signed.includes('x-amz-security-token')) return ['InvalidSignatureException', 'X-Amz-Security-Token is not signed'];
    }
    const headers = {};
    for (const h of signed) {
        if (req.headers[h] === undefined) return ['InvalidSignatureException', `signed header ${h} is missing`];
        headers[h] = Array.isArray(req.headers[h]) ? req.headers[h].join(',') : req.headers[h];
    }
    const url = new URL(req.url, 'http://x');
    const query = {};
    for (const [k, v] of url.searchParams) query[k] = v;
    const signer = new SignatureV4({
        credentials: { accessKeyId: KEY_ID, secretAccessKey: SECRET, ...(TOKEN ? { sessionToken: TOKEN } : {}) },
        region: REGION, service: 'logs', sha256: Sha256, applyChecksum: false,
    });
    const out = await signer.sign({
        method: req.method, protocol: 'http:', hostname: headers.host, path: url.pathname, query, headers, body,
    }, { signingDate: date, signableHeaders: new Set(signed) });
    if (out.headers.authorization !== auth)
        return ['InvalidSignatureException', 'The request signature we calculated does not match the signature you provided.'];
    return null;
}

async function putLogEvents(req, res, raw) {
    if (req.headers['x-amz-target'] !== 'Logs_20140328.PutLogEvents')
        return reject(res, 400, 'UnknownOperationException', `X-Amz-Target ${req.headers['x-amz-target']}`);
    if ((req.headers['content-type'] || '').split(';')[0].trim() !== 'application/x-amz-json-1.1')
        return reject(res, 400, 'SerializationException', `Content-Type ${req.headers['content-type']}`);
    const bad = await verifySigV4(req, raw);
    if (bad) return reject(res, 403, bad[0], bad[1]);
    let body;
    try {
        body = JSON.parse(raw.toString('utf8'));
    } catch (e) {
        return reject(res, 400, 'SerializationException', `body is not JSON: ${e.message}`);
    }
    const problems = checkPutLogEvents(body);
    if (problems.length) return reject(res, 400, 'InvalidParameterException', problems.join('; '));
    if (fail && fail.count > 0) {
        fail.count--;
        const headers = fail.retryAfter !== undefined ? { 'Retry-After': String(fail.retryAfter) } : {};
        return answer(res, fail.status, { __type: 'ServiceUnavailableException', message: 'failing on request' }, headers);
    }
    accepted++;
    const got = body.logEvents.map((e) => ({ logGroupName: body.logGroupName, logStreamName: body.logStreamName, ...e }));
    events.push(...got);
    if (RECORD) fs.appendFileSync(RECORD, got.map((e) => JSON.stringify(e) + '\n').join(''));
    answer(res, 200, { nextSequenceToken: String(events.length) });
}

const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
        const raw = Buffer.concat(chunks);
        try {
            if (req.url.startsWith('/_')) {
                if (req.method === 'GET' && req.url === '/_events') return answer(res, 200, events);
                if (req.method === 'GET' && req.url === '/_requests') return answer(res, 200, { accepted, rejected, errors });
                if (req.method === 'POST' && req.url === '/_fail') { fail = JSON.parse(raw.toString() || '{}'); return answer(res, 200, {}); }
                if (req.method === 'POST' && req.url === '/_reset') { events = []; accepted = 0; rejected = 0; errors = []; fail = null; return answer(res, 200, {}); }
                return answer(res, 404, { message: 'no such control endpoint' });
            }
            if (req.method !== 'POST') return reject(res, 400, 'UnknownOperationException', `method ${req.method}`);
            await putLogEvents(req, res, raw);
        } catch (e) {
            answer(res, 500, { __type: 'InternalFailure', message: e.message });
        }
    });
});

server.listen(Number(process.argv[2] || 0), '127.0.0.1', () => {
    process.stdout.write(`${server.address().port}\n`);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
