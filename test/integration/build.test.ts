// `ocits build`: Dockerfiles built into a store, each instruction checked
// from the image config and from inside a container of the result
// (`ocits bundle` + `ocits run`); the layer cache; hostile contexts and
// bad input. A busybox base is built FROM scratch first, so most of these
// need no registry; the Debian ones pull the corpus's image on demand.
import { spawn, spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { TarParser, type TarHeader } from '../../src/image/tar-parser';
import { BUSYBOX, Runtime } from '../helpers/busybox';
import { OCITS, ocits, type CliResult } from '../helpers/cli';
import { makeTar, snapshotTree } from '../helpers/image-fixtures';
import { imageCorpus, ocitsAsync, startRegistry, stopRegistry, type RunningRegistry } from '../helpers/registry';
import { tempDir } from '../helpers/tmp';

const runtime = new Runtime();
let store: string;
let counter = 0;

type FileSpec = string | { content: string; mode?: number } | { symlink: string } | { dir: true };

/** A build context with these files (and busybox when asked). */
function makeContext(files: Record<string, FileSpec>, withBusybox = false): string {
  const dir = tempDir('ocits-build-context-');
  if (withBusybox) fs.copyFileSync(BUSYBOX, path.join(dir, 'busybox'));
  for (const [name, spec] of Object.entries(files)) {
    const file = path.join(dir, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    if (typeof spec === 'string') fs.writeFileSync(file, spec);
    else if ('symlink' in spec) fs.symlinkSync(spec.symlink, file);
    else if ('dir' in spec) fs.mkdirSync(file, { recursive: true });
    else fs.writeFileSync(file, spec.content, { mode: spec.mode ?? 0o644 });
    if (typeof spec === 'object' && 'content' in spec && spec.mode !== undefined) fs.chmodSync(file, spec.mode);
  }
  return dir;
}

function build(context: string, args: string[] = [], env: NodeJS.ProcessEnv = process.env): CliResult {
  return ocits(['--root', runtime.root, 'build', '--store', store, '--progress', 'plain', ...args, context], { env });
}

function buildOk(context: string, args: string[] = [], env?: NodeJS.ProcessEnv): CliResult {
  const result = build(context, args, env);
  if (result.status !== 0) throw new Error(`build failed: ${result.stderr}`);
  expect(result.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
  return result;
}

interface Inspected {
  manifest: { layers: Array<{ digest: string; mediaType: string }> };
  config: { config: Record<string, any>; history: Array<{ created_by: string; empty_layer?: boolean }>; rootfs: { diff_ids: string[] }; author?: string };
}

function inspect(ref: string): Inspected {
  const result = ocits(['inspect', '--store', store, ref]);
  if (result.status !== 0) throw new Error(result.stderr);
  return JSON.parse(result.stdout);
}

/** Bundles the image and runs it (with args instead of its command when given); returns stdout. */
function runImage(ref: string, args?: string[]): string {
  const bundle = path.join(tempDir('ocits-build-bundle-'), 'b');
  const made = ocits(['bundle', '--store', store, ref, bundle]);
  if (made.status !== 0) throw new Error(made.stderr);
  if (args !== undefined) {
    const file = path.join(bundle, 'config.json');
    const config = JSON.parse(fs.readFileSync(file, 'utf8'));
    config.process.args = args;
    fs.writeFileSync(file, JSON.stringify(config));
  }
  return runtime.ok(['run', '--bundle', bundle, `build-run-${process.pid}-${++counter}`]);
}

/** The entries of each layer of an image, as [name, type, mode, uid:gid] lists. */
function layerEntries(ref: string): TarHeader[][] {
  return inspect(ref).manifest.layers.map((layer) => {
    let data = fs.readFileSync(path.join(store, 'blobs', 'sha256', layer.digest.slice(7)));
    if (layer.mediaType.endsWith('+gzip')) data = zlib.gunzipSync(data);
    if (layer.mediaType.endsWith('+zstd')) data = spawnSync('zstd', ['-d', '-c'], { input: data, maxBuffer: 1 << 30 }).stdout;
    const entries: TarHeader[] = [];
    const parser = new TarParser({ entry: (header) => entries.push(header), data: () => undefined, end: () => undefined });
    parser.write(data);
    parser.finish();
    return entries;
  });
}

function images(): string[] {
  return ocits(['images', '--store', store, '-q']).stdout.split('\n').filter((line) => line !== '');
}

/** Everything a build may leave: containers in our state root, mounts under the store. */
function leftovers(): { containers: string[]; mounts: string[] } {
  const containers = ocits(['--root', runtime.root, 'list', '-q']).stdout.split('\n').filter((line) => line !== '');
  const mounts = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((mountPoint) => mountPoint !== undefined && mountPoint.startsWith(store));
  return { containers, mounts };
}

const BB = 'localhost/ocits-build-test/busybox:latest';

beforeAll(() => {
  store = tempDir('ocits-build-store-');
  const context = makeContext({ Dockerfile: 'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "--install", "-s", "/bin"]\n' }, true);
  buildOk(context, ['-t', BB]);
}, 60_000);

afterAll(() => {
  for (const id of leftovers().containers) ocits(['--root', runtime.root, 'delete', '--force', id]);
  for (const mountPoint of leftovers().mounts) spawnSync('umount', ['--lazy', mountPoint]);
  runtime.cleanUp();
});

describe('instructions into the image config', () => {
  test('ENV, LABEL, EXPOSE, VOLUME, USER, WORKDIR, STOPSIGNAL, HEALTHCHECK, SHELL, ENTRYPOINT, CMD, ONBUILD, MAINTAINER', () => {
    const context = makeContext({
      Dockerfile: [
        `FROM ${BB}`,
        'MAINTAINER someone',
        'ENV A=1 B="two words"',
        'ENV C=${A}-${B:+set}-${NOPE:-default} D=$A',
        'LABEL org.example.one=1 "with space"="v w"',
        'EXPOSE 80 53/udp 9000-9001',
        'VOLUME ["/data", "/cache"]',
        'VOLUME /more',
        'WORKDIR /srv',
        'WORKDIR app',
        'USER 1000:1000',
        'STOPSIGNAL SIGQUIT',
        'HEALTHCHECK --interval=30s --retries=3 CMD wget -q localhost || exit 1',
        'SHELL ["/bin/sh", "-ec"]',
        'ENTRYPOINT ["/bin/sh", "-c", "echo $C in $(pwd) as $(id -u): $0"]',
        'CMD ["argument"]',
        'ONBUILD RUN echo triggered',
      ].join('\n'),
    });
    const ref = 'localhost/ocits-build-test/config:1';
    buildOk(context, ['-t', ref]);
    const { config, history, author } = inspect(ref).config;
    expect(config.Env).toEqual(['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'A=1', 'B=two words', 'C=1-set-default', 'D=1']);
    expect(config.Labels).toEqual({ 'org.example.one': '1', 'with space': 'v w' });
    expect(config.ExposedPorts).toEqual({ '80/tcp': {}, '53/udp': {}, '9000/tcp': {}, '9001/tcp': {} });
    expect(config.Volumes).toEqual({ '/data': {}, '/cache': {}, '/more': {} });
    expect(config.WorkingDir).toBe('/srv/app');
    expect(config.User).toBe('1000:1000');
    expect(config.StopSignal).toBe('SIGQUIT');
    expect(config.Healthcheck).toEqual({ Test: ['CMD-SHELL', 'wget -q localhost || exit 1'], Interval: 30e9, Retries: 3 });
    expect(config.Shell).toEqual(['/bin/sh', '-ec']);
    expect(config.Cmd).toEqual(['argument']);
    expect(config.OnBuild).toEqual(['RUN echo triggered']);
    expect(author).toBe('someone');
    expect(history.filter((entry) => entry.created_by.startsWith('ENV')).every((entry) => entry.empty_layer === true)).toBe(true);
    expect(runImage(ref)).toBe('1-set-default in /srv/app as 1000: argument\n');
  });

  test('ARG before FROM, per stage, --build-arg, defaults; ARGs reach RUN but not the image', () => {
    const context = makeContext({
      Dockerfile: [
        'ARG BASE=missing',
        'FROM ${BASE}',
        'ARG WHO=world',
        'ARG BASE',
        'ARG UNSET',
        'ARG TARGETARCH',
        'RUN echo "hello $WHO from $BASE [$UNSET] on $TARGETARCH via ${HTTP_PROXY:-no proxy}" > /greeting',
        'CMD ["cat", "/greeting"]',
      ].join('\n'),
    });
    const ref = 'localhost/ocits-build-test/args:1';
    const result = buildOk(context, ['-t', ref, '--build-arg', `BASE=${BB}`, '--build-arg', 'WHO=ocits', '--build-arg', 'IGNORED=1', '--build-arg', 'HTTP_PROXY=http://proxy:3128']);
    expect(result.stderr).toContain('[Warning] one or more build-args [IGNORED] were not consumed');
    expect(runImage(ref)).toBe(`hello ocits from ${BB} [] on amd64 via http://proxy:3128\n`);
    expect(inspect(ref).config.config.Env.some((entry: string) => entry.startsWith('WHO='))).toBe(false);
  });

  test('ENTRYPOINT clears a Cmd inherited from the base, shell forms go through the shell, and ONBUILD runs in the child', () => {
    const parent = makeContext({ Dockerfile: `FROM ${BB}\nCMD ["echo", "from-base"]\nONBUILD RUN echo onbuild-ran > /onbuild\n` });
    buildOk(parent, ['-t', 'localhost/ocits-build-test/parent:1']);
    const child = makeContext({ Dockerfile: 'FROM localhost/ocits-build-test/parent:1\nENTRYPOINT cat /onbuild\n' });
    buildOk(child, ['-t', 'localhost/ocits-build-test/child:1']);
    const { config } = inspect('localhost/ocits-build-test/child:1').config;
    expect(config.Cmd).toBeUndefined();
    expect(config.Entrypoint).toEqual(['/bin/sh', '-c', 'cat /onbuild']);
    expect(config.OnBuild).toBeUndefined();
    expect(runImage('localhost/ocits-build-test/child:1')).toBe('onbuild-ran\n');
  });
});

describe('COPY and ADD', () => {
  test('directory contents, wildcards, renames, --chown, --chmod, .dockerignore with exceptions, heredocs', () => {
    const context = makeContext({
      Dockerfile: [
        `FROM ${BB}`,
        'COPY dir /dest/',
        'COPY *.txt /texts/',
        'COPY one.txt /renamed.txt',
        'COPY --chown=1234:5678 --chmod=0750 one.txt /owned',
        'COPY ["sp ace.txt", "/json form/"]',
        'WORKDIR /work',
        'COPY one.txt relative/',
        'COPY <<EOF /inline.txt',
        'value of A: ${A:-unset}',
        'EOF',
        'CMD ["sh", "-c", "cd / && find dest texts renamed.txt owned \'json form\' work inline.txt | sort && stat -c \'%n %a %u:%g\' owned renamed.txt && cat inline.txt"]',
      ].join('\n'),
      'dir/a': 'a',
      'dir/sub/b': 'b',
      'dir/ignored.tmp': 'no',
      'dir/keep.tmp': 'yes',
      'one.txt': { content: 'one', mode: 0o600 },
      'two.txt': 'two',
      'sp ace.txt': 'space',
      'secret.key': 'do not copy',
      '.dockerignore': '**/*.tmp\n!dir/keep.tmp\nsecret.key\n',
    });
    const ref = 'localhost/ocits-build-test/copy:1';
    buildOk(context, ['-t', ref]);
    expect(runImage(ref)).toBe(
      [
        'dest',
        'dest/a',
        'dest/keep.tmp',
        'dest/sub',
        'dest/sub/b',
        'inline.txt',
        'json form',
        'json form/sp ace.txt',
        'owned',
        'renamed.txt',
        'texts',
        'texts/one.txt',
        'texts/sp ace.txt',
        'texts/two.txt',
        'work',
        'work/relative',
        'work/relative/one.txt',
        'owned 750 1234:5678',
        'renamed.txt 600 0:0',
        'value of A: unset',
        '',
      ].join('\n'),
    );
  });

  test("a copied directory follows the image's symlinks to directories, inside the root", () => {
    const context = makeContext({ Dockerfile: `FROM ${BB}\nRUN mkdir -p /usr/lib/real && ln -s usr/lib/real /linked && ln -s /../../.. /up\nCOPY tree/ /\n`, 'tree/linked/file': 'through the link', 'tree/up/etc-file': 'stays inside' });
    const ref = 'localhost/ocits-build-test/follow:1';
    buildOk(context, ['-t', ref]);
    expect(runImage(ref, ['sh', '-c', 'readlink /linked; cat /usr/lib/real/file; echo; cat /etc-file'])).toBe('usr/lib/real\nthrough the link\nstays inside');
  });

  test('a Dockerfile.dockerignore beside the Dockerfile replaces the context\'s .dockerignore', () => {
    const context = makeContext({ 'docker/app.Dockerfile': `FROM ${BB}\nCOPY . /ctx/\n`, 'docker/app.Dockerfile.dockerignore': 'docker\nb\n', '.dockerignore': 'a\n', a: 'a', b: 'b' });
    const ref = 'localhost/ocits-build-test/ignore:1';
    buildOk(context, ['-t', ref, '-f', path.join(context, 'docker', 'app.Dockerfile')]);
    expect(runImage(ref, ['ls', '-A', '/ctx'])).toBe('.dockerignore\na\n');
  });

  test('ADD extracts a local tar archive and copies other files as they are', () => {
    const context = makeContext({
      Dockerfile: `FROM ${BB}\nADD archive.tar.gz /unpacked/\nADD plain.txt /plain.txt\nCMD ["sh", "-c", "cat /unpacked/top /unpacked/d/inner /plain.txt"]\n`,
      'plain.txt': 'plain\n',
    });
    fs.writeFileSync(path.join(context, 'archive.tar.gz'), zlib.gzipSync(makeTar([{ name: 'top', content: 'top\n' }, { name: 'd/', type: 'dir' }, { name: 'd/inner', content: 'inner\n' }])));
    const ref = 'localhost/ocits-build-test/add:1';
    buildOk(context, ['-t', ref]);
    expect(runImage(ref)).toBe('top\ninner\nplain\n');
  });

  test('ADD extracts bzip2, xz and zstd archives too, as Docker does (by content, whatever the name)', () => {
    const context = makeContext({
      Dockerfile: `FROM ${BB}\nADD a.bz2 /b/\nADD a.xz /x/\nADD a.zst /z/\nCMD ["sh", "-c", "cat /b/f /x/f /z/f"]\n`,
    });
    const tarFile = path.join(context, 'a.tar');
    fs.writeFileSync(tarFile, makeTar([{ name: 'f', content: 'packed\n' }]));
    for (const [program, name] of [['bzip2', 'a.bz2'], ['xz', 'a.xz'], ['zstd', 'a.zst']]) {
      fs.writeFileSync(path.join(context, name), spawnSync(program, ['-c', tarFile]).stdout);
    }
    fs.rmSync(tarFile);
    const ref = 'localhost/ocits-build-test/add-compressed:1';
    buildOk(context, ['-t', ref]);
    expect(runImage(ref)).toBe('packed\npacked\npacked\n');
  });

  test('ADD of a URL downloads it (mode 0600, its Last-Modified time), into a directory or as a file', async () => {
    const server = http.createServer((request, response) => {
      if (request.url !== '/files/data.txt') {
        response.writeHead(404).end();
        return;
      }
      response.writeHead(200, { 'Last-Modified': 'Tue, 14 Nov 2023 22:13:20 GMT' }).end('downloaded\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const context = makeContext({ Dockerfile: `FROM ${BB}\nADD ${base}/files/data.txt /dl/\nADD ${base}/files/data.txt /named\n` });
      const ref = 'localhost/ocits-build-test/url:1';
      const result = await ocitsAsync(['--root', runtime.root, 'build', '--store', store, '-t', ref, context]);
      expect(result.stderr).not.toContain('ocits:');
      expect(result.status).toBe(0);
      expect(runImage(ref, ['stat', '-c', '%n %a %Y %s', '/dl/data.txt', '/named'])).toBe('/dl/data.txt 600 1700000000 11\n/named 600 1700000000 11\n');
      const digest = `sha256:${crypto.createHash('sha256').update('downloaded\n').digest('hex')}`;
      fs.writeFileSync(path.join(context, 'Dockerfile'), `FROM ${BB}\nADD --checksum=${digest} ${base}/files/data.txt /checked\n`);
      expect((await ocitsAsync(['--root', runtime.root, 'build', '--store', store, context])).status).toBe(0);
      const wrong = `sha256:${'0'.repeat(64)}`;
      fs.writeFileSync(path.join(context, 'Dockerfile'), `FROM ${BB}\nADD --checksum=${wrong} ${base}/files/data.txt /checked\n`);
      expect((await ocitsAsync(['--root', runtime.root, 'build', '--store', store, context])).stderr).toContain(
        `\nocits: Dockerfile:2: ADD: ${base}/files/data.txt: its content has the digest ${digest}, not the --checksum ${wrong}\n`,
      );
      fs.writeFileSync(path.join(context, 'Dockerfile'), `FROM ${BB}\nADD ${base}/missing /x\n`);
      const missing = await ocitsAsync(['--root', runtime.root, 'build', '--store', store, context]);
      expect(missing.stderr).toContain(`ocits: Dockerfile:2: ADD: ${base}/missing: the server answered 404`);
    } finally {
      server.close();
    }
  });

  test('a RUN that deletes files: whiteouts in its layer, the files gone in a container', () => {
    const context = makeContext({ Dockerfile: `FROM ${BB}\nCOPY tree /tree/\nRUN rm -r /tree/gone-dir /tree/gone-file && mkdir /tree/kept/new\n`, 'tree/gone-dir/x': 'x', 'tree/gone-file': 'y', 'tree/kept/z': 'z' });
    const ref = 'localhost/ocits-build-test/whiteout:1';
    buildOk(context, ['-t', ref]);
    const last = layerEntries(ref).pop()!;
    expect(last.map((entry) => `${entry.name} ${entry.type}`)).toEqual(['tree/ directory', 'tree/.wh.gone-dir file', 'tree/.wh.gone-file file', 'tree/kept/ directory', 'tree/kept/new/ directory']);
    expect(runImage(ref, ['find', '/tree'])).toBe('/tree\n/tree/kept\n/tree/kept/new\n/tree/kept/z\n');
  });
});

describe('RUN', () => {
  test('a heredoc with #! runs as its own program; one after a command is its stdin; tmpfs and stage bind mounts', () => {
    const context = makeContext({
      Dockerfile: [
        `FROM ${BB} AS files`,
        'RUN echo from-stage > /staged',
        `FROM ${BB}`,
        'RUN <<EOF',
        '#!/bin/sh -e',
        'echo "script $0" > /script-ran',
        'EOF',
        'RUN cat > /fed <<-EOF',
        '\tfed through stdin',
        '\tEOF',
        'RUN --mount=type=tmpfs,target=/scratch --mount=type=bind,from=files,source=/staged,target=/in/staged echo x > /scratch/x && cat /in/staged > /copied-from-mount',
        'CMD ["sh", "-c", "cat /script-ran /fed /copied-from-mount; ls /scratch /in 2>&1 | wc -l"]',
      ].join('\n'),
    });
    const ref = 'localhost/ocits-build-test/run:1';
    buildOk(context, ['-t', ref]);
    expect(runImage(ref)).toBe('script /dev/.ocits-heredoc-script\nfed through stdin\nfrom-stage\n2\n');
  });

  test('--network none leaves a step only loopback; the host network is the default', () => {
    const context = makeContext({ Dockerfile: `FROM ${BB}\nRUN echo interfaces: $(ls /sys/class/net)\n` });
    expect(buildOk(context, ['--no-cache', '--network', 'none']).stderr).toMatch(/ interfaces: lo\n/);
    const host = fs.readdirSync('/sys/class/net').sort().join(' ');
    expect(buildOk(context, ['--no-cache']).stderr).toContain(` interfaces: ${host}\n`);
  });

  test('COPY --from an image of the store', () => {
    const context = makeContext({ Dockerfile: `FROM scratch\nCOPY --from=${BB} /bin/busybox /bin/busybox\nCMD ["/bin/busybox", "echo", "copied from an image"]\n` });
    const ref = 'localhost/ocits-build-test/from-image:1';
    buildOk(context, ['-t', ref]);
    expect(runImage(ref)).toBe('copied from an image\n');
  });
});

describe('stages', () => {
  const dockerfile = [
    `FROM ${BB} AS builder`,
    'RUN echo built > /artifact',
    `FROM ${BB} AS unused`,
    'RUN exit 3',
    `FROM ${BB}`,
    'COPY --from=builder /artifact /from-builder',
    'COPY --from=0 /artifact /from-index',
    'CMD ["cat", "/from-builder", "/from-index"]',
  ].join('\n');

  test('COPY --from a stage by name and by index; stages the target does not need are not built', () => {
    const ref = 'localhost/ocits-build-test/multi:1';
    const result = buildOk(makeContext({ Dockerfile: dockerfile }), ['-t', ref]);
    expect(result.stderr).not.toContain('exit 3');
    expect(runImage(ref)).toBe('built\nbuilt\n');
  });

  test('--target builds that stage', () => {
    const ref = 'localhost/ocits-build-test/multi:builder';
    buildOk(makeContext({ Dockerfile: dockerfile }), ['-t', ref, '--target', 'builder']);
    expect(runImage(ref, ['cat', '/artifact'])).toBe('built\n');
    expect(build(makeContext({ Dockerfile: dockerfile }), ['--target', 'nope']).stderr).toBe('ocits: --target nope: no stage is named "nope"\n');
  });
});

describe('the layer cache', () => {
  test('a second build runs no RUN step; a changed COPY input rebuilds from that step on; --no-cache runs everything', () => {
    const context = makeContext({
      Dockerfile: `FROM ${BB}\nRUN echo first-step-ran\nCOPY input /input\nRUN echo second-step-ran\n`,
      input: 'one',
    });
    // A step's output line: "#N SECONDS TEXT".
    const ran = (output: string, step: string) => new RegExp(`^#\\d+ [\\d.]+ ${step}-step-ran$`, 'm').test(output);
    const first = buildOk(context, ['-t', 'localhost/ocits-build-test/cache:1']).stderr;
    expect(ran(first, 'first')).toBe(true);
    expect(ran(first, 'second')).toBe(true);
    const second = buildOk(context, ['-t', 'localhost/ocits-build-test/cache:2']);
    expect(ran(second.stderr, 'first') || ran(second.stderr, 'second')).toBe(false);
    expect(second.stderr.match(/CACHED/g)).toHaveLength(3);
    expect(inspect('localhost/ocits-build-test/cache:2').config.rootfs).toEqual(inspect('localhost/ocits-build-test/cache:1').config.rootfs);
    fs.writeFileSync(path.join(context, 'input'), 'two');
    const third = buildOk(context, ['-t', 'localhost/ocits-build-test/cache:3']).stderr;
    expect(ran(third, 'first')).toBe(false);
    expect(ran(third, 'second')).toBe(true);
    const fourth = buildOk(context, ['--no-cache']).stderr;
    expect(ran(fourth, 'first') && ran(fourth, 'second')).toBe(true);
    expect(fourth).not.toContain('CACHED');
  });

  test('a RUN that binds a stage runs again when that stage changed', () => {
    const context = makeContext({ Dockerfile: `FROM ${BB} AS data\nCOPY value /value\nFROM ${BB}\nRUN --mount=type=bind,from=data,target=/data cat /data/value\n`, value: 'first-value' });
    expect(buildOk(context).stderr).toMatch(/ first-value\n/);
    fs.writeFileSync(path.join(context, 'value'), 'second-value');
    expect(buildOk(context).stderr).toMatch(/ second-value\n/);
  });

  test('SOURCE_DATE_EPOCH makes two builds give the same digest; --compress zstd', () => {
    const context = makeContext({ Dockerfile: `FROM ${BB}\nRUN echo same > /file && mkdir /d\nCOPY f /f\n`, f: 'f' });
    const env = { ...process.env, SOURCE_DATE_EPOCH: '1700000000' };
    const one = buildOk(context, ['--no-cache', '--compress', 'zstd'], env).stdout;
    const two = buildOk(context, ['--no-cache', '--compress', 'zstd'], env).stdout;
    const ref = 'localhost/ocits-build-test/zstd:1';
    buildOk(context, ['--compress', 'zstd', '-t', ref], env);
    expect(one).toBe(two);
    const layers = inspect(ref).manifest.layers;
    expect(layers[layers.length - 1].mediaType).toBe('application/vnd.oci.image.layer.v1.tar+zstd');
    expect(layerEntries(ref).pop()!.every((entry) => entry.mtime <= 1700000000)).toBe(true);
    expect(runImage(ref, ['cat', '/f'])).toBe('f');
  });
});

describe('bad input: a clear error naming the line, exit 1, no image under the tag', () => {
  const tag = 'localhost/ocits-build-test/bad:1';
  test.each([
    ['an unknown instruction', `FROM ${BB}\nFROB x\n`, {}, 'ocits: Dockerfile:2: unknown instruction: FROB'],
    ['an unterminated heredoc', `FROM ${BB}\nRUN <<EOF\necho\n`, {}, 'ocits: Dockerfile:2: RUN: unterminated heredoc EOF'],
    ['COPY of a missing file', `FROM ${BB}\nCOPY missing /x\n`, {}, 'ocits: Dockerfile:2: COPY: "missing": not found in the build context or excluded by .dockerignore'],
    ['COPY of an excluded file', `FROM ${BB}\nCOPY secret /x\n`, { secret: 's', '.dockerignore': 'secret' }, 'ocits: Dockerfile:2: COPY: "secret": not found'],
    ['a --from that names no stage', `FROM ${BB}\nCOPY --from=nostage /x /x\n`, {}, 'ocits: Dockerfile:2: COPY: --from=nostage: no stage before this one is named "nostage"'],
    ['a failing RUN', `FROM ${BB}\nRUN echo about to fail && exit 7\n`, {}, 'ocits: Dockerfile:2: RUN: the command "echo about to fail && exit 7" exited with status 7'],
    ['several sources into a file', `FROM ${BB}\nCOPY a b /x\n`, { a: 'a', b: 'b' }, 'ocits: Dockerfile:2: COPY: When using COPY with more than one source file, the destination must be a directory and end with a /'],
    ['a flag not built yet', `FROM ${BB}\nCOPY --link a /x\n`, { a: 'a' }, 'ocits: Dockerfile:2: COPY: --link is not supported by ocits yet'],
    ['no FROM', 'RUN true\n', {}, 'ocits: Dockerfile:1: RUN: no build stage in current context'],
  ])('%s', (_, dockerfile, files, message) => {
    const result = build(makeContext({ Dockerfile: dockerfile, ...files }), ['-t', tag]);
    expect(result.status).toBe(1);
    const lastLine = result.stderr.trimEnd().split('\n').pop()!;
    expect(lastLine.startsWith(message)).toBe(true);
    expect(images()).not.toContain(`${tag}`);
  });

  test('a failing RUN shows its output even with --progress quiet', () => {
    const result = ocits(['--root', runtime.root, 'build', '--store', store, '--progress', 'quiet', makeContext({ Dockerfile: `FROM ${BB}\nRUN echo the-output && false\n` })]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('the-output');
  });

  test('flags that are not built yet are refused, not ignored', () => {
    const context = makeContext({ Dockerfile: `FROM ${BB}\n` });
    expect(build(context, ['--network', 'bridge']).stderr).toBe('ocits: --network bridge: only host and none are supported by ocits yet\n');
    expect(build(context, ['--secret', 'id=x,env=OCITS_NO_SUCH_VARIABLE']).stderr).toBe('ocits: --secret id=x,env=OCITS_NO_SUCH_VARIABLE: the environment has no OCITS_NO_SUCH_VARIABLE\n');
    expect(build(context, ['-f', '-']).stderr).toBe('ocits: -f -: a Dockerfile on stdin is not supported by ocits yet; give its path\n');
    expect(build(context, ['--secret', 'id=x,src=/nonexistent']).stderr).toBe('ocits: --secret id=x,src=/nonexistent: /nonexistent is not a readable file\n');
  });
});

describe('hostile contexts and layers', () => {
  test('names with .. and symlinks out of the context stay inside it', () => {
    const context = makeContext({
      Dockerfile: `FROM ${BB}\nCOPY ../../../../etc/hostname /x\n`,
      'escape-link': { symlink: '/etc/shadow' },
      'dir/up-link': { symlink: '../../../../../../etc' },
    });
    expect(build(context).stderr).toMatch(/Dockerfile:2: COPY: "..\/..\/..\/..\/etc\/hostname": not found in the build context/);
    fs.writeFileSync(path.join(context, 'Dockerfile'), `FROM ${BB}\nCOPY escape-link /x\n`);
    expect(build(context).stderr).toMatch(/COPY: "escape-link": not found in the build context/);
    // Inside a copied directory a symlink is copied as a symlink, never followed.
    fs.writeFileSync(path.join(context, 'Dockerfile'), `FROM ${BB}\nCOPY dir /dir/\n`);
    const ref = 'localhost/ocits-build-test/links:1';
    buildOk(context, ['-t', ref]);
    const entries = layerEntries(ref).pop()!;
    expect(entries.map((entry) => [entry.name, entry.type, entry.linkname])).toEqual([
      ['dir/', 'directory', ''],
      ['dir/up-link', 'symlink', '../../../../../../etc'],
    ]);
  });

  test('an ADD archive with an entry that leaves its directory is refused', () => {
    const context = makeContext({ Dockerfile: `FROM ${BB}\nADD evil.tar /x/\n` });
    fs.writeFileSync(path.join(context, 'evil.tar'), makeTar([{ name: '../escaped', content: 'x' }]));
    const result = build(context);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/ADD: cannot extract evil.tar, entry "..\/escaped": name "..\/escaped" with ".." is refused/);
  });

  test('a bind mount source is found inside the context', () => {
    const context = makeContext({ Dockerfile: `FROM ${BB}\nRUN --mount=type=bind,source=../../etc,target=/m ls /m\n`, etc: { dir: true }, 'etc/inside': 'x' });
    const result = buildOk(context);
    expect(result.stderr).toMatch(/ inside\n/);
  });
});

describe('on the Debian image, pulled on demand', () => {
  let registry: RunningRegistry | undefined;
  let deb: string;
  beforeAll(() => {
    imageCorpus();
    registry = startRegistry('none', ['deb', 'multi']);
    deb = `${registry.address}/test/deb`;
  }, 300_000);
  afterAll(() => stopRegistry(registry));

  test('a base image missing from the store is pulled as ocits pull would, once', () => {
    const context = makeContext({ Dockerfile: `FROM ${deb}\nLABEL pulled=yes\n` });
    const first = buildOk(context, ['--tls-verify=false', '-t', 'localhost/ocits-build-test/pulled:1']);
    expect(first.stderr).toContain(`pulling ${deb}:latest`);
    expect(images()).toContain(`${deb}:latest`);
    expect(buildOk(context, ['--tls-verify=false']).stderr).not.toContain('pulling');
    expect(build(context).stderr).not.toContain('ocits:');
  });

  test('FROM --platform picks that platform from an index; the image config says so', () => {
    const multi = `${registry!.address}/test/multi`;
    const context = makeContext({ Dockerfile: `FROM --platform=linux/arm64 ${multi} AS arm\nFROM scratch\nCOPY --from=arm /etc/ocits-platform /platform\nFROM --platform=linux/arm64 ${multi}\nCOPY --from=1 /platform /copied\n` });
    const ref = 'localhost/ocits-build-test/arm64:1';
    buildOk(context, ['--tls-verify=false', '-t', ref]);
    const { config } = inspect(ref) as unknown as { config: { architecture: string; os: string } };
    expect([config.os, config.architecture]).toEqual(['linux', 'arm64']);
    const copied = layerEntries(ref).pop()!;
    expect(copied.map((entry) => entry.name)).toEqual(['copied']);
  });

  test('the same Dockerfile built by podman build (RUN steps by runc) gives the same files and config fields', () => {
    const dockerfile = (base: string) =>
      [
        `FROM ${base}`,
        'USER root',
        'ENV APP_HOME=/srv/app LANG=C.UTF-8',
        'WORKDIR $APP_HOME',
        'COPY files/ ./',
        'COPY --chown=1000:1000 one.txt /etc/one.txt',
        'RUN mkdir -p /var/lib/thing && echo data > /var/lib/thing/f && chmod 0711 /var/lib/thing && ln -s f /var/lib/thing/link && rm /etc/debian_version && useradd -u 2000 other',
        'LABEL x=y',
        'EXPOSE 8080/tcp 53/udp',
        'VOLUME /data2',
        'STOPSIGNAL SIGTERM',
        'USER app',
        'ENTRYPOINT ["/bin/sh", "-c"]',
        'CMD ["echo hi"]',
      ].join('\n');
    const context = makeContext({ 'one.txt': 'one\n', 'files/a': 'a\n', 'files/sub/b': 'b\n', 'files/link': { symlink: 'a' } });
    fs.chmodSync(path.join(context, 'files', 'sub'), 0o751);

    // podman build: private vfs storage (no mounts to leave), RUN steps as runc
    // containers on the host's network, the corpus's deb as localhost/deb.
    const work = tempDir('ocits-build-podman-');
    const storage = ['--root', path.join(work, 'root'), '--runroot', path.join(work, 'runroot'), '--storage-driver', 'vfs'];
    const run = (program: string, args: string[]) => {
      const result = spawnSync(program, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
      if (result.status !== 0) throw new Error(`${program} ${args.join(' ')}: ${result.stderr}`);
    };
    const { layout } = imageCorpus();
    run('skopeo', ['copy', '-q', `oci:${layout}:deb`, `containers-storage:[vfs@${path.join(work, 'root')}+${path.join(work, 'runroot')}]localhost/deb:latest`]);
    fs.writeFileSync(path.join(context, 'Dockerfile'), dockerfile('localhost/deb'));
    run('podman', [...storage, 'build', '--runtime', 'runc', '--isolation', 'oci', '--network', 'host', '-q', '-t', 'localhost/compare:1', context]);
    run('podman', [...storage, 'push', '-q', 'localhost/compare:1', `oci:${path.join(work, 'out')}:compare`]);
    const theirs = path.join(work, 'theirs');
    expect(ocits(['bundle', '--store', path.join(work, 'out'), 'compare', theirs]).status).toBe(0);

    fs.writeFileSync(path.join(context, 'Dockerfile'), dockerfile(deb));
    const ref = 'localhost/ocits-build-test/compare:1';
    buildOk(context, ['--tls-verify=false', '-t', ref]);
    const ours = path.join(tempDir(), 'ours');
    expect(ocits(['bundle', '--store', store, ref, ours]).status).toBe(0);

    const a = snapshotTree(path.join(ours, 'rootfs'));
    const b = snapshotTree(path.join(theirs, 'rootfs'));
    // podman (buildah within) leaves its RUN mount points (empty files) and makes the image's volume directories; docker build does neither.
    const podmanOnly = ['/etc/hostname', '/etc/hosts', '/etc/resolv.conf', '/var/cache/app', '/data2'];
    const differences: string[] = [];
    for (const [file, entry] of b) {
      if (podmanOnly.includes(file) && !a.has(file)) continue;
      if (JSON.stringify(a.get(file)) !== JSON.stringify(entry)) differences.push(`${file}: ours ${JSON.stringify(a.get(file))}, podman's ${JSON.stringify(entry)}`);
    }
    for (const file of a.keys()) if (!b.has(file)) differences.push(`${file}: only ours`);
    expect(differences).toEqual([]);
    expect(a.get('/srv/app/sub')).toMatchObject({ type: 'dir', mode: '751' });
    expect(a.has('/etc/debian_version')).toBe(false);

    const fields = ['Env', 'Cmd', 'Entrypoint', 'WorkingDir', 'User', 'Labels', 'ExposedPorts', 'Volumes', 'StopSignal'];
    const pick = (config: Record<string, any>) => Object.fromEntries(fields.map((field) => [field, field === 'Labels' ? { ...config.Labels, 'io.buildah.version': undefined } : config[field]]));
    const theirConfig = JSON.parse(ocits(['inspect', '--store', path.join(work, 'out'), 'compare']).stdout).config.config;
    expect(pick(inspect(ref).config.config)).toEqual(pick(theirConfig));
  }, 300_000);

  test('useradd, deleted base files, a heredoc, a stage copy, a shared cache mount and a secret in no layer', () => {
    const secretFile = path.join(tempDir(), 'token');
    fs.writeFileSync(secretFile, 'top-secret-value-42\n');
    const context = makeContext({
      Dockerfile: [
        `FROM ${deb} AS base`,
        'USER root',
        'RUN useradd -m -u 4321 builder && rm /etc/debian_version && rm -r /usr/share/base-files',
        'RUN --mount=type=cache,target=/var/cache/shared echo line >> /var/cache/shared/log && wc -l < /var/cache/shared/log',
        'RUN --mount=type=secret,id=token --mount=type=secret,id=fromenv,target=/etc/env-secret test "$(cat /run/secrets/token)" = top-secret-value-42 && test "$(cat /etc/env-secret)" = env-secret-17 && echo secret-seen',
        'RUN <<EOF',
        'set -e',
        'echo "from a heredoc as $(id -un) in $HOME" > /heredoc',
        'EOF',
        `FROM ${deb}`,
        'USER root',
        'COPY --from=base /heredoc /etc/passwd /from-base/',
        'CMD ["sh", "-c", "cat /from-base/heredoc; grep -c builder /from-base/passwd"]',
      ].join('\n'),
    });
    const args = ['--tls-verify=false', '--secret', `id=token,src=${secretFile}`, '--secret', 'id=fromenv,env=OCITS_TEST_SECRET'];
    const env = { ...process.env, OCITS_TEST_SECRET: 'env-secret-17' };
    const first = buildOk(context, [...args, '-t', 'localhost/ocits-build-test/deb:base', '--target', 'base'], env);
    expect(first.stderr).toContain('secret-seen');
    expect(first.stderr).toMatch(/#\d+ [\d.]+ 1\n/);
    const second = buildOk(context, [...args, '--no-cache', '-t', 'localhost/ocits-build-test/deb:final'], env);
    // The cache mount kept the first build's line.
    expect(second.stderr).toMatch(/#\d+ [\d.]+ 2\n/);

    // The Debian image's own layers come first; the build's follow.
    const base = layerEntries('localhost/ocits-build-test/deb:base').slice(inspect(`${deb}:latest`).manifest.layers.length);
    const useradd = base[0].map((entry) => entry.name);
    expect(useradd).toEqual(expect.arrayContaining(['etc/.wh.debian_version', 'usr/share/.wh.base-files', 'home/builder/']));
    for (const layer of base) expect(layer.every((entry) => !entry.name.startsWith('run/secrets') && !entry.name.startsWith('var/cache/shared'))).toBe(true);
    const blobs = inspect('localhost/ocits-build-test/deb:base').manifest.layers.map((layer) => zlib.gunzipSync(fs.readFileSync(path.join(store, 'blobs', 'sha256', layer.digest.slice(7)))));
    expect(blobs.some((blob) => blob.includes('top-secret-value-42') || blob.includes('env-secret-17'))).toBe(false);
    for (const layer of base) expect(layer.every((entry) => entry.name !== 'etc/env-secret')).toBe(true);

    expect(runImage('localhost/ocits-build-test/deb:base', ['sh', '-c', 'id builder; test -e /etc/debian_version || echo gone; ls /usr/share/base-files 2>&1 | head -1'])).toBe(
      'uid=4321(builder) gid=4321(builder) groups=4321(builder)\ngone\nls: cannot access \'/usr/share/base-files\': No such file or directory\n',
    );
    expect(runImage('localhost/ocits-build-test/deb:final')).toBe('from a heredoc as root in /root\n1\n');
  }, 300_000);
});

test('a build killed (SIGTERM, SIGINT) during a RUN step leaves no container, mount or work directory', async () => {
  const context = makeContext({ Dockerfile: `FROM ${BB}\nRUN touch /x && echo step-$((6 * 7)) && sleep 60\n` });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    let stderr = '';
    const child = spawn(OCITS, ['--root', runtime.root, 'build', '--store', store, '--no-cache', context], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => child.on('close', (status) => resolve(status)));
    await new Promise<void>((resolve) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        // The step's own output, not the instruction line that names it.
        if (stderr.includes(' step-42')) resolve();
      });
    });
    child.kill(signal);
    expect(await exited).not.toBe(0);
    expect(leftovers()).toEqual({ containers: [], mounts: [] });
    expect(fs.readdirSync(path.join(store, '.ocits')).filter((name) => /^build-[^c]/.test(name))).toEqual([]);
  }
});

test('a build killed outright (SIGKILL) leaves its work directory and overlay, and the next build removes them', async () => {
  const context = makeContext({ Dockerfile: `FROM ${BB}\nRUN touch /x && echo step-$((6 * 7)) && sleep 60\n` });
  const child = spawn(OCITS, ['--root', runtime.root, 'build', '--store', store, '--no-cache', context], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  await new Promise<void>((resolve) => {
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      // The step's own output, not the instruction line that names it.
        if (stderr.includes(' step-42')) resolve();
    });
  });
  child.kill('SIGKILL');
  await exited;
  // Its RUN container outlives it, as a container does whose caller died.
  for (const id of leftovers().containers) ocits(['--root', runtime.root, 'delete', '--force', id]);
  const abandoned = () => fs.readdirSync(path.join(store, '.ocits')).filter((name) => name.startsWith(`build-${child.pid}-`));
  expect(abandoned()).toHaveLength(1);
  expect(leftovers().mounts).not.toEqual([]);

  buildOk(makeContext({ Dockerfile: `FROM ${BB}\nRUN true\n` }), ['--no-cache']);
  expect(abandoned()).toEqual([]);
  expect(leftovers()).toEqual({ containers: [], mounts: [] });
});

test('cache mounts: sharing=private gets a fresh directory while another step holds it locked', async () => {
  const id = `shared-${process.pid}`;
  const holder = makeContext({ Dockerfile: `FROM ${BB}\nRUN --mount=type=cache,id=${id},target=/c,sharing=locked touch /c/marker && echo hold-$((6 * 7)) && sleep 60\n` });
  const child = spawn(OCITS, ['--root', runtime.root, 'build', '--store', store, '--no-cache', holder], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  try {
    await new Promise<void>((resolve) => {
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.includes(' hold-42')) resolve(); // the step's output, not its instruction line
      });
    });
    const reader = makeContext({ Dockerfile: `FROM ${BB}\nRUN --mount=type=cache,id=${id},target=/c,sharing=private echo "[$(ls /c)]"\n` });
    expect((await ocitsAsync(['--root', runtime.root, 'build', '--store', store, '--no-cache', reader])).stderr).toMatch(/ \[\]\n/);
    child.kill('SIGTERM');
    await exited;
    expect((await ocitsAsync(['--root', runtime.root, 'build', '--store', store, '--no-cache', reader])).stderr).toMatch(/ \[marker\]\n/);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
});

test('image prune removes the layers only the cache used, and their records; a build after it runs again', () => {
  const context = makeContext({ Dockerfile: `FROM ${BB}\nRUN echo prune-me > /p\n` });
  const ref = 'localhost/ocits-build-test/prune:1';
  buildOk(context, ['-t', ref]);
  const layer = inspect(ref).manifest.layers.pop()!.digest;
  expect(ocits(['rmi', '--store', store, ref]).status).toBe(0);
  expect(ocits(['image', 'prune', '--store', store]).status).toBe(0);
  expect(fs.existsSync(path.join(store, 'blobs', 'sha256', layer.slice(7)))).toBe(false);
  const records = fs.readdirSync(path.join(store, '.ocits', 'build-cache')).map((name) => fs.readFileSync(path.join(store, '.ocits', 'build-cache', name), 'utf8'));
  expect(records.some((record) => record.includes(layer))).toBe(false);
  expect(buildOk(context, ['-t', ref]).stderr).not.toContain('CACHED');
});

test('no container or mount is left behind', () => {
  expect(leftovers()).toEqual({ containers: [], mounts: [] });
  expect(fs.readdirSync(path.join(store, '.ocits')).filter((name) => name.startsWith('build-') && name !== 'build-cache' && name !== 'build-cache-mounts')).toEqual([]);
});
