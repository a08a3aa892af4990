// test/ship/es-client-check.mjs: the Elasticsearch test receiver
// (es-receiver.mjs) checked against the official client,
// @elastic/elasticsearch.  The TAP tests trust this receiver to judge
// obs's _bulk requests and to answer like Elasticsearch; here:
//  - the client's bulk() request (its own NDJSON) is accepted, and its
//    answer parsed by the client;
//  - helpers.bulk(), the client's bulk helper, sees the documented outcome
//    of a partial failure answered by the receiver: a 400 item is dropped
//    (onDrop with its status, error and document), a 429 item is retried
//    and then stored, the others succeed;
//  - a body the client's serializer could not have produced is refused as
//    a protocol violation: no final newline, an action line that is not
//    an "index" action, a line that is not JSON, an odd number of lines.
// Prints "ok"/"not ok" lines and, last, "N passed, N failed".
// Usage: node es-client-check.mjs
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Serializer } from '@elastic/elasticsearch';

const here = path.dirname(fileURLToPath(import.meta.url));
let passed = 0;
let failed = 0;
function check(cond, what, detail) {
    if (cond) { passed++; console.log(`ok - ${what}`); }
    else { failed++; console.log(`not ok - ${what}${detail === undefined ? '' : `: ${JSON.stringify(detail)}`}`); }
}

const port = await new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
});
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'obs-es-check-'));
const logfile = path.join(dir, 'es.log');
const receiver = spawn(process.execPath, [path.join(here, 'es-receiver.mjs'), String(port), logfile],
    { stdio: 'inherit', env: { ...process.env, RECEIVER_LIFETIME_MS: '120000' } });
const base = `http://127.0.0.1:${port}`;
try {
    for (let i = 0; i < 100 && !(fs.existsSync(logfile) && fs.statSync(logfile).size > 0); i++)
        await new Promise((r) => setTimeout(r, 50));
    const stats = async () => (await fetch(`${base}/_stats`)).json();
    const control = (o) => fetch(`${base}/_control`, { method: 'POST', body: JSON.stringify(o) });
    const client = new Client({ node: base, maxRetries: 0, requestTimeout: 10000 });

    // 1. the client's own bulk request, and its reading of the answer
    const r = await client.bulk({ operations: [
        { index: { _index: 'check', _id: 'c1' } }, { message: 'one' },
        { index: { _index: 'check', _id: 'c2' } }, { message: 'two', n: 2 },
    ] });
    check(r.errors === false && r.items.length === 2 && r.items.every((it) => it.index.status === 201 && it.index._id),
        'the official client\'s bulk() request is accepted and its answer read', r);
    check((await stats()).violations === 0, 'the official client\'s NDJSON breaks no check of the receiver');

    // 2. helpers.bulk() and a partial failure: p2 refused (400), p3 rejected once (429)
    await control({ mode: 'partial', fail_ids: ['p2'], fail_status: 400, count: 1 });
    const docs = [1, 2, 3, 4].map((i) => ({ id: `p${i}`, message: `doc ${i}` }));
    const drops = [];
    const result = await client.helpers.bulk({
        datasource: docs,
        onDocument: (d) => [{ index: { _index: 'helper', _id: d.id } }, { message: d.message }],
        onDrop: (d) => drops.push(d),
        retries: 2, wait: 10, concurrency: 1, flushInterval: 100,
    });
    check(result.total === 4 && result.successful === 3 && result.failed === 1,
        'helpers.bulk: a partial failure gives 3 successful, 1 failed', result);
    check(drops.length === 1 && drops[0].status === 400 && drops[0].error?.type === 'mapper_parsing_exception' &&
          drops[0].document?.message === 'doc 2' && drops[0].operation?.index?._id === 'p2',
        'helpers.bulk: the refused item reaches onDrop with its status, error and document', drops);

    await control({ mode: 'partial', fail_ids: ['q3'], fail_status: 429, count: 1 });
    const drops429 = [];
    const result429 = await client.helpers.bulk({
        datasource: [1, 2, 3].map((i) => ({ id: `q${i}` })),
        onDocument: (d) => [{ index: { _index: 'helper', _id: d.id } }, { n: 1 }],
        onDrop: (d) => drops429.push(d),
        retries: 2, wait: 10, concurrency: 1,
    });
    check(result429.successful === 3 && result429.failed === 0 && result429.retry === 2 && drops429.length === 0,
        'helpers.bulk: a 429 item is retried (its 2 NDJSON lines) and then stored', result429);
    const log = fs.readFileSync(logfile, 'utf8').split('\n').filter((l) => l).map((l) => JSON.parse(l));
    check(log.filter((e) => e.id === 'q3' && e.doc).length === 1 && log.filter((e) => e.item_refused === 429).length === 1,
        'the receiver logged the 429 and the stored retry');

    // 3. bodies the official serializer would never produce are violations
    const ser = new Serializer();
    const good = ser.ndserialize([{ index: { _index: 'bad', _id: 'b1' } }, { message: 'x' }]);
    check(good.endsWith('\n'), 'the official serializer ends NDJSON with a newline');
    const bad = {
        'no final newline': good.slice(0, -1),
        'a "create" action line': good.replace('"index"', '"create"'),
        'an action line without _id': ser.ndserialize([{ index: { _index: 'bad' } }, { message: 'x' }]),
        'an action line that is not JSON': good.replace('{"index"', '{index'),
        'a document that is not JSON': good.replace('{"message":"x"}', '{"message":x}'),
        'an odd number of lines': good + ser.ndserialize([{ index: { _index: 'bad', _id: 'b2' } }]),
    };
    for (const [what, body] of Object.entries(bad)) {
        const before = (await stats()).violations;
        const res = await fetch(`${base}/_bulk`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body });
        const after = (await stats()).violations;
        check(res.status === 400 && after === before + 1, `a body with ${what} is refused as a violation`, res.status);
    }
    const r2 = await client.bulk({ operations: [{ index: { _index: 'check', _id: 'c3' } }, { message: 'three' }] });
    check(r2.errors === false, 'and a good request after them is accepted');
    await client.close();
} catch (e) {
    check(false, 'the checks ran to completion', String(e && e.stack || e));
} finally {
    receiver.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
