#!/usr/bin/env node
// `ocits registry serve` against Debian's docker-registry (distribution
// 2.8.2) in the same run: N clients at once (default 1, 8 and 32) push an
// image of the corpus (default the Debian one, 49 MB in 5 blobs) to a
// repository of their own, then all pull it back. The clients are this
// process (Node's http, keep-alive), the same for both servers, and always
// upload (POST, then PUT with the whole blob) rather than HEAD first, so both
// servers receive every byte. Prints, per server and N: throughput of each
// phase (MB/s of blob bytes, wall time from the first request to the last
// answer) and the p99 latency of each request kind; then our throughput as
// a ratio of docker-registry's (issue 14's target: at least 1x at every N).
// Servers alternate per N so that drift in machine load hits both alike.
// One untimed round (a client pushing and pulling) goes to each server
// first: a registry is a long-lived process, and what is measured is the
// server at work, not its first requests (ocits's JIT tiers up late, as the
// short engine commands want; see scripts/build.js).
// Timing is informational: the script fails only when a request fails.
//
// Usage (as root, after `npm run build`): node bench/registry.js [--image deb|tiny|big] [N ...]
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { percentile, printTable, loadLine } = require('./measure');

const args = process.argv.slice(2);
let image = 'deb';
const counts = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--image') image = args[++i];
  else if (/^[1-9][0-9]*$/.test(args[i])) counts.push(Number(args[i]));
  else {
    console.error('usage: node bench/registry.js [--image deb|tiny|big] [N ...]');
    process.exit(2);
  }
}
if (counts.length === 0) counts.push(1, 8, 32);

const env = { ...process.env };
for (const name of Object.keys(env)) if (name.startsWith('REGISTRY_')) delete env[name];
const ocits = path.join(__dirname, '..', 'bin', 'ocits');
const tools = path.resolve(__dirname, '..', '..', 'shared', 'tools', 'images');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ocits-bench-registry-'));

function run(argv) {
  const result = spawnSync(argv[0], argv.slice(1), { env, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${argv.join(' ')} exited ${result.status}\n${result.stderr}`);
  return result.stdout;
}

/** The image's manifest and blobs, read from the corpus layout into memory. */
function loadImage() {
  const imagesDir = process.env.OCITS_IMAGES || (process.env.XDG_CACHE_HOME ? path.join(process.env.XDG_CACHE_HOME, 'ocits-images') : '/tmp/ocits-images');
  run([path.join(tools, 'make-images.sh'), imagesDir]);
  const layout = path.join(imagesDir, 'oci');
  const blob = (digest) => fs.readFileSync(path.join(layout, 'blobs', ...digest.split(':')));
  const index = JSON.parse(fs.readFileSync(path.join(layout, 'index.json'), 'utf8'));
  const entry = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === image);
  if (entry === undefined || entry.mediaType !== 'application/vnd.oci.image.manifest.v1+json') throw new Error(`no single-platform image "${image}" in ${layout}`);
  const manifest = blob(entry.digest);
  const parsed = JSON.parse(manifest.toString());
  const blobs = [parsed.config, ...parsed.layers].map((d) => ({ digest: d.digest, data: blob(d.digest) }));
  return { manifest, mediaType: entry.mediaType, blobs, bytes: blobs.reduce((sum, b) => sum + b.data.length, 0) };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

/**
 * One request; resolves to status, headers and body, and records its latency
 * under kind. With digest, the body is hashed as it arrives and not kept, as
 * a real client checks a blob: holding 32 whole copies of the image made the
 * client's garbage collector, not the server, what the pull phase measured.
 */
function request(address, method, target, body, headers, kind, latencies, digest) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const [host, port] = address.split(':');
    const req = http.request({ host, port, method, path: target, agent, headers: { ...headers, ...(body ? { 'Content-Length': body.length } : {}) } }, (res) => {
      const chunks = [];
      const hash = digest !== undefined ? crypto.createHash('sha256') : undefined;
      res.on('data', (c) => (hash !== undefined && res.statusCode < 300 ? hash.update(c) : chunks.push(c)));
      res.on('end', () => {
        (latencies[kind] ??= []).push(Number(process.hrtime.bigint() - started) / 1e6);
        if (res.statusCode >= 300) reject(new Error(`${method} ${target}: ${res.statusCode} ${Buffer.concat(chunks).toString().slice(0, 200)}`));
        else if (hash !== undefined && `sha256:${hash.digest('hex')}` !== digest) reject(new Error(`${method} ${target}: the body does not match ${digest}`));
        else resolve({ headers: res.headers, body: Buffer.concat(chunks) });
      });
      res.on('error', reject);
    });
    req.on('error', (error) => reject(new Error(`${method} http://${address}${target}: ${error.message}`)));
    req.end(body);
  });
}

