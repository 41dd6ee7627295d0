/**
 * docs/architecture.md and docs/runbook.md stay true to the code: the event catalog lists every
 * domain event and bus event, every ONAIR_* setting the docs name is one onair reads, and every
 * file path they cite exists.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { domainEventSpecs } from '../../core/events/domain-events.js';
import { ENV_KEYS } from '../../core/config/load.js';

const root = new URL('../../', import.meta.url).pathname;
const architecture = readFileSync(join(root, 'docs/architecture.md'), 'utf8');
const runbook = readFileSync(join(root, 'docs/runbook.md'), 'utf8');

describe('docs/architecture.md and docs/runbook.md', () => {
  it('the event catalog names every domain event and the bus events', () => {
    for (const name of Object.keys(domainEventSpecs)) assert.ok(architecture.includes(`\`${name}\``), `architecture.md does not list ${name}`);
    const bus = readFileSync(join(root, 'core/events/bus-events.ts'), 'utf8');
    for (const m of bus.matchAll(/^\s+'([a-z]+\.[a-z]+)':/gm)) assert.ok(architecture.includes(`\`${m[1]}\``), `architecture.md does not list bus event ${m[1]}`);
  });

  it('names only settings onair reads', () => {
    const known = new Set([...Object.keys(ENV_KEYS), 'ONAIR_WORKER_ID', 'ONAIR_STRICT', 'ONAIR_ENV_FILE', 'ONAIR_EDGE_PORT']);
    for (const [file, text] of [['architecture.md', architecture], ['runbook.md', runbook]] as const) {
      for (const m of text.matchAll(/ONAIR_[A-Z0-9_]+/g)) assert.ok(known.has(m[0]), `${file}: ${m[0]} is not a setting`);
    }
  });

  it('cites files that exist', () => {
    for (const [file, text] of [['architecture.md', architecture], ['runbook.md', runbook]] as const) {
      const paths = new Set([...text.matchAll(/`((?:infra|grafana|scripts|core|docs|control|media|nginx|tests)\/[\w./-]+|compose(?:\.\w+)?\.yaml)`/g)].map((m) => m[1]!));
      assert.ok(paths.size >= 5, `${file}: ${paths.size} paths`);
      for (const p of paths) {
        if (p.includes('*') || p.endsWith('secrets.env')) continue;
        assert.ok(existsSync(join(root, p)), `${file} cites ${p}, which does not exist`);
      }
    }
  });
});
