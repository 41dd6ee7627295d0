/**
 * Issue 10, the in-process edge: the engine's events become domain events on the bus in the
 * all-in-one process (startOnair). The same scenario runs through media's signed callbacks
 * (split-services.test.ts) and nginx-rtmp's hooks (nginx-rtmp-hooks.test.ts).
 */
import { after, before, describe, it } from 'node:test';
import { missingTool } from '../../core/testing/tools.js';
import { probe, publish, stackAdapterSets, startStack, type Stack } from './onair-stack.js';
import { publishHevc, runShowScenario } from './edge-scenario.js';

const skip = missingTool('ffmpeg') || missingTool('ffprobe');

for (const set of stackAdapterSets()) describe(`one show through the in-process engine, on ${set.name}`, { skip }, () => {
  let stack: Stack;
  let cleanup: (() => Promise<void>) | undefined;
  before(async () => {
    const adapters = await set.env();
    cleanup = adapters.cleanup;
    stack = await startStack(adapters.env);
  });
  after(async () => {
    await stack?.close();
    await cleanup?.();
  });

  it('is live only once media flows, notifies followers, and counts its viewers', async () => {
    await runShowScenario({
      call: stack.call,
      user: (role) => stack.user(role),
      wsBase: `ws://127.0.0.1:${stack.httpPort}`,
      publishWithoutMedia: (room) => publishHevc(stack.fixPort(room.push_url)),
      publish(room) {
        const ffmpeg = publish(stack.fixPort(room.push_url));
        return { async stop() { ffmpeg.kill('SIGKILL'); await ffmpeg.exited; } };
      },
      async watch(roomId, token) {
        await probe(`http://127.0.0.1:${stack.httpPort}/live/${roomId}.flv?token=${encodeURIComponent(token)}`);
      },
    });
  });
});
