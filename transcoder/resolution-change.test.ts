import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { distinctVideoConfigs, reencodeArgs } from './resolution-change.js';

const dir = mkdtempSync(join(tmpdir(), 'onair-resolution-change-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** One FLV tag: 11-byte header, body, PreviousTagSize. */
function tag(type: number, ts: number, body: Buffer): Buffer {
  const h = Buffer.alloc(11);
  h[0] = type;
  h.writeUIntBE(body.length, 1, 3);
  h.writeUIntBE(ts & 0xffffff, 4, 3);
  h[7] = (ts >>> 24) & 0xff;
  const prev = Buffer.alloc(4);
  prev.writeUInt32BE(11 + body.length);
  return Buffer.concat([h, body, prev]);
}
const FLV_HEADER = Buffer.from([0x46, 0x4c, 0x56, 1, 5, 0, 0, 0, 9, 0, 0, 0, 0]);
/** An AVC sequence header whose configuration bytes are `config`. */
const avcConfig = (config: number[]) => Buffer.from([0x17, 0, 0, 0, 0, 1, ...config]);
const avcFrame = (key: boolean, n: number) => Buffer.concat([Buffer.from([key ? 0x17 : 0x27, 1, 0, 0, 0]), Buffer.alloc(n, 0xab)]);
const aac = (n: number) => Buffer.concat([Buffer.from([0xaf, 1]), Buffer.alloc(n, 0xcd)]);

function flv(name: string, tags: Buffer[]): string {
  const file = join(dir, name);
  writeFileSync(file, Buffer.concat([FLV_HEADER, ...tags]));
  return file;
}

/** A show: its decoder configuration(s) at the given frame numbers, frames of a few hundred bytes, audio between. */
function show(name: string, configs: Map<number, Buffer>): string {
  const tags: Buffer[] = [tag(18, 0, Buffer.from([2, 0, 10, ...Buffer.from('onMetaData'), 8, 0, 0, 0, 0, 0, 0, 9]))];
  for (let i = 0; i < 120; i++) {
    const c = configs.get(i);
    if (c) tags.push(tag(9, i * 33, c));
    tags.push(tag(9, i * 33, avcFrame(i % 30 === 0, 100 + ((i * 37) % 900))), tag(8, i * 33 + 5, aac(200)));
  }
  return flv(name, tags);
}

describe('distinctVideoConfigs', () => {
  const a = avcConfig([0x64, 0x00, 0x1e, 1, 2, 3]);
  const b = avcConfig([0x64, 0x00, 0x1f, 4, 5, 6, 7]);
  const cases: [string, string, number][] = [
    ['one configuration', show('one.flv', new Map([[0, a]])), 1],
    ['the same configuration sent again (a reconnect, a repeat)', show('same.flv', new Map([[0, a], [60, Buffer.from(a)]])), 1],
    ['a resolution change', show('change.flv', new Map([[0, a], [60, b]])), 2],
    ['audio only', flv('audio.flv', [tag(8, 0, aac(300)), tag(8, 23, aac(300))]), 0],
    ['enhanced RTMP (HEVC SequenceStart, then another)', flv('ertmp.flv', [
      tag(9, 0, Buffer.from([0x90, 0x68, 0x76, 0x63, 0x31, 1, 2])), tag(9, 0, Buffer.from([0x91, 0x68, 0x76, 0x63, 0x31, 9, 9, 9])),
      tag(9, 40, Buffer.from([0x90, 0x68, 0x76, 0x63, 0x31, 3, 4])),
    ]), 2],
  ];
  for (const [name, file, expected] of cases) {
    it(`${name}: ${expected}, however the file is read in chunks`, async () => {
      for (const chunk of [1, 7, 13, 64, 4096, 1 << 20]) assert.equal(await distinctVideoConfigs(file, chunk), expected, `chunks of ${chunk} B`);
    });
  }
});

describe('reencodeArgs', () => {
  it('scales every part to one even size, keeping the aspect with padding, and copies the audio', () => {
    const args = reencodeArgs('in.flv', 'out.mp4', { width: 1279, height: 719 }, 'all');
    assert.ok(args.includes('scale=1280:720:force_original_aspect_ratio=decrease,pad=1280:720:(ow-iw)/2:(oh-ih)/2,setsar=1'));
    assert.deepEqual(args.slice(args.indexOf('-c:a'), args.indexOf('-c:a') + 2), ['-c:a', 'copy']);
    assert.ok(args.includes('0:a:0?'));
    assert.ok(reencodeArgs('in.flv', 'out.mp4', { width: 640, height: 360 }, 'video').includes('-an'));
    assert.equal(args.at(-1), 'out.mp4');
    const join = reencodeArgs('/w/list.ffconcat', 'show.mp4', { width: 1280, height: 720 }, 'all', true);
    assert.deepEqual(join.slice(join.indexOf('-f'), join.indexOf('-i') + 2), ['-f', 'concat', '-safe', '0', '-i', '/w/list.ffconcat']);
  });
});
