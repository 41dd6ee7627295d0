/**
 * The zod schemas of media's two HTTP inputs from control: the answer of an on_publish / on_play
 * hook and the bodies of the control API. They live apart and are imported on first use
 * (`remoteSchemas()`), so an idle media service never loads zod (about 5 MB of heap and a grown
 * young generation at start; see docs/benchmarks.md "Media service memory").
 */
import { z } from 'zod';

/** SRS-style answer: `0`, or `{"code":0,"data":{...}}`; any other code refuses. */
export const hookAnswerSchema = z.union([
  z.literal(0),
  z.object({
    code: z.number(),
    data: z.object({
      stream_name: z.string().min(1).max(128).regex(/^[A-Za-z0-9_-]+$/).optional(),
      record: z.boolean().optional(),
      session_id: z.string().max(64).optional(),
      viewer_id: z.string().max(128).optional(),
    }).passthrough().optional(),
  }).passthrough(),
]);
export type HookAnswer = z.infer<typeof hookAnswerSchema>;

export const kickPublisherBody = z.object({ stream: z.string().min(1).max(128) });
export const kickViewerBody = z.object({ viewer: z.string().min(1).max(128) });
