// Starts node-media-server 4.4.3 (the benchmark peer) with a generated config: RTMP and HTTP-FLV
// on 127.0.0.1, no auth, no web admin, no recording, quiet logs. Usage:
//   node bench/lib/nms-runner.cjs <rtmpPort> <httpPort> <dataDir>
// CommonJS because node-media-server is CommonJS and this file runs under plain `node`.
'use strict';
const NodeMediaServer = require('node-media-server');
const logger = require('node-media-server/src/core/logger.js');

const [rtmpPort, httpPort, dataDir] = process.argv.slice(2);
const config = {
  bind: '127.0.0.1',
  rtmp: { port: Number(rtmpPort) },
  http: { port: Number(httpPort) },
  webadmin: { enable: false },
  store: { path: dataDir },
  record: { auto: false, path: dataDir + '/record' },
  notify: { url: '' },
  auth: { play: false, publish: false, secret: 'bench' },
};
const nms = new NodeMediaServer(config, dataDir + '/config.json');
logger.level = 'error';
nms.run();
const stop = () => nms.stop().finally(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
