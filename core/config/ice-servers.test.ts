import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { iceServersLink, parseIceServers } from './ice-servers.js';
import { loadConfig } from '../config/load.js';

describe('ICE servers (ONAIR_WEBRTC_ICE_SERVERS)', () => {
  it('parses STUN and TURN URLs, credentials apart', () => {
    assert.deepEqual(parseIceServers(' stun:stun.example.com:3478, turn:alice:s%40cret@turn.example.com:3478?transport=udp '), [
      { urls: 'stun:stun.example.com:3478' },
      { urls: 'turn:turn.example.com:3478?transport=udp', username: 'alice', credential: 's@cret' },
    ]);
    assert.deepEqual(parseIceServers(''), []);
  });

  it('refuses a malformed entry or a TURN server without credentials, without echoing a password', () => {
    assert.throws(() => parseIceServers('http://x'), /not a stun/);
    assert.throws(() => parseIceServers('turn:turn.example.com:3478'), /needs user:password/);
    assert.throws(() => parseIceServers('turn:bob:hunter2@bad host'), (err: Error) => !err.message.includes('hunter2'));
    assert.throws(() => loadConfig({ ONAIR_WEBRTC_ICE_SERVERS: 'nope' }, {}));
    assert.deepEqual(loadConfig({ ONAIR_WEBRTC_ICE_SERVERS: 'stun:127.0.0.1:3478' }, {}).media.webrtcIceServers, [{ urls: 'stun:127.0.0.1:3478' }]);
  });

  it('lists them as rel="ice-server" links (RFC 9725 4.4)', () => {
    assert.equal(iceServersLink([]), undefined);
    assert.equal(
      iceServersLink([{ urls: 'stun:s.example:3478' }, { urls: 'turn:t.example:3478', username: 'u', credential: 'p' }]),
      '<stun:s.example:3478>; rel="ice-server", <turn:t.example:3478>; rel="ice-server"; username="u"; credential="p"; credential-type="password"',
    );
  });
});