async function pushOne(address, repository, img, latencies) {
  for (const { digest, data } of img.blobs) {
    const started = await request(address, 'POST', `/v2/${repository}/blobs/uploads/`, undefined, { 'Content-Length': '0' }, 'upload POST', latencies);
    const location = new URL(started.headers.location, `http://${address}`);
    const target = `${location.pathname}${location.search}${location.search ? '&' : '?'}digest=${encodeURIComponent(digest)}`;
    await request(address, 'PUT', target, data, { 'Content-Type': 'application/octet-stream' }, 'upload PUT', latencies);
  }
  await request(address, 'PUT', `/v2/${repository}/manifests/latest`, img.manifest, { 'Content-Type': img.mediaType }, 'manifest PUT', latencies);
}

async function pullOne(address, repository, img, latencies) {
  const got = await request(address, 'GET', `/v2/${repository}/manifests/latest`, undefined, { Accept: img.mediaType }, 'manifest GET', latencies);
  if (!got.body.equals(img.manifest)) throw new Error(`${repository}: the manifest came back different`);
  for (const { digest } of img.blobs) await request(address, 'GET', `/v2/${repository}/blobs/${digest}`, undefined, {}, 'blob GET', latencies, digest);
}

async function phase(n, fn) {
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: n }, (_, i) => fn(i)));
  return Number(process.hrtime.bigint() - started) / 1e9;
}

async function measure(address, n, round, img) {
  const latencies = {};
  const prefix = `bench/r${round}-${crypto.randomBytes(3).toString('hex')}`;
  const push = await phase(n, (i) => pushOne(address, `${prefix}/c${i}`, img, latencies));
  const pull = await phase(n, (i) => pullOne(address, `${prefix}/c${i}`, img, latencies));
  const mb = (n * img.bytes) / 1e6;
  return { push: mb / push, pull: mb / pull, latencies };
}

function startOcits() {
  const store = path.join(work, 'ocits-store');
  const child = spawn(ocits, ['registry', 'serve', '--store', store, '--listen', '127.0.0.1:0'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  child.stdout.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    let first = '';
    const onData = (chunk) => {
      first += chunk;
      const match = /on http:\/\/(127\.0\.0\.1:\d+)/.exec(first);
      if (match === null) return;
      // The access log is not what is measured: read and drop it.
      child.stdout.off('data', onData);
      child.stdout.resume();
      resolve({ address: match[1], stop: () => new Promise((done) => (child.exitCode !== null ? done() : (child.once('exit', done), child.kill('SIGTERM')))) });
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => reject(new Error(`ocits registry serve exited ${code}`)));
  });
}

function startDockerRegistry() {
  const dir = path.join(work, 'docker-registry');
  const started = run([path.join(tools, 'registry.sh'), 'start', '--auth', 'none', '--workdir', dir]);
  return { address: /^REGISTRY=(.*)$/m.exec(started)[1], stop: async () => spawnSync(path.join(tools, 'registry.sh'), ['stop', '--workdir', dir], { stdio: 'ignore' }) };
}

async function main() {
  const img = loadImage();
  console.log(`image ${image}: ${img.blobs.length} blobs, ${(img.bytes / 1e6).toFixed(1)} MB; clients ${counts.join(', ')}; ${loadLine()}`);
  const servers = { ocits: await startOcits(), 'docker-registry': startDockerRegistry() };
  const rows = [];
  const ratios = [];
  try {
    for (const server of Object.values(servers)) await measure(server.address, 1, 'warm-up', img);
    let round = 0;
    for (const n of counts) {
      const order = round % 2 === 0 ? ['ocits', 'docker-registry'] : ['docker-registry', 'ocits'];
      const results = {};
      for (const name of order) results[name] = await measure(servers[name].address, n, round, img);
      round++;
      for (const name of ['ocits', 'docker-registry']) {
        const r = results[name];
        const p99 = Object.entries(r.latencies)
          .map(([kind, values]) => `${kind} ${percentile(values, 99).toFixed(1)}`)
          .join(', ');
        rows.push([name, String(n), r.push.toFixed(1), r.pull.toFixed(1), p99]);
      }
      ratios.push([String(n), (results.ocits.push / results['docker-registry'].push).toFixed(2), (results.ocits.pull / results['docker-registry'].pull).toFixed(2)]);
    }
  } finally {
    for (const server of Object.values(servers)) await server.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
  printTable([['server', 'clients', 'push MB/s', 'pull MB/s', 'p99 ms by request kind'], ...rows]);
  console.log('');
  printTable([['clients', 'push ocits/docker-registry', 'pull ocits/docker-registry'], ...ratios]);
  console.log(`${loadLine()}`);
}

main().catch((error) => {
  console.error(error.message);
  process.exit(1);
});
