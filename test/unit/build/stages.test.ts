import { parseDockerfile } from '../../../src/build/dockerfile';
import { parseRunMounts } from '../../../src/build/run-mounts';
import { variablesOf } from '../../../src/build/shell-words';
import { findStage, neededStages, planStages, targetStage } from '../../../src/build/stages';

const plan = (text: string) => planStages(parseDockerfile(text));

describe('stages', () => {
  const text = [
    'ARG BASE=alpine',
    'FROM ${BASE} AS Deps',
    'FROM scratch AS unused',
    'FROM deps AS build',
    'COPY --from=0 /a /a',
    'RUN --mount=type=bind,from=tools,target=/t true',
    'FROM busybox AS tools',
    'FROM scratch',
    'COPY --from=build /out /out',
  ].join('\n');

  test('global ARGs, AS names lower-cased, the target and what it needs', () => {
    const stages = plan(text);
    expect(stages.globalArgs.map((i) => i.args)).toEqual(['BASE=alpine']);
    expect(stages.stages.map((s) => s.name)).toEqual(['deps', 'unused', 'build', 'tools', undefined]);
    const last = targetStage(stages, undefined);
    expect(neededStages(stages, last, 'Dockerfile', variablesOf({}), '\\').map((s) => s.index)).toEqual([0, 2, 4]);
    expect(neededStages(stages, targetStage(stages, 'BUILD'), 'Dockerfile', variablesOf({}), '\\').map((s) => s.index)).toEqual([0, 2]);
    expect(() => targetStage(stages, 'nope')).toThrow('--target nope: no stage is named "nope"');
  });

  test('a stage is found by name or index only before the one that asks', () => {
    const stages = plan(text);
    expect(findStage(stages, 'DEPS', 2)?.index).toBe(0);
    expect(findStage(stages, 'tools', 2)).toBeUndefined();
    expect(findStage(stages, 'busybox', 4)).toBeUndefined();
    expect(() => findStage(stages, '3', 2)).toThrow('--from=3: stage 3 is not before this one');
  });

  test('malformed stage lines', () => {
    expect(() => plan('FROM a AS b c\n')).toThrow('Dockerfile:1: FROM: FROM takes an image and optionally AS name');
    expect(() => plan('FROM a AS 1x\n')).toThrow(/Dockerfile:1: FROM: invalid stage name "1x"/);
    expect(() => plan('FROM a AS x\nFROM b AS X\n')).toThrow('Dockerfile:2: FROM: duplicate stage name "X"');
    expect(() => plan('ENV A=1\nFROM a\n')).toThrow('Dockerfile:1: ENV: no build stage in current context');
    expect(() => plan('ARG A\n')).toThrow('Dockerfile: no FROM instruction');
  });
});

describe('RUN --mount options', () => {
  const parse = (text: string) => parseRunMounts(text, (word) => word.replace('$X', 'expanded'));

  test('each type with its defaults', () => {
    expect(parse('type=cache,target=/root/.cache,sharing=locked,mode=0700,uid=5')).toEqual({
      type: 'cache',
      target: '/root/.cache',
      id: '/root/.cache',
      sharing: 'locked',
      mode: 0o700,
      uid: 5,
      gid: 0,
      readonly: false,
    });
    expect(parse('target=/src,source=$X,from=build,ro')).toEqual({ type: 'bind', target: '/src', source: 'expanded', from: 'build' });
    expect(parse('type=secret,id=token')).toEqual({ type: 'secret', target: '/run/secrets/token', id: 'token', required: false, mode: 0o400, uid: 0, gid: 0 });
    expect(parse('type=secret,dst=/etc/key,required')).toMatchObject({ id: 'key', target: '/etc/key', required: true });
    expect(parse('type=tmpfs,target=/t,size=10m')).toEqual({ type: 'tmpfs', target: '/t', size: '10m' });
  });

  test('bad options and what is not built yet are refused by name', () => {
    expect(() => parse('type=cache')).toThrow('--mount type=cache needs a target');
    expect(() => parse('type=tmpfs,target=/t,bogus=1')).toThrow('--mount type=tmpfs: unknown option "bogus"');
    expect(() => parse('type=cache,target=/c,sharing=sometimes')).toThrow('sharing=sometimes: expected shared, private or locked');
    expect(() => parse('type=cache,target=/c,uid=x')).toThrow('--mount: uid=x is not a number');
    expect(() => parse('type=bind,target=/b,rw')).toThrow(/type=bind,rw .* is not supported by ocits yet/);
    expect(() => parse('type=ssh')).toThrow('--mount type=ssh is not supported by ocits yet');
    expect(() => parse('type=volume,target=/v')).toThrow('--mount: unknown type "volume"');
  });
});
