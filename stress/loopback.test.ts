import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertLoopbackTargets, isLoopbackHost, RemoteTargetError } from './loopback.js';

describe('loopback guard', () => {
  it('accepts loopback names and addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', 'LOCALHOST', 'a.localhost', '::1', '[::1]', '::ffff:127.0.0.1']) {
      assert.equal(isLoopbackHost(h), true, h);
    }
  });
  it('refuses everything else, private ranges and other names included', () => {
    for (const h of ['10.0.0.1', '192.168.1.10', '172.16.0.1', '8.8.8.8', '0.0.0.0', 'example.com', 'localhost.example.com', '128.0.0.1', '::', '::ffff:10.0.0.1']) {
      assert.equal(isLoopbackHost(h), false, h);
    }
  });
  it('checks every target URL unless --allow-remote, templates included', () => {
    assert.doesNotThrow(() => assertLoopbackTargets(['http://127.0.0.1:8080', 'rtmp://localhost/live/{key}', undefined, 'ws://[::1]:8080/live/1.flv'], false));
    assert.throws(() => assertLoopbackTargets(['http://127.0.0.1:8080', 'rtmp://10.1.1.1/live/{key}'], false), RemoteTargetError);
    assert.throws(() => assertLoopbackTargets(['not a url'], false), RemoteTargetError);
    assert.doesNotThrow(() => assertLoopbackTargets(['rtmp://10.1.1.1/live/x'], true));
  });
});
